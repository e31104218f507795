"""PDM-style proposals: IDM along laterally offset copies of the reference, tracked.

As PDM-Closed (tuplan_garage): paths = the reference at lateral offsets (default -1, 0, +1 m,
plus the neighbour lanes' centrelines where they exist) x IDM target speeds (fractions of the
limit); the leader of each path is the nearest predicted agent (any kept mode) or stop ahead on
it. Each proposal's reference (s(t) from IDM, d(t) easing from the ego's offset to the
path's) is closed through the batched LQR/PID tracker and the kinematic bicycle model
(`urbandrive.control.tracker`, which depends only on core and dynamics; planning imports it
although `control` sits after `planning` in the data flow), so every proposal is feasible by
construction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from urbandrive.agents.idm import IdmConfig, idm_acceleration
from urbandrive.control.lateral import gain_table
from urbandrive.control.tracker import TrackedRollout, TrackerConfig, TrajectoryTracker
from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import CURVATURE_MIN_SPEED_MPS, Trajectory, bracket
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.dynamics.bicycle import (
    COMMAND_SIZE,
    STATE_SIZE,
    BicycleConfig,
    StateIndex,
    center_to_rear_axle,
    check_state,
    make_state,
    rear_axle_to_center,
)
from urbandrive.metrics import kernels
from urbandrive.planning.proposals.candidates import (
    CandidateIndex,
    Candidates,
    ProposalKind,
    pack_states,
)
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.proposals.obstacles import ObstacleConfig, PathObstacles
from urbandrive.planning.proposals.shared import cycle_path_obstacles

#: PDM-Closed's IDM clips its acceleration to [-decel_max, accel_max] with decel_max 3.0 m/s^2
#: (tuplan_garage `BatchIDMPolicy`); harder braking is the emergency stops' job. The tracker
#: executes a proposal's acceleration, so an IDM allowed 8 m/s^2 near a stop failed
#: `ego_is_comfortable` (AV2 log 7fab2350 braked at 4.7 m/s^2 into a stop at 2 m/s).
PDM_MAX_DECEL_MPS2 = 3.0


@dataclass(frozen=True, slots=True)
class PdmProposalConfig:
    """speed_fractions: IDM target speeds as fractions of the limit; lateral_offsets_m: path
    offsets from the reference; lateral_settle_s: time to reach a path's offset;
    lateral_lead_s: the easing starts this far into its smoothstep (`eased_offsets`);
    rollout_dt_s: the tracker's step (states are interpolated back to the planning step)."""

    speed_fractions: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)
    lateral_offsets_m: tuple[float, ...] = (-1.0, 0.0, 1.0)
    use_neighbour_lanes: bool = True
    lateral_settle_s: float = 3.0
    lateral_lead_s: float = 1.5
    rollout_dt_s: float = 0.2
    idm: IdmConfig = field(default_factory=lambda: IdmConfig(max_decel_mps2=PDM_MAX_DECEL_MPS2))
    obstacles: ObstacleConfig = field(default_factory=ObstacleConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)

    def __post_init__(self) -> None:
        if not self.speed_fractions or min(self.speed_fractions) <= 0:
            raise ValueError(f"speed_fractions must be positive, got {self.speed_fractions}")
        if not self.lateral_offsets_m:
            raise ValueError("lateral_offsets_m must name at least one offset")
        if self.lateral_settle_s <= 0 or self.rollout_dt_s <= 0 or self.lateral_lead_s < 0:
            raise ValueError("need lateral_settle_s, rollout_dt_s > 0 and lateral_lead_s >= 0")


class PdmProposalGenerator:
    """PDM-Closed's proposals (module doc); implements `ProposalGenerator`."""

    name = "pdm"

    def __init__(self, config: PdmProposalConfig | None = None) -> None:
        self.config = config if config is not None else PdmProposalConfig()
        self.tracker = TrajectoryTracker(self.config.tracker)

    def generate(self, context: PlanningContext) -> Candidates:
        offsets, path_names = path_offsets(context, self.config)
        fractions = np.asarray(self.config.speed_fractions)
        offset = np.repeat(offsets, fractions.size)
        target = np.tile(fractions, offsets.size)
        obstacles = cycle_path_obstacles(context, self.config.obstacles)
        s_m, speed, accel = idm_profiles(context, obstacles, offset, target, self.config)
        d_m = eased_offsets(
            context, offset, self.config.lateral_settle_s, self.config.lateral_lead_s
        )
        states = self._track(context, s_m, d_m, speed, accel)
        labels = _labels(tuple(path_names), self.config.speed_fractions)
        kind = np.full(offset.size, ProposalKind.PDM, dtype=np.int64)
        return Candidates(context.times_s, states, kind, labels)

    def _track(
        self,
        context: PlanningContext,
        s_m: NDArrayF64,
        d_m: NDArrayF64,
        speed: NDArrayF64,
        accel: NDArrayF64,
    ) -> NDArrayF64:
        """Close the references through tracker + bicycle; packed states float64[P, H, C]."""
        reference = frenet_trajectory(context, s_m, d_m, speed, accel)
        vehicle = self.config.tracker.vehicle
        rear = Trajectory(
            times_s=reference.times_s,
            xy=center_to_rear_axle(reference.xy, reference.heading, vehicle),
            heading=reference.heading,
            speed_mps=reference.speed_mps,
            accel_mps2=reference.accel_mps2,
        )
        start = make_state(
            center_to_rear_axle(context.ego_center_xy, context.ego_heading_rad, vehicle),
            context.ego_heading_rad,
            context.ego_speed_mps,
            steering_rad=ego_steering_rad(context, vehicle),
            accel_mps2=context.ego_accel_mps2,
        )
        dt_s = self.config.rollout_dt_s
        num_steps = int(np.ceil(context.times_s[-1] / dt_s - 1e-9))
        if kernels.enabled():
            rollout = track_compiled(self.config.tracker, start, rear, dt_s, num_steps)
        else:
            rollout = self.tracker.track(start, rear, dt_s, num_steps)
        states = _resample_states(rollout.states, rollout.times_s, context.times_s)
        return centred_states(states, s_m, d_m, vehicle)


#: The bicycle state's columns that `centred_states` packs: x, y, heading, speed, accel.
_PACKED_COLUMNS = np.array(
    [StateIndex.X, StateIndex.Y, StateIndex.HEADING, StateIndex.SPEED, StateIndex.ACCEL], np.int64
)


def centred_states(
    states: NDArrayF64, s_m: NDArrayF64, d_m: NDArrayF64, vehicle: BicycleConfig
) -> NDArrayF64:
    """`pack_states` float64[P, H, 7] of rear-axle bicycle states float64[P, H, S] moved to
    the box centre (`rear_axle_to_center`), with the profiles s_m, d_m float64[P, H]. With the
    compiled kernels, the shift and the packing by `proposals.kernels.pack_centred` (numpy's
    cos / sin of the same heading view): the same floats."""
    heading = states[..., StateIndex.HEADING]
    if not (kernels.enabled() and states.ndim == 3):
        center = rear_axle_to_center(states[..., [StateIndex.X, StateIndex.Y]], heading, vehicle)
        return pack_states(
            center, heading, states[..., StateIndex.SPEED], states[..., StateIndex.ACCEL], s_m, d_m
        )
    from urbandrive.planning.proposals.kernels import pack_centred

    out = np.empty((*heading.shape, len(CandidateIndex)))
    pack_centred(
        np.ascontiguousarray(states), _PACKED_COLUMNS, np.cos(heading), np.sin(heading),
        float(vehicle.rear_axle_to_center_m), np.ascontiguousarray(s_m),
        np.ascontiguousarray(d_m), out,
    )  # fmt: skip
    return out


def track_compiled(
    config: TrackerConfig,
    initial_state: NDArrayF64,
    reference: Trajectory,
    dt_s: float,
    num_steps: int,
) -> TrackedRollout:
    """`TrajectoryTracker(config).track(initial_state, reference, dt_s, num_steps)` by the
    compiled kernel (`proposals.kernels.track_rollout`): the same rollout up to float rounding.
    initial_state: float64[S] or [P, S]; reference: batch [P]."""
    from urbandrive.planning.proposals.kernels import track_rollout

    check_state(initial_state, "track_compiled: initial_state")
    reference.validate("track_compiled: reference")
    if not dt_s > 0 or num_steps < 0 or len(reference.batch_shape) != 1:
        raise ValueError(
            f"track_compiled: need dt_s > 0, num_steps >= 0, a batch [P]; got {dt_s}, "
            f"{num_steps}, {reference.batch_shape}"
        )
    vehicle = config.vehicle
    times_s = dt_s * np.arange(num_steps + 1)
    # the step starts and ends share most times: each distinct time is sampled once (every
    # query is sampled on its own, so the rows are the same floats)
    query_s, inverse = np.unique(
        np.concatenate([times_s[:-1], times_s[:-1] + dt_s]), return_inverse=True
    )
    table = _reference_table(reference, query_s, vehicle.wheelbase_m)[:, inverse]  # [P, 2 N, 8]
    num_paths = table.shape[0]
    initial = np.ascontiguousarray(np.broadcast_to(initial_state, (num_paths, STATE_SIZE)))
    speeds, gains = gain_table(config.lateral, vehicle.wheelbase_m, dt_s)
    limits = np.array(
        [
            vehicle.wheelbase_m, vehicle.max_steering_rad, vehicle.max_steering_rate_radps,
            vehicle.max_accel_mps2, vehicle.max_decel_mps2, vehicle.max_jerk_mps3,
            vehicle.min_speed_mps,
        ]
    )  # fmt: skip
    gains_pid = config.longitudinal
    controller = np.array(
        [
            gains_pid.speed_gain_per_s, gains_pid.station_gain_per_s2, gains_pid.accel_gain,
            config.standstill_speed_mps,
        ]
    )  # fmt: skip
    states = np.empty((num_paths, num_steps + 1, STATE_SIZE))
    commands = np.empty((num_paths, num_steps, COMMAND_SIZE))
    finite = track_rollout(
        initial, np.ascontiguousarray(table[:, :num_steps]),
        np.ascontiguousarray(table[:, num_steps:]), speeds, np.ascontiguousarray(gains),
        limits, controller, float(dt_s), states, commands,
    )  # fmt: skip
    if not finite:
        raise DataError("TrajectoryTracker: non-finite command (check the reference)")
    return TrackedRollout(times_s=times_s, states=states, commands=commands)


@functools.lru_cache(maxsize=64)
def _labels(path_names: tuple[str, ...], fractions: tuple[float, ...]) -> tuple[str, ...]:
    """The proposals' labels, path-major (the same few sets every cycle: cached)."""
    return tuple(f"pdm {name} v{fraction:.1f}" for name in path_names for fraction in fractions)


def _reference_table(reference: Trajectory, query_s: NDArrayF64, wheelbase_m: float) -> NDArrayF64:
    """float64[P, Q, 8]: `reference` (batch [P]) with its derivatives at `query_s[Q]`, columns
    x, y, cos and sin of the heading, heading, speed, accel, atan(wheelbase x curvature) (the
    table `track_rollout` reads). With the compiled kernels, more than one step and no
    curvature given, the derivatives and the interpolation by
    `proposals.kernels.sample_reference`: the same floats as `with_derivatives().at`."""
    if not kernels.enabled() or reference.curvature_1pm is not None or reference.num_steps < 2:
        sampled = reference.with_derivatives().at(query_s)
        assert sampled.accel_mps2 is not None and sampled.curvature_1pm is not None
        heading, speed = sampled.heading, sampled.speed_mps
        table = np.stack(
            [
                sampled.xy[..., 0], sampled.xy[..., 1], heading, heading, heading, speed,
                sampled.accel_mps2, sampled.curvature_1pm,
            ],
            -1,
        )  # fmt: skip
    else:
        from urbandrive.planning.proposals.kernels import sample_reference

        lower, upper, ratio = bracket(reference.times_s, query_s)
        table = np.empty((*reference.batch_shape, query_s.shape[0], 8))
        has_accel = reference.accel_mps2 is not None
        sample_reference(
            reference.times_s, np.ascontiguousarray(reference.xy),
            np.ascontiguousarray(reference.heading), np.ascontiguousarray(reference.speed_mps),
            np.ascontiguousarray(reference.accel_mps2 if has_accel else reference.speed_mps),
            has_accel, CURVATURE_MIN_SPEED_MPS, lower, upper, ratio, table,
        )  # fmt: skip
    heading = np.ascontiguousarray(table[..., 4])  # numpy's contiguous cos / sin loops
    table[..., 2], table[..., 3] = np.cos(heading), np.sin(heading)
    table[..., 7] = np.arctan(wheelbase_m * table[..., 7])
    return table


def path_offsets(
    context: PlanningContext, config: PdmProposalConfig
) -> tuple[NDArrayF64, list[str]]:
    """Lateral offsets float64[P] of the paths and their names (neighbour lanes included)."""
    offsets = list(config.lateral_offsets_m)
    names = [f"d{value:+.1f}" for value in offsets]
    if config.use_neighbour_lanes:
        lane = int(context.reference.lane_index_at(np.asarray(context.s_now_m)))
        for name, values in (
            ("left", context.reference.left_offset_m),
            ("right", context.reference.right_offset_m),
        ):
            if np.isfinite(values[lane]):
                offsets.append(float(values[lane]))
                names.append(name)
    return np.asarray(offsets, dtype=np.float64), names


def idm_profiles(
    context: PlanningContext,
    obstacles: PathObstacles,
    offsets_m: NDArrayF64,
    speed_fractions: NDArrayF64,
    config: PdmProposalConfig,
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """IDM along each path: s, speed, acceleration float64[P, H] (a loop over time steps).

    The desired speed of path p is `speed_fractions[p]` times the reference's comfortable
    speed (the limit, slowed for curves) where the ego is."""
    num_paths, num_steps, dt_s = offsets_m.size, context.num_steps, context.dt_s
    half_length = 0.5 * context.ego_size_m[0]
    ego_half_width, margin = 0.5 * context.ego_size_m[1], config.obstacles.path_margin_m
    s_m, speed, accel = (np.zeros((num_paths, num_steps)) for _ in range(3))
    s_m[:, 0], speed[:, 0] = context.s_now_m, max(context.ego_speed_mps, 0.0)
    if kernels.enabled() and num_steps > 1:
        _idm_compiled(context, obstacles, offsets_m, speed_fractions, config, s_m, speed, accel)
        return s_m, speed, accel
    if kernels.enabled():
        nearest_gaps = _compiled_nearest_gaps(obstacles, offsets_m, ego_half_width, margin)
    else:
        nearest_gaps = _nearest_gaps(obstacles.blocking(offsets_m, ego_half_width, margin))
    for step in range(num_steps - 1):
        gap, nearest = nearest_gaps(obstacles, s_m[:, step], half_length, step)
        lead_speed = (
            obstacles.speed_mps[nearest, step] if obstacles.valid.shape[0] else np.zeros(num_paths)
        )
        desired = speed_fractions * context.reference.comfortable_speed_at(s_m[:, step])
        accel[:, step] = idm_acceleration(speed[:, step], desired, gap, lead_speed, config.idm)
        speed[:, step + 1] = np.maximum(speed[:, step] + accel[:, step] * dt_s, 0.0)
        accel[:, step] = (speed[:, step + 1] - speed[:, step]) / dt_s
        s_m[:, step + 1] = s_m[:, step] + 0.5 * (speed[:, step] + speed[:, step + 1]) * dt_s
    accel[:, -1] = accel[:, -2]
    return s_m, speed, accel


def _idm_compiled(
    context: PlanningContext,
    obstacles: PathObstacles,
    offsets_m: NDArrayF64,
    speed_fractions: NDArrayF64,
    config: PdmProposalConfig,
    s_m: NDArrayF64,
    speed: NDArrayF64,
    accel: NDArrayF64,
) -> None:
    """`idm_profiles`' loop by the compiled kernel (`proposals.kernels.idm_rollout`): fills
    s_m, speed, accel float64[P, H] (column 0 set) with the same values."""
    from urbandrive.planning.proposals.kernels import idm_rollout

    idm, reference = config.idm, context.reference
    ego_half_width_m = 0.5 * context.ego_size_m[1]
    reach = obstacles.half_width_m + ego_half_width_m + config.obstacles.path_margin_m
    parameters = np.array(
        [
            idm.max_accel_mps2, 2.0 * np.sqrt(idm.max_accel_mps2 * idm.comfortable_decel_mps2),
            idm.min_gap_m, idm.headway_s, idm.exponent, idm.max_decel_mps2,
        ],
        np.float64,
    )  # fmt: skip

    def contiguous(array: np.ndarray, dtype: type = np.float64) -> np.ndarray:
        return np.ascontiguousarray(array, dtype)

    idm_rollout(
        contiguous(offsets_m), contiguous(reach), contiguous(obstacles.d_m),
        contiguous(obstacles.valid, np.bool_), contiguous(obstacles.center_s_m),
        contiguous(obstacles.rear_s_m), contiguous(obstacles.speed_mps),
        contiguous(reference.path.s_m), contiguous(reference.comfortable_speed_mps),
        contiguous(np.broadcast_to(speed_fractions, offsets_m.shape)), parameters,
        float(0.5 * context.ego_size_m[0]), float(context.dt_s), s_m, speed, accel,
    )  # fmt: skip


#: (obstacles, s_m float64[P], half_length_m, step) -> (gap float64[P], nearest int64[P])
NearestGaps = Callable[[PathObstacles, NDArrayF64, float, int], tuple[NDArrayF64, NDArrayInt]]


def _nearest_gaps(blocking: NDArrayBool) -> NearestGaps:
    """Per path at `s_m[P]`, the bumper gap to the nearest obstacle ahead blocking it
    (`blocking: bool[P, O, H]`) at `step`, inf if none, and its index (0 if none)."""

    def nearest_gaps(
        obstacles: PathObstacles, s_m: NDArrayF64, half_length: float, step: int
    ) -> tuple[NDArrayF64, NDArrayInt]:
        num_paths = s_m.shape[0]
        if blocking.shape[1] == 0:
            return np.full(num_paths, np.inf), np.zeros(num_paths, np.int64)
        ahead = blocking[:, :, step] & (obstacles.center_s_m[None, :, step] > s_m[:, None])
        rear = obstacles.rear_s_m[None, :, step]
        gaps = np.where(ahead, rear - s_m[:, None] - half_length, np.inf)
        nearest = np.argmin(gaps, axis=1)
        return gaps[np.arange(num_paths), nearest], nearest

    return nearest_gaps


def _compiled_nearest_gaps(
    obstacles: PathObstacles, offsets_m: NDArrayF64, ego_half_width_m: float, margin_m: float
) -> NearestGaps:
    """`_nearest_gaps` by the compiled kernel (`proposals.kernels`), blocking tested inline
    exactly as `PathObstacles.blocking`: the same values."""
    from urbandrive.planning.proposals.kernels import nearest_obstacle_gaps

    reach = np.ascontiguousarray(obstacles.half_width_m + ego_half_width_m + margin_m)
    offsets = np.ascontiguousarray(offsets_m, np.float64)

    def nearest_gaps(
        obstacles: PathObstacles, s_m: NDArrayF64, half_length: float, step: int
    ) -> tuple[NDArrayF64, NDArrayInt]:
        return nearest_obstacle_gaps(
            offsets, reach, obstacles.d_m, obstacles.valid, obstacles.center_s_m,
            obstacles.rear_s_m, np.ascontiguousarray(s_m), float(half_length), step,
        )  # fmt: skip

    return nearest_gaps


def eased_offsets(
    context: PlanningContext, target_m: NDArrayF64, settle_s: float, lead_s: float = 0.0
) -> NDArrayF64:
    """float64[P, H]: d(t) from the ego's offset to `target_m[P]` at settle_s, along a
    smoothstep over lead_s + settle_s entered lead_s in (rescaled to start at 0). With no lead
    the offset starts flat, and replanned every cycle from the ego's offset it never got
    going: the ego held 0.35 m and 1 m beside its target on pdm plans for seconds
    (town:standard lane_change_dense-006, -002)."""

    def smoothstep(ratio: NDArrayF64) -> NDArrayF64:
        return ratio**3 * (10.0 - 15.0 * ratio + 6.0 * ratio**2)

    span = settle_s + lead_s
    start = smoothstep(np.asarray(lead_s / span))
    ratio = np.clip((context.times_s + lead_s) / span, 0.0, 1.0)
    blend = (smoothstep(ratio) - start) / (1.0 - start)
    return context.d_now_m + (target_m[:, None] - context.d_now_m) * blend[None]


def frenet_trajectory(
    context: PlanningContext, s_m: NDArrayF64, d_m: NDArrayF64, speed: NDArrayF64, accel: NDArrayF64
) -> Trajectory:
    """Box-centre `Trajectory` (batch [P]) of Frenet profiles s, d float64[P, H] on the reference;
    the heading turns towards the lateral motion (atan of dd/ds)."""
    xy, path_heading = context.reference.path.to_cartesian(s_m, d_m)
    ds = kernels.gradient(s_m, 1.0, -1)  # np.gradient's floats
    dd = kernels.gradient(d_m, 1.0, -1)
    heading = frenet_heading(path_heading, ds, dd)
    return Trajectory(
        times_s=context.times_s, xy=xy, heading=heading, speed_mps=speed, accel_mps2=accel
    )


def frenet_heading(path_heading: NDArrayF64, ds: NDArrayF64, dd: NDArrayF64) -> NDArrayF64:
    """float64[...]: the path's heading turned towards the lateral motion, + atan(dd / ds)
    (none where |ds| <= 1e-3), wrapped; the arrays broadcast (ds, dd: steps of s and d)."""
    moving = np.abs(ds) > 1e-3
    slope = np.where(moving, dd / np.where(moving, ds, 1.0), 0.0)
    return np.angle(np.exp(1j * (path_heading + np.arctan(slope))))


def ego_steering_rad(context: PlanningContext, vehicle: BicycleConfig) -> float:
    """The ego's steering angle now, from its last two headings (tan(steer) = wheelbase x
    yaw rate / speed, as the simulation's initial state), 0 below 1 m/s.

    The rollouts start from it: started at 0, every proposal's first step curves less than
    the ego does (0.7 of a 20 m bend), the tracker's feed-forward reads that curvature, and
    the closed loop, replanning from 0 each cycle, drifted 2.8 m to the outside of the right
    turn of town:standard right_turn_pedestrians-012. (It still settles ~1 m to the inside
    there: the eased lateral offset starts flat, so a replanned path barely pulls back.)
    """
    history, ego = context.observation.history, context.observation.ego_index
    speed = context.ego_speed_mps
    if history.num_steps < 2 or not history.valid[ego, -2] or speed <= 1.0:
        return 0.0
    turned = np.angle(np.exp(1j * (history.heading[ego, -1] - history.heading[ego, -2])))
    yaw_rate = float(turned) / context.observation.dt_s
    limit = vehicle.max_steering_rad
    return float(np.clip(np.arctan(vehicle.wheelbase_m * yaw_rate / speed), -limit, limit))


def _resample_states(states: NDArrayF64, source_s: NDArrayF64, target_s: NDArrayF64) -> NDArrayF64:
    """float64[..., len(target_s), S]: states linearly interpolated in time (heading unwrapped)."""
    upper = np.clip(np.searchsorted(source_s, target_s, side="left"), 1, source_s.shape[0] - 1)
    lower = upper - 1
    ratio = np.clip((target_s - source_s[lower]) / (source_s[upper] - source_s[lower]), 0.0, 1.0)
    if kernels.enabled() and states.ndim == 3:
        from urbandrive.planning.proposals.kernels import resample_rows

        result = np.empty((states.shape[0], target_s.shape[0], states.shape[2]))
        resample_rows(
            np.ascontiguousarray(states), int(StateIndex.HEADING), lower, upper, ratio, result
        )
    else:
        unwrapped = states.copy()
        unwrapped[..., StateIndex.HEADING] = np.unwrap(states[..., StateIndex.HEADING], axis=-1)
        result = unwrapped[..., lower, :] + ratio[:, None] * (
            unwrapped[..., upper, :] - unwrapped[..., lower, :]
        )
    result[..., StateIndex.HEADING] = np.angle(np.exp(1j * result[..., StateIndex.HEADING]))
    return result
