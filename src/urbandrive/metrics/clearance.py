"""Minimum clearance from the ego's footprint to vulnerable road users (our metric).

Vulnerable road users: pedestrians, cyclists, motorcyclists and animals (`AgentType`'s
`is_vulnerable`). Clearance is the box-to-box distance (0 when overlapping), over valid agent
steps only; `geometry.boxes_distance`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.boxes import boxes_distance
from urbandrive.metrics import kernels
from urbandrive.metrics.collisions import pair_shape, row_kernel_inputs, row_reach, take
from urbandrive.metrics.states import AgentStates, EgoStates, SharedRows, is_vulnerable


@dataclass(frozen=True, slots=True)
class ClearanceResult:
    """min_clearance_m: float64[*B] (inf if no vulnerable agent is ever valid);
    clearance_per_step_m: float64[*B, T]; within_bound: bool[*B], min >= the required clearance."""

    min_clearance_m: NDArrayF64
    clearance_per_step_m: NDArrayF64
    within_bound: NDArrayBool


def vulnerable_road_user_clearance(
    ego: EgoStates,
    agents: AgentStates,
    required_clearance_m: float = 1.0,
    search_radius_m: float = 30.0,
) -> ClearanceResult:
    """Smallest ego-to-VRU box distance per step and over the rollout.

    ego: batch [*E], T steps; agents: batch [*G] broadcastable, A agents, T steps. Pairs whose
    centres are farther apart than `search_radius_m` plus both half-diagonals are skipped: their
    box distance is at least `search_radius_m`, so any clearance below it is exact; steps with
    no vulnerable agent that near report inf.
    """
    ego_xy = ego.xy[..., None, :, :]
    shape = np.broadcast_shapes(ego_xy.shape[:-1], agents.xy.shape[:-1])
    gap = np.linalg.norm(agents.xy - ego_xy, axis=-1)
    mask = _counts(agents.valid, agents.types_per_step(), gap, _reach(ego, agents), search_radius_m)
    index = np.nonzero(np.broadcast_to(mask, shape))
    distance = np.full(shape, np.inf)
    distance[index] = _distance_on_pairs(ego, agents, shape, index)
    per_step = distance.min(axis=-2)
    minimum = per_step.min(axis=-1)
    return ClearanceResult(minimum, per_step, minimum >= required_clearance_m)


def _counted_pairs(
    ego: EgoStates,
    agents: AgentStates,
    shape: tuple[int, ...],
    pairs: tuple[NDArrayInt, ...],
    search_radius_m: float,
) -> tuple[NDArrayInt, ...]:
    """The pairs (np.nonzero-style into `shape`) that count: a valid vulnerable agent whose
    centre is within `search_radius_m` plus both half-diagonals."""
    gap = np.linalg.norm(
        take(agents.xy, shape, pairs, 1) - take(ego.xy[..., None, :, :], shape, pairs, 1), axis=-1
    )
    mask = _counts(
        take(agents.valid, shape, pairs, 0),
        take(agents.types_per_step(), shape, pairs, 0),
        gap,
        take(_reach(ego, agents), shape, pairs, 0),
        search_radius_m,
    )
    return tuple(axis[mask] for axis in pairs)


def vulnerable_road_user_clearance_on_rows(
    ego: EgoStates,
    shared: SharedRows,
    pairs: tuple[NDArrayInt, ...],
    required_clearance_m: float = 1.0,
    search_radius_m: float = 30.0,
    minimum_only: bool = False,
    touching: NDArrayBool | None = None,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> ClearanceResult:
    """`vulnerable_road_user_clearance` of ego [M, 1] against `shared.expand()` [K, A], the
    broad phase done by the caller: the same result (batch [M, K]), each shared row's
    distances computed once (box distances on the pairs only).
    minimum_only: the compiled kernel skips the pairs that cannot lower the minimum over the
    steps below max(search_radius_m, required_clearance_m): within_bound exact, and
    min_clearance_m below that (at least that, maybe inf, elsewhere); clearance_per_step_m
    is then not computed (inf, an upper bound, read-only).

    ego: batch [M], T steps; pairs: (candidate, row, step) int64[P] each into [M, U, T],
    holding at least the vulnerable ones whose centres are within `search_radius_m` plus both
    half-diagonals.
    touching: bool[M, K] or None, the (candidate, mode)s known to overlap a valid vulnerable
    agent at some step (e.g. from the collision check on the same boxes): with minimum_only,
    their minimum starts at 0 (their clearance), so their pairs are skipped.
    boxes: `row_kernel_inputs(ego, shared.rows)` where the caller has them, else None.
    """
    agents = shared.rows
    shape = pair_shape(ego, agents)  # [M, U, T]
    per_step_shape = (shape[0], shared.num_modes, shape[-1])
    compiled_minimum = minimum_only and kernels.enabled()
    # with the minimum only, per_step is not computed: inf bounds every step from above
    per_step = (
        np.broadcast_to(np.inf, per_step_shape)
        if compiled_minimum
        else np.full(per_step_shape, np.inf)
    )
    if kernels.enabled():
        counts = agents.valid & is_vulnerable(agents.types_per_step())
        least = (
            np.where(touching, 0.0, np.inf)[..., None]
            if minimum_only and touching is not None
            else np.full(per_step_shape[:-1] + (1,), np.inf)
        )
        kernels.min_clearance_on_rows(
            *(np.ascontiguousarray(axis, np.int64) for axis in pairs),
            *(row_kernel_inputs(ego, agents) if boxes is None else boxes),
            np.ascontiguousarray(counts),
            row_reach(ego, agents),
            float(search_radius_m),
            shared.mode_start,
            shared.modes,
            minimum_only,
            float(max(search_radius_m, required_clearance_m)),
            np.empty((0, 0, 0)) if compiled_minimum else per_step,
            least,
        )
        if compiled_minimum:
            return ClearanceResult(least[..., 0], per_step, least[..., 0] >= required_clearance_m)
    else:
        index = _counted_pairs(ego, agents, shape, pairs, search_radius_m)
        distance = _distance_on_pairs(ego, agents, shape, index)
        item, mode = shared.spread(index[1])
        np.minimum.at(per_step, (index[0][item], mode, index[2][item]), distance[item])
    minimum = per_step.min(axis=-1)
    return ClearanceResult(minimum, per_step, minimum >= required_clearance_m)


def _reach(ego: EgoStates, agents: AgentStates) -> NDArrayF64:
    """float64[..., A, 1]: the sum of the ego's and each agent's half-diagonals, metres."""
    ego_size = ego.size_per_step()[..., None, :]
    agent_size = agents.size_per_step()
    return 0.5 * (
        np.hypot(ego_size[..., 0], ego_size[..., 1])
        + np.hypot(agent_size[..., 0], agent_size[..., 1])
    )


def _counts(
    valid: NDArrayBool,
    types: NDArrayInt,
    gap_m: NDArrayF64,
    reach_m: NDArrayF64,
    search_radius_m: float,
) -> NDArrayBool:
    """bool[...]: a valid vulnerable agent whose centre is within the search radius plus reach."""
    return valid & is_vulnerable(types) & (gap_m <= search_radius_m + reach_m)


def _distance_on_pairs(
    ego: EgoStates, agents: AgentStates, shape: tuple[int, ...], index: tuple[NDArrayInt, ...]
) -> NDArrayF64:
    """float64[P]: ego-to-agent box distance at the pairs `index` into `shape` = [*B, A, T]."""
    return boxes_distance(
        take(ego.xy[..., None, :, :], shape, index, 1),
        take(ego.heading[..., None, :], shape, index, 0),
        take(ego.size_per_step()[..., None, :], shape, index, 1),
        take(agents.xy, shape, index, 1),
        take(agents.heading, shape, index, 0),
        take(agents.size_per_step(), shape, index, 1),
    )
