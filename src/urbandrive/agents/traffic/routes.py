"""Paths of lane-following agents from lane sequences, and the events along them."""

from __future__ import annotations

import numpy as np

from urbandrive.agents.traffic.network import (
    PathEvents,
    TrafficMap,
    bus_stop_events,
    crosswalk_events,
    lane_events,
    pack_events,
)
from urbandrive.agents.traffic.paths import PATH_SPACING_M, PathRow, resample_path
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.geometry.polyline import project_points
from urbandrive.maps.frenet import ReferencePathConfig, reference_path

#: Along a lane change built into a route, the path joins the next lane this far ahead, m.
ROUTE_LANE_CHANGE_M = 25.0
#: A path point farther than this from its lane's centre line is mid lane change, metres.
OFF_LANE_M = 0.3
#: Paths bending tighter than this (1/m) are refused (folded lane-change pieces).
MAX_CURVATURE_1PM = 0.3
#: A lane change built into a route must be over this far before an intersection, metres.
SETTLE_BEFORE_BOX_M = 12.0


def lane_route_path(traffic_map: TrafficMap, lane_ids: list[int], num_points: int) -> PathRow:
    """The resampled path along consecutive lanes (successors or neighbours), with the points
    between lanes of a lane change flagged `changing`."""
    config = ReferencePathConfig(lane_change_length_m=ROUTE_LANE_CHANGE_M)
    with np.errstate(invalid="ignore", divide="ignore"):
        reference = reference_path(traffic_map.road_map, lane_ids, config)
    row = resample_path(
        reference.xy, reference.s_m, reference.lane_ids, reference.speed_limit_mps, num_points
    )
    usable = int(row.length_m / PATH_SPACING_M) + 1
    if (
        not np.all(np.isfinite(row.xy))
        or np.max(np.abs(row.curvature[:usable])) > MAX_CURVATURE_1PM
    ):
        raise DataError(
            f"traffic route through lanes {lane_ids[:3]}...: the path folds back on itself"
        )
    changing = np.zeros(num_points, dtype=bool)
    for lane_id in np.unique(row.lane_ids[:usable]).tolist():
        points = np.flatnonzero(row.lane_ids[:usable] == lane_id)
        centerline = traffic_map.road_map.lanes[lane_id].centerline
        _, lateral, _ = project_points(centerline, row.xy[points])
        changing[points] = np.abs(lateral) > OFF_LANE_M
    _check_changes_end_before_boxes(traffic_map, row.lane_ids[:usable], changing[:usable], lane_ids)
    return PathRow(
        row.xy,
        row.heading,
        row.curvature,
        row.speed_limit_mps,
        row.lane_ids,
        changing,
        row.length_m,
    )


def _check_changes_end_before_boxes(
    traffic_map: TrafficMap, point_lanes: NDArrayInt, changing: np.ndarray, lane_ids: list[int]
) -> None:
    """Refuse a path still changing lanes within `SETTLE_BEFORE_BOX_M` of an intersection."""
    lanes = traffic_map.road_map.lanes
    entries = np.flatnonzero(np.diff(point_lanes) != 0) + 1
    settle = int(SETTLE_BEFORE_BOX_M / PATH_SPACING_M)
    for entry in entries.tolist():
        box = lanes[int(point_lanes[entry])].is_intersection
        if box and changing[max(0, entry - settle) : entry].any():
            raise DataError(f"traffic route via lanes {lane_ids[:3]}...: changes lane at a box")


def route_events(
    traffic_map: TrafficMap, row: PathRow, dwell_s: NDArrayF64 | None = None
) -> list[tuple[int, float, float, int, int, int, float]]:
    """Signals, stop signs and crosswalks along a lane path; bus stops too when `dwell_s`
    (float64[B], seconds per stop) is given."""
    events = lane_events(traffic_map, row.lane_ids, PATH_SPACING_M)
    events += crosswalk_events(traffic_map, row.xy, row.length_m, PATH_SPACING_M)
    if dwell_s is not None:
        events += bus_stop_events(traffic_map, row.xy, row.lane_ids, PATH_SPACING_M, dwell_s)
    return events


def neighbour_tables(traffic_map: TrafficMap) -> tuple[NDArrayInt, NDArrayInt]:
    """int64[max lane id + 1] each: the left / right neighbour a vehicle may change into
    (same direction, not in an intersection), -1 where none."""
    lanes = traffic_map.road_map.lanes
    size = max(lanes) + 1
    left, right = np.full(size, -1, np.int64), np.full(size, -1, np.int64)
    for lane in lanes.values():
        for table, neighbour in ((left, lane.left_neighbor), (right, lane.right_neighbor)):
            if neighbour is None or neighbour not in lanes or lane.is_intersection:
                continue
            other = lanes[neighbour]
            same_way = np.dot(
                lane.centerline[-1] - lane.centerline[0], other.centerline[-1] - other.centerline[0]
            )
            if same_way > 0 and other.lane_type == lane.lane_type:
                table[lane.id] = neighbour
    return left, right


def replace_event_row(events: PathEvents, row: int, new_events: list) -> PathEvents:
    """A copy of `events` with `row` rebuilt (extra events beyond the table's width dropped)."""
    packed = pack_events([new_events], events.num_events)
    fields = {}
    for name in ("kind", "start_s", "end_s", "ref", "connector", "intersection", "dwell_s"):
        values = getattr(events, name).copy()
        values[row] = getattr(packed, name)[0]
        fields[name] = values
    return PathEvents(**fields)
