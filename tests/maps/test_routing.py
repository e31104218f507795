"""Routing over the lane graph and map-matching of driven paths (urbandrive.maps.routing)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow.feather as feather
import pytest

from urbandrive.core.errors import DataError
from urbandrive.maps import Lane, NoRouteError, RoadMap


def test_route_follows_successors_and_lane_changes(road: RoadMap) -> None:
    assert road.route_lanes(0, 0) == [0]
    assert road.route_lanes(0, 1) == [0, 1]
    assert road.route_lanes(0, 100) == [0, 100]
    assert road.route_lanes(100, 1) in ([100, 0, 1], [100, 101, 1])


def test_route_backwards_raises_naming_both_lanes(road: RoadMap) -> None:
    with pytest.raises(NoRouteError, match="from lane 1 to lane 0"):
        road.route_lanes(1, 0)
    with pytest.raises(DataError, match="no lane with id 7"):
        road.route_lanes(7, 0)


def test_ids_of_lanes_outside_the_crop_are_ignored(road: RoadMap) -> None:
    lanes = dict(road.lanes)
    first = lanes[0]
    lanes[0] = Lane(
        id=0,
        centerline=first.centerline,
        left_boundary=first.left_boundary,
        right_boundary=first.right_boundary,
        successors=(1, 999),
        left_neighbor=998,
    )
    cropped = RoadMap(lanes=lanes, drivable_areas=road.drivable_areas, source="cropped")
    assert cropped.route_lanes(0, 101) == [0, 1, 101]


def test_route_between_poses(road: RoadMap) -> None:
    route = road.route_between_poses(np.array([10.0, 0.2]), 0.0, np.array([150.0, 0.3]))
    assert route == [0, 1]
    # A goal beside the start lane's successor, in the left lane.
    route = road.route_between_poses(np.array([10.0, 3.4]), 0.0, np.array([150.0, 0.1]), 0.0)
    assert route in ([100, 0, 1], [100, 101, 1])


def test_map_matching_a_lane_change(road: RoadMap) -> None:
    x = np.linspace(0.0, 199.0, 200)
    y = np.clip((x - 120.0) / 30.0, 0.0, 1.0) * 3.5  # change left between x = 120 and 150
    assert road.match_path_to_lanes(np.stack([x, y], -1)) == [0, 1, 101]
    y = np.clip((x - 50.0) / 30.0, 0.0, 1.0) * 3.5  # change left in the first segment
    assert road.match_path_to_lanes(np.stack([x, y], -1)) == [0, 100, 101]


def test_map_matching_skipped_poses_are_filled_in(road: RoadMap) -> None:
    xy = np.array([[10.0, 0.0], [190.0, 0.0]])  # one pose per segment, nothing between
    assert road.match_path_to_lanes(xy, np.zeros(2)) == [0, 1]


def test_map_matching_a_backwards_path_raises(road: RoadMap) -> None:
    xy = np.array([[190.0, 0.0], [10.0, 0.0]])
    with pytest.raises(NoRouteError, match="between steps 0 and 1"):
        road.match_path_to_lanes(xy, np.zeros(2))


def ego_path(log: Path) -> tuple[np.ndarray, np.ndarray]:
    """Ego positions float64[T, 2] and yaw float64[T] (city frame) of an AV2 log, ~10 Hz."""
    table = feather.read_table(log / "city_SE3_egovehicle.feather").to_pydict()
    qw, qx, qy, qz = (np.asarray(table[k]) for k in ("qw", "qx", "qy", "qz"))
    yaw = np.arctan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy**2 + qz**2))
    xy = np.stack([table["tx_m"], table["ty_m"]], -1)
    return xy[::10], yaw[::10]


@pytest.mark.real_data
def test_av2_ego_path_matches_a_connected_route(av2_log_maps: list[tuple[Path, RoadMap]]) -> None:
    for log, road_map in av2_log_maps:
        xy, yaw = ego_path(log)
        route = road_map.match_path_to_lanes(xy, yaw)
        assert route == road_map.match_path_to_lanes(xy)  # headings from the path agree
        for here, there in itertools.pairwise(route):
            lane = road_map.lanes[here]
            assert there in (*lane.successors, lane.left_neighbor, lane.right_neighbor)
        # Every pose lies in one of the route's lanes.
        point_index, lane_ids = road_map.lanes_containing(xy)
        on_route = np.isin(lane_ids, route)
        assert set(point_index[on_route]) == set(range(len(xy)))
