"""The vector HD map every dataset adapter produces and every stage reads.

Everything is in the scenario's global frame (x east, y north), float64 metres. Lane ids are
ints; successor / predecessor / neighbour ids may name lanes outside this map's crop (datasets
cut maps around a log): they are kept as the source gave them, and graph queries ignore them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.polyline import arc_length
from urbandrive.maps import frenet as _frenet
from urbandrive.maps import index as _index
from urbandrive.maps import routing as _routing


class LaneType(enum.IntEnum):
    VEHICLE = 0
    BUS = 1
    BIKE = 2
    PARKING = 3
    UNKNOWN = 4


class StopKind(enum.IntEnum):
    TRAFFIC_LIGHT = 0
    STOP_SIGN = 1
    YIELD = 2


MPH = 0.44704
#: Speed limit assumed when the source gives none (urban US defaults), m/s.
DEFAULT_SPEED_LIMIT_MPS: dict[LaneType, float] = {
    LaneType.VEHICLE: 25 * MPH,
    LaneType.BUS: 25 * MPH,
    LaneType.BIKE: 15 * MPH,
    LaneType.PARKING: 5 * MPH,
    LaneType.UNKNOWN: 25 * MPH,
}


@dataclass(frozen=True, slots=True)
class Lane:
    """One lane segment.

    centerline, left_boundary, right_boundary: float64[P, 2], in the direction of travel.
    speed_limit_mps: the source's limit, or `DEFAULT_SPEED_LIMIT_MPS[lane_type]` when
    `speed_limit_is_default`.
    left_mark_type / right_mark_type: painted boundary as the source names it
    (e.g. "DASHED_WHITE", "SOLID_YELLOW"), "UNKNOWN" if not given.
    """

    id: int
    centerline: NDArrayF64
    left_boundary: NDArrayF64
    right_boundary: NDArrayF64
    lane_type: LaneType = LaneType.VEHICLE
    speed_limit_mps: float = DEFAULT_SPEED_LIMIT_MPS[LaneType.VEHICLE]
    speed_limit_is_default: bool = True
    is_intersection: bool = False
    successors: tuple[int, ...] = ()
    predecessors: tuple[int, ...] = ()
    left_neighbor: int | None = None
    right_neighbor: int | None = None
    left_mark_type: str = "UNKNOWN"
    right_mark_type: str = "UNKNOWN"

    @property
    def length_m(self) -> float:
        return float(arc_length(self.centerline)[-1])


@dataclass(frozen=True, slots=True)
class Crosswalk:
    """polygon: float64[P, 2], the crossing area's outline (not closed: first != last)."""

    id: int
    polygon: NDArrayF64


@dataclass(frozen=True, slots=True)
class StopLine:
    """xy: float64[2, 2], the line's two ends; lane_ids: the lanes that must stop at it."""

    id: int
    xy: NDArrayF64
    kind: StopKind
    lane_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TrafficSignal:
    """A signal head at xy: float64[2] controlling the entry of `lane_ids`.

    Its states over time live in the scenario's `TrafficLightStates` under the same id.
    """

    id: int
    xy: NDArrayF64
    lane_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class RoadMap:
    """A vector HD map. Build it, then call `validate()` (adapters do).

    drivable_areas: polygons float64[P, 2] whose union is where vehicles may drive.
    Spatial queries build their index lazily on first use.
    """

    lanes: Mapping[int, Lane]
    crosswalks: Mapping[int, Crosswalk] = field(default_factory=dict)
    stop_lines: Mapping[int, StopLine] = field(default_factory=dict)
    signals: Mapping[int, TrafficSignal] = field(default_factory=dict)
    drivable_areas: tuple[NDArrayF64, ...] = ()
    source: str = ""

    @property
    def lane_ids(self) -> list[int]:
        return list(self.lanes)

    @cached_property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) over lanes, crosswalks and drivable areas, metres."""
        points = [lane.left_boundary for lane in self.lanes.values()]
        points += [lane.right_boundary for lane in self.lanes.values()]
        points += [c.polygon for c in self.crosswalks.values()] + list(self.drivable_areas)
        if not points:
            raise DataError(f"map {self.source!r}: it has no geometry")
        stacked = np.concatenate(points, axis=0)
        (x_min, y_min), (x_max, y_max) = stacked.min(0), stacked.max(0)
        return float(x_min), float(y_min), float(x_max), float(y_max)

    @cached_property
    def query_cache(self) -> dict[object, Any]:
        """Derived data of parametrised queries (e.g. `vectorize.polyline_pieces`), by key."""
        return {}

    # -- spatial queries (urbandrive.maps.index); the index is built on first use --------------

    @cached_property
    def index(self) -> _index.LaneIndex:
        """STRtrees and flat arrays over the lanes and the drivable area, built once."""
        return _index.build_lane_index(self)

    def nearest_lanes(self, xy: NDArrayF64) -> tuple[NDArrayInt, NDArrayF64]:
        """Nearest lane per point. xy: float64[N, 2] -> lane ids int64[N], distance_m float64[N]."""
        return _index.nearest_lanes(self.index, xy)

    def lanes_within_radius(
        self, xy: NDArrayF64, radius_m: float
    ) -> tuple[NDArrayInt, NDArrayInt, NDArrayF64]:
        """(point_index, lane_ids, distance_m)[M] of lanes within radius_m of `xy: float64[N, 2]`."""
        return _index.lanes_within_radius(self.index, xy, radius_m)

    def lanes_containing(self, xy: NDArrayF64) -> tuple[NDArrayInt, NDArrayInt]:
        """(point_index, lane_ids)[M]: lane polygons containing each of `xy: float64[N, 2]`."""
        return _index.lanes_containing(self.index, xy)

    def best_lanes_for_poses(
        self, xy: NDArrayF64, heading: NDArrayF64, config: _index.PoseMatchConfig | None = None
    ) -> tuple[NDArrayInt, NDArrayF64]:
        """Lane per pose (xy: float64[N, 2], heading: float64[N]), heading-aware: ids, cost[N]."""
        return _index.best_lanes_for_poses(self.index, xy, heading, config)

    def in_drivable_area(self, points: NDArrayF64) -> NDArrayBool:
        """bool[...]: whether each of `points: float64[..., 2]` lies in the drivable area."""
        return _index.in_drivable_area(self.index, points)

    def distance_outside_drivable_area(self, points: NDArrayF64) -> NDArrayF64:
        """float64[...]: metres from `points: float64[..., 2]` to the drivable area, 0 inside."""
        return _index.distance_outside_drivable_area(self.index, points)

    # -- routing (urbandrive.maps.routing); ids of lanes outside this crop are ignored --------

    @cached_property
    def lane_graph(self) -> _routing.LaneGraph:
        """Successor and lane-change edges with the default `RoutingConfig` costs, built once."""
        return _routing.build_lane_graph(self, self.index, _routing.RoutingConfig())

    def route_lanes(self, start_lane: int, goal_lane: int) -> list[int]:
        """Cheapest lane ids from start_lane to goal_lane; `NoRouteError` if there is none."""
        return _routing.route_lanes(self.lane_graph, self.index, start_lane, goal_lane)

    def route_between_poses(
        self,
        start_xy: NDArrayF64,
        start_heading: float,
        goal_xy: NDArrayF64,
        goal_heading: float | None = None,
    ) -> list[int]:
        """Cheapest lane ids from a start pose to a goal (xy: float64[2] m, heading rad)."""
        return _routing.route_between_poses(
            self.lane_graph, self.index, start_xy, start_heading, goal_xy, goal_heading
        )

    def match_path_to_lanes(
        self,
        xy: NDArrayF64,
        heading: NDArrayF64 | None = None,
        config: _routing.MapMatchConfig | None = None,
    ) -> list[int]:
        """Connected lane ids best explaining a driven path `xy: float64[T, 2]` (map-matching)."""
        return _routing.match_path_to_lanes(self.lane_graph, self.index, xy, heading, config)

    def reference_path(self, lane_ids: list[int] | tuple[int, ...]) -> _frenet.ReferencePath:
        """The Frenet reference along consecutive lane ids (successors or lane changes)."""
        return _frenet.reference_path(self, lane_ids)

    def validate(self) -> None:
        """Raise `DataError` naming the map, element and field if anything is malformed."""
        where = f"map {self.source!r}"
        if not self.lanes:
            raise DataError(f"{where}: it has no lanes")
        for lane_id, lane in self.lanes.items():
            if lane_id != lane.id:
                raise DataError(f"{where}: lane stored under id {lane_id} has id {lane.id}")
            for name in ("centerline", "left_boundary", "right_boundary"):
                _check_points(f"{where}: lane {lane_id} {name}", getattr(lane, name), 2)
            if not (np.isfinite(lane.speed_limit_mps) and lane.speed_limit_mps > 0):
                raise DataError(f"{where}: lane {lane_id} has speed limit {lane.speed_limit_mps}")
        for crosswalk in self.crosswalks.values():
            _check_points(f"{where}: crosswalk {crosswalk.id} polygon", crosswalk.polygon, 3)
        for stop_line in self.stop_lines.values():
            _check_points(f"{where}: stop line {stop_line.id}", stop_line.xy, 2)
        for signal in self.signals.values():
            if signal.xy.shape != (2,) or not np.all(np.isfinite(signal.xy)):
                raise DataError(f"{where}: signal {signal.id} position {signal.xy} is not a point")
        for index, polygon in enumerate(self.drivable_areas):
            _check_points(f"{where}: drivable area {index}", polygon, 3)


def _check_points(where: str, points: NDArrayF64, min_points: int) -> None:
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < min_points:
        raise DataError(f"{where}: want float[>= {min_points}, 2] points, got shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise DataError(f"{where}: has non-finite coordinates")
