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

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from urbandrive.agents.idm import IdmConfig, idm_acceleration
from urbandrive.control.tracker import TrackerConfig, TrajectoryTracker
from urbandrive.core.trajectory import Trajectory
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.dynamics.bicycle import (
    StateIndex,
    center_to_rear_axle,
    make_state,
    rear_axle_to_center,
)
from urbandrive.metrics import kernels
from urbandrive.planning.proposals.candidates import Candidates, ProposalKind, pack_states
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.proposals.obstacles import ObstacleConfig, PathObstacles, path_obstacles


@dataclass(frozen=True, slots=True)
class PdmProposalConfig:
    """speed_fractions: IDM target speeds as fractions of the limit; lateral_offsets_m: path
    offsets from the reference; lateral_settle_s: time to reach a path's offset;
    rollout_dt_s: the tracker's step (states are interpolated back to the planning step)."""

    speed_fractions: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)
    lateral_offsets_m: tuple[float, ...] = (-1.0, 0.0, 1.0)
    use_neighbour_lanes: bool = True
    lateral_settle_s: float = 3.0
    rollout_dt_s: float = 0.2
    idm: IdmConfig = field(default_factory=IdmConfig)
    obstacles: ObstacleConfig = field(default_factory=ObstacleConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)

    def __post_init__(self) -> None:
        if not self.speed_fractions or min(self.speed_fractions) <= 0:
            raise ValueError(f"speed_fractions must be positive, got {self.speed_fractions}")
        if not self.lateral_offsets_m:
            raise ValueError("lateral_offsets_m must name at least one offset")
        if self.lateral_settle_s <= 0 or self.rollout_dt_s <= 0:
            raise ValueError("lateral_settle_s and rollout_dt_s must be > 0")


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
        obstacles = path_obstacles(context, self.config.obstacles)
        s_m, speed, accel = idm_profiles(context, obstacles, offset, target, self.config)
        d_m = eased_offsets(context, offset, self.config.lateral_settle_s)
        states = self._track(context, s_m, d_m, speed, accel)
        labels = tuple(
            f"pdm {name} v{fraction:.1f}" for name in path_names for fraction in fractions
        )
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
            accel_mps2=context.ego_accel_mps2,
        )
        dt_s = self.config.rollout_dt_s
        num_steps = int(np.ceil(context.times_s[-1] / dt_s - 1e-9))
        rollout = self.tracker.track(start, rear, dt_s, num_steps)
        states = _resample_states(rollout.states, rollout.times_s, context.times_s)
        heading = states[..., StateIndex.HEADING]
        center = rear_axle_to_center(states[..., [StateIndex.X, StateIndex.Y]], heading, vehicle)
        return pack_states(
            center, heading, states[..., StateIndex.SPEED], states[..., StateIndex.ACCEL], s_m, d_m
        )


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
    if kernels.enabled():
        nearest_gaps = _compiled_nearest_gaps(obstacles, offsets_m, ego_half_width, margin)
    else:
        nearest_gaps = _nearest_gaps(obstacles.blocking(offsets_m, ego_half_width, margin))
    s_m, speed, accel = (np.zeros((num_paths, num_steps)) for _ in range(3))
    s_m[:, 0], speed[:, 0] = context.s_now_m, max(context.ego_speed_mps, 0.0)
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


def eased_offsets(context: PlanningContext, target_m: NDArrayF64, settle_s: float) -> NDArrayF64:
    """float64[P, H]: d(t) from the ego's offset to `target_m[P]`, a smoothstep over settle_s."""
    ratio = np.clip(context.times_s / settle_s, 0.0, 1.0)
    blend = ratio**3 * (10.0 - 15.0 * ratio + 6.0 * ratio**2)
    return context.d_now_m + (target_m[:, None] - context.d_now_m) * blend[None]


def frenet_trajectory(
    context: PlanningContext, s_m: NDArrayF64, d_m: NDArrayF64, speed: NDArrayF64, accel: NDArrayF64
) -> Trajectory:
    """Box-centre `Trajectory` (batch [P]) of Frenet profiles s, d float64[P, H] on the reference;
    the heading turns towards the lateral motion (atan of dd/ds)."""
    xy, path_heading = context.reference.path.to_cartesian(s_m, d_m)
    ds = np.gradient(s_m, axis=-1)
    dd = np.gradient(d_m, axis=-1)
    slope = np.where(np.abs(ds) > 1e-3, dd / np.where(np.abs(ds) > 1e-3, ds, 1.0), 0.0)
    heading = np.angle(np.exp(1j * (path_heading + np.arctan(slope))))
    return Trajectory(
        times_s=context.times_s, xy=xy, heading=heading, speed_mps=speed, accel_mps2=accel
    )


def _resample_states(states: NDArrayF64, source_s: NDArrayF64, target_s: NDArrayF64) -> NDArrayF64:
    """float64[..., len(target_s), S]: states linearly interpolated in time (heading unwrapped)."""
    unwrapped = states.copy()
    unwrapped[..., StateIndex.HEADING] = np.unwrap(states[..., StateIndex.HEADING], axis=-1)
    upper = np.clip(np.searchsorted(source_s, target_s, side="left"), 1, source_s.shape[0] - 1)
    lower = upper - 1
    ratio = np.clip((target_s - source_s[lower]) / (source_s[upper] - source_s[lower]), 0.0, 1.0)
    result = unwrapped[..., lower, :] + ratio[:, None] * (
        unwrapped[..., upper, :] - unwrapped[..., lower, :]
    )
    result[..., StateIndex.HEADING] = np.angle(np.exp(1j * result[..., StateIndex.HEADING]))
    return result
