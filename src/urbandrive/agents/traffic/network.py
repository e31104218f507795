"""What traffic needs to know about a map beyond its lanes, and the events along a path.

`TrafficMap` is generic: a `RoadMap` plus the order of the signal and crosswalk state arrays
the step receives, which intersection each connector belongs to, which connectors an
unprotected left turn yields to, and bus stops. `path_events` turns a resampled path into
the points along it where an agent may have to stop (signals, stop signs, crosswalks, bus
stops), as padded struct-of-arrays rows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.maps.road_map import RoadMap, StopKind


class EventKind(enum.IntEnum):
    """Where along its path an agent may have to stop."""

    NONE = 0  # padding
    SIGNAL = 1  # stop line of a signalised connector (ref: signal row)
    STOP_SIGN = 2  # stop line of an all-way stop (ref: intersection index)
    CROSSWALK = 3  # path span across a crosswalk (ref: crosswalk row)
    BUS_STOP = 4  # bus stop (ref: bus stop row)
    JAYWALK = 5  # pedestrian crossing mid-block, not on a crosswalk (ref: -1)


@dataclass(frozen=True)
class TrafficMap:
    """A road map and the tables traffic reads alongside it.

    signal_ids: int64[S], the order of the light states given to `step`; crosswalk_ids:
    int64[C], the order of the walk states. lane_intersection: lane id -> intersection index
    in [0, num_intersections) for connectors. conflict_pairs: int64[K, 2], connector lane
    ids whose paths cross or merge (either order; connectors in no pair conflict with all).
    yield_pairs: int64[K, 2], (left-turn connector,
    connector it yields to) lane ids for unprotected lefts. bus_stop_xy: float64[B, 2] on the
    curb of bus_stop_lane_ids: int64[B].
    """

    road_map: RoadMap
    signal_ids: NDArrayInt
    crosswalk_ids: NDArrayInt
    lane_intersection: dict[int, int]
    num_intersections: int
    yield_pairs: NDArrayInt = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    conflict_pairs: NDArrayInt = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    bus_stop_xy: NDArrayF64 = field(default_factory=lambda: np.zeros((0, 2)))
    bus_stop_lane_ids: NDArrayInt = field(default_factory=lambda: np.zeros(0, np.int64))

    @cached_property
    def signal_row_of_lane(self) -> dict[int, int]:
        """Connector lane id -> row of its signal head in `signal_ids`."""
        row_of = {int(s): row for row, s in enumerate(self.signal_ids)}
        return {
            lane: row_of[signal.id]
            for signal in self.road_map.signals.values()
            if signal.id in row_of
            for lane in signal.lane_ids
        }

    @cached_property
    def stop_sign_lanes(self) -> frozenset[int]:
        """Lanes that end at a stop-sign stop line."""
        return frozenset(
            lane
            for line in self.road_map.stop_lines.values()
            if line.kind == StopKind.STOP_SIGN
            for lane in line.lane_ids
        )

    @cached_property
    def yield_keys(self) -> NDArrayInt:
        """int64[K], sorted `left * 2**32 + other` keys of `yield_pairs`."""
        return np.sort(self.yield_pairs[:, 0] * 2**32 + self.yield_pairs[:, 1])

    @cached_property
    def neighbour_tables(self) -> tuple[NDArrayInt, NDArrayInt]:
        """Left / right lane-change targets per lane id (see `routes.neighbour_tables`)."""
        from urbandrive.agents.traffic.routes import neighbour_tables

        return neighbour_tables(self)

    @cached_property
    def conflict_keys(self) -> NDArrayInt:
        """int64[2K], sorted keys of `conflict_pairs` in both orders."""
        pairs = self.conflict_pairs
        return np.sort(np.r_[pairs[:, 0] * 2**32 + pairs[:, 1], pairs[:, 1] * 2**32 + pairs[:, 0]])

    @cached_property
    def conflict_connectors(self) -> NDArrayInt:
        """int64[N]: connectors the conflict table covers."""
        return np.unique(self.conflict_pairs)

    @cached_property
    def crosswalk_tree(self) -> shapely.STRtree:
        polygons = [
            shapely.Polygon(self.road_map.crosswalks[int(c)].polygon) for c in self.crosswalk_ids
        ]
        return shapely.STRtree(polygons)


def sorted_contains(sorted_keys: NDArrayInt, keys: NDArrayInt) -> np.ndarray:
    """bool[...]: whether each of `keys` is in `sorted_keys: int64[K]` (sorted), like `np.isin`."""
    if sorted_keys.size == 0:
        return np.zeros(np.shape(keys), dtype=bool)
    position = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return sorted_keys[position] == keys


def gather_where(values: np.ndarray, index: NDArrayInt, mask: NDArrayBool, default) -> np.ndarray:
    """`values[index]` where `mask`, `default` elsewhere (shape of `index`). `values` may be
    empty (a map without signals or crosswalks): then no index is read."""
    out = np.full(np.shape(index), default, dtype=values.dtype)
    out[mask] = values[index[mask]]
    return out


@dataclass(frozen=True, slots=True)
class PathEvents:
    """Events along every path, E per row sorted by start (padding: kind NONE, start inf).

    kind int8[A, E] (`EventKind`); start_s, end_s float64[A, E], metres along the path (a
    stop line has start = its line, end = the far end of the box it guards); ref int64[A, E]
    (see `EventKind`); connector int64[A, E], the connector lane guarded (-1 if none);
    intersection int64[A, E] (-1 if none); dwell_s float64[A, E], bus dwell time.
    """

    kind: NDArrayInt
    start_s: NDArrayF64
    end_s: NDArrayF64
    ref: NDArrayInt
    connector: NDArrayInt
    intersection: NDArrayInt
    dwell_s: NDArrayF64

    @property
    def num_events(self) -> int:
        return int(self.kind.shape[1])


#: One event: (kind, start_s, end_s, ref, connector, intersection, dwell_s).
Event = tuple[int, float, float, int, int, int, float]


def lane_events(traffic_map: TrafficMap, lane_ids: NDArrayInt, spacing_m: float) -> list[Event]:
    """Signal and stop-sign events of a path whose point k (at k * spacing_m) is on lane_ids[k]."""
    change = np.flatnonzero(np.diff(lane_ids) != 0) + 1
    starts, ends = np.r_[0, change], np.r_[change, len(lane_ids)] - 1
    lanes = traffic_map.road_map.lanes
    events: list[Event] = []
    for position, (first, last) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        lane_id = int(lane_ids[first])
        if lane_id not in lanes or not lanes[lane_id].is_intersection or position == 0:
            continue
        intersection = traffic_map.lane_intersection.get(lane_id, -1)
        begin, finish = first * spacing_m, last * spacing_m
        before = int(lane_ids[first - 1])
        if lane_id in traffic_map.signal_row_of_lane:
            row = traffic_map.signal_row_of_lane[lane_id]
            events.append((EventKind.SIGNAL, begin, finish, row, lane_id, intersection, 0.0))
        elif before in traffic_map.stop_sign_lanes:
            events.append(
                (EventKind.STOP_SIGN, begin, finish, intersection, lane_id, intersection, 0.0)
            )
    return events


def crosswalk_events(
    traffic_map: TrafficMap, xy: NDArrayF64, length_m: float, spacing_m: float
) -> list[Event]:
    """Spans of the path (points xy float64[P, 2], usable up to length_m) across crosswalks."""
    count = int(length_m / spacing_m) + 1
    if count < 2:
        return []
    line = shapely.LineString(xy[:count])
    events: list[Event] = []
    for row in traffic_map.crosswalk_tree.query(line, predicate="intersects").tolist():
        polygon = traffic_map.crosswalk_tree.geometries[row]
        inside = shapely.get_coordinates(line.intersection(polygon))
        if inside.shape[0] == 0:
            continue
        s_values = line.project(shapely.points(inside))
        events.append(
            (EventKind.CROSSWALK, float(s_values.min()), float(s_values.max()), row, -1, -1, 0.0)
        )
    return events


def bus_stop_events(
    traffic_map: TrafficMap,
    xy: NDArrayF64,
    lane_ids: NDArrayInt,
    spacing_m: float,
    dwell_s: NDArrayF64,
) -> list[Event]:
    """A stop at every bus stop whose lane the path uses; dwell_s: float64[B] per stop."""
    events: list[Event] = []
    for row, lane_id in enumerate(traffic_map.bus_stop_lane_ids.tolist()):
        on_lane = np.flatnonzero(lane_ids == lane_id)
        if on_lane.size == 0:
            continue
        nearest = on_lane[
            np.argmin(np.linalg.norm(xy[on_lane] - traffic_map.bus_stop_xy[row], axis=1))
        ]
        s_stop = float(nearest) * spacing_m
        events.append((EventKind.BUS_STOP, s_stop, s_stop, row, -1, -1, float(dwell_s[row])))
    return events


def pack_events(rows: list[list[Event]], num_events: int | None = None) -> PathEvents:
    """Sort each row's events by start and pad them to `num_events` (default: the most)."""
    width = max([len(r) for r in rows] + [1]) if num_events is None else num_events
    kind = np.zeros((len(rows), width), np.int8)
    start, end = np.full((len(rows), width), np.inf), np.full((len(rows), width), np.inf)
    ref, connector = (
        np.full((len(rows), width), -1, np.int64),
        np.full((len(rows), width), -1, np.int64),
    )
    intersection, dwell = np.full((len(rows), width), -1, np.int64), np.zeros((len(rows), width))
    for agent, events in enumerate(rows):
        for column, event in enumerate(sorted(events, key=lambda e: (e[1], e[0]))[:width]):
            kind[agent, column], start[agent, column], end[agent, column] = event[:3]
            ref[agent, column], connector[agent, column] = event[3], event[4]
            intersection[agent, column], dwell[agent, column] = event[5], event[6]
    return PathEvents(kind, start, end, ref, connector, intersection, dwell)
