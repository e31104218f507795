"""Compiled twins of `terms` whose numpy form costs the cycle most; `terms` stays the
reference (tests compare them) and runs where the compiled kernels are off."""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.metrics import kernels as metric_kernels
from urbandrive.metrics.compliance import DrivableAreaMap, drivable_area_compliance
from urbandrive.planning.proposals.context import PathAgents
from urbandrive.planning.scoring import terms
from urbandrive.planning.scoring.terms import HeadwayConfig, ScoringInputs


def headway(
    inputs: ScoringInputs, agents: PathAgents, ego_size_m: NDArrayF64, config: HeadwayConfig
) -> NDArrayF64:
    """`terms.headway` (float64[M, K]), its [M, N, K, T] part by the compiled kernel
    (`scoring.kernels.headway_shortfall`): the same values, no [M, N, K, T] arrays."""
    if not metric_kernels.enabled():
        return terms.headway(inputs, agents, ego_size_m, config)
    from urbandrive.planning.scoring.kernels import headway_shortfall

    steps = slice(0, None, config.step_stride)
    s_e, d_e = inputs.s_m[:, steps], inputs.d_m[:, steps]  # [M, T]
    num_candidates, num_modes = s_e.shape[0], agents.mode_probs.shape[0]
    followed = np.isin(agents.types, np.asarray(config.types, np.int64))
    reach = 0.5 * (agents.size_m[:, 1] + ego_size_m[1]) + config.lateral_margin_m  # [N]
    near = np.abs(agents.d_m[..., steps]).min(axis=(1, 2)) < np.abs(d_e).max() + reach
    keep = np.flatnonzero(followed & near)
    if keep.size == 0:
        return np.ones((num_candidates, num_modes))
    s_a, d_a = agents.s_m[keep][..., steps], agents.d_m[keep][..., steps]  # [N, K, T]
    along = agents.speed_along_mps[keep][..., steps]
    velocity = np.moveaxis(agents.states.velocity[:, keep][..., steps, :], 0, 1)
    speed = np.linalg.norm(velocity, axis=-1)  # [N, K, T]
    moving_along = (along >= config.min_alignment * speed) | (speed < 0.5)
    live = moving_along & agents.valid[keep][:, None, steps]
    worst = np.zeros((num_candidates, num_modes, s_e.shape[1]))
    headway_shortfall(
        np.ascontiguousarray(s_e), np.ascontiguousarray(d_e),
        np.ascontiguousarray(inputs.ego.speed_mps[:, steps]), np.ascontiguousarray(s_a),
        np.ascontiguousarray(d_a), np.ascontiguousarray(live),
        np.ascontiguousarray(reach[keep]),
        np.ascontiguousarray(0.5 * (agents.size_m[keep, 0] + ego_size_m[0])),
        float(config.min_gap_m), float(config.headway_s), worst,
    )  # fmt: skip
    return 1.0 - worst.mean(axis=-1)


def drivable_area(inputs: ScoringInputs, area: DrivableAreaMap) -> NDArrayF64:
    """`terms.drivable_area` (float64[M]), the ego's corners by the compiled kernel
    (`scoring.kernels.box_corners_rows`): the same values."""
    if not metric_kernels.enabled():
        return terms.drivable_area(inputs, area)
    from urbandrive.planning.scoring.kernels import box_corners_rows

    ego = inputs.ego
    cos, sin = metric_kernels.cos_sin(ego.heading)
    corners = np.empty(ego.xy.shape[:-1] + (4, 2))
    box_corners_rows(
        np.ascontiguousarray(ego.xy, np.float64).reshape(-1, 2), cos.reshape(-1),
        sin.reshape(-1),
        np.ascontiguousarray(np.broadcast_to(ego.size_per_step(), ego.xy.shape)).reshape(-1, 2),
        corners.reshape(-1, 4, 2),
    )  # fmt: skip
    distance = np.asarray(area.distance_outside_drivable_area(corners), np.float64)
    return drivable_area_compliance(distance)
