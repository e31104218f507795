"""The agent terms of `terms` (collisions, TTC, VRU clearance) on shared rows: each distinct
(agent, trajectory) of the K predicted modes tested once (`metrics.states.SharedRows`), the
results spread back to every mode that uses it. The same float64[M, K] as `terms`' on the
modes' pairs; the pairs are (candidate, row, step) (`pairs` of the rows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics import kernels
from urbandrive.metrics.clearance import vulnerable_road_user_clearance_on_rows
from urbandrive.metrics.collisions import (
    AtFaultCollisionResult,
    CollisionConfig,
    no_ego_at_fault_collisions_on_rows,
    row_kernel_inputs,
)
from urbandrive.metrics.states import EgoStates, SharedRows, is_vulnerable, types_in
from urbandrive.metrics.time_to_collision import (
    TimeToCollisionConfig,
    time_to_collision_within_bound_on_rows,
)
from urbandrive.metrics.traffic_rules import YieldConfig
from urbandrive.planning.scoring import terms
from urbandrive.planning.scoring.terms import ScoringInputs, score_horizon


def buffered_ego(inputs: ScoringInputs) -> EgoStates:
    """The candidates, batch [M], with the collision buffer's box (`ego_per_mode`'s)."""
    return replace(inputs.ego, size_m=inputs.ego_per_mode.size_m)


def at_fault_collisions(
    inputs: ScoringInputs,
    shared: SharedRows,
    config: CollisionConfig,
    pairs: tuple[NDArrayInt, ...],
    first_step: NDArrayInt | None = None,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> AtFaultCollisionResult:
    """`terms.at_fault_collisions` (batch [M, K]); pairs: the rows' contact pairs; first_step:
    int64[M, U], the rows' first overlapping steps where the pair search found them, or None
    (`pairs.contacts_on_rows`); boxes: `row_boxes(inputs, shared)` or None."""
    return no_ego_at_fault_collisions_on_rows(
        buffered_ego(inputs), shared, inputs.lanes.changing_lanes_or_offroad, pairs, config,
        first_step, boxes,
    )  # fmt: skip


def row_boxes(inputs: ScoringInputs, shared: SharedRows) -> tuple[np.ndarray, ...] | None:
    """The buffered candidates' and the rows' boxes as the compiled kernels take them
    (`metrics.collisions.row_kernel_inputs`), made once per cycle; None without the kernels."""
    if not kernels.enabled():
        return None
    return row_kernel_inputs(buffered_ego(inputs), shared.rows)


def time_to_collision(
    inputs: ScoringInputs,
    shared: SharedRows,
    collisions: AtFaultCollisionResult,
    config: TimeToCollisionConfig,
    step_stride: int,
    pairs: tuple[NDArrayInt, ...] | Callable[..., None],
    row_first_step: NDArrayInt | None = None,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> NDArrayF64:
    """`terms.time_to_collision` (float64[M, K]); pairs: the rows' projection pairs, steps in
    strided units, or the search that finds and tests them (`pairs.projection_search`,
    compiled kernels only); row_first_step: int64[M, U], each row's first collision step where the
    caller has it (`pairs.contacts_on_rows`' first overlaps: what `collisions` holds for
    every mode using the row), None to read it from `collisions`; boxes: the strided steps'
    `boxes_at_steps(row_boxes(inputs, shared), step_stride)` where the caller has them, or
    None."""
    config = score_horizon(config)
    steps = slice(0, None, step_stride)
    ego, lanes = buffered_ego(inputs), inputs.lanes
    num_steps = collisions.at_fault_step.shape[-1]
    if row_first_step is None:
        first_mode, first_agent = shared.modes[shared.mode_start[:-1]], shared.agent_of
        row_first_step = collisions.first_collision_step[:, first_mode, first_agent]
    # each row's first collision step (the same in every mode using it) in strided steps,
    # ceil(step / stride), looked up: steps lie in [0, T]
    row_first = (-(-np.arange(num_steps + 1) // step_stride))[row_first_step]
    strided = replace(collisions, at_fault_step=collisions.at_fault_step[..., steps])
    strided_ego = EgoStates(
        ego.xy[:, steps], ego.heading[:, steps], ego.speed_mps[:, steps], ego.size_m
    )
    return time_to_collision_within_bound_on_rows(
        strided_ego,
        shared.at_steps(steps),
        strided,
        lanes.changing_lanes_or_offroad[:, steps],
        lanes.in_intersection[:, steps],
        pairs,
        config,
        within_bound_only=True,
        row_first_step=row_first,
        boxes=boxes,
    ).score


def boxes_at_steps(boxes: tuple[np.ndarray, ...], step_stride: int) -> tuple[np.ndarray, ...]:
    """`row_boxes` at every `step_stride`-th step only (the TTC's steps): the step-wise arrays
    (xy, cos, sin of the candidates and the rows) cut along their step axis (contiguous
    copies), the sizes as they are."""
    ego_xy, ego_cos, ego_sin, ego_size, agent_xy, agent_cos, agent_sin, agent_size = boxes
    steps = slice(0, None, step_stride)

    def cut(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array[:, steps])

    def cut_xy(xy: np.ndarray) -> np.ndarray:
        return kernels.contiguous_pairs(xy[:, steps])

    return (cut_xy(ego_xy), cut(ego_cos), cut(ego_sin), ego_size, cut_xy(agent_xy),
            cut(agent_cos), cut(agent_sin), agent_size)  # fmt: skip


def vulnerable_clearance(
    inputs: ScoringInputs,
    shared: SharedRows,
    required_m: float,
    pairs: tuple[NDArrayInt, ...],
    collisions: AtFaultCollisionResult | None = None,
    floor_m: float = 0.0,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> NDArrayF64:
    """`terms.vulnerable_clearance` (float64[M, K]); pairs: the rows' contact pairs;
    collisions: `at_fault_collisions` of the same cycle or None (where it has the ego's box
    overlap a vulnerable agent the clearance is 0, found without a box distance); boxes:
    `row_boxes(inputs, shared)` or None."""
    touching = None
    if collisions is not None:
        vulnerable = is_vulnerable(np.asarray(inputs.agents.types))  # [A]
        num_steps = collisions.at_fault_step.shape[-1]
        touching = np.any(collisions.first_collision_step[..., vulnerable] < num_steps, axis=-1)
    result = vulnerable_road_user_clearance_on_rows(
        buffered_ego(inputs), shared, pairs, required_m, search_radius_m=required_m,
        minimum_only=True, touching=touching, boxes=boxes,
    )  # fmt: skip
    return terms.clearance_score(result.min_clearance_m, required_m, floor_m)


def crosswalk_yield(
    inputs: ScoringInputs,
    shared: SharedRows,
    config: YieldConfig,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> NDArrayF64:
    """`terms.crosswalk_yield` (float64[M, K]) with each distinct yielding row tested once by
    the compiled kernel (`terms.crosswalk_yield` itself where the kernels are off); boxes:
    `row_boxes(inputs, shared)` (their cos / sin are read) or None."""
    polygons = inputs.reference.crosswalk_polygons
    rows = shared.rows
    yielding = np.flatnonzero(types_in(rows.types, config.yielding_to))
    if not kernels.enabled() or polygons.shape[0] == 0 or yielding.shape[0] == 0:
        return terms.crosswalk_yield(inputs, config)
    violated = _rows_violating(buffered_ego(inputs), shared, yielding, polygons, config, boxes)
    uses = np.zeros((yielding.shape[0], shared.num_modes))  # [R, K]: mode k uses row r
    uses[shared.spread(yielding)] = 1.0
    return np.where(violated.astype(np.float64) @ uses > 0.0, 0.0, 1.0)


def _rows_violating(
    ego: EgoStates,
    shared: SharedRows,
    yielding: NDArrayInt,
    polygons: NDArrayF64,
    config: YieldConfig,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> NDArrayBool:
    """bool[M, R]: candidate m drives over a crosswalk near yielding row `yielding[r]` on it
    (`kernels.crosswalk_violations_on_rows`); boxes: `row_boxes` or None."""
    num_candidates, num_steps = ego.xy.shape[:2]
    rows = shared.rows
    if boxes is None:
        ego_cos, ego_sin = kernels.cos_sin(ego.heading)
        agent_cos, agent_sin = kernels.cos_sin_of(rows.heading, yielding)
    else:  # numpy's cos / sin of the same headings, kept from the cycle's boxes
        ego_cos, ego_sin, agent_cos, agent_sin = (
            boxes[1],
            boxes[2],
            boxes[5][yielding],
            boxes[6][yielding],
        )
    ego_size = np.broadcast_to(np.asarray(ego.size_m, np.float64), (num_candidates, num_steps, 2))
    agent_size = np.broadcast_to(
        rows.size_m[yielding][:, None, :], (yielding.shape[0], num_steps, 2)
    )
    return kernels.crosswalk_violations_on_rows(
        np.ascontiguousarray(ego.xy),
        np.ascontiguousarray(ego_cos),
        np.ascontiguousarray(ego_sin),
        ego_size,  # zero strides: the kernel reads any layout
        np.ascontiguousarray(np.abs(ego.speed_mps) > config.moving_speed_mps),
        np.ascontiguousarray(rows.xy[yielding]),
        np.ascontiguousarray(agent_cos),
        np.ascontiguousarray(agent_sin),
        agent_size,
        np.ascontiguousarray(rows.valid[yielding]),
        np.ascontiguousarray(polygons, np.float64),
        float(config.conflict_distance_m),
    )
