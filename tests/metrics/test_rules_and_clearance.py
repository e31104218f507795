"""Red-light running, yielding to pedestrians, clearance to vulnerable road users."""

from __future__ import annotations

import numpy as np
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.geometry.boxes import boxes_distance
from urbandrive.metrics.clearance import vulnerable_road_user_clearance
from urbandrive.metrics.traffic_rules import (
    ego_front_center,
    pedestrian_yield_compliance,
    red_light_compliance,
    stop_line_crossings,
)

from .helpers import agents_from, straight_ego

T = 30
STOP_LINE = np.array([[[20.0, -2.0], [20.0, 2.0]]])  # across the road at x = 20
EAST = np.array([0.0])


def test_crossing_a_red_stop_line_is_a_violation() -> None:
    ego = straight_ego(10.0, T)  # front reaches x = 20 at t = 1.765 s -> step 18
    crossed = stop_line_crossings(ego_front_center(ego), STOP_LINE, EAST)
    assert np.flatnonzero(crossed[0, 0]).tolist() == [18]
    red = np.ones((1, T), bool)
    result = red_light_compliance(crossed, red)
    assert result.score.tolist() == [0.0]
    assert result.first_violation_step.tolist() == [18]
    assert result.violated_element.tolist() == [0]


def test_green_at_the_crossing_or_stopping_before_is_fine() -> None:
    ego = straight_ego(10.0, T)
    red_until_15 = np.arange(T) < 15
    crossed = stop_line_crossings(ego_front_center(ego), STOP_LINE, EAST)
    assert red_light_compliance(crossed, red_until_15[None]).score.tolist() == [1.0]
    slow = straight_ego(2.0, T)
    crossed = stop_line_crossings(ego_front_center(slow), STOP_LINE, EAST)
    assert red_light_compliance(crossed, np.ones((1, T), bool)).score.tolist() == [1.0]


def test_crossing_against_the_lane_direction_does_not_count() -> None:
    ego = straight_ego(10.0, T)
    crossed = stop_line_crossings(ego_front_center(ego), STOP_LINE, np.array([np.pi]))
    assert not crossed.any()


CROSSWALK = np.array([[[18.0, -4.0], [22.0, -4.0], [22.0, 4.0], [18.0, 4.0]]])


def test_driving_through_an_occupied_crosswalk_fails_to_yield() -> None:
    ego = straight_ego(8.0, T)
    pedestrian = agents_from([(20.0, 2.5)], [(0.0, -0.5)], [AgentType.PEDESTRIAN], T)
    result = pedestrian_yield_compliance(ego, pedestrian, CROSSWALK)
    assert result.score.tolist() == [0.0]
    assert result.violated_element.tolist() == [0]


def test_stopping_before_the_crosswalk_or_an_empty_one_is_fine() -> None:
    stopped = straight_ego(0.0, T, x0=10.0)
    pedestrian = agents_from([(20.0, 2.5)], [(0.0, -0.5)], [AgentType.PEDESTRIAN], T)
    assert pedestrian_yield_compliance(stopped, pedestrian, CROSSWALK).score.tolist() == [1.0]
    far_pedestrian = agents_from([(40.0, 10.0)], [(0.0, 0.0)], [AgentType.PEDESTRIAN], T)
    moving = straight_ego(8.0, T)
    assert pedestrian_yield_compliance(moving, far_pedestrian, CROSSWALK).score.tolist() == [1.0]


def test_clearance_to_a_pedestrian_beside_the_path() -> None:
    ego = straight_ego(5.0, T)
    agents = agents_from(
        [(10.0, 2.0), (10.0, 1.2)],
        [(0.0, 0.0), (0.0, 0.0)],
        [AgentType.PEDESTRIAN, AgentType.VEHICLE],
        T,
    )
    result = vulnerable_road_user_clearance(ego, agents)
    # ego half-width 0.95, pedestrian half-width 0.3: 2.0 - 0.95 - 0.3 = 0.75 (the car is ignored)
    assert result.min_clearance_m[0] == pytest.approx(0.75)
    assert not result.within_bound[0]
    far = agents_from([(10.0, 60.0)], [(0.0, 0.0)], [AgentType.PEDESTRIAN], T)
    assert np.isinf(vulnerable_road_user_clearance(ego, far).min_clearance_m[0])


def test_boxes_distance_by_hand_and_symmetry() -> None:
    size = np.array([2.0, 2.0])
    assert boxes_distance(np.zeros(2), 0.0, size, np.array([5.0, 0.0]), 0.0, size) == pytest.approx(
        3.0
    )
    assert boxes_distance(np.zeros(2), 0.0, size, np.array([3.0, 3.0]), 0.0, size) == pytest.approx(
        np.sqrt(2)
    )
    assert boxes_distance(np.zeros(2), 0.0, size, np.array([1.0, 0.5]), 0.7, size) == 0.0
    rng = np.random.default_rng(0)
    xy_a, xy_b = rng.uniform(-9, 9, (50, 2)), rng.uniform(-9, 9, (50, 2))
    heading_a, heading_b = rng.uniform(-3, 3, 50), rng.uniform(-3, 3, 50)
    sizes_a, sizes_b = rng.uniform(0.3, 5, (50, 2)), rng.uniform(0.3, 5, (50, 2))
    forward = boxes_distance(xy_a, heading_a, sizes_a, xy_b, heading_b, sizes_b)
    backward = boxes_distance(xy_b, heading_b, sizes_b, xy_a, heading_a, sizes_a)
    np.testing.assert_allclose(forward, backward)
    centre_gap = np.linalg.norm(xy_a - xy_b, axis=-1)
    assert np.all(forward <= centre_gap + 1e-12)
