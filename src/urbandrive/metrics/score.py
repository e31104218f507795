"""nuPlan's closed-loop score (CLS): multipliers times a weighted average, per scenario.

Source: motional/nuplan-devkit `docs/metrics_description.md`,
`docs/nuplan_metrics_aggeregation.md` and the `closed_loop_*_weighted_average.yaml` configs:

    score = prod(multipliers) * sum_i(w_i * m_i) / sum_i(w_i)

multipliers: no_ego_at_fault_collisions, drivable_area_compliance,
driving_direction_compliance, ego_is_making_progress; weighted:
ego_progress_along_expert_route 5, time_to_collision_within_bound 5,
speed_limit_compliance 4, ego_is_comfortable 2. The suite score is the mean over scenarios,
times 100. Our extra rules (red light, yielding) can be appended as multipliers in the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64

NUPLAN_MULTIPLIERS = (
    "no_ego_at_fault_collisions",
    "drivable_area_compliance",
    "driving_direction_compliance",
    "ego_is_making_progress",
)
NUPLAN_WEIGHTS = (
    ("ego_progress_along_expert_route", 5.0),
    ("time_to_collision_within_bound", 5.0),
    ("speed_limit_compliance", 4.0),
    ("ego_is_comfortable", 2.0),
)


@dataclass(frozen=True, slots=True)
class ScoreConfig:
    """Which metrics multiply and which are averaged with which weight (nuPlan's by default)."""

    multipliers: tuple[str, ...] = NUPLAN_MULTIPLIERS
    weights: tuple[tuple[str, float], ...] = NUPLAN_WEIGHTS

    def __post_init__(self) -> None:
        names = list(self.multipliers) + [name for name, _ in self.weights]
        if len(set(names)) != len(names):
            raise ValueError(f"a metric is listed twice in the score config: {names}")
        if any(weight < 0 for _, weight in self.weights) or sum(w for _, w in self.weights) <= 0:
            raise ValueError(f"weights must be >= 0 with a positive sum, got {self.weights}")


@dataclass(frozen=True, slots=True)
class ClosedLoopScore:
    """score: float64[*B] in [0, 1]; metrics: every metric given, by name, float64[*B] each."""

    score: NDArrayF64
    metrics: Mapping[str, NDArrayF64]


def closed_loop_score(
    metrics: Mapping[str, NDArrayF64], config: ScoreConfig = ScoreConfig()
) -> ClosedLoopScore:
    """Per-scenario (or per-candidate) CLS from metric scores in [0, 1].

    metrics: name -> float64[...] broadcastable arrays (e.g. [M] candidates, or [M, K] per
    predicted mode). Every name in the config must be present (KeyError naming the missing
    ones); extra metrics are kept in the result, unscored.
    """
    missing = [
        name
        for name in (*config.multipliers, *(n for n, _ in config.weights))
        if name not in metrics
    ]
    if missing:
        raise KeyError(f"closed_loop_score: missing metrics {missing}; given {sorted(metrics)}")
    arrays = {name: np.asarray(value, np.float64) for name, value in metrics.items()}
    shape = np.broadcast_shapes(*(array.shape for array in arrays.values()))
    product = np.ones(shape)
    for name in config.multipliers:
        product = product * arrays[name]
    total_weight = sum(weight for _, weight in config.weights)
    weighted = sum(weight * arrays[name] for name, weight in config.weights) / total_weight
    return ClosedLoopScore(product * weighted, arrays)


def suite_score(scenario_scores: NDArrayF64) -> float:
    """The suite's score: 100 x the mean of per-scenario scores float64[N] in [0, 1]."""
    scores = np.asarray(scenario_scores, np.float64)
    if scores.size == 0:
        raise ValueError("suite_score: no scenario scores")
    return float(100.0 * scores.mean())
