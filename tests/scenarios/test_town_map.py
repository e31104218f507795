"""The procedural town's road map: determinism, topology, geometry, surfaces."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from urbandrive.geometry.angles import wrap_angle
from urbandrive.geometry.polyline import arc_length, polyline_headings
from urbandrive.maps.index import build_lane_index
from urbandrive.maps.road_map import LaneType, StopKind
from urbandrive.maps.routing import RoutingConfig, build_lane_graph, route_lanes
from urbandrive.scenarios.town import (
    IntersectionControl,
    LaneRole,
    Movement,
    StreetClass,
    Town,
    TownConfig,
    generate_town,
)

MIN_TURN_RADIUS_M = 5.0


def _map_arrays(town: Town) -> list[np.ndarray]:
    arrays: list[np.ndarray] = []
    for lane in town.road_map.lanes.values():
        arrays += [lane.centerline, lane.left_boundary, lane.right_boundary]
        arrays.append(np.array([lane.speed_limit_mps, *lane.successors, -1, *lane.predecessors]))
    arrays += [c.polygon for c in town.road_map.crosswalks.values()]
    arrays += [s.xy for s in town.road_map.stop_lines.values()]
    arrays += list(town.road_map.drivable_areas)
    for plan in town.phase_plans.values():
        arrays += [
            plan.phase_durations_s,
            plan.signal_states,
            plan.walk_states,
            np.array([plan.offset_s]),
        ]
    arrays += [town.parking_spots.xy, *(b.xy for b in town.bus_stops)]
    return arrays


def test_same_seed_gives_the_same_town_bit_for_bit() -> None:
    first = generate_town(TownConfig.small(), seed=5)
    second = generate_town(TownConfig.small(), seed=5)
    assert list(first.road_map.lanes) == list(second.road_map.lanes)
    for a, b in zip(_map_arrays(first), _map_arrays(second), strict=True):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_towns() -> None:
    first = generate_town(TownConfig.small(), seed=5)
    second = generate_town(TownConfig.small(), seed=6)
    assert first.road_map.bounds != second.road_map.bounds


def test_road_map_validates_and_has_every_element(any_town: Town) -> None:
    road_map = any_town.road_map
    road_map.validate()
    roles = set(any_town.lane_table.roles.tolist())
    assert {LaneRole.THROUGH, LaneRole.CONNECTOR} <= roles
    assert road_map.crosswalks and road_map.stop_lines and road_map.drivable_areas
    assert all(not lane.speed_limit_is_default for lane in road_map.lanes.values())
    assert len(any_town.lane_table.lane_ids) == len(road_map.lanes)


def test_standard_town_has_the_full_feature_set(standard_town: Town) -> None:
    table = standard_town.lane_table
    road_map = standard_town.road_map
    assert {LaneRole.LEFT_POCKET, LaneRole.RIGHT_TURN, LaneRole.BIKE, LaneRole.PARKING} <= set(
        table.roles.tolist()
    )
    kinds = {s.kind for s in road_map.stop_lines.values()}
    assert kinds == {StopKind.TRAFFIC_LIGHT, StopKind.STOP_SIGN}
    assert standard_town.bus_stops and len(standard_town.parking_spots.xy) > 0
    assert standard_town.sidewalks
    assert (standard_town.crosswalk_table.intersection_ids == -1).any(), "no mid-block crosswalk"
    assert any(s.is_one_way for s in standard_town.streets)


def test_speed_limits_follow_street_class(any_town: Town) -> None:
    for street in any_town.streets:
        limit_mph = street.speed_limit_mps / 0.44704
        low, high = (25, 30) if street.street_class == StreetClass.LOCAL else (35, 45)
        assert low - 1e-9 <= limit_mph <= high + 1e-9


def test_lane_ends_meet_successor_starts_with_matching_headings(any_town: Town) -> None:
    lanes = any_town.road_map.lanes
    for lane in lanes.values():
        end_heading = polyline_headings(lane.centerline)[-1]
        for successor_id in lane.successors:
            successor = lanes[successor_id]
            gap_m = np.linalg.norm(lane.centerline[-1] - successor.centerline[0])
            assert gap_m < 0.01, f"lane {lane.id} -> {successor_id}: gap {gap_m:.3f} m"
            turn = wrap_angle(polyline_headings(successor.centerline)[0] - end_heading)
            assert abs(turn) < 0.02, (
                f"lane {lane.id} -> {successor_id}: heading jump {turn:.3f} rad"
            )


def test_links_exist_and_are_symmetric(any_town: Town) -> None:
    lanes = any_town.road_map.lanes
    for lane in lanes.values():
        for successor_id in lane.successors:
            assert lane.id in lanes[successor_id].predecessors
        for predecessor_id in lane.predecessors:
            assert lane.id in lanes[predecessor_id].successors
        if lane.is_intersection:
            assert len(lane.successors) == 1 and len(lane.predecessors) == 1


def test_every_approach_lane_has_a_movement(any_town: Town) -> None:
    for intersection in any_town.intersections:
        for lane_ids in intersection.approach_lane_ids:
            for lane_id in lane_ids:
                assert any_town.road_map.lanes[lane_id].successors, f"lane {lane_id} is a dead end"


def _vehicle_graph(town: Town) -> tuple[csr_matrix, np.ndarray]:
    """Vehicle lanes and their successor and lane-change edges."""
    table = town.lane_table
    vehicle = np.array(
        [town.road_map.lanes[int(i)].lane_type == LaneType.VEHICLE for i in table.lane_ids]
    )
    ids = table.lane_ids[vehicle]
    row_of = {int(lane_id): row for row, lane_id in enumerate(ids)}
    edges = []
    for lane_id in ids.tolist():
        lane = town.road_map.lanes[lane_id]
        reachable = [*lane.successors, lane.left_neighbor, lane.right_neighbor]
        edges += [(row_of[lane_id], row_of[b]) for b in reachable if b is not None]
    rows, cols = np.array(edges).T
    graph = csr_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(ids), len(ids)))
    return graph, ids


def test_interior_lanes_are_reachable_and_never_dead_ends(any_town: Town) -> None:
    graph, ids = _vehicle_graph(any_town)
    lanes = any_town.road_map.lanes
    boundary = dict(
        zip(
            any_town.lane_table.lane_ids.tolist(),
            any_town.lane_table.is_boundary.tolist(),
            strict=True,
        )
    )
    interior = np.array([not boundary[int(i)] for i in ids])
    entry = [row for row, i in enumerate(ids) if not lanes[int(i)].predecessors]
    exit_ = [row for row, i in enumerate(ids) if not lanes[int(i)].successors]
    assert entry and exit_ and all(boundary[int(ids[r])] for r in entry + exit_)
    assert _reachable(graph, entry)[interior].all(), "some interior lanes cannot be reached"
    assert _reachable(graph.T.tocsr(), exit_)[interior].all(), "some interior lanes cannot leave"
    _, labels = connected_components(graph, directed=True, connection="strong")
    assert len(set(labels[interior].tolist())) == 1, "interior lanes do not all reach each other"


def _reachable(graph: csr_matrix, sources: list[int]) -> np.ndarray:
    reached = np.zeros(graph.shape[0], dtype=bool)
    for source in sources:
        if not reached[source]:
            reached[breadth_first_order(graph, source, return_predecessors=False)] = True
    return reached


def test_lane_centerlines_lie_inside_the_drivable_area(any_town: Town) -> None:
    pieces = [shapely.Polygon(p) for p in any_town.road_map.drivable_areas]
    assert all(p.is_valid for p in pieces)
    surface = shapely.unary_union(pieces)
    assert abs(sum(p.area for p in pieces) - surface.area) < 1e-3 * surface.area, "pieces overlap"
    covering = surface.buffer(0.01)
    for lane in any_town.road_map.lanes.values():
        assert covering.covers(shapely.LineString(lane.centerline)), (
            f"lane {lane.id} leaves the road"
        )


def test_sidewalks_lie_off_the_road(standard_town: Town) -> None:
    surface = shapely.unary_union(
        [shapely.Polygon(p) for p in standard_town.road_map.drivable_areas]
    )
    walk = shapely.unary_union(
        [shapely.Polygon(s.exterior, s.holes) for s in standard_town.sidewalks]
    )
    assert walk.area > 0
    assert walk.intersection(surface).area < 1e-3 * walk.area


def test_stop_lines_lie_across_the_ends_of_their_lanes(any_town: Town) -> None:
    for stop_line in any_town.road_map.stop_lines.values():
        start, end = stop_line.xy
        along = (end - start) / np.linalg.norm(end - start)
        for lane_id in stop_line.lane_ids:
            lane = any_town.road_map.lanes[lane_id]
            offset = lane.centerline[-1] - start
            ratio = offset @ along / np.linalg.norm(end - start)
            assert 0.0 < ratio < 1.0
            assert abs(offset[0] * along[1] - offset[1] * along[0]) < 0.01
            heading = polyline_headings(lane.centerline)[-1]
            assert abs(np.cos(heading) * along[0] + np.sin(heading) * along[1]) < 1e-6


def test_stop_lines_match_the_intersection_control(any_town: Town) -> None:
    for intersection in any_town.intersections:
        kinds = {any_town.road_map.stop_lines[i].kind for i in intersection.stop_line_ids}
        if intersection.control == IntersectionControl.TRAFFIC_SIGNAL:
            assert kinds == {StopKind.TRAFFIC_LIGHT} and intersection.signal_ids
        else:
            assert kinds == {StopKind.STOP_SIGN} and not intersection.signal_ids


def _max_curvature_per_m(centerline: np.ndarray) -> float:
    headings = polyline_headings(centerline)[:-1]
    lengths = np.diff(arc_length(centerline))
    turn = np.abs(wrap_angle(np.diff(headings)))
    return float(np.max(turn / (0.5 * (lengths[:-1] + lengths[1:])))) if len(turn) else 0.0


def test_turning_connectors_are_drivable_curves(any_town: Town) -> None:
    table = any_town.lane_table
    turns = table.lane_ids[
        (table.roles == LaneRole.CONNECTOR) & (table.movements != Movement.STRAIGHT)
    ]
    assert len(turns) > 0
    for lane_id in turns:
        curvature = _max_curvature_per_m(any_town.road_map.lanes[int(lane_id)].centerline)
        assert curvature <= 1.0 / MIN_TURN_RADIUS_M, (
            f"connector {lane_id}: radius {1 / curvature:.1f} m"
        )


def test_connectors_are_marked_as_intersection_lanes(any_town: Town) -> None:
    table = any_town.lane_table
    for lane_id, role in zip(table.lane_ids.tolist(), table.roles.tolist(), strict=True):
        assert any_town.road_map.lanes[lane_id].is_intersection == (role == LaneRole.CONNECTOR)


def test_neighbours_travel_the_same_way_one_lane_apart(any_town: Town) -> None:
    lanes = any_town.road_map.lanes
    for lane in lanes.values():
        for neighbour_id, side in ((lane.left_neighbor, 1.0), (lane.right_neighbor, -1.0)):
            if neighbour_id is None:
                continue
            neighbour = lanes[neighbour_id]
            end = lane.centerline[-1]
            heading = polyline_headings(lane.centerline)[-1]
            assert abs(wrap_angle(polyline_headings(neighbour.centerline)[-1] - heading)) < 1e-6
            offset = neighbour.centerline[-1] - end
            lateral = -np.sin(heading) * offset[0] + np.cos(heading) * offset[1]
            assert side * lateral > 2.5, (
                f"lane {neighbour_id} is not on the correct side of {lane.id}"
            )
            assert lane.id in (neighbour.left_neighbor, neighbour.right_neighbor)


def test_centre_line_marks(any_town: Town) -> None:
    table = any_town.lane_table
    lanes = any_town.road_map.lanes
    streets = {s.id: s for s in any_town.streets}
    for lane_id in table.select(role=LaneRole.THROUGH):
        lane, row = lanes[int(lane_id)], np.flatnonzero(table.lane_ids == lane_id)[0]
        street = streets[int(table.street_ids[row])]
        if table.lane_indices[row] == 0 and lane.left_neighbor is None:
            expected = "SOLID_YELLOW" if street.is_one_way else "DOUBLE_SOLID_YELLOW"
            assert lane.left_mark_type == expected
        elif (
            lane.left_neighbor is not None
            and lanes[lane.left_neighbor].lane_type == LaneType.VEHICLE
        ):
            assert lane.left_mark_type in ("DASHED_WHITE", "SOLID_WHITE")
        if lane.right_neighbor is None:
            assert lane.right_mark_type == "SOLID_WHITE"


def test_bus_stops_and_parking_spots_sit_at_the_curb(standard_town: Town) -> None:
    table = standard_town.lane_table
    for bus_stop in standard_town.bus_stops:
        street = standard_town.streets[bus_stop.street_id]
        lateral = (bus_stop.xy - street.origin) @ street.normal
        assert abs(abs(lateral) - street.half_width_m) < 1e-6
    spots = standard_town.parking_spots
    parking_ids = set(table.select(role=LaneRole.PARKING).tolist())
    assert set(spots.lane_ids.tolist()) <= parking_ids
    for xy, lane_id in zip(spots.xy, spots.lane_ids.tolist(), strict=True):
        lane = standard_town.road_map.lanes[lane_id]
        assert shapely.Polygon(
            np.concatenate([lane.left_boundary, lane.right_boundary[::-1]])
        ).covers(shapely.Point(xy))


def test_every_intersection_arm_has_a_crosswalk(any_town: Town) -> None:
    for intersection in any_town.intersections:
        assert len(intersection.crosswalk_ids) == 4
        for crosswalk_id in intersection.crosswalk_ids:
            polygon = shapely.Polygon(any_town.road_map.crosswalks[crosswalk_id].polygon)
            assert polygon.area > 10.0


@pytest.mark.parametrize(
    "overrides",
    [
        {"num_blocks_x": 0},
        {"block_size_min_m": 200.0, "block_size_max_m": 100.0},
        {"lane_width_min_m": 2.5},
        {"block_size_min_m": 30.0},
        {"arterial_fraction": 1.5},
    ],
)
def test_inconsistent_config_is_refused(overrides: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TownConfig(**overrides)  # type: ignore[arg-type]


def test_the_map_stack_routes_across_the_town(standard_town: Town) -> None:
    index = build_lane_index(standard_town.road_map)
    graph = build_lane_graph(standard_town.road_map, index, RoutingConfig())
    table = standard_town.lane_table
    through = table.lane_ids[(table.roles == LaneRole.THROUGH) & ~table.is_boundary]
    lanes = standard_town.road_map.lanes
    for goal in through[:: max(1, len(through) // 10)].tolist():
        route = route_lanes(graph, index, int(through[0]), goal)
        assert route[0] == through[0] and route[-1] == goal
        for before, after in itertools.pairwise(route):
            lane = lanes[before]
            assert after in (*lane.successors, lane.left_neighbor, lane.right_neighbor)
