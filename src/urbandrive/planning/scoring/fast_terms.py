"""Compiled twins of `terms` whose numpy form costs the cycle most; `terms` stays the
reference (tests compare them) and runs where the compiled kernels are off."""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.metrics import kernels as metric_kernels
from urbandrive.metrics.compliance import DrivableAreaMap, drivable_area_compliance
from urbandrive.metrics.states import EgoStates
from urbandrive.planning.proposals.context import PathAgents
from urbandrive.planning.scoring import terms
from urbandrive.planning.scoring.drivable_grid import DrivableAreaGrid
from urbandrive.planning.scoring.terms import HeadwayConfig, ScoringInputs


def headway(
    inputs: ScoringInputs, agents: PathAgents, ego_size_m: NDArrayF64, config: HeadwayConfig
) -> NDArrayF64:
    """`terms.headway` (float64[M, K]), its [M, N, K, T] part by the compiled kernel
    (`scoring.kernels.headway_shortfall`): the same values, no [M, N, K, T] arrays."""
    if not metric_kernels.enabled():
        return terms.headway(inputs, agents, ego_size_m, config)
    from urbandrive.planning.scoring.kernels import headway_shortfall

    rows = terms.headway_rows(inputs, agents, ego_size_m, config)
    if rows is None:
        return np.ones((inputs.s_m.shape[0], agents.mode_probs.shape[0]))
    worst = np.zeros((rows.s_e.shape[0], agents.mode_probs.shape[0], rows.s_e.shape[1]))
    headway_shortfall(
        np.ascontiguousarray(rows.s_e), np.ascontiguousarray(rows.d_e),
        np.ascontiguousarray(rows.speed_e), np.ascontiguousarray(rows.s_a),
        np.ascontiguousarray(rows.d_a), np.ascontiguousarray(rows.live),
        np.ascontiguousarray(rows.reach), np.ascontiguousarray(rows.half_length),
        float(config.min_gap_m), float(config.headway_s), worst,
    )  # fmt: skip
    return 1.0 - worst.mean(axis=-1)


def drivable_area(inputs: ScoringInputs, area: DrivableAreaMap) -> NDArrayF64:
    """`terms.drivable_area` (float64[M]), the ego's corners by the compiled kernel
    (`scoring.kernels.box_corners_rows`): the same values."""
    if not metric_kernels.enabled():
        return terms.drivable_area(inputs, area)
    from urbandrive.planning.scoring.kernels import box_corners_rows, corner_distances_on_grid

    ego = inputs.ego
    cos, sin = metric_kernels.cos_sin(ego.heading)
    size = _size_per_row(ego)
    if isinstance(area, DrivableAreaGrid):  # corners and grid lookup in one kernel
        distance = np.empty(ego.xy.shape[:-1] + (4,))
        if corner_distances_on_grid(
            np.ascontiguousarray(ego.xy, np.float64).reshape(-1, 2), cos.reshape(-1),
            sin.reshape(-1), size, np.asarray(area.origin_xy, np.float64),
            float(area.resolution_m), np.ascontiguousarray(area.distance_m, np.float64),
            distance.reshape(-1, 4),
        ):  # fmt: skip
            return drivable_area_compliance(distance)
    corners = np.empty(ego.xy.shape[:-1] + (4, 2))
    box_corners_rows(
        np.ascontiguousarray(ego.xy, np.float64).reshape(-1, 2), cos.reshape(-1),
        sin.reshape(-1), size, corners.reshape(-1, 4, 2),
    )  # fmt: skip
    distance = np.asarray(area.distance_outside_drivable_area(corners), np.float64)
    return drivable_area_compliance(distance)


def lane_centering(inputs: ScoringInputs) -> NDArrayF64:
    """`terms.lane_centering` (float64[M]), the per-step cost by the compiled kernel
    (`scoring.kernels.lane_centering_costs`) and numpy's mean: the same values."""
    if not metric_kernels.enabled():
        return terms.lane_centering(inputs)
    from urbandrive.planning.scoring.kernels import lane_centering_costs

    reference = inputs.reference
    cost = np.empty(inputs.d_m.shape)
    lane_centering_costs(
        np.asarray(inputs.d_m, np.float64), np.asarray(inputs.lane_index, np.int64),
        np.asarray(reference.lane_half_width_m, np.float64),
        np.asarray(reference.left_offset_m, np.float64),
        np.asarray(reference.right_offset_m, np.float64), terms.LANE_CENTRE_SHARE,
        terms.ROUTE_LANE_SHARE, cost,
    )  # fmt: skip
    return 1.0 - cost.mean(-1)


def _size_per_row(ego: EgoStates) -> NDArrayF64:
    """float64[M * T, 2]: the ego's (length, width) for each of its M x T boxes; one size
    for all is broadcast (read-only, nothing copied)."""
    size = np.asarray(ego.size_m, np.float64)
    num_boxes = int(np.prod(ego.xy.shape[:-1]))
    if size.ndim == 1:
        return np.broadcast_to(size, (num_boxes, 2))
    return np.ascontiguousarray(np.broadcast_to(ego.size_per_step(), ego.xy.shape)).reshape(-1, 2)
