"""Ego collisions and nuPlan's `no_ego_at_fault_collisions` multiplier, batched.

Source: motional/nuplan-devkit `nuplan/planning/metrics/evaluation_metrics/common/
no_ego_at_fault_collisions.py`, `metrics/utils/collision_utils.py`,
`simulation/observation/idm/utils.py` and the `no_ego_at_fault_collisions_statistics.yaml`
config. Re-implemented over arrays; the rules are nuPlan's:

1. A collision is the ego's box overlapping (touching counts) an agent's box at a step where
   the agent is valid (invalid steps never collide: waymo-open-dataset #701).
2. Each agent collides at most once per rollout: only its first overlapping step is an event
   (nuPlan drops a track from the check once it has collided).
3. Each event gets a `CollisionKind`, tested in this order: the ego is stopped (|speed| <=
   0.05 m/s); the agent is stopped (speed <= 0.005 m/s, or a STATIC object); the agent's
   centre is behind the ego (more than 150 deg off the ego's heading, seen from the rear
   axle); the ego's front bumper (the segment between its front corners) touches the agent's
   box; otherwise lateral.
4. At fault: stopped-agent and active-front collisions, and lateral ones at steps where the
   ego is changing lanes or is outside its lane (`ego_changing_lanes_or_offroad`, which
   nuPlan derives from "ego not in one common or connected lane"). Never at fault: the ego is
   stopped, or an agent hits it from behind.
5. multiplier = prod over categories of max(0, 1 - n / (allowed + 1)) with allowed = 0 for
   vulnerable road users and vehicles, 1 for objects: any at-fault collision with a vehicle,
   cyclist or pedestrian gives 0, one with a single static object 0.5, two objects 0.

Categories: nuPlan counts PEDESTRIAN and BICYCLE as VRUs, VEHICLE as vehicles, cones,
barriers, signs and generic objects as objects. Here: PEDESTRIAN, CYCLIST, ANIMAL are
`VULNERABLE` (animals do not exist in nuPlan; our choice), VEHICLE, LARGE_VEHICLE,
MOTORCYCLIST are `VEHICLE`, STATIC and UNKNOWN are `OBJECT`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.boxes import boxes_overlap
from urbandrive.metrics import kernels
from urbandrive.metrics.states import AgentStates, EgoStates, SharedRows


class CollisionKind(enum.IntEnum):
    """How a collision happened (nuPlan's `CollisionType`, same order and values)."""

    STOPPED_EGO = 0
    STOPPED_AGENT = 1
    ACTIVE_FRONT = 2
    ACTIVE_REAR = 3
    ACTIVE_LATERAL = 4


class CollisionCategory(enum.IntEnum):
    """What the ego hit; indexes `AtFaultCollisionResult.at_fault_counts`."""

    VULNERABLE = 0
    VEHICLE = 1
    OBJECT = 2


_CATEGORY_OF_TYPE = np.array(
    [
        CollisionCategory.OBJECT,  # UNKNOWN
        CollisionCategory.VEHICLE,  # VEHICLE
        CollisionCategory.VEHICLE,  # LARGE_VEHICLE
        CollisionCategory.VULNERABLE,  # CYCLIST
        CollisionCategory.VEHICLE,  # MOTORCYCLIST
        CollisionCategory.VULNERABLE,  # PEDESTRIAN
        CollisionCategory.VULNERABLE,  # ANIMAL
        CollisionCategory.OBJECT,  # STATIC
    ],
    dtype=np.int64,
)


@dataclass(frozen=True, slots=True)
class CollisionConfig:
    """Thresholds of `no_ego_at_fault_collisions`; defaults are nuPlan's.

    rear_axle_to_center_m: the ego's rear axle lies this far behind its box centre (nuPlan's
    Chrysler Pacifica: 1.461 m); the "agent behind" test is made from the rear axle.
    use_broad_phase: test bounding circles before the exact box test (same answer, faster).
    """

    ego_stopped_speed_mps: float = 5e-2
    agent_stopped_speed_mps: float = 5e-3
    agent_behind_angle_deg: float = 150.0
    rear_axle_to_center_m: float = 1.461
    max_at_fault_vulnerable: int = 0
    max_at_fault_vehicle: int = 0
    max_at_fault_object: int = 1
    use_broad_phase: bool = True

    def __post_init__(self) -> None:
        if self.ego_stopped_speed_mps < 0 or self.agent_stopped_speed_mps < 0:
            raise ValueError("stopped-speed thresholds must be >= 0")
        if (
            min(self.max_at_fault_vulnerable, self.max_at_fault_vehicle, self.max_at_fault_object)
            < 0
        ):
            raise ValueError("allowed at-fault collision counts must be >= 0")


@dataclass(frozen=True, slots=True)
class CollisionEvents:
    """Every new collision (one per agent and batch element), struct of arrays over E events.

    batch_index: int64[E, len(B)], the batch element; step: int64[E]; agent_index: int64[E];
    agent_type: int64[E] (`AgentType`); kind: int64[E] (`CollisionKind`); at_fault: bool[E];
    ego_delta_v_mps: float64[E], nuPlan's collision energy (speed change of the ego, equal masses).
    """

    batch_index: NDArrayInt
    step: NDArrayInt
    agent_index: NDArrayInt
    agent_type: NDArrayInt
    kind: NDArrayInt
    at_fault: NDArrayBool
    ego_delta_v_mps: NDArrayF64

    @property
    def num_events(self) -> int:
        return int(self.step.shape[0])


@dataclass(frozen=True, slots=True)
class AtFaultCollisionResult:
    """Result of `no_ego_at_fault_collisions` for batch shape B, A agents, T steps.

    multiplier: float64[*B] in {0, 0.5, 1, ...}: the nuPlan score.
    at_fault_counts: int64[*B, 3], indexed by `CollisionCategory`.
    first_collision_step: int64[*B, A], the step of each agent's collision, T if none.
    at_fault_step: bool[*B, T], steps with an at-fault collision (TTC is 0 there).
    events: the collisions, for reports.
    """

    multiplier: NDArrayF64
    at_fault_counts: NDArrayInt
    first_collision_step: NDArrayInt
    at_fault_step: NDArrayBool
    events: CollisionEvents


def no_ego_at_fault_collisions(
    ego: EgoStates,
    agents: AgentStates,
    ego_changing_lanes_or_offroad: NDArrayBool,
    config: CollisionConfig = CollisionConfig(),
) -> AtFaultCollisionResult:
    """nuPlan's at-fault collision multiplier for a batch of ego rollouts (rules: module doc).

    ego: batch shape [*E], T steps; agents: batch shape [*G] broadcastable with [*E], A agents,
    the same T steps. ego_changing_lanes_or_offroad: bool[..., T] broadcastable to [*B, T].
    """
    overlap = ego_agent_overlap(ego, agents, config.use_broad_phase)  # [*B, A, T]
    first = overlap & (np.cumsum(overlap, axis=-1) == 1)
    return _collision_result(
        ego, agents, np.nonzero(first), overlap.shape, ego_changing_lanes_or_offroad, config
    )


def no_ego_at_fault_collisions_on_rows(
    ego: EgoStates,
    shared: SharedRows,
    ego_changing_lanes_or_offroad: NDArrayBool,
    pairs: tuple[NDArrayInt, ...],
    config: CollisionConfig = CollisionConfig(),
    first_step: NDArrayInt | None = None,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> AtFaultCollisionResult:
    """`no_ego_at_fault_collisions` of ego [M, 1] against `shared.expand()` [K, A], the
    broad phase done by the caller: the same result (batch [M, K]), each shared row tested
    and classified once (the exact box test on the pairs only).

    ego: batch [M], T steps; ego_changing_lanes_or_offroad: bool[M, T]; pairs: (candidate,
    row, step) int64[P] each into [M, U, T], no duplicates, holding at least every
    overlapping one (the rows' mode axis of length 1 left out). first_step: int64[M, U], each
    (candidate, row)'s first overlapping step (T: none) where the caller has found it (the
    scorer's pair search tests the boxes as it goes); `pairs` is then not read. boxes:
    `row_kernel_inputs(ego, shared.rows)` where the caller has them, else None.
    """
    agents = shared.rows
    if boxes is None and kernels.enabled():
        boxes = row_kernel_inputs(ego, agents)
    shape = pair_shape(ego, agents)  # [M, U, T]
    if first_step is None and kernels.enabled():
        first_step = np.full(shape[:-1], shape[-1], np.int64)
        kernels.first_overlap_on_rows(
            *(np.ascontiguousarray(axis, np.int64) for axis in pairs),
            *boxes, np.ascontiguousarray(agents.valid), first_step,
        )  # fmt: skip
    num_steps = shape[-1]
    lateral = np.broadcast_to(ego_changing_lanes_or_offroad, shape[:1] + shape[-1:])
    if first_step is not None and kernels.enabled():  # the row and mode hits in one pass
        row_hits, mode_first, mode_hits = kernels.spread_row_collisions(
            np.ascontiguousarray(first_step, np.int64), shared.row_of, num_steps
        )
        first = (row_hits[0], row_hits[1], row_hits[2])
        candidate, mode, agent, event = mode_hits[0], mode_hits[1], mode_hits[2], mode_hits[3]
        row_events = _classify_compiled(ego, agents, first, shape, lateral, config, boxes)
    else:
        if first_step is not None:
            first = (*np.nonzero(first_step < num_steps),)
            first = (*first, first_step[first])
        else:
            hit = _overlap_on_pairs(ego, agents, shape, pairs)
            first = first_step_per_row(tuple(axis[hit] for axis in pairs), shape)
        if kernels.enabled():
            row_events = _classify_compiled(ego, agents, first, shape, lateral, config, boxes)
        else:
            row_events = _classify_events(ego, agents, first, shape, lateral, config)
        row_first = np.full(shape[:-1], num_steps, np.int64)  # [M, U]
        row_first[first[:-1]] = first[-1]
        mode_first = row_first[:, shared.row_of]  # [M, K, A]
        candidate, mode, agent = np.nonzero(mode_first < num_steps)
        event_of = np.zeros(shape[:-1], np.int64)
        event_of[first[:-1]] = np.arange(first[0].shape[0])
        event = event_of[candidate, shared.row_of[mode, agent]]
    events = CollisionEvents(
        np.stack([candidate, mode], -1),
        row_events.step[event],
        agent,
        row_events.agent_type[event],
        row_events.kind[event],
        row_events.at_fault[event],
        row_events.ego_delta_v_mps[event],
    )
    return _result_of_events(events, mode_first, num_steps, config)


def _classify_compiled(
    ego: EgoStates,
    agents: AgentStates,
    index: tuple[NDArrayInt, ...],
    shape: tuple[int, ...],
    lateral_flag: NDArrayBool,
    config: CollisionConfig,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> CollisionEvents:
    """`_classify_events` of ego batch [M] against agents with no batch (shape [M, U, T]),
    kind and fault by the compiled kernel; the same events. boxes: `row_kernel_inputs(ego,
    agents)` where the caller has them, else None."""
    candidate, row, step = (np.ascontiguousarray(axis, np.int64) for axis in index)
    ego_xy, ego_cos, ego_sin, ego_size, agent_xy, agent_cos, agent_sin, agent_size = (
        row_kernel_inputs(ego, agents) if boxes is None else boxes
    )
    static = np.asarray(agents.types) == AgentType.STATIC
    kind = np.empty(candidate.shape[0], np.int64)
    at_fault = np.empty(candidate.shape[0], np.bool_)
    speeds, turn = np.empty((2, candidate.shape[0])), np.empty(candidate.shape[0])
    kernels.classify_collisions(
        candidate, row, step, ego_xy, ego_cos, ego_sin, _float64(ego.speed_mps), ego_size,
        agent_xy, agent_cos, agent_sin, np.ascontiguousarray(agents.velocity, np.float64),
        agent_size, static, np.ascontiguousarray(lateral_flag),
        float(config.rear_axle_to_center_m), float(config.ego_stopped_speed_mps),
        float(config.agent_stopped_speed_mps),
        kernels.arccos_threshold(float(np.deg2rad(config.agent_behind_angle_deg)), False),
        kind, at_fault, _float64(ego.heading), _float64(agents.heading), speeds, turn,
    )  # fmt: skip
    speed_e, speed_a = speeds[0], speeds[1]  # the kernel's gathers: numpy's values
    cos_term = 2.0 * speed_e * speed_a * np.cos(turn)
    delta_v = 0.5 * np.sqrt(np.maximum(speed_e**2 + speed_a**2 - cos_term, 0.0))
    return CollisionEvents(
        candidate[:, None], step, row, np.asarray(agents.types)[row].astype(np.int64), kind,
        at_fault, delta_v,
    )  # fmt: skip


def _float64(array: np.ndarray) -> np.ndarray:
    """`array` as float64, strides kept (the kernels read any layout): no copy of a cut."""
    return np.asarray(array, np.float64)


def row_kernel_inputs(ego: EgoStates, agents: AgentStates) -> tuple[np.ndarray, ...]:
    """The boxes as the compiled `*_on_rows` kernels take them, ego batch [M] and agents with
    no batch (U rows): ego xy [M, T, 2], cos, sin [M, T], size [M, 2], agent xy [U, T, 2],
    cos, sin [U, T], size [U, 2]; float64, cos / sin by numpy (`kernels.cos_sin`)."""
    ego_cos, ego_sin = kernels.cos_sin(ego.heading)
    agent_cos, agent_sin = kernels.cos_sin(agents.heading)
    num_candidates, num_rows = ego.xy.shape[0], agents.xy.shape[0]
    return (
        np.ascontiguousarray(ego.xy, np.float64), ego_cos, ego_sin,
        np.broadcast_to(np.asarray(ego.size_m, np.float64), (num_candidates, 2)),
        np.ascontiguousarray(agents.xy, np.float64), agent_cos, agent_sin,
        np.broadcast_to(np.asarray(agents.size_m, np.float64), (num_rows, 2)),
    )  # fmt: skip


def row_reach(ego: EgoStates, agents: AgentStates) -> NDArrayF64:
    """float64[M, U]: the sum of the half-diagonals of each candidate (ego batch [M]) and
    each row (agents with no batch, U rows), metres; per pair the floats of
    0.5 * (np.hypot(ego length, width) + np.hypot(agent length, width)), each hypot taken
    once per box instead of once per pair. C-contiguous, or where one ego size serves every
    candidate, its [U] row broadcast (read-only, nothing copied)."""
    ego_size = np.asarray(ego.size_m, np.float64)
    agent_size = np.asarray(agents.size_m, np.float64)
    agent_half = np.hypot(agent_size[..., 0], agent_size[..., 1])  # [U]
    ego_half = np.hypot(ego_size[..., :1], ego_size[..., 1:])[..., 0]  # [] or [M]
    num_candidates, num_rows = ego.xy.shape[0], agent_half.shape[-1]
    if ego_half.ndim == 0:
        reach = 0.5 * (ego_half + agent_half)  # [U]: the same for every candidate
        return np.broadcast_to(reach, (num_candidates, num_rows))
    ego_half = np.broadcast_to(ego_half, (num_candidates,))
    return np.ascontiguousarray(0.5 * (ego_half[:, None] + agent_half))


def first_step_per_row(
    index: tuple[NDArrayInt, ...], shape: tuple[int, ...]
) -> tuple[NDArrayInt, ...]:
    """The earliest step of each row of `index` (np.nonzero-style into `shape` = [..., T]),
    in row-major order: what np.nonzero gives for the first True of each row."""
    if index[0].size == 0:
        return index
    row = np.ravel_multi_index(index[:-1], shape[:-1])
    order = np.lexsort((index[-1], row))
    _, start = np.unique(row[order], return_index=True)
    keep = order[start]
    return tuple(axis[keep] for axis in index)


def _collision_result(
    ego: EgoStates,
    agents: AgentStates,
    first: tuple[NDArrayInt, ...],
    shape: tuple[int, ...],
    ego_changing_lanes_or_offroad: NDArrayBool,
    config: CollisionConfig,
) -> AtFaultCollisionResult:
    """The result from each (batch, agent)'s first overlapping step `first` (np.nonzero-style
    into shape [*B, A, T], row-major order)."""
    batch_shape, num_steps = shape[:-2], shape[-1]
    first_step = np.full(shape[:-1], num_steps, dtype=np.int64)
    first_step[first[:-1]] = first[-1]
    lateral_flag = np.broadcast_to(ego_changing_lanes_or_offroad, batch_shape + (num_steps,))
    events = _classify_events(ego, agents, first, shape, lateral_flag, config)
    return _result_of_events(events, first_step, num_steps, config)


def _result_of_events(
    events: CollisionEvents, first_step: NDArrayInt, num_steps: int, config: CollisionConfig
) -> AtFaultCollisionResult:
    """The result of the classified `events`; first_step: int64[*B, A] (num_steps: none)."""
    batch_shape = first_step.shape[:-1]
    if kernels.enabled() and len(batch_shape) == 2:  # the scorer's [M, K]: one compiled pass
        counts = np.zeros(batch_shape + (len(CollisionCategory),), np.int64)
        at_fault_step = np.zeros(batch_shape + (num_steps,), dtype=bool)
        kernels.tally_at_fault(
            np.ascontiguousarray(events.batch_index, np.int64), events.step,
            _CATEGORY_OF_TYPE[events.agent_type], events.at_fault, counts, at_fault_step,
        )  # fmt: skip
        return AtFaultCollisionResult(
            _multiplier(counts, config), counts, first_step, at_fault_step, events
        )
    counts = _count_at_fault(events, batch_shape)
    multiplier = _multiplier(counts, config)
    at_fault_step = np.zeros(batch_shape + (num_steps,), dtype=bool)
    fault = events.at_fault
    at_fault_step[(*events.batch_index[fault].T, events.step[fault])] = True
    return AtFaultCollisionResult(multiplier, counts, first_step, at_fault_step, events)


def _multiplier(counts: NDArrayInt, config: CollisionConfig) -> NDArrayF64:
    """float64[*B]: nuPlan's multiplier of the at-fault counts int64[*B, 3]."""
    allowed = np.array(
        [config.max_at_fault_vulnerable, config.max_at_fault_vehicle, config.max_at_fault_object]
    )
    return np.prod(np.maximum(0.0, 1.0 - counts / (allowed + 1.0)), axis=-1)


def pair_shape(ego: EgoStates, agents: AgentStates) -> tuple[int, ...]:
    """The broadcast [*B, A, T] of an ego and agents."""
    return np.broadcast_shapes(ego.xy.shape[:-2] + (1,) + ego.xy.shape[-2:-1], agents.xy.shape[:-1])


def ego_agent_overlap(
    ego: EgoStates, agents: AgentStates, use_broad_phase: bool = True
) -> NDArrayBool:
    """bool[*B, A, T]: the ego's box overlaps agent a's box at step t (valid steps only).

    With `use_broad_phase`, bounding circles (radius = half the box diagonal) are compared
    first and the exact separating-axis test runs only on the pairs whose circles touch.
    """
    ego_xy, ego_heading, ego_size = _ego_per_agent(ego)
    agent_size = agents.size_per_step()
    shape = np.broadcast_shapes(ego_xy.shape[:-1], agents.xy.shape[:-1])
    valid = np.broadcast_to(agents.valid, shape)
    if not use_broad_phase:
        exact = boxes_overlap(ego_xy, ego_heading, ego_size, agents.xy, agents.heading, agent_size)
        return valid & exact
    reach = 0.5 * (
        np.hypot(*np.moveaxis(ego_size, -1, 0)) + np.hypot(*np.moveaxis(agent_size, -1, 0))
    )
    gap = agents.xy - ego_xy
    near = valid & (np.einsum("...d,...d->...", gap, gap) <= reach * reach)
    index = np.nonzero(near)
    result = np.zeros(shape, dtype=bool)
    result[index] = _boxes_overlap_at(ego, agents, shape, index)
    return result


def _overlap_on_pairs(
    ego: EgoStates, agents: AgentStates, shape: tuple[int, ...], index: tuple[NDArrayInt, ...]
) -> NDArrayBool:
    """bool[P]: valid agent step and overlapping boxes, for the pairs `index` into `shape`."""
    valid = take(agents.valid, shape, index, 0)
    hit = np.zeros(valid.shape, dtype=bool)
    kept = tuple(axis[valid] for axis in index)
    hit[valid] = _boxes_overlap_at(ego, agents, shape, kept)
    return hit


def _boxes_overlap_at(
    ego: EgoStates, agents: AgentStates, shape: tuple[int, ...], index: tuple[NDArrayInt, ...]
) -> NDArrayBool:
    """bool[P]: the exact box test of the ego and the agent at the pairs `index` into `shape`."""
    ego_xy, ego_heading, ego_size = _ego_per_agent(ego)
    return boxes_overlap(
        take(ego_xy, shape, index, 1),
        take(ego_heading, shape, index, 0),
        take(ego_size, shape, index, 1),
        take(agents.xy, shape, index, 1),
        take(agents.heading, shape, index, 0),
        take(agents.size_per_step(), shape, index, 1),
    )


def take(
    array: np.ndarray, shape: tuple[int, ...], index: tuple[NDArrayInt, ...], trailing: int
) -> np.ndarray:
    """Values of `array` broadcast to `shape` (+ its `trailing` last axes) at `index` (np.nonzero)."""
    array = np.asarray(array)
    tail = array.shape[array.ndim - trailing :] if trailing else ()
    return np.broadcast_to(array, shape + tail)[index]


def _ego_per_agent(ego: EgoStates) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """The ego's xy [*E, 1, T, 2], heading [*E, 1, T], size [*E, 1, 1, 2], with an agent axis."""
    return ego.xy[..., None, :, :], ego.heading[..., None, :], ego.size_per_step()[..., None, :]


def _classify_events(
    ego: EgoStates,
    agents: AgentStates,
    index: tuple[NDArrayInt, ...],
    shape: tuple[int, ...],
    lateral_flag: NDArrayBool,
    config: CollisionConfig,
) -> CollisionEvents:
    """Kind, fault and energy of the collisions at `index` (np.nonzero of a [*B, A, T] mask)."""
    ego_xy, ego_heading, ego_size = _ego_per_agent(ego)
    xy_e, heading_e = take(ego_xy, shape, index, 1), take(ego_heading, shape, index, 0)
    size_e = take(ego_size, shape, index, 1)
    speed_e = np.abs(take(ego.speed_mps[..., None, :], shape, index, 0))
    xy_a, heading_a = take(agents.xy, shape, index, 1), take(agents.heading, shape, index, 0)
    size_a = take(agents.size_per_step(), shape, index, 1)
    types = take(agents.types_per_step(), shape, index, 0).astype(np.int64)
    is_static = types == AgentType.STATIC
    speed_a = np.where(
        is_static, 0.0, np.linalg.norm(take(agents.velocity, shape, index, 1), axis=-1)
    )
    direction = np.stack([np.cos(heading_e), np.sin(heading_e)], axis=-1)
    rear_axle = xy_e - config.rear_axle_to_center_m * direction
    behind = agent_angle_from_heading(rear_axle, heading_e, xy_a) > np.deg2rad(
        config.agent_behind_angle_deg
    )
    bumper_xy = xy_e + 0.5 * size_e[..., :1] * direction
    bumper_size = np.stack([np.zeros_like(size_e[..., 1]), size_e[..., 1]], axis=-1)
    front = boxes_overlap(bumper_xy, heading_e, bumper_size, xy_a, heading_a, size_a)
    kind = np.select(
        [
            speed_e <= config.ego_stopped_speed_mps,
            speed_a <= config.agent_stopped_speed_mps,
            behind,
            front,
        ],
        [
            CollisionKind.STOPPED_EGO,
            CollisionKind.STOPPED_AGENT,
            CollisionKind.ACTIVE_REAR,
            CollisionKind.ACTIVE_FRONT,
        ],
        default=CollisionKind.ACTIVE_LATERAL,
    ).astype(np.int64)
    num_batch = len(shape) - 2
    step = index[-1]
    lateral_at_fault = (kind == CollisionKind.ACTIVE_LATERAL) & lateral_flag[
        (*index[:num_batch], step)
    ]
    at_fault = (
        np.isin(kind, [CollisionKind.STOPPED_AGENT, CollisionKind.ACTIVE_FRONT]) | lateral_at_fault
    )
    cos_term = 2.0 * speed_e * speed_a * np.cos(heading_e - heading_a)
    delta_v = 0.5 * np.sqrt(np.maximum(speed_e**2 + speed_a**2 - cos_term, 0.0))
    batch_index = np.array(index[:num_batch], dtype=np.int64).T.reshape(step.shape[0], num_batch)
    return CollisionEvents(
        batch_index,
        step.astype(np.int64),
        index[-2].astype(np.int64),
        types,
        kind,
        at_fault,
        delta_v,
    )


def agent_angle_from_heading(
    origin_xy: NDArrayF64, heading: NDArrayF64, agent_xy: NDArrayF64
) -> NDArrayF64:
    """float64[...]: angle in [0, pi] between `heading` and the direction origin -> agent.

    nuPlan's `get_agent_relative_angle`; NaN when the agent sits exactly at the origin (so it
    is then neither ahead nor behind, as in nuPlan).
    """
    offset = agent_xy - origin_xy
    distance = np.linalg.norm(offset, axis=-1)
    dot = offset[..., 0] * np.cos(heading) + offset[..., 1] * np.sin(heading)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(distance > 0, dot / np.where(distance > 0, distance, 1.0), np.nan)
    return np.arccos(np.clip(cosine, -1.0, 1.0))


def _count_at_fault(events: CollisionEvents, batch_shape: tuple[int, ...]) -> NDArrayInt:
    """int64[*B, 3]: at-fault events per batch element and `CollisionCategory`."""
    counts = np.zeros((int(np.prod(batch_shape, dtype=np.int64)), len(CollisionCategory)), np.int64)
    flat_batch = (
        np.ravel_multi_index(tuple(events.batch_index.T), batch_shape)
        if batch_shape
        else np.zeros_like(events.step)
    )
    category = _CATEGORY_OF_TYPE[events.agent_type]
    fault = events.at_fault
    num_categories = len(CollisionCategory)
    cell = flat_batch[fault] * num_categories + category[fault]  # np.add.at's cells, counted
    counts += np.bincount(cell, minlength=counts.size).reshape(counts.shape)
    return counts.reshape(batch_shape + (num_categories,))
