"""Minimum clearance from the ego's footprint to vulnerable road users (our metric).

Vulnerable road users: pedestrians, cyclists, motorcyclists and animals (`AgentType`'s
`is_vulnerable`). Clearance is the box-to-box distance (0 when overlapping), over valid agent
steps only; `geometry.boxes_distance`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64
from urbandrive.geometry.boxes import boxes_distance
from urbandrive.metrics.collisions import take
from urbandrive.metrics.states import AgentStates, EgoStates, is_vulnerable


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
    ego_xy, ego_heading = ego.xy[..., None, :, :], ego.heading[..., None, :]
    ego_size = ego.size_per_step()[..., None, :]
    agent_size = agents.size_per_step()
    shape = np.broadcast_shapes(ego_xy.shape[:-1], agents.xy.shape[:-1])
    gap = np.linalg.norm(agents.xy - ego_xy, axis=-1)
    reach = 0.5 * (
        np.hypot(ego_size[..., 0], ego_size[..., 1])
        + np.hypot(agent_size[..., 0], agent_size[..., 1])
    )
    mask = agents.valid & is_vulnerable(agents.types_per_step()) & (gap <= search_radius_m + reach)
    index = np.nonzero(np.broadcast_to(mask, shape))
    distance = np.full(shape, np.inf)
    distance[index] = boxes_distance(
        take(ego_xy, shape, index, 1),
        take(ego_heading, shape, index, 0),
        take(ego_size, shape, index, 1),
        take(agents.xy, shape, index, 1),
        take(agents.heading, shape, index, 0),
        take(agent_size, shape, index, 1),
    )
    per_step = distance.min(axis=-2)
    minimum = per_step.min(axis=-1)
    return ClearanceResult(minimum, per_step, minimum >= required_clearance_m)
