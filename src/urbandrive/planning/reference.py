"""The route as a reference line: Frenet path, per-lane facts, stops and crosswalks along it.

Built once per planner from the map and the route (`build_route_reference`); what changes
every cycle (which stops are red now) is read from the lights with `red_stops`. Everything is
float64 in the map frame; arc lengths `s` are along `path` (metres), lateral offsets `d` are
positive to the left.

`reference_lane_context` gives the per-step lane facts the driving metrics consume
(`metrics.map_context.EgoLaneContext`) for candidates expressed in this Frenet frame, without
matching every pose against the whole map: the lane of a candidate step is the route lane at
its `s`, and it is "changing lanes or off its lane" where its box leaves that lane, or where
its centre is on one of the route's own lane changes (`lane_change_s_m`: the path crosses
from one lane into its neighbour there, so following it is changing lanes; counted as
keeping its lane, a side collision there was never at fault for the planner, while the
evaluation, on the map's lanes, found it at fault: town:standard lane_change_dense-006).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from urbandrive.core.scenario import Route
from urbandrive.core.traffic_light import TrafficLightState
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.polyline import resample_by_count
from urbandrive.maps.frenet import ReferencePath, route_reference_path
from urbandrive.maps.road_map import RoadMap
from urbandrive.metrics.map_context import LANE_EXIT_TOLERANCE_M, EgoLaneContext

#: A crosswalk counts as on the route when the path passes within this distance, metres.
CROSSWALK_ROUTE_DISTANCE_M = 1.0
#: Half length of the synthetic stop line drawn across the path at a lane entry, metres.
STOP_LINE_HALF_LENGTH_M = 5.5
#: Lateral acceleration the reference's comfortable speed allows in curves, m/s^2.
CURVE_LATERAL_ACCEL_MPS2 = 2.5
#: Deceleration assumed when slowing down ahead of a curve, m/s^2.
CURVE_ANTICIPATION_DECEL_MPS2 = 1.5
#: Curvature is averaged over this arc length before the curve speed is computed, metres.
CURVATURE_SMOOTHING_M = 6.0


@dataclass(frozen=True, slots=True)
class RouteReference:
    """The route's reference line and what lies along it.

    path: the Frenet reference along the route's lanes.
    lane_ids: int64[L], the route lanes in order; lane_start_s_m: float64[L], where each
        starts on the path; lane_half_width_m: float64[L]; lane_in_intersection: bool[L].
    left_offset_m, right_offset_m: float64[L], lateral offset of the left / right
        neighbour's centreline from the path (NaN where there is none).
    stop_s_m: float64[S], where the front bumper must stop for a controlled lane entry;
    stop_line_xy: float64[S, 2, 2], a stop line across the path there; stop_heading:
        float64[S], direction of travel; stop_lane_ids: int64[S], the lane entered.
    crosswalk_s_m: float64[C, 2], (start, end) of each crosswalk along the path;
    crosswalk_polygons: float64[C, P, 2], their outlines (padded by repeating the last vertex).
    comfortable_speed_mps: float64[P] per path point: the speed limit, capped so curves are
    taken within CURVE_LATERAL_ACCEL_MPS2 and reached braking at most
    CURVE_ANTICIPATION_DECEL_MPS2.
    lane_change_s_m: float64[G, 2], (start, end) along the path of each of the route's lane
    changes (from the last point in a lane to the first in its neighbour).
    """

    path: ReferencePath
    lane_ids: NDArrayInt
    lane_start_s_m: NDArrayF64
    lane_half_width_m: NDArrayF64
    lane_in_intersection: NDArrayBool
    left_offset_m: NDArrayF64
    right_offset_m: NDArrayF64
    stop_s_m: NDArrayF64
    stop_line_xy: NDArrayF64
    stop_heading: NDArrayF64
    stop_lane_ids: NDArrayInt
    crosswalk_s_m: NDArrayF64
    crosswalk_polygons: NDArrayF64
    comfortable_speed_mps: NDArrayF64
    lane_change_s_m: NDArrayF64 = field(default_factory=lambda: np.zeros((0, 2)))

    @property
    def length_m(self) -> float:
        return self.path.length_m

    def lane_index_at(self, s_m: NDArrayF64) -> NDArrayInt:
        """int64[...]: index into `lane_ids` of the route lane at arc length `s_m: float64[...]`."""
        index = np.searchsorted(self.lane_start_s_m, s_m, side="right") - 1
        return np.clip(index, 0, self.lane_ids.shape[0] - 1)

    def speed_limit_at(self, s_m: NDArrayF64) -> NDArrayF64:
        """float64[...]: the route's speed limit at `s_m`, m/s (held beyond the ends)."""
        return np.interp(s_m, self.path.s_m, self.path.speed_limit_mps)

    def comfortable_speed_at(self, s_m: NDArrayF64) -> NDArrayF64:
        """float64[...]: `comfortable_speed_mps` at `s_m`, m/s (held beyond the ends)."""
        return np.interp(s_m, self.path.s_m, self.comfortable_speed_mps)

    def curvature_at(self, s_m: NDArrayF64) -> NDArrayF64:
        """float64[...]: the path's curvature at `s_m`, 1/m."""
        return np.interp(s_m, self.path.s_m, self.path.curvature)


def build_route_reference(road_map: RoadMap, route: Route) -> RouteReference:
    """The reference along the route: its consecutive lanes of `road_map`, or its explicit
    path (then the lanes are those nearest the path, in the order it meets them)."""
    path = route_reference_path(road_map, route)
    if route.lane_ids:
        route_lanes = np.asarray(route.lane_ids, dtype=np.int64)
    else:
        first_of_run = np.r_[True, path.lane_ids[1:] != path.lane_ids[:-1]]
        route_lanes = path.lane_ids[first_of_run]
    starts = np.array([path.s_m[np.argmax(path.lane_ids == lane)] for lane in route_lanes])
    lanes = [road_map.lanes[int(lane)] for lane in route_lanes]
    widths = np.array([_mean_width(lane.left_boundary, lane.right_boundary) for lane in lanes])
    left = _neighbour_offsets(road_map, path, route_lanes, starts, "left_neighbor")
    right = _neighbour_offsets(road_map, path, route_lanes, starts, "right_neighbor")
    stops = _controlled_entries(road_map, path, route_lanes, starts)
    crosswalk_s, polygons = _crosswalks_along(road_map, path)
    return RouteReference(
        path=path,
        lane_ids=route_lanes,
        lane_start_s_m=starts,
        lane_half_width_m=0.5 * widths,
        lane_in_intersection=np.array([lane.is_intersection for lane in lanes], dtype=bool),
        left_offset_m=left,
        right_offset_m=right,
        **stops,
        crosswalk_s_m=crosswalk_s,
        crosswalk_polygons=polygons,
        comfortable_speed_mps=comfortable_speeds(path),
        lane_change_s_m=_lane_changes(road_map, path, route_lanes, starts),
    )


def _lane_changes(
    road_map: RoadMap, path: ReferencePath, route: NDArrayInt, starts: NDArrayF64
) -> NDArrayF64:
    """float64[G, 2]: (start, end) arc lengths of the path's crossings from a route lane into
    the next one where that one is its neighbour, not its successor."""
    changes = []
    for index in range(route.shape[0] - 1):
        lane, following = road_map.lanes[int(route[index])], int(route[index + 1])
        on_lane = np.flatnonzero(path.lane_ids == route[index])
        if following in lane.successors or on_lane.size == 0:
            continue
        start, end = float(path.s_m[on_lane[-1]]), float(starts[index + 1])
        if following in (lane.left_neighbor, lane.right_neighbor) and end > start:
            changes.append((start, end))
    return np.asarray(changes, dtype=np.float64).reshape(-1, 2)


def comfortable_speeds(path: ReferencePath) -> NDArrayF64:
    """float64[P]: the limit capped by the curve speed sqrt(a_lat / |smoothed curvature|),
    then lowered so each cap is reached braking at the anticipation deceleration."""
    spacing = max(float(np.median(np.diff(path.s_m))), 1e-3)
    width = max(1, round(CURVATURE_SMOOTHING_M / spacing))
    kernel = np.ones(width) / width
    curvature = np.abs(np.convolve(path.curvature, kernel, mode="same"))
    curve = np.sqrt(CURVE_LATERAL_ACCEL_MPS2 / np.maximum(curvature, 1e-6))
    allowed = np.minimum(path.speed_limit_mps, curve)
    for index in range(allowed.shape[0] - 2, -1, -1):  # once per planner, P points
        gap = path.s_m[index + 1] - path.s_m[index]
        reachable = np.sqrt(allowed[index + 1] ** 2 + 2 * CURVE_ANTICIPATION_DECEL_MPS2 * gap)
        allowed[index] = min(allowed[index], reachable)
    return allowed


def _mean_width(left: NDArrayF64, right: NDArrayF64) -> float:
    return float(
        np.linalg.norm(resample_by_count(left, 10) - resample_by_count(right, 10), axis=-1).mean()
    )


def _neighbour_offsets(
    road_map: RoadMap, path: ReferencePath, route: NDArrayInt, starts: NDArrayF64, side: str
) -> NDArrayF64:
    """float64[L]: mean lateral offset of each route lane's neighbour on `side`, NaN if none."""
    offsets = np.full(route.shape[0], np.nan)
    for index, lane_id in enumerate(route.tolist()):
        neighbour = getattr(road_map.lanes[lane_id], side)
        if neighbour is None or neighbour not in road_map.lanes:
            continue
        centre = resample_by_count(road_map.lanes[neighbour].centerline, 10)
        s_m, d_m = path.to_frenet(centre)
        end = starts[index + 1] if index + 1 < starts.shape[0] else path.length_m
        inside = (s_m >= starts[index] - 1.0) & (s_m <= end + 1.0)
        if inside.any() and np.all(np.sign(d_m[inside]) == np.sign(np.mean(d_m[inside]))):
            offsets[index] = float(np.mean(d_m[inside]))
    return offsets


def _controlled_entries(
    road_map: RoadMap, path: ReferencePath, route: NDArrayInt, starts: NDArrayF64
) -> dict[str, np.ndarray]:
    """Stops at the entry of route lanes controlled by a signal or a map stop line."""
    controlled = {lane for signal in road_map.signals.values() for lane in signal.lane_ids}
    line_s = {
        lane: float(path.to_frenet(line.xy.mean(0)[None])[0][0])
        for line in road_map.stop_lines.values()
        for lane in line.lane_ids
    }
    chosen = [i for i, lane in enumerate(route.tolist()) if lane in controlled or lane in line_s]
    s_m = np.array([line_s.get(int(route[i]), starts[i]) for i in chosen], dtype=np.float64)
    centre, heading = path.to_cartesian(s_m, np.zeros_like(s_m))
    normal = np.stack([-np.sin(heading), np.cos(heading)], -1)
    ends = np.stack(
        [centre - STOP_LINE_HALF_LENGTH_M * normal, centre + STOP_LINE_HALF_LENGTH_M * normal], 1
    )
    return {
        "stop_s_m": s_m,
        "stop_line_xy": ends.reshape(-1, 2, 2),
        "stop_heading": heading.reshape(-1),
        "stop_lane_ids": route[chosen].astype(np.int64),
    }


def _crosswalks_along(road_map: RoadMap, path: ReferencePath) -> tuple[NDArrayF64, NDArrayF64]:
    """(s intervals float64[C, 2], padded polygons float64[C, P, 2]) of crosswalks on the path."""
    line = shapely.LineString(path.xy)
    found = [
        c.polygon
        for c in road_map.crosswalks.values()
        if shapely.Polygon(c.polygon).distance(line) <= CROSSWALK_ROUTE_DISTANCE_M
    ]
    if not found:
        return np.zeros((0, 2)), np.zeros((0, 3, 2))
    most = max(polygon.shape[0] for polygon in found)
    polygons = np.stack(
        [np.concatenate([p, np.repeat(p[-1:], most - p.shape[0], 0)]) for p in found]
    )
    s_m, d_m = path.to_frenet(polygons)
    near = np.abs(d_m) < 10.0
    intervals = np.stack(
        [np.where(near, s_m, np.inf).min(-1), np.where(near, s_m, -np.inf).max(-1)], -1
    )
    keep = np.isfinite(intervals).all(-1)
    return intervals[keep], polygons[keep]


def red_stops(
    reference: RouteReference, road_map: RoadMap, lights: dict[int, TrafficLightState] | None
) -> NDArrayBool:
    """bool[S]: which of the reference's stops are behind a light that says stop now."""
    if not lights:
        return np.zeros(reference.stop_s_m.shape[0], dtype=bool)
    red_lanes = {
        lane
        for signal_id, state in lights.items()
        if state.must_stop and signal_id in road_map.signals
        for lane in road_map.signals[signal_id].lane_ids
    }
    return np.isin(reference.stop_lane_ids, np.fromiter(red_lanes, np.int64, len(red_lanes)))


def reference_lane_context(
    reference: RouteReference,
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    width_m: float,
    lane: NDArrayInt | None = None,
) -> EgoLaneContext:
    """Per-step lane facts of poses at Frenet `s_m, d_m: float64[*B, T]` (see the module doc);
    lane: `reference.lane_index_at(s_m)` where the caller has it, else None.

    progress_along_lane_m is the step's gain in `s` (the route follows its lanes' direction),
    0 at the first step and on entering the next route lane, as `ego_lane_context`.
    """
    lane = reference.lane_index_at(s_m) if lane is None else lane
    half_width = reference.lane_half_width_m[lane]
    leaves = np.abs(d_m) + 0.5 * width_m > half_width + LANE_EXIT_TOLERANCE_M
    changes = reference.lane_change_s_m
    if changes.shape[0]:
        ahead = s_m[..., None]
        leaves |= ((ahead > changes[:, 0]) & (ahead < changes[:, 1])).any(-1)
    progress = np.diff(s_m, axis=-1, prepend=s_m[..., :1])
    same_lane = np.concatenate(
        [np.zeros((*lane.shape[:-1], 1), bool), lane[..., 1:] == lane[..., :-1]], -1
    )
    return EgoLaneContext(
        lane_id=reference.lane_ids[lane],
        in_intersection=reference.lane_in_intersection[lane],
        changing_lanes_or_offroad=leaves,
        speed_limit_mps=reference.speed_limit_at(s_m),
        progress_along_lane_m=np.where(same_lane, progress, 0.0),
    )
