"""Speed limit, driving direction, drivable area, progress, CLS and open-loop errors."""

from __future__ import annotations

import numpy as np
import pytest

from urbandrive.metrics.compliance import (
    drivable_area_compliance,
    driving_direction_compliance,
    ego_corner_distance_outside_drivable_area,
    speed_limit_compliance,
)
from urbandrive.metrics.open_loop import plan_displacement_errors
from urbandrive.metrics.progress import ego_is_making_progress, ego_progress_along_expert_route
from urbandrive.metrics.score import ScoreConfig, closed_loop_score, suite_score

from .helpers import straight_ego

DT = 0.1


def test_speed_limit_score_is_one_minus_mean_overspeed_over_2_23() -> None:
    speed = np.full((1, 11), 10.0)
    speed[0, 5:] = 12.23  # 6 steps at 2.23 m/s over a 10 m/s limit
    score = speed_limit_compliance(speed, np.full(11, 10.0), DT)
    assert score[0] == pytest.approx(1.0 - 6 * 2.23 * DT / (2.23 * 10 * DT))


def test_speed_limit_unknown_lane_and_single_step() -> None:
    speed = np.full((2, 5), 30.0)
    assert speed_limit_compliance(speed, np.full(5, np.nan), DT).tolist() == [1.0, 1.0]
    assert speed_limit_compliance(np.array([[50.0]]), np.array([10.0]), DT).tolist() == [1.0]
    assert speed_limit_compliance(np.full((1, 5), 40.0), np.full(5, 10.0), DT).tolist() == [0.0]


@pytest.mark.parametrize(
    ("backwards_m", "expected"), [(1.9, 1.0), (2.0, 0.5), (5.9, 0.5), (6.0, 0.0)]
)
def test_driving_direction_thresholds(backwards_m: float, expected: float) -> None:
    progress = np.zeros((1, 30))
    progress[0, 10:18] = -backwards_m / 8  # within one 1 s window
    assert driving_direction_compliance(progress, DT).tolist() == [expected]


def test_driving_direction_window_is_nuplans_eleven_samples() -> None:
    progress = np.zeros((1, 40))
    progress[0, 5:27] = -0.25  # 22 steps: the worst 11-sample window holds 2.75 m
    assert driving_direction_compliance(progress, DT).tolist() == [0.5]
    progress[0, 5:27] = -0.18  # 11 x 0.18 = 1.98 m < 2
    assert driving_direction_compliance(progress, DT).tolist() == [1.0]


def test_drivable_area_threshold() -> None:
    distance = np.zeros((3, 10, 4))
    distance[1, 4, 2] = 0.29
    distance[2, 7, 0] = 0.3
    assert drivable_area_compliance(distance).tolist() == [1.0, 1.0, 0.0]


class _HalfPlaneMap:
    """Drivable where y <= 1."""

    def distance_outside_drivable_area(self, points: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, points[..., 1] - 1.0)


def test_corner_helper_calls_the_map_with_ego_corners() -> None:
    ego = straight_ego(5.0, 4, y0=0.2)
    distance = ego_corner_distance_outside_drivable_area(_HalfPlaneMap(), ego)
    assert distance.shape == (1, 4, 4)
    np.testing.assert_allclose(distance[0, 0], [0.15, 0.15, 0.0, 0.0])
    assert drivable_area_compliance(distance).tolist() == [1.0]


def test_progress_ratio_and_making_progress() -> None:
    # nuPlan floors both sides at 2 m and zeroes backwards driving beyond -2 m:
    # 50/40 -> 1; 5/40; -3 < -2 -> 0; max(1,2)/max(1,2) = 1; 3/max(0.5,2) -> 1;
    # max(-1.5,2)/40 = 0.05; a stopped expert and a stopped ego -> 1.
    ratio = ego_progress_along_expert_route(
        np.array([50.0, 5.0, -3.0, 1.0, 3.0, -1.5, 0.0]),
        np.array([40.0, 40.0, 40.0, 1.0, 0.5, 40.0, 0.0]),
    )
    np.testing.assert_allclose(ratio, [1.0, 0.125, 0.0, 1.0, 1.0, 0.05, 1.0])
    assert ego_is_making_progress(ratio).tolist() == [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert ego_is_making_progress(np.array([0.2])).tolist() == [1.0]


def _all_good(shape: tuple[int, ...] = (2,)) -> dict[str, np.ndarray]:
    names = list(ScoreConfig().multipliers) + [name for name, _ in ScoreConfig().weights]
    return {name: np.ones(shape) for name in names}


def test_closed_loop_score_weights_and_multipliers() -> None:
    metrics = _all_good()
    metrics["time_to_collision_within_bound"] = np.array([0.0, 1.0])
    metrics["ego_is_comfortable"] = np.array([1.0, 0.0])
    metrics["no_ego_at_fault_collisions"] = np.array([1.0, 0.5])
    metrics["red_light"] = np.array([1.0, 0.0])
    result = closed_loop_score(metrics)
    np.testing.assert_allclose(result.score, [11.0 / 16.0, 0.5 * 14.0 / 16.0])
    assert set(result.metrics) == set(metrics)
    assert suite_score(result.score) == pytest.approx(100 * (11 / 16 + 7 / 16) / 2)


def test_closed_loop_score_needs_every_metric_and_accepts_extra_rules() -> None:
    metrics = _all_good()
    del metrics["speed_limit_compliance"]
    with pytest.raises(KeyError, match="speed_limit_compliance"):
        closed_loop_score(metrics)
    metrics = _all_good((3, 2))
    metrics["red_light"] = np.array([[1.0, 0.0]] * 3)
    config = ScoreConfig(multipliers=(*ScoreConfig().multipliers, "red_light"))
    assert closed_loop_score(metrics, config).score.tolist() == [[1.0, 0.0]] * 3


def test_plan_ade_fde_with_an_expert_that_ends_early() -> None:
    plan = np.zeros((2, 4, 2))
    plan[1, :, 1] = 1.0
    expert = np.stack([np.arange(4.0), np.zeros(4)], -1)
    valid = np.array([True, True, True, False])
    errors = plan_displacement_errors(plan, expert, valid)
    np.testing.assert_allclose(errors.ade_m, [1.0, np.mean([1.0, np.sqrt(2), np.sqrt(5)])])
    np.testing.assert_allclose(errors.fde_m, [2.0, np.sqrt(5)])
