"""Traffic-rule metrics of our own, batched like nuPlan's: red-light running, yielding to
pedestrians on crosswalks. Both are multipliers: 1.0 when the rule is kept, 0.0 otherwise.

Red-light running. The ego runs a red light when the centre of its front bumper crosses a
stop line, moving in the direction of travel of the lanes the line controls, at a step where
that line's light is red. A stop line is a segment `float64[S, 2, 2]` with the heading of the
controlled lanes `float64[S]` (map: `StopLine.xy` and its lanes' centerline heading); the
light state per stop line and step `is_red: bool[..., S, T]` comes from the scenario's
`TrafficLightStates` via the signal -> lane -> stop-line links. Crossing during step
t-1 -> t is tested on the segment front[t-1] -> front[t] (half-open at t-1, so touching the
line and leaving it again counts once), and judged with the light state at step t.

Failing to yield. At step t the ego fails to yield when (a) it moves faster than
`moving_speed_mps`, (b) its footprint overlaps a crosswalk polygon, (c) a valid pedestrian's
footprint overlaps the same crosswalk and (d) is within `conflict_distance_m` of the ego's
footprint (box-to-box). Crosswalk polygons are `float64[C, P, 2]` (pad shorter ones by
repeating the last vertex); the overlap test is exact for convex polygons, conservative
otherwise (`geometry.boxes_overlap_convex_polygons`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.boxes import boxes_distance, boxes_overlap_convex_polygons
from urbandrive.metrics import kernels
from urbandrive.metrics.collisions import take
from urbandrive.metrics.states import AgentStates, EgoStates


@dataclass(frozen=True, slots=True)
class RuleViolationResult:
    """score: float64[*B] (1 kept, 0 violated); first_violation_step: int64[*B], T if none;
    violated_element: int64[*B], the stop line / crosswalk index of that violation, -1 if none."""

    score: NDArrayF64
    first_violation_step: NDArrayInt
    violated_element: NDArrayInt


def ego_front_center(ego: EgoStates) -> NDArrayF64:
    """float64[*B, T, 2]: the centre of the ego's front bumper."""
    half_length = 0.5 * np.asarray(ego.size_per_step(), np.float64)[..., 0]
    direction = np.stack([np.cos(ego.heading), np.sin(ego.heading)], axis=-1)
    return ego.xy + half_length[..., None] * direction


def stop_line_crossings(
    path_xy: NDArrayF64, stop_line_xy: NDArrayF64, travel_heading: NDArrayF64
) -> NDArrayBool:
    """bool[*B, S, T]: the path crossed stop line s, in its travel direction, during step t-1 -> t.

    path_xy: float64[*B, T, 2] (e.g. `ego_front_center`); stop_line_xy: float64[S, 2, 2];
    travel_heading: float64[S], radians. Step 0 never crosses.
    """
    path_xy = np.asarray(path_xy, np.float64)[..., None, :, :]  # [*B, 1, T, 2]
    start, motion = path_xy[..., :-1, :], np.diff(path_xy, axis=-2)  # [*B, 1, T-1, 2]
    line_start = stop_line_xy[:, None, 0, :]  # [S, 1, 2]
    line = stop_line_xy[:, None, 1, :] - line_start
    offset = line_start - start
    denominator = _cross(motion, line)
    with np.errstate(invalid="ignore", divide="ignore"):
        along_motion = _cross(offset, line) / denominator
        along_line = _cross(offset, motion) / denominator
    direction = np.stack([np.cos(travel_heading), np.sin(travel_heading)], axis=-1)[:, None, :]
    forward = np.einsum("...d,...d->...", motion, direction) > 0
    crossed = (denominator != 0) & (along_motion > 0) & (along_motion <= 1)
    crossed &= (along_line >= 0) & (along_line <= 1) & forward
    first_step = np.zeros(crossed.shape[:-1] + (1,), dtype=bool)
    return np.concatenate([first_step, crossed], axis=-1)


def _cross(first: NDArrayF64, second: NDArrayF64) -> NDArrayF64:
    return first[..., 0] * second[..., 1] - first[..., 1] * second[..., 0]


def red_light_compliance(crossed: NDArrayBool, is_red: NDArrayBool) -> RuleViolationResult:
    """1.0 unless the ego crossed a stop line while its light was red.

    crossed: bool[*B, S, T] (`stop_line_crossings`); is_red: bool[..., S, T] broadcastable.
    """
    violation = np.asarray(crossed, bool) & np.asarray(is_red, bool)
    return _first_violation(violation)


def _first_violation(violation: NDArrayBool) -> RuleViolationResult:
    """Summarise bool[*B, N, T] (N rule elements) into a `RuleViolationResult`."""
    num_steps = violation.shape[-1]
    per_step = violation.any(axis=-2)  # [*B, T]
    any_violation = per_step.any(axis=-1)
    step = np.where(any_violation, np.argmax(per_step, axis=-1), num_steps)
    at_step = np.take_along_axis(
        violation, np.minimum(step, num_steps - 1)[..., None, None], axis=-1
    )[..., 0]
    element = np.where(any_violation, np.argmax(at_step, axis=-1), -1)
    return RuleViolationResult(
        np.where(any_violation, 0.0, 1.0), step.astype(np.int64), element.astype(np.int64)
    )


@dataclass(frozen=True, slots=True)
class YieldConfig:
    """Thresholds of `pedestrian_yield_compliance` (our choices; see the module doc)."""

    moving_speed_mps: float = 0.5
    conflict_distance_m: float = 4.0
    yielding_to: tuple[AgentType, ...] = (AgentType.PEDESTRIAN,)


def pedestrian_yield_compliance(
    ego: EgoStates,
    agents: AgentStates,
    crosswalk_polygons: NDArrayF64,
    config: YieldConfig = YieldConfig(),
) -> RuleViolationResult:
    """1.0 unless the ego drove across a crosswalk occupied by a nearby pedestrian (module doc).

    ego: batch [*E], T steps; agents: batch [*G] broadcastable, A agents; crosswalk_polygons:
    float64[C, P, 2]. `violated_element` is the crosswalk index.
    """
    if kernels.enabled() and max(ego.xy.ndim - 2, agents.xy.ndim - 3) <= 2:
        return _first_violation(_violations_compiled(ego, agents, crosswalk_polygons, config))
    polygons = np.asarray(crosswalk_polygons, np.float64)[:, None, :, :]  # [C, 1, P, 2]
    ego_size = ego.size_per_step()[..., None, :]
    ego_on = boxes_overlap_convex_polygons(
        ego.xy[..., None, :, :], ego.heading[..., None, :], ego_size, polygons
    )  # [*E, C, T]
    ego_on &= np.abs(ego.speed_mps[..., None, :]) > config.moving_speed_mps
    yielding = (
        np.isin(agents.types_per_step(), np.asarray(config.yielding_to, np.int64)) & agents.valid
    )
    agent_on = boxes_overlap_convex_polygons(
        agents.xy[..., None, :, :],
        agents.heading[..., None, :],
        agents.size_per_step()[..., None, :, :],
        polygons,
    )  # [*G, A, C, T]
    conflict = ego_on[..., None, :, :] & agent_on & yielding[..., None, :]  # [*B, A, C, T]
    near = _near_pairs(ego, agents, conflict.any(axis=-2), config.conflict_distance_m)
    violation = (conflict & near[..., None, :]).any(axis=-3)  # [*B, C, T]
    return _first_violation(violation)


def _violations_compiled(
    ego: EgoStates, agents: AgentStates, crosswalk_polygons: NDArrayF64, config: YieldConfig
) -> NDArrayBool:
    """bool[*B, C, T]: the violations of `pedestrian_yield_compliance`, by the compiled kernel."""
    num_steps = ego.xy.shape[-2]
    ego_batch = (1,) * (4 - ego.xy.ndim) + ego.xy.shape[:-2]  # [E0, E1]
    agent_shape = np.broadcast_shapes(agents.xy.shape[:-1], agents.valid.shape)
    agent_batch = (1,) * (4 - len(agent_shape)) + agent_shape[:-2]  # [G0, G1]
    batch = np.broadcast_shapes(ego.xy.shape[:-2], agent_shape[:-2])
    yielding = np.isin(agents.types_per_step(), np.asarray(config.yielding_to, np.int64))

    def rows(array: np.ndarray, shape: tuple[int, ...], trailing: int) -> np.ndarray:
        tail = array.shape[array.ndim - trailing :] if trailing else ()
        full = np.broadcast_to(array, shape + tail)
        return np.ascontiguousarray(full).reshape((-1, num_steps) + tail)

    ego_cos, ego_sin = kernels.cos_sin(ego.heading)
    agent_cos, agent_sin = kernels.cos_sin(agents.heading)
    ego_shape, agent_full = ego.xy.shape[:-1], agent_shape
    violation = np.zeros(
        (1,) * (2 - len(batch)) + batch + (crosswalk_polygons.shape[0], num_steps), bool
    )
    kernels.crosswalk_violations(
        rows(ego.xy, ego_shape, 1),
        rows(ego_cos, ego_shape, 0),
        rows(ego_sin, ego_shape, 0),
        rows(ego.size_per_step(), ego_shape, 1),
        rows(np.abs(ego.speed_mps) > config.moving_speed_mps, ego_shape, 0),
        rows(agents.xy, agent_full, 1),
        rows(agent_cos, agent_full, 0),
        rows(agent_sin, agent_full, 0),
        rows(agents.size_per_step(), agent_full, 1),
        rows(yielding & agents.valid, agent_full, 0),
        np.ascontiguousarray(crosswalk_polygons, np.float64),
        float(config.conflict_distance_m),
        (int(ego_batch[0]), int(ego_batch[1])),
        (int(agent_batch[0]), int(agent_batch[1])),
        violation,
    )
    return violation.reshape(batch + violation.shape[-2:])


def _near_pairs(
    ego: EgoStates, agents: AgentStates, pairs: NDArrayBool, max_distance_m: float
) -> NDArrayBool:
    """bool[*B, A, T]: for the (agent, step) pairs marked, box distance <= max_distance_m."""
    shape = pairs.shape
    index = np.nonzero(pairs)
    distance = boxes_distance(
        take(ego.xy[..., None, :, :], shape, index, 1),
        take(ego.heading[..., None, :], shape, index, 0),
        take(ego.size_per_step()[..., None, :], shape, index, 1),
        take(agents.xy, shape, index, 1),
        take(agents.heading, shape, index, 0),
        take(agents.size_per_step(), shape, index, 1),
    )
    near = np.zeros(shape, dtype=bool)
    near[index] = distance <= max_distance_m
    return near
