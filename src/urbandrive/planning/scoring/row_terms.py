"""The agent terms of `terms` (collisions, TTC, VRU clearance) on shared rows: each distinct
(agent, trajectory) of the K predicted modes tested once (`metrics.states.SharedRows`), the
results spread back to every mode that uses it. The same float64[M, K] as `terms`' on the
modes' pairs; the pairs are (candidate, row, step) (`ScoringPairs` of the rows)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.metrics.clearance import vulnerable_road_user_clearance_on_rows
from urbandrive.metrics.collisions import (
    AtFaultCollisionResult,
    CollisionConfig,
    no_ego_at_fault_collisions_on_rows,
)
from urbandrive.metrics.states import EgoStates, SharedRows, is_vulnerable
from urbandrive.metrics.time_to_collision import (
    TimeToCollisionConfig,
    time_to_collision_within_bound_on_rows,
)
from urbandrive.planning.scoring.terms import ScoringInputs, score_horizon


def buffered_ego(inputs: ScoringInputs) -> EgoStates:
    """The candidates, batch [M], with the collision buffer's box (`ego_per_mode`'s)."""
    return replace(inputs.ego, size_m=inputs.ego_per_mode.size_m)


def at_fault_collisions(
    inputs: ScoringInputs,
    shared: SharedRows,
    config: CollisionConfig,
    pairs: tuple[NDArrayInt, ...],
) -> AtFaultCollisionResult:
    """`terms.at_fault_collisions` (batch [M, K]); pairs: the rows' contact pairs."""
    return no_ego_at_fault_collisions_on_rows(
        buffered_ego(inputs), shared, inputs.lanes.changing_lanes_or_offroad, pairs, config
    )


def time_to_collision(
    inputs: ScoringInputs,
    shared: SharedRows,
    collisions: AtFaultCollisionResult,
    config: TimeToCollisionConfig,
    step_stride: int,
    pairs: tuple[NDArrayInt, ...],
) -> NDArrayF64:
    """`terms.time_to_collision` (float64[M, K]); pairs: the rows' projection pairs, steps in
    strided units."""
    config = score_horizon(config)
    steps = slice(0, None, step_stride)
    ego, lanes = buffered_ego(inputs), inputs.lanes
    strided = replace(
        collisions,
        first_collision_step=-(-collisions.first_collision_step // step_stride),
        at_fault_step=collisions.at_fault_step[..., steps],
    )
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
    ).score


def vulnerable_clearance(
    inputs: ScoringInputs,
    shared: SharedRows,
    required_m: float,
    pairs: tuple[NDArrayInt, ...],
    collisions: AtFaultCollisionResult | None = None,
) -> NDArrayF64:
    """`terms.vulnerable_clearance` (float64[M, K]); pairs: the rows' contact pairs;
    collisions: `at_fault_collisions` of the same cycle or None (where it has the ego's box
    overlap a vulnerable agent the clearance is 0, found without a box distance)."""
    touching = None
    if collisions is not None:
        vulnerable = is_vulnerable(np.asarray(inputs.agents.types))  # [A]
        num_steps = collisions.at_fault_step.shape[-1]
        touching = np.any((collisions.first_collision_step < num_steps) & vulnerable, axis=-1)
    result = vulnerable_road_user_clearance_on_rows(
        buffered_ego(inputs), shared, pairs, required_m, search_radius_m=required_m,
        minimum_only=True, touching=touching,
    )  # fmt: skip
    return np.clip(result.min_clearance_m / required_m, 0.0, 1.0)
