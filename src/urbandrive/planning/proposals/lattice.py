"""A Frenet lattice (Werling, Ziegler, Kammel & Thrun, ICRA 2010) along the route reference.

Lateral: quintic d(t) from the ego's (d, d', 0) to (d1, 0, 0) in T_lat, held after: lane
keeping (d1 = 0), nudging (+-`nudge_offsets_m`), lane changes (the neighbours' centrelines).
Longitudinal: quartic velocity keeping to v1 in T (s'' = 0 at T), quintic stopping with the
front bumper at the first stop ahead, quintic following the nearest leader on the reference
at a time gap; constant speed after T. Every lateral x longitudinal pair is a candidate;
those breaking the curvature, acceleration, jerk or no-reverse limits are dropped.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics import kernels
from urbandrive.planning.proposals.candidates import (
    CandidateIndex,
    Candidates,
    ProposalKind,
    pack_states,
)
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.proposals.obstacles import ObstacleConfig
from urbandrive.planning.proposals.pdm import frenet_heading
from urbandrive.planning.proposals.shared import cycle_path_obstacles, cycle_stop_points


@dataclass(frozen=True, slots=True)
class LatticeConfig:
    """Sampling (durations in s, speeds as fractions of the limit) and feasibility limits."""

    nudge_offsets_m: tuple[float, ...] = (-0.8, 0.8)
    use_neighbour_lanes: bool = True
    lateral_durations_s: tuple[float, ...] = (3.0, 5.0)
    speed_fractions: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    keep_durations_s: tuple[float, ...] = (3.0, 6.0)
    stop_durations_s: tuple[float, ...] = (4.0, 6.0, 8.0)
    follow_durations_s: tuple[float, ...] = (4.0, 6.0)
    follow_headway_s: float = 1.5
    follow_min_gap_m: float = 2.0
    speed_lookahead_m: float = 40.0
    max_curvature_1pm: float = 0.2
    max_lateral_accel_mps2: float = 4.0
    #: below nuPlan's comfortable 2.40 m/s^2 with room for the tracker: replanned every
    #: cycle from the ego's acceleration, a quartic allowed to peak at 3.0 ratcheted the
    #: executed one up to it (town:standard stop_and_go-011 reached 2.48 m/s^2)
    max_accel_mps2: float = 2.0
    max_decel_mps2: float = 6.0
    max_jerk_mps3: float = 8.0
    obstacles: ObstacleConfig = field(default_factory=ObstacleConfig)

    def __post_init__(self) -> None:
        durations = (*self.lateral_durations_s, *self.keep_durations_s, *self.stop_durations_s)
        if min(durations + self.follow_durations_s) <= 0:
            raise ValueError("lattice durations must be > 0")
        if (
            min(
                self.max_curvature_1pm, self.max_accel_mps2, self.max_decel_mps2, self.max_jerk_mps3
            )
            <= 0
        ):
            raise ValueError("lattice feasibility limits must be > 0")


@dataclass(frozen=True, slots=True)
class _Profiles:
    """values: float64[N, H] (position, first and second derivative); names: N labels."""

    position: NDArrayF64
    rate: NDArrayF64
    accel: NDArrayF64
    names: tuple[str, ...]


class FrenetLatticeGenerator:
    """Werling's lattice (module doc); implements `ProposalGenerator`."""

    name = "lattice"

    def __init__(self, config: LatticeConfig | None = None) -> None:
        self.config = config if config is not None else LatticeConfig()

    def generate(self, context: PlanningContext) -> Candidates:
        lateral, longitudinal = lattice_profiles(context, self.config)
        num_lat, num_lon = len(lateral.names), len(longitudinal.names)
        # row i * num_lat + j: longitudinal profile i with lateral profile j
        speed = np.hypot(
            np.repeat(longitudinal.rate, num_lat, 0), np.tile(lateral.rate, (num_lon, 1))
        )
        accel = kernels.gradient(speed, context.dt_s, -1)  # np.gradient's floats
        xy, heading = pair_poses(context, longitudinal.position, lateral.position)
        feasible = is_feasible(heading, speed, accel, context.dt_s, self.config)
        feasible &= np.repeat(np.all(longitudinal.rate >= -0.1, axis=-1), num_lat)
        rows = np.flatnonzero(feasible)
        states = _pack_rows(rows, xy, heading, speed, accel, longitudinal, lateral)
        labels = pair_labels(lateral.names, longitudinal.names)
        kind = np.full(rows.size, ProposalKind.LATTICE, dtype=np.int64)
        kept = tuple(labels[row] for row in rows)
        return Candidates(context.times_s, states, kind, kept)


@functools.lru_cache(maxsize=64)
def pair_labels(lateral: tuple[str, ...], longitudinal: tuple[str, ...]) -> tuple[str, ...]:
    """The lattice's labels of every (longitudinal, lateral) pair, row-major as its pairs
    (the same few name sets every cycle: cached)."""
    return tuple(f"lat {a} | {b}" for b in longitudinal for a in lateral)


def _pack_rows(
    rows: NDArrayInt,
    xy: NDArrayF64,
    heading: NDArrayF64,
    speed: NDArrayF64,
    accel: NDArrayF64,
    longitudinal: _Profiles,
    lateral: _Profiles,
) -> NDArrayF64:
    """float64[R, H, 7]: `pack_states` of the pairs `rows` int64[R] (xy float64[N, H, 2],
    heading, speed, accel [N, H]; pair i: longitudinal i // A, lateral i % A), by
    `proposals.kernels.pack_pair_rows` with the compiled kernels: the same states."""
    num_lat, num_lon = lateral.position.shape[0], longitudinal.position.shape[0]
    if not kernels.enabled():
        s_m = np.repeat(longitudinal.position, num_lat, 0)
        d_m = np.tile(lateral.position, (num_lon, 1))
        return pack_states(xy, heading, speed, accel, s_m, d_m)[rows]
    from urbandrive.planning.proposals.kernels import pack_pair_rows

    states = np.empty((rows.size, heading.shape[1], len(CandidateIndex)))
    pack_pair_rows(
        rows, num_lat, np.ascontiguousarray(xy), np.ascontiguousarray(heading),
        np.ascontiguousarray(speed), np.ascontiguousarray(accel),
        np.ascontiguousarray(longitudinal.position), np.ascontiguousarray(lateral.position),
        states,
    )  # fmt: skip
    return states


def pair_poses(
    context: PlanningContext, s_m: NDArrayF64, d_m: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64]:
    """`frenet_trajectory`'s box-centre xy float64[L A, H, 2] and heading float64[L A, H] of
    every pair of a row of s_m float64[L, H] and of d_m float64[A, H] (row l A + a), each s
    row located on the reference and differenced once: the same floats."""
    xy, path_heading = context.reference.path.to_cartesian_pairs(s_m, d_m)
    ds = kernels.gradient(s_m, 1.0, -1)  # np.gradient's floats
    dd = kernels.gradient(d_m, 1.0, -1)
    heading = frenet_heading(path_heading[:, None], ds[:, None], dd[None])
    num_steps = s_m.shape[-1]
    return xy.reshape(-1, num_steps, 2), heading.reshape(-1, num_steps)


def lattice_profiles(
    context: PlanningContext, config: LatticeConfig
) -> tuple[_Profiles, _Profiles]:
    """(lateral, longitudinal) profiles: quintic lateral moves (`_lateral_moves`); velocity
    keeping (quartic), stopping and following (quintic) profiles of s(t). Every quintic is
    solved in one call and every polynomial evaluated in one call (each row's floats do not
    depend on the others)."""
    speed, accel = max(context.ego_speed_mps, 0.0), context.ego_accel_mps2
    lateral, lateral_names = _lateral_moves(context, config)
    keep, keep_durations, keep_names = _velocity_keeping(context, config, speed, accel)
    stop, stop_names = _stopping(context, config, speed, accel)
    follow, follow_names = _following(context, config, speed, accel)
    conditions = np.concatenate([lateral, stop, follow], 1)  # [6, N], rows contiguous
    quintics = quintic_coefficients(*conditions)
    num_lat = lateral.shape[1]
    position, rate, second = _polynomial_then_constant(
        context.times_s,
        np.concatenate([quintics[:num_lat], keep, quintics[num_lat:]]),
        np.concatenate([conditions[5, :num_lat], keep_durations, conditions[5, num_lat:]]),
    )
    return (
        _Profiles(position[:num_lat], rate[:num_lat], second[:num_lat], lateral_names),
        _Profiles(
            position[num_lat:], rate[num_lat:], second[num_lat:],
            keep_names + stop_names + follow_names,
        ),
    )  # fmt: skip


def _lateral_moves(
    context: PlanningContext, config: LatticeConfig
) -> tuple[NDArrayF64, tuple[str, ...]]:
    """Quintic lateral moves to each target offset and duration (plus 'keep' at d = 0):
    (boundary conditions [6, N], `quintic_coefficients`' arguments, names)."""
    targets, names = (
        [0.0, *config.nudge_offsets_m],
        ["keep", *(f"nudge {v:+.1f}" for v in config.nudge_offsets_m)],
    )
    reference = context.reference
    lane = int(reference.lane_index_at(np.asarray(context.s_now_m)))
    for name, offsets in (
        ("left lane", reference.left_offset_m),
        ("right lane", reference.right_offset_m),
    ):
        if config.use_neighbour_lanes and np.isfinite(offsets[lane]):
            targets.append(float(offsets[lane]))
            names.append(name)
    durations = np.asarray(config.lateral_durations_s)
    target = np.repeat(targets, durations.size)
    duration = np.tile(durations, len(targets))
    heading_error = np.angle(np.exp(1j * (context.ego_heading_rad - _path_heading(context))))
    d_rate = max(context.ego_speed_mps, 0.0) * np.sin(heading_error)
    size = target.size
    conditions = np.stack(
        [
            np.full(size, context.d_now_m), np.full(size, d_rate), np.zeros(size), target,
            np.zeros(size), duration,
        ]
    )  # fmt: skip
    return conditions, _move_names(tuple(names), config.lateral_durations_s)


@functools.lru_cache(maxsize=16)
def _move_names(names: tuple[str, ...], durations: tuple[float, ...]) -> tuple[str, ...]:
    """`_lateral_moves`' names, target-major (the same few every cycle: cached)."""
    return tuple(f"{n} T{t:.0f}" for n in names for t in durations)


def _velocity_keeping(
    context: PlanningContext, config: LatticeConfig, speed: float, accel: float
) -> tuple[NDArrayF64, NDArrayF64, tuple[str, ...]]:
    """Quartics to each fraction of the limit ahead in each duration: (coefficients [N, 6],
    durations [N], names)."""
    lookahead, fractions, duration, names = _keeping_grid(
        config.speed_lookahead_m, config.speed_fractions, config.keep_durations_s
    )
    limit = float(context.reference.comfortable_speed_at(context.s_now_m + lookahead).min())
    end_speed = np.repeat(fractions * limit, len(config.keep_durations_s))
    keep = quartic_coefficients(context.s_now_m, speed, accel, end_speed, duration)
    return keep, duration, names


@functools.lru_cache(maxsize=16)
def _keeping_grid(
    lookahead_m: float, fractions: tuple[float, ...], durations: tuple[float, ...]
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64, tuple[str, ...]]:
    """Read-only (20 distances ahead over lookahead_m, the fractions float64[F], every
    duration per fraction float64[F D], names) of `_velocity_keeping` (from the config)."""
    arrays = (
        np.linspace(0.0, lookahead_m, 20),
        np.asarray(fractions, np.float64),
        np.tile(np.asarray(durations, np.float64), len(fractions)),
    )
    for array in arrays:
        array.flags.writeable = False
    return (*arrays, tuple(f"v{f:.1f} T{t:.0f}" for f in fractions for t in durations))


def _stopping(
    context: PlanningContext, config: LatticeConfig, speed: float, accel: float
) -> tuple[NDArrayF64, tuple[str, ...]]:
    """Quintic stops with the front bumper at the first stop ahead (none if there is none):
    (boundary conditions [6, N], names)."""
    stops = cycle_stop_points(context, config.obstacles)
    durations = np.asarray(config.stop_durations_s if stops.size else ())
    target = np.full(
        durations.size, (stops[0] if stops.size else 0.0) - 0.5 * context.ego_size_m[0]
    )
    conditions = _from_now(context, speed, accel, target, np.zeros(durations.size), durations)
    return conditions, tuple(f"stop T{t:.0f}" for t in durations)


def _following(
    context: PlanningContext, config: LatticeConfig, speed: float, accel: float
) -> tuple[NDArrayF64, tuple[str, ...]]:
    """Quintic approaches to a time gap behind the nearest agent ahead on the reference:
    (boundary conditions [6, N], names)."""
    obstacles = cycle_path_obstacles(context, config.obstacles)
    # `obstacles.blocking` of the reference (offset 0) at step 0 only: the same values.
    reach = obstacles.half_width_m + 0.5 * context.ego_size_m[1] + config.obstacles.path_margin_m
    blocking = (np.abs(obstacles.d_m[:, 0] - 0.0) < reach) & obstacles.valid[:, 0]
    agents = (
        blocking
        & np.isfinite(obstacles.half_width_m)
        & (obstacles.center_s_m[:, 0] > context.s_now_m)
    )
    if not agents.any():
        return np.zeros((6, 0)), ()
    durations = np.asarray(config.follow_durations_s)
    leader = int(np.flatnonzero(agents)[np.argmin(obstacles.rear_s_m[agents, 0])])
    steps = np.clip(np.round(durations / context.dt_s).astype(int), 0, context.num_steps - 1)
    lead_speed = obstacles.speed_mps[leader, steps]
    gap = config.follow_min_gap_m + config.follow_headway_s * lead_speed
    target = obstacles.rear_s_m[leader, steps] - gap - 0.5 * context.ego_size_m[0]
    conditions = _from_now(context, speed, accel, target, lead_speed, durations)
    return conditions, tuple(f"follow T{t:.0f}" for t in durations)


def _from_now(
    context: PlanningContext,
    speed: float,
    accel: float,
    target_s: NDArrayF64,
    target_speed: NDArrayF64,
    duration: NDArrayF64,
) -> NDArrayF64:
    """float64[6, N]: boundary conditions (`quintic_coefficients`' arguments) of quintics from
    the ego's state now (s, speed, accel) to target_s, target_speed [N] in duration [N]."""
    size = duration.size
    return np.stack(
        [
            np.full(size, context.s_now_m), np.full(size, speed), np.full(size, accel),
            np.asarray(target_s, np.float64), np.asarray(target_speed, np.float64),
            np.asarray(duration, np.float64),
        ]
    )  # fmt: skip


def quintic_coefficients(
    start: NDArrayF64,
    start_rate: NDArrayF64,
    start_accel: NDArrayF64,
    end: NDArrayF64,
    end_rate: NDArrayF64,
    duration_s: NDArrayF64,
) -> NDArrayF64:
    """float64[N, 6], ascending: quintics from (x, x', x'') = (start, start_rate, start_accel)
    to (end, end_rate, 0) in duration_s (all float64[N]); `_polynomial_then_constant`
    evaluates them and continues at the end rate."""
    matrix = _quintic_matrix(tuple(duration_s.tolist()))
    tt = duration_s
    rhs = np.stack(
        [
            end - (start + start_rate * tt + 0.5 * start_accel * tt**2),
            end_rate - (start_rate + start_accel * tt),
            -start_accel,
        ],
        -1,
    )
    c3, c4, c5 = (
        np.moveaxis(np.linalg.solve(matrix, rhs[..., None])[..., 0], -1, 0)
        if tt.size
        else (np.zeros(0),) * 3
    )
    return np.stack([start, start_rate, 0.5 * start_accel, c3, c4, c5], -1)


@functools.lru_cache(maxsize=16)
def _quintic_matrix(duration_s: tuple[float, ...]) -> NDArrayF64:
    """float64[N, 3, 3], read-only: the end conditions' rows of `quintic_coefficients` for
    each duration (the lattice's come from its config: cached)."""
    t = np.asarray(duration_s, np.float64)[:, None]
    matrix = np.stack(
        [
            np.concatenate([t**3, t**4, t**5], -1),
            np.concatenate([3 * t**2, 4 * t**3, 5 * t**4], -1),
            np.concatenate([6 * t, 12 * t**2, 20 * t**3], -1),
        ],
        -2,
    )
    matrix.flags.writeable = False
    return matrix


def quartic_coefficients(
    start: float, speed: float, accel: float, end_speed: NDArrayF64, duration_s: NDArrayF64
) -> NDArrayF64:
    """float64[N, 6], ascending (the quintic term 0): quartics from (s, v, a) to speed
    `end_speed[N]` with zero acceleration at `duration_s[N]` (velocity keeping; evaluated by
    `_polynomial_then_constant`)."""
    t = duration_s
    excess = end_speed - speed - accel * t
    c3 = excess / t**2 + accel / (3 * t)
    c4 = -accel / (4 * t**2) - excess / (2 * t**3)
    size = t.size
    coefficients = np.stack(
        [
            np.full(size, start),
            np.full(size, speed),
            np.full(size, 0.5 * accel),
            c3,
            c4,
            np.zeros(size),
        ],
        -1,
    )
    return coefficients


def _polynomial_then_constant(
    times_s: NDArrayF64, coefficients: NDArrayF64, duration_s: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """Evaluate quintic `coefficients[N, 6]` (ascending) until `duration_s[N]`, then extrapolate
    at the end rate: position, rate, acceleration float64[N, H]."""
    powers, after, elapsed = _evaluation_basis(tuple(times_s.tolist()), tuple(duration_s.tolist()))
    position = np.einsum("nhk,nk->nh", powers, coefficients)
    rate = np.einsum("nhk,nk->nh", powers[..., :5], coefficients[:, 1:] * np.arange(1, 6))
    accel = np.einsum("nhk,nk->nh", powers[..., :4], coefficients[:, 2:] * np.array([2, 6, 12, 20]))
    position = position + np.where(after, rate * elapsed, 0.0)
    return position, rate, np.where(after, 0.0, accel)


@functools.lru_cache(maxsize=16)
def _evaluation_basis(
    times_s: tuple[float, ...], duration_s: tuple[float, ...]
) -> tuple[NDArrayF64, NDArrayBool, NDArrayF64]:
    """Read-only (powers float64[N, H, 6] of t = min(time, duration), after bool[N, H]: the
    time is past the duration, elapsed float64[N, H]: time - t) of `_polynomial_then_constant`
    (the lattice's durations come from its config and the times are the planner's: cached)."""
    times, durations = np.asarray(times_s, np.float64), np.asarray(duration_s, np.float64)
    t = np.minimum(times[None], durations[:, None])
    basis = (t[..., None] ** np.arange(6), times[None] > durations[:, None], times[None] - t)
    for array in basis:
        array.flags.writeable = False
    return basis


def is_feasible(
    heading: NDArrayF64, speed: NDArrayF64, accel: NDArrayF64, dt_s: float, config: LatticeConfig
) -> NDArrayBool:
    """bool[N]: curvature, lateral and longitudinal acceleration and jerk within the limits at
    every step (heading, speed, accel: float64[N, H]). With the compiled kernels, by
    `proposals.kernels.feasible_rows` (the same floats, so the same answers)."""
    if kernels.enabled() and heading.ndim == 2 and heading.shape[0] and heading.shape[1] > 1:
        from urbandrive.planning.proposals.kernels import feasible_rows

        limits = np.array(
            [
                config.max_curvature_1pm, config.max_lateral_accel_mps2, config.max_accel_mps2,
                config.max_decel_mps2, config.max_jerk_mps3,
            ],
            np.float64,
        )  # fmt: skip
        return feasible_rows(
            np.ascontiguousarray(heading, np.float64), np.ascontiguousarray(speed, np.float64),
            np.ascontiguousarray(accel, np.float64), float(dt_s), limits,
            np.empty(heading.shape),
        )  # fmt: skip
    yaw_rate = np.gradient(np.unwrap(heading, axis=-1), dt_s, axis=-1)
    moving = speed > 1.0
    curvature = np.where(moving, np.abs(yaw_rate) / np.where(moving, speed, 1.0), 0.0)
    jerk = np.gradient(accel, dt_s, axis=-1)
    lateral_accel = np.abs(yaw_rate) * speed
    return (
        np.all(curvature <= config.max_curvature_1pm, axis=-1)
        & np.all(lateral_accel <= config.max_lateral_accel_mps2, axis=-1)
        & np.all((accel <= config.max_accel_mps2) & (accel >= -config.max_decel_mps2), axis=-1)
        & np.all(np.abs(jerk) <= config.max_jerk_mps3, axis=-1)
    )


def _path_heading(context: PlanningContext) -> float:
    _, heading = context.reference.path.to_cartesian(np.asarray(context.s_now_m), np.asarray(0.0))
    return float(heading)
