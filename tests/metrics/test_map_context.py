"""Per-step lane context of the ego on a map with known answers."""

import dataclasses

import numpy as np

from urbandrive.maps import RoadMap
from urbandrive.metrics.map_context import ego_lane_context
from urbandrive.testing import straight_road


def test_lane_speed_limit_intersection_and_progress_on_a_straight_road():
    road = straight_road(num_lanes=2, length_m=200.0, num_segments=2, speed_limit_mps=13.4)
    xy = np.stack([np.linspace(91.0, 111.0, 11), np.zeros(11)], -1)[None]  # lane 0 -> 1 at x=100
    context = ego_lane_context(road, xy, np.zeros((1, 11)), width_m=1.9)
    assert context.lane_id[0].tolist() == [0] * 5 + [1] * 6
    np.testing.assert_allclose(context.speed_limit_mps, 13.4)
    assert not context.changing_lanes_or_offroad.any()
    # 2 m per step along the lane; reset to 0 at the first step and on entering lane 1.
    np.testing.assert_allclose(context.progress_along_lane_m[0], [0, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2])


def test_straddling_two_lanes_or_leaving_the_road_counts_as_changing_lanes():
    road = straight_road(num_lanes=2, length_m=200.0)
    xy = np.array([[[50.0, 0.0], [50.0, 1.75], [50.0, 30.0]]])
    context = ego_lane_context(road, xy, np.zeros((1, 3)), width_m=1.9)
    assert context.changing_lanes_or_offroad[0].tolist() == [False, True, True]
    assert context.lane_id[0, 2] == -1 and np.isnan(context.speed_limit_mps[0, 2])


def test_a_default_speed_limit_is_not_judged():
    road = straight_road(num_lanes=1, length_m=100.0, num_segments=1)
    lanes = {
        i: dataclasses.replace(lane, speed_limit_is_default=True) for i, lane in road.lanes.items()
    }
    assumed = RoadMap(lanes=lanes, drivable_areas=road.drivable_areas, source="assumed")
    context = ego_lane_context(assumed, np.array([[[50.0, 0.0]]]), np.zeros((1, 1)), width_m=1.9)
    assert np.isnan(context.speed_limit_mps).all()
