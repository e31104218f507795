"""nuPlan's progress metrics over precomputed route progress, batched.

Source: motional/nuplan-devkit `nuplan/planning/metrics/evaluation_metrics/common/
ego_progress_along_expert_route.py`, `ego_is_making_progress.py` and their yaml configs
(`score_progress_threshold: 2`, `min_progress_threshold: 0.2`). The progress along the
expert's route (nuPlan sums per-step progress along the route's lane baselines) is computed
by the caller from the map.
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayF64


def ego_progress_along_expert_route(
    ego_progress_m: NDArrayF64,
    expert_progress_m: NDArrayF64 | float,
    score_progress_threshold_m: float = 2.0,
) -> NDArrayF64:
    """Ratio of the ego's to the expert's progress along the expert route, float64[*B] in [0, 1].

    ego_progress_m: float64[*B], total progress of the ego along the expert route, metres
    (negative when it drove backwards). expert_progress_m: the expert's, broadcastable.

        ratio = 0                                          if ego < -threshold
        ratio = min(1, max(ego, threshold) / max(expert, threshold))   otherwise

    with threshold = `score_progress_threshold_m` (nuPlan's config: 2 m), as nuPlan's code does:
    both sides are floored, so an expert stopped at a red light for the whole scenario and an
    ego that also (nearly) stays put score 1, and small negative progress from noise is
    forgiven; driving backwards by more than the threshold scores 0.
    """
    ego = np.asarray(ego_progress_m, np.float64)
    expert = np.asarray(expert_progress_m, np.float64)
    threshold = score_progress_threshold_m
    ratio = np.minimum(1.0, np.maximum(ego, threshold) / np.maximum(expert, threshold))
    return np.where(ego < -threshold, 0.0, ratio)


def ego_is_making_progress(
    progress_ratio: NDArrayF64, min_progress_threshold: float = 0.2
) -> NDArrayF64:
    """nuPlan's multiplier: 1.0 where `progress_ratio >= min_progress_threshold`, else 0.0.

    progress_ratio: float64[*B], from `ego_progress_along_expert_route`.
    """
    return np.where(np.asarray(progress_ratio) >= min_progress_threshold, 1.0, 0.0)
