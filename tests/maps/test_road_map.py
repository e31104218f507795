"""RoadMap record: validation and bounds (queries are tested beside their modules)."""

import dataclasses

import numpy as np
import pytest

from urbandrive.core import DataError
from urbandrive.maps import RoadMap
from urbandrive.testing import straight_road


def test_straight_road_bounds_and_graph_ids():
    road_map = straight_road(num_lanes=2, length_m=100.0, crosswalk_at_m=50.0)
    assert road_map.bounds == pytest.approx((0.0, -1.75, 100.0, 5.25))
    lane = road_map.lanes[0]
    assert lane.successors == (1,) and lane.left_neighbor == 100
    assert lane.length_m == pytest.approx(50.0)


def test_a_map_without_lanes_is_refused():
    with pytest.raises(DataError, match="no lanes"):
        RoadMap(lanes={}, source="empty.json").validate()


def test_broken_geometry_names_the_lane():
    road_map = straight_road()
    lane = road_map.lanes[0]
    broken = dataclasses.replace(lane, centerline=np.array([[0.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(DataError, match="lane 0 centerline"):
        RoadMap(lanes={0: broken}, source="x").validate()
    with pytest.raises(DataError, match="speed limit"):
        RoadMap(lanes={0: dataclasses.replace(lane, speed_limit_mps=0.0)}).validate()
