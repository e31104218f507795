"""nuPlan's `time_to_collision_within_bound`, batched over ego rollouts.

Source: motional/nuplan-devkit `nuplan/planning/metrics/evaluation_metrics/common/
time_to_collision_within_bound.py` and `time_to_collision_within_bound_statistics.yaml`.

At every step t the ego and the relevant agents are projected at constant velocity along
their current heading (ego: centre, heading, speed; agent: centre, heading, |velocity|, STATIC
objects at 0) on nuPlan's time grid `np.arange(0.1, 3.0, 0.1)` (0.1 s ... 2.9 s; the config
says time_horizon 3.0 s, the docs `metrics_description.md` say 5 s: we follow the config).
TTC(t) is the first grid time at which the projected boxes overlap, inf if none.
Relevant agents at t (as nuPlan):

- valid at t, and not collided with the ego at or before t (any collision, from
  `no_ego_at_fault_collisions`);
- ahead of the ego (centre within 20 deg of the ego heading, seen from the rear axle), or
  not behind it (within 150 deg) when the ego is changing lanes / outside its lane or in an
  intersection.

TTC(t) = 0 at steps with an at-fault collision; TTC(t) = inf while the ego is stopped
(|speed| <= 0.005 m/s). The metric is 1 iff 0.95 s < TTC(t) at every step (strict, as
nuPlan). Deviation: the ego is projected with its signed speed (a reversing ego moves
backwards; nuPlan uses the speed magnitude along the heading).

nuPlan's relevance test with boxes elongated over the horizon is only a speed-up; here the
broad phase is the exact closest approach of the two centres over [0.1 s, 2.9 s] against the
sum of the bounding-circle radii, which never drops a pair the exact test would keep.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.boxes import boxes_overlap
from urbandrive.metrics import kernels
from urbandrive.metrics.collisions import (
    AtFaultCollisionResult,
    agent_angle_from_heading,
    pair_shape,
    row_kernel_inputs,
    row_reach,
    take,
)
from urbandrive.metrics.states import AgentStates, EgoStates, SharedRows


@dataclass(frozen=True, slots=True)
class TimeToCollisionConfig:
    """Parameters of `time_to_collision_within_bound`; defaults are nuPlan's config values."""

    time_step_s: float = 0.1
    time_horizon_s: float = 3.0
    least_min_ttc_s: float = 0.95
    ego_stopped_speed_mps: float = 5e-3
    agent_ahead_angle_deg: float = 20.0
    agent_behind_angle_deg: float = 150.0
    rear_axle_to_center_m: float = 1.461
    use_broad_phase: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.time_step_s < self.time_horizon_s:
            raise ValueError(
                f"need 0 < time_step_s < time_horizon_s, got {self.time_step_s}, {self.time_horizon_s}"
            )

    @property
    def projection_times_s(self) -> NDArrayF64:
        """float64[K]: nuPlan's grid, `np.arange(step, horizon, step)`."""
        return np.arange(self.time_step_s, self.time_horizon_s, self.time_step_s)


@dataclass(frozen=True, slots=True)
class TimeToCollisionResult:
    """within_bound: bool[*B]; min_time_to_collision_s: float64[*B]; time_to_collision_s:
    float64[*B, T] (inf where no projected collision)."""

    within_bound: NDArrayBool
    min_time_to_collision_s: NDArrayF64
    time_to_collision_s: NDArrayF64

    @property
    def score(self) -> NDArrayF64:
        """float64[*B], 1.0 within bound else 0.0."""
        return self.within_bound.astype(np.float64)


def time_to_collision_within_bound(
    ego: EgoStates,
    agents: AgentStates,
    collisions: AtFaultCollisionResult,
    ego_changing_lanes_or_offroad: NDArrayBool,
    ego_in_intersection: NDArrayBool | None = None,
    config: TimeToCollisionConfig = TimeToCollisionConfig(),
) -> TimeToCollisionResult:
    """Minimum TTC per step and nuPlan's within-bound flag (definition: module doc).

    ego: batch [*E], T steps; agents: batch [*G] (broadcastable), A agents, T steps;
    collisions: `no_ego_at_fault_collisions` on the same inputs (collided agents are dropped,
    at-fault steps have TTC 0). ego_changing_lanes_or_offroad, ego_in_intersection: bool[..., T]
    broadcastable to [*B, T]; None means never in an intersection.
    """
    lateral = _lateral(ego_changing_lanes_or_offroad, ego_in_intersection)
    pairs = _ttc_pairs(ego, agents, collisions.first_collision_step, lateral, config)
    index = np.nonzero(pairs)
    pair_ttc = _projected_ttc(ego, agents, pairs.shape, index, config)
    return _ttc_result(pair_ttc, index, pairs.shape, collisions, config)


def time_to_collision_within_bound_on_rows(
    ego: EgoStates,
    shared: SharedRows,
    collisions: AtFaultCollisionResult,
    ego_changing_lanes_or_offroad: NDArrayBool,
    ego_in_intersection: NDArrayBool | None,
    pairs: tuple[NDArrayInt, ...] | Callable[..., None],
    config: TimeToCollisionConfig = TimeToCollisionConfig(),
    within_bound_only: bool = False,
    row_first_step: NDArrayInt | None = None,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> TimeToCollisionResult:
    """`time_to_collision_within_bound` of ego [M, 1] against `shared.expand()` [K, A], the
    broad phase done by the caller: the same result (batch [M, K]), each shared row's
    projections computed once (the relevance rules and projections on the pairs only).
    within_bound_only: the compiled kernel skips the pairs of a (candidate, mode) already out
    of bound (an at-fault collision, a TTC at or below the bound): within_bound exact, and
    the TTC values upper bounds.

    ego: batch [M], T steps; collisions: batch [M, K], A agents (on the same inputs);
    ego_changing_lanes_or_offroad, ego_in_intersection: bool[M, T]; pairs: (candidate, row,
    step) int64[P] each into [M, U, T], no duplicates, holding at least the pairs whose
    projected centres come within the sum of the bounding radii during the projection.
    With the compiled kernels, pairs may instead be a function taking
    `kernels.min_ttc_on_rows`' arguments after the pairs, that finds the pairs itself and
    tests each one as `min_ttc_on_rows` would, in its order (the scorer's pair search).
    row_first_step: int64[M, U], each row's first collision step (what
    collisions.first_collision_step holds for every mode using the row) where the caller
    has it, else None. boxes: `row_kernel_inputs(ego, shared.rows)` where the caller has
    them, else None.
    """
    lateral = _lateral(ego_changing_lanes_or_offroad, ego_in_intersection)
    agents = shared.rows
    shape = pair_shape(ego, agents)  # [M, U, T]
    if row_first_step is None:
        row_first = np.empty(shape[:-1], np.int64)  # [M, U]: the same in every mode using a row
        row_first[:, shared.row_of] = collisions.first_collision_step
    else:
        row_first = np.ascontiguousarray(row_first_step, np.int64)
    ttc = np.full((shape[0], shared.num_modes, shape[-1]), np.inf)
    if kernels.enabled():
        ego_xy, ego_cos, ego_sin, ego_size, agent_xy, agent_cos, agent_sin, agent_size = (
            row_kernel_inputs(ego, agents) if boxes is None else boxes
        )
        run = kernels.min_ttc_on_rows
        if callable(pairs):  # the caller's kernel finds the pairs and tests each as found
            run, pairs = pairs, ()
        run(
            *(np.ascontiguousarray(axis, np.int64) for axis in pairs),
            ego_xy, ego_cos, ego_sin, np.ascontiguousarray(ego.speed_mps, np.float64),
            ego_size, agent_xy, agent_cos, agent_sin,
            _agent_velocity_along_heading(agents, (agent_cos, agent_sin)), agent_size,
            np.ascontiguousarray(agents.valid), row_first,
            np.ascontiguousarray(np.broadcast_to(lateral, shape[:1] + shape[-1:])),
            row_reach(ego, agents),
            float(config.rear_axle_to_center_m),
            float(config.ego_stopped_speed_mps),
            kernels.arccos_threshold(float(np.deg2rad(config.agent_ahead_angle_deg)), True),
            kernels.arccos_threshold(float(np.deg2rad(config.agent_behind_angle_deg)), False),
            _projection_times(config),
            shared.mode_start, shared.modes,
            float(config.least_min_ttc_s) if within_bound_only else -np.inf,
            kernels.first_true(collisions.at_fault_step) < collisions.at_fault_step.shape[-1]
            if within_bound_only else np.zeros(ttc.shape[:2], bool),
            ttc,
        )  # fmt: skip
    else:
        index, pair_ttc = _pair_ttc(ego, agents, row_first, lateral, shape, pairs, config)
        item, mode = shared.spread(index[1])
        np.minimum.at(ttc, (index[0][item], mode, index[2][item]), pair_ttc[item])
    return _ttc_from_per_step(ttc, collisions, config)


@functools.lru_cache(maxsize=16)
def _projection_times_of(step_s: float, horizon_s: float) -> NDArrayF64:
    times = TimeToCollisionConfig(time_step_s=step_s, time_horizon_s=horizon_s)
    projection = np.ascontiguousarray(times.projection_times_s)
    projection.setflags(write=False)
    return projection


def _projection_times(config: TimeToCollisionConfig) -> NDArrayF64:
    """`config.projection_times_s`, contiguous and read-only, made once per grid."""
    return _projection_times_of(float(config.time_step_s), float(config.time_horizon_s))


def _pair_ttc(
    ego: EgoStates,
    agents: AgentStates,
    first_collision_step: NDArrayInt,
    lateral: NDArrayBool,
    shape: tuple[int, ...],
    pairs: tuple[NDArrayInt, ...],
    config: TimeToCollisionConfig,
) -> tuple[tuple[NDArrayInt, ...], NDArrayF64]:
    """(index, ttc float64[N]): the relevant pairs of `pairs` (into `shape` = [*B, A, T])
    whose projections can meet, and each one's projected TTC (numpy). first_collision_step:
    int64[*B, A]; lateral: bool[..., T] broadcastable to [*B, T]."""
    heading_e = take(ego.heading[..., None, :], shape, pairs, 0)
    xy_e = take(ego.xy[..., None, :, :], shape, pairs, 1)
    direction_e = np.stack([np.cos(heading_e), np.sin(heading_e)], axis=-1)
    speed_e = take(ego.speed_mps[..., None, :], shape, pairs, 0)
    xy_a = take(agents.xy, shape, pairs, 1)
    relevant = _relevant(
        agent_angle_from_heading(
            xy_e - config.rear_axle_to_center_m * direction_e, heading_e, xy_a
        ),
        take(agents.valid, shape, pairs, 0),
        pairs[-1] < first_collision_step[pairs[:-1]],
        np.abs(speed_e) > config.ego_stopped_speed_mps,
        take(lateral[..., None, :], shape, pairs, 0),
        config,
    )
    velocity_a = take(_agent_velocity_along_heading(agents), shape, pairs, 1)
    reach = 0.5 * (
        np.hypot(*np.moveaxis(take(ego.size_per_step()[..., None, :], shape, pairs, 1), -1, 0))
        + np.hypot(*np.moveaxis(take(agents.size_per_step(), shape, pairs, 1), -1, 0))
    )
    meet = _closest_approach_within(
        xy_a - xy_e, velocity_a - speed_e[..., None] * direction_e, reach, config
    )
    index = tuple(axis[relevant & meet] for axis in pairs)
    return index, _projected_ttc(ego, agents, shape, index, config)


def _lateral(
    ego_changing_lanes_or_offroad: NDArrayBool, ego_in_intersection: NDArrayBool | None
) -> NDArrayBool:
    """bool[..., T]: steps where agents beside the ego count too (lane change, off-road, junction)."""
    lateral = np.asarray(ego_changing_lanes_or_offroad, bool)
    if ego_in_intersection is not None:
        lateral = lateral | np.asarray(ego_in_intersection, bool)
    return lateral


def _ttc_result(
    pair_ttc: NDArrayF64,
    index: tuple[NDArrayInt, ...],
    shape: tuple[int, ...],
    collisions: AtFaultCollisionResult,
    config: TimeToCollisionConfig,
) -> TimeToCollisionResult:
    """The per-step minimum over the pairs `index` (into `shape` = [*B, A, T]) of `pair_ttc`."""
    ttc = np.full(shape[:-2] + shape[-1:], np.inf)
    np.minimum.at(ttc, (*index[:-2], index[-1]), pair_ttc)
    return _ttc_from_per_step(ttc, collisions, config)


def _ttc_from_per_step(
    ttc: NDArrayF64, collisions: AtFaultCollisionResult, config: TimeToCollisionConfig
) -> TimeToCollisionResult:
    """The result from the per-step minimum over the pairs, ttc: float64[*B, T] (inf: none)."""
    if kernels.enabled() and ttc.ndim == 3 and ttc.shape == collisions.at_fault_step.shape:
        # the [M, K] rows in one pass (numpy's reductions over short rows cost more); ttc,
        # made by the caller for this, is written in place
        within, minimum = np.empty(ttc.shape[:-1], bool), np.empty(ttc.shape[:-1])
        kernels.ttc_per_step_summary(
            ttc.reshape(-1, ttc.shape[-1]),
            collisions.at_fault_step.reshape(-1, ttc.shape[-1]),
            float(config.least_min_ttc_s), within.reshape(-1), minimum.reshape(-1),
        )  # fmt: skip
        return TimeToCollisionResult(within, minimum, ttc)
    ttc = np.where(collisions.at_fault_step, 0.0, ttc)
    within = np.all(config.least_min_ttc_s < ttc, axis=-1)
    return TimeToCollisionResult(within, np.min(ttc, axis=-1), ttc)


def _pair_reach(ego: EgoStates, agents: AgentStates) -> NDArrayF64:
    """float64[..., A, 1]: the sum of the ego's and each agent's half-diagonals, metres."""
    return 0.5 * (
        np.hypot(*np.moveaxis(ego.size_per_step()[..., None, :], -1, 0))
        + np.hypot(*np.moveaxis(agents.size_per_step(), -1, 0))
    )


def _relevant(
    angle: NDArrayF64,
    valid: NDArrayBool,
    not_collided: NDArrayBool,
    moving: NDArrayBool,
    lateral: NDArrayBool,
    config: TimeToCollisionConfig,
) -> NDArrayBool:
    """bool[...]: nuPlan's relevance of an agent at a step (module doc), all inputs broadcast;
    angle: of the agent's centre off the ego heading, seen from the rear axle, radians."""
    ahead = angle < np.deg2rad(config.agent_ahead_angle_deg)
    not_behind = ~(angle > np.deg2rad(config.agent_behind_angle_deg))
    return valid & not_collided & moving & (ahead | (lateral & not_behind))


def _ttc_pairs(
    ego: EgoStates,
    agents: AgentStates,
    first_collision_step: NDArrayInt,
    lateral: NDArrayBool,
    config: TimeToCollisionConfig,
) -> NDArrayBool:
    """bool[*B, A, T]: the (agent, step) pairs whose projections must be checked."""
    heading_e = ego.heading[..., None, :]
    direction_e = np.stack([np.cos(heading_e), np.sin(heading_e)], axis=-1)
    rear_axle = ego.xy[..., None, :, :] - config.rear_axle_to_center_m * direction_e
    relevant = _relevant(
        agent_angle_from_heading(rear_axle, heading_e, agents.xy),
        agents.valid,
        np.arange(ego.num_steps) < first_collision_step[..., None],
        np.abs(ego.speed_mps[..., None, :]) > config.ego_stopped_speed_mps,
        lateral[..., None, :],
        config,
    )
    if not config.use_broad_phase:
        return relevant
    return relevant & _may_meet(ego, agents, direction_e, config)


def _agent_velocity_along_heading(
    agents: AgentStates, cos_sin: tuple[NDArrayF64, NDArrayF64] | None = None
) -> NDArrayF64:
    """float64[*G, A, T, 2]: |velocity| along the heading; STATIC objects do not move (nuPlan).
    cos_sin: numpy's (cos, sin) of agents.heading where the caller has them, else None."""
    cos, sin = cos_sin if cos_sin is not None else (np.cos(agents.heading), np.sin(agents.heading))
    if kernels.enabled() and agents.xy.ndim == 3 and cos_sin is not None:  # rows: one pass
        static = np.asarray(agents.types) == AgentType.STATIC
        velocity = np.empty(agents.velocity.shape)
        kernels.velocity_along_heading_rows(
            np.asarray(agents.velocity, np.float64), static, cos, sin, velocity
        )
        return velocity
    speed = np.where(agents.types_per_step() == AgentType.STATIC, 0.0, agents.speed_mps)
    velocity = np.empty(speed.shape + (2,))
    np.multiply(speed, cos, out=velocity[..., 0])
    np.multiply(speed, sin, out=velocity[..., 1])
    return velocity


def _may_meet(
    ego: EgoStates, agents: AgentStates, direction_e: NDArrayF64, config: TimeToCollisionConfig
) -> NDArrayBool:
    """bool[*B, A, T]: the centres come within the sum of bounding radii during the horizon."""
    relative_xy = agents.xy - ego.xy[..., None, :, :]
    relative_velocity = (
        _agent_velocity_along_heading(agents) - ego.speed_mps[..., None, :, None] * direction_e
    )
    ego_size = ego.size_per_step()[..., None, :]
    reach = 0.5 * (
        np.hypot(ego_size[..., 0], ego_size[..., 1])
        + np.hypot(*np.moveaxis(agents.size_per_step(), -1, 0))
    )
    return _closest_approach_within(relative_xy, relative_velocity, reach, config)


def _closest_approach_within(
    relative_xy: NDArrayF64,
    relative_velocity: NDArrayF64,
    reach_m: NDArrayF64,
    config: TimeToCollisionConfig,
) -> NDArrayBool:
    """bool[...]: the agent's centre, at `relative_xy` [..., 2] from the ego's and moving at
    `relative_velocity` [..., 2], comes within `reach_m` [...] over the projection times."""
    times = config.projection_times_s
    speed_sq = np.einsum("...d,...d->...", relative_velocity, relative_velocity)
    closing = -np.einsum("...d,...d->...", relative_xy, relative_velocity)
    with np.errstate(invalid="ignore", divide="ignore"):
        closest_time = np.where(speed_sq > 0, closing / np.where(speed_sq > 0, speed_sq, 1.0), 0.0)
    closest_time = np.clip(closest_time, times[0], times[-1])
    gap = relative_xy + closest_time[..., None] * relative_velocity
    return np.einsum("...d,...d->...", gap, gap) <= reach_m * reach_m


def _projected_ttc(
    ego: EgoStates,
    agents: AgentStates,
    shape: tuple[int, ...],
    index: tuple[NDArrayInt, ...],
    config: TimeToCollisionConfig,
) -> NDArrayF64:
    """float64[N]: first projection time with overlapping boxes for each pair at `index`, or inf."""
    times = config.projection_times_s
    heading_e = take(ego.heading[..., None, :], shape, index, 0)
    speed_e = take(ego.speed_mps[..., None, :], shape, index, 0)
    xy_e = take(ego.xy[..., None, :, :], shape, index, 1)
    size_e = take(ego.size_per_step()[..., None, :], shape, index, 1)
    velocity_e = speed_e[:, None] * np.stack([np.cos(heading_e), np.sin(heading_e)], axis=-1)
    xy_a = take(agents.xy, shape, index, 1)
    heading_a = take(agents.heading, shape, index, 0)
    velocity_a = take(_agent_velocity_along_heading(agents), shape, index, 1)
    size_a = take(agents.size_per_step(), shape, index, 1)
    projected_e = xy_e[:, None] + times[:, None] * velocity_e[:, None]  # [N, K, 2]
    projected_a = xy_a[:, None] + times[:, None] * velocity_a[:, None]
    # second broad phase, per projection time: bounding circles, then boxes where they touch
    reach = 0.5 * (np.hypot(size_e[:, 0], size_e[:, 1]) + np.hypot(size_a[:, 0], size_a[:, 1]))
    gap = projected_a - projected_e
    near = np.einsum("nkd,nkd->nk", gap, gap) <= (reach * reach)[:, None]
    pair, step = np.nonzero(near)
    hit = np.zeros(near.shape, dtype=bool)
    hit[pair, step] = boxes_overlap(
        projected_e[pair, step],
        heading_e[pair],
        size_e[pair],
        projected_a[pair, step],
        heading_a[pair],
        size_a[pair],
    )
    return np.where(hit.any(-1), times[np.argmax(hit, axis=-1)], np.inf)
