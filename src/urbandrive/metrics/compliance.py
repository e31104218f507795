"""nuPlan's rule-compliance metrics over precomputed per-step map quantities, batched.

The map queries (which lane the ego is in, its speed limit, progress along the lane, distance
of each corner outside the drivable area) are done once by the caller; these functions only
score arrays. Sources: motional/nuplan-devkit `nuplan/planning/metrics/evaluation_metrics/
common/speed_limit_compliance.py`, `driving_direction_compliance.py`,
`drivable_area_compliance.py` and their `high_level/*.yaml` configs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.geometry.boxes import box_corners
from urbandrive.metrics import kernels
from urbandrive.metrics.states import EgoStates


def speed_limit_compliance(
    speed_mps: NDArrayF64,
    speed_limit_mps: NDArrayF64,
    dt_s: float,
    max_overspeed_value_threshold_mps: float = 2.23,
) -> NDArrayF64:
    """nuPlan's `speed_limit_compliance` score, float64[*B] in [0, 1].

    speed_mps: float64[*B, T], the ego's speed (its magnitude is used); speed_limit_mps:
    float64[..., T] broadcastable, the limit of the lane the ego is in, NaN where it is in no
    lane or the limit is unknown (no violation there, as nuPlan). With over-speed
    v_t = max(0, |speed_t| - limit_t):

        score = max(0, 1 - sum_t(v_t) * dt / (max(threshold, 1e-3) * (T - 1) * dt))

    1.0 when there is no over-speed or the rollout has a single step (zero duration). nuPlan's
    sum runs over all T steps while the duration is (T - 1) * dt; we keep that.
    """
    speed = np.asarray(speed_mps, np.float64)
    limit = np.broadcast_to(np.asarray(speed_limit_mps, np.float64), speed.shape)
    if kernels.enabled() and speed.ndim == 2:  # the elementwise part in one pass
        over = np.empty(speed.shape)
        kernels.over_speed_rows(speed, limit, over)
    else:
        speed = np.abs(speed)
        over = np.where(
            np.isnan(limit), 0.0, np.maximum(0.0, speed - np.nan_to_num(limit, nan=np.inf))
        )
    duration_s = (speed.shape[-1] - 1) * dt_s
    if duration_s <= 0:
        return np.ones(speed.shape[:-1])
    loss = over.sum(-1) * dt_s / (max(max_overspeed_value_threshold_mps, 1e-3) * duration_s)
    return np.maximum(0.0, 1.0 - loss)


@dataclass(frozen=True, slots=True)
class DrivingDirectionConfig:
    """Thresholds of `driving_direction_compliance` (nuPlan's config: 2 m, 6 m, 1 s).

    The docs (`metrics_description.md`) say 1 m for the compliance threshold; the code and
    config use 2 m (nuplan-devkit issue #273). We follow the config.
    """

    compliance_threshold_m: float = 2.0
    violation_threshold_m: float = 6.0
    time_horizon_s: float = 1.0


def driving_direction_compliance(
    progress_along_lane_m: NDArrayF64,
    dt_s: float,
    config: DrivingDirectionConfig = DrivingDirectionConfig(),
) -> NDArrayF64:
    """nuPlan's `driving_direction_compliance` multiplier, float64[*B] in {0, 0.5, 1}.

    progress_along_lane_m: float64[*B, T], the ego's progress at each step along the lane it
    is in, in the lane's direction of travel (negative = against traffic); 0 where it is in no
    lane or has just entered a new one (nuPlan resets there). With n = int(horizon / dt)
    (10 at 10 Hz), window_t = sum of progress[max(0, t - n) .. t] (n + 1 terms, nuPlan's slice)
    and worst = max(0, -min_t window_t):

        worst < 2 m -> 1.0;   worst < 6 m -> 0.5;   else 0.0

    (strict `<` as nuPlan's code; its docs say "<=").
    """
    progress = np.asarray(progress_along_lane_m, np.float64)
    window = int(config.time_horizon_s / dt_s + 1e-9)
    if kernels.enabled() and progress.ndim == 2 and progress.shape[-1] > 0:
        multiplier = np.empty(progress.shape[0])
        kernels.driving_direction_rows(
            progress, window, float(config.compliance_threshold_m),
            float(config.violation_threshold_m), multiplier,
        )  # fmt: skip
        return multiplier
    cumulative = np.cumsum(progress, axis=-1)
    shifted = np.concatenate(
        [np.zeros(progress.shape[:-1] + (window + 1,)), cumulative[..., :-1]], axis=-1
    )[..., : progress.shape[-1]]
    window_sums = cumulative - shifted
    worst = np.maximum(0.0, -np.min(window_sums, axis=-1))
    return np.where(
        worst < config.compliance_threshold_m,
        1.0,
        np.where(worst < config.violation_threshold_m, 0.5, 0.0),
    )


def drivable_area_compliance(
    corner_distance_outside_m: NDArrayF64, max_violation_threshold_m: float = 0.3
) -> NDArrayF64:
    """nuPlan's `drivable_area_compliance` multiplier, float64[*B] in {0, 1}.

    corner_distance_outside_m: float64[*B, T, 4], how far each ego corner (front-left,
    rear-left, rear-right, front-right) lies outside the drivable area, 0 inside. 0.0 if any
    corner at any step is at least `max_violation_threshold_m` outside (nuPlan: `distance >=
    threshold` is "far from the drivable area"), else 1.0.
    """
    distance = np.asarray(corner_distance_outside_m, np.float64)
    far = np.any(distance >= max_violation_threshold_m, axis=(-2, -1))
    return np.where(far, 0.0, 1.0)


class DrivableAreaMap(Protocol):
    """What `ego_corner_distance_outside_drivable_area` needs from a map (`RoadMap` has it)."""

    def distance_outside_drivable_area(self, points: NDArrayF64) -> NDArrayF64: ...


def ego_corner_distance_outside_drivable_area(
    road_map: DrivableAreaMap, ego: EgoStates
) -> NDArrayF64:
    """float64[*B, T, 4]: distance of each ego corner outside the drivable area, 0 inside.

    Corners from `geometry.box_corners` (front-left, rear-left, rear-right, front-right);
    the distance from `RoadMap.distance_outside_drivable_area(points[..., 2]) -> float64[...]`.
    """
    corners = box_corners(ego.xy, ego.heading, ego.size_per_step())
    return np.asarray(road_map.distance_outside_drivable_area(corners), np.float64)
