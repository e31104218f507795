"""Spatial queries of `RoadMap` (urbandrive.maps.index) on the straight road and real AV2 maps."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from urbandrive.core import compiled
from urbandrive.core.errors import DataError
from urbandrive.geometry.angles import wrap_angle
from urbandrive.maps import RoadMap
from urbandrive.maps.index import (
    PoseMatchConfig,
    best_lanes_for_poses,
    best_lanes_with_headings,
    pose_candidates,
    project_to_lanes,
)


def test_nearest_lanes_gives_known_ids_and_distances(road: RoadMap) -> None:
    xy = np.array([[10.0, 0.5], [150.0, 3.0], [50.0, -10.0], [-3.0, 3.5]])
    lane_ids, distance = road.nearest_lanes(xy)
    np.testing.assert_array_equal(lane_ids, [0, 101, 0, 100])
    np.testing.assert_allclose(distance, [0.5, 0.5, 10.0, 3.0])


def test_lanes_within_radius_sorted_by_distance(road: RoadMap) -> None:
    point_index, lane_ids, distance = road.lanes_within_radius(
        np.array([[10.0, 1.0], [150.0, 50.0]]), 3.0
    )
    np.testing.assert_array_equal(point_index, [0, 0])
    np.testing.assert_array_equal(lane_ids, [0, 100])
    np.testing.assert_allclose(distance, [1.0, 2.5])


def test_lanes_containing_uses_lane_polygons(road: RoadMap) -> None:
    xy = np.array([[10.0, 0.0], [10.0, 1.75], [150.0, 4.0], [10.0, 9.0]])
    point_index, lane_ids = road.lanes_containing(xy)
    np.testing.assert_array_equal(point_index, [0, 1, 1, 2])
    np.testing.assert_array_equal(lane_ids, [0, 0, 100, 101])


def test_best_lane_for_pose_penalises_heading_mismatch(road: RoadMap) -> None:
    # Two opposite-direction lanes: lane 100 reversed is the oncoming lane at y = 3.5.
    lanes = dict(road.lanes)
    oncoming = lanes[100]
    lanes[100] = type(oncoming)(
        id=100,
        centerline=oncoming.centerline[::-1].copy(),
        left_boundary=oncoming.right_boundary[::-1].copy(),
        right_boundary=oncoming.left_boundary[::-1].copy(),
    )
    two_way = RoadMap(lanes=lanes, drivable_areas=road.drivable_areas, source="two_way")
    # Closer to our lane's centerline (y=0) but driving west: it belongs to the oncoming lane.
    xy = np.array([[50.0, 1.5], [50.0, 1.5]])
    lane_ids, cost = two_way.best_lanes_for_poses(xy, np.array([np.pi, 0.0]))
    np.testing.assert_array_equal(lane_ids, [100, 0])
    np.testing.assert_allclose(cost, [2.0, 1.5])
    nearest, _ = two_way.nearest_lanes(xy)
    np.testing.assert_array_equal(nearest, [0, 0])


def test_drivable_area_inside_and_distance_outside(road: RoadMap) -> None:
    points = np.array([[[10.0, 1.0], [10.0, -3.0]], [[-2.0, 0.0], [203.0, 9.25]]])
    np.testing.assert_array_equal(road.in_drivable_area(points), [[True, False], [False, False]])
    np.testing.assert_allclose(
        road.distance_outside_drivable_area(points), [[0.0, 1.25], [2.0, 5.0]]
    )
    edge = np.array([0.0, -1.75])
    assert road.in_drivable_area(edge) and road.distance_outside_drivable_area(edge) == 0.0


def test_queries_reject_bad_points_naming_the_map(road: RoadMap) -> None:
    with pytest.raises(DataError, match="straight_road"):
        road.nearest_lanes(np.array([[np.nan, 0.0]]))
    with pytest.raises(DataError, match=r"float\[\.\.\., 2\]"):
        road.in_drivable_area(np.zeros((4, 3)))


@pytest.mark.real_data
def test_av2_queries_agree_with_per_point_shapely(av2_maps: list[RoadMap]) -> None:
    rng = np.random.default_rng(0)
    for road_map in av2_maps:
        x_min, y_min, x_max, y_max = road_map.bounds
        points = rng.uniform([x_min, y_min], [x_max, y_max], size=(300, 2))
        area = shapely.union_all([shapely.Polygon(p).buffer(0) for p in road_map.drivable_areas])
        expected = np.array([area.distance(shapely.Point(p)) for p in points])
        np.testing.assert_allclose(
            road_map.distance_outside_drivable_area(points), expected, atol=1e-9
        )
        np.testing.assert_array_equal(road_map.in_drivable_area(points), expected == 0.0)
        _, distance = road_map.nearest_lanes(points)
        brute = np.array(
            [
                [
                    shapely.LineString(lane.centerline).distance(shapely.Point(p))
                    for lane in road_map.lanes.values()
                ]
                for p in points
            ]
        )
        np.testing.assert_allclose(distance, brute.min(1), atol=1e-9)


@pytest.mark.real_data
def test_av2_lane_centerlines_match_their_own_lane(av2_maps: list[RoadMap]) -> None:
    for road_map in av2_maps:
        for lane in list(road_map.lanes.values())[:40]:
            middle = lane.centerline[len(lane.centerline) // 2 - 1 : len(lane.centerline) // 2 + 1]
            xy = middle.mean(0, keepdims=True)
            heading = np.arctan2(*(middle[1] - middle[0])[::-1])
            _, lane_ids = road_map.lanes_containing(xy)
            assert lane.id in lane_ids
            best, cost = road_map.best_lanes_for_poses(xy, np.array([heading]))
            # Overlapping lanes (forks, merges) may tie; the match must fit as well as ours.
            assert cost[0] <= 1e-6 or best[0] == lane.id


def _candidates_by_both_queries(
    road_map: RoadMap, xy: np.ndarray, heading: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`pose_candidates` spelled out: every pose's lanes within the radius and its nearest
    lane, as (pose, row) pairs, and their costs."""
    index, config = road_map.index, PoseMatchConfig()
    points = shapely.points(xy)
    near = index.centerline_tree.query(points, predicate="dwithin", distance=config.search_radius_m)
    nearest = index.centerline_tree.query_nearest(points, all_matches=False)
    pairs = np.unique(np.concatenate([np.stack(near, 1), np.stack(nearest, 1)]), axis=0)
    _, distance, lane_heading = project_to_lanes(index, xy[pairs[:, 0]], pairs[:, 1])
    error = np.abs(wrap_angle(heading[pairs[:, 0]] - lane_heading))
    cost = distance + config.heading_weight_m_per_rad * np.where(np.isnan(error), 0.0, error)
    return pairs[:, 0], pairs[:, 1], cost


def _check_candidates(road_map: RoadMap, xy: np.ndarray, heading: np.ndarray) -> None:
    index = road_map.index
    point_index, rows, cost = _candidates_by_both_queries(road_map, xy, heading)
    got = pose_candidates(index, xy, heading, PoseMatchConfig())
    np.testing.assert_array_equal(got[0], point_index)
    np.testing.assert_array_equal(got[1], rows)
    np.testing.assert_array_equal(got[2], cost)
    with compiled.numpy_reference():
        reference = pose_candidates(index, xy, heading, PoseMatchConfig())
        best_reference = best_lanes_with_headings(index, xy, heading)
    for got_field, reference_field in zip(got, reference, strict=True):
        np.testing.assert_array_equal(got_field, reference_field)
    lane_ids, best_cost, best_heading = best_lanes_with_headings(index, xy, heading)
    for got_field, reference_field in zip(
        (lane_ids, best_cost, best_heading), best_reference, strict=True
    ):
        np.testing.assert_array_equal(got_field, reference_field)
    np.testing.assert_array_equal((lane_ids, best_cost), best_lanes_for_poses(index, xy, heading))
    _, _, projected = project_to_lanes(index, xy, index.rows_of(lane_ids))
    np.testing.assert_array_equal(best_heading, projected)


def test_pose_candidates_are_the_lanes_near_plus_the_nearest(road: RoadMap) -> None:
    """Poses on, near and far (> search radius) from the lanes, headings either way, half a
    turn off (the wrap's edge) or unknown: the candidates, costs and best lanes' headings of
    both queries, compiled and numpy."""
    rng = np.random.default_rng(1)
    xy = rng.uniform([-20.0, -30.0], [220.0, 30.0], size=(200, 2))
    heading = rng.uniform(-np.pi, np.pi, size=200)
    heading[::7] = np.nan
    heading[1:40:7] = [np.pi, -np.pi, 0.0, 2.0 * np.pi, -3.0 * np.pi, np.pi / 2]  # lanes: 0 or pi
    _check_candidates(road, xy, heading)
    assert pose_candidates(road.index, xy[:0], heading[:0], PoseMatchConfig())[0].size == 0


@pytest.mark.real_data
def test_av2_pose_candidates_are_the_lanes_near_plus_the_nearest(av2_maps: list[RoadMap]) -> None:
    rng = np.random.default_rng(2)
    for road_map in av2_maps:
        x_min, y_min, x_max, y_max = road_map.bounds
        xy = rng.uniform([x_min - 10, y_min - 10], [x_max + 10, y_max + 10], size=(400, 2))
        _check_candidates(road_map, xy, rng.uniform(-np.pi, np.pi, size=400))


def _check_projection(road_map: RoadMap, rng: np.random.Generator, count: int) -> None:
    """The compiled projection against shapely's (the reference), bitwise: random points
    around the map, on every centerline vertex and near them, on random lanes."""
    index = road_map.index
    vertices = shapely.get_coordinates(index.centerlines)
    low, high = vertices.min(0) - 10.0, vertices.max(0) + 10.0
    near = vertices + rng.normal(0.0, 0.5, vertices.shape)
    xy = np.concatenate([rng.uniform(low, high, size=(count, 2)), vertices, near])
    rows = rng.integers(0, index.lane_ids.shape[0], size=xy.shape[0])
    rows[count : count + len(vertices)] = (
        np.searchsorted(index.point_offset, np.arange(len(vertices)), side="right") - 1
    )  # each vertex on its own lane
    compiled_result = project_to_lanes(index, xy, rows)
    with compiled.numpy_reference():
        reference = project_to_lanes(index, xy, rows)
    for got, expected in zip(compiled_result, reference, strict=True):
        np.testing.assert_array_equal(got, expected)


def test_compiled_projection_is_shapelys_to_the_bit(road: RoadMap) -> None:
    _check_projection(road, np.random.default_rng(3), 2000)


@pytest.mark.real_data
def test_av2_compiled_projection_is_shapelys_to_the_bit(av2_maps: list[RoadMap]) -> None:
    rng = np.random.default_rng(4)
    for road_map in av2_maps:
        _check_projection(road_map, rng, 3000)
