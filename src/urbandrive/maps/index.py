"""Spatial index of a `RoadMap`: lanes near, containing or best matching points and poses;
the drivable area. Built once per map (`RoadMap.index`), queried vectorised over points.

Every coordinate is float64 metres in the map frame; headings are radians CCW from +x.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from urbandrive.core import compiled
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.angles import wrap_angle
from urbandrive.geometry.polyline import arc_length, segment_headings

if TYPE_CHECKING:
    from urbandrive.maps.road_map import RoadMap

#: Gap in metres between consecutive lanes in `LaneIndex.point_key` (keeps it increasing).
_KEY_GAP_M = 1.0


@dataclass(frozen=True, slots=True)
class PoseMatchConfig:
    """How `best_lanes_for_poses` scores a candidate lane for a pose.

    cost = distance to the centerline (m) + heading_weight_m_per_rad * |heading error| (rad),
    over the lanes within search_radius_m (and always the nearest lane).
    """

    search_radius_m: float = 5.0
    heading_weight_m_per_rad: float = 4.0

    def __post_init__(self) -> None:
        if not self.search_radius_m >= 0 or not self.heading_weight_m_per_rad >= 0:
            raise ValueError(f"PoseMatchConfig fields must be >= 0, got {self}")


@dataclass(frozen=True, slots=True)
class LaneIndex:
    """Lane geometry of one map in flat arrays and STRtrees. Row r of every array is lane_ids[r].

    lane_ids: int64[L].
    centerlines, polygons: object[L], shapely LineStrings / Polygons (left boundary, then the
        right boundary reversed), map frame; the trees index them by row.
    point_offset: int64[L + 1], row r owns centerline points [point_offset[r], point_offset[r+1]).
    point_key: float64[Q], arc length of each centerline point (m) + lane_key_shift[row]:
        increasing over all Q points, so one `searchsorted` finds a segment in any lane.
    lane_key_shift: float64[L], metres.
    point_heading: float64[Q], radians, heading of the segment leaving each point (last
        point of a lane: entering it).
    drivable_area: prepared shapely geometry, the union of the map's drivable areas (of the
        lane polygons when the map has none).
    drivable_boundary_tree: STRtree over the two-point LineStrings of its boundary.
    """

    source: str
    lane_ids: NDArrayInt
    centerlines: np.ndarray
    polygons: np.ndarray
    centerline_tree: shapely.STRtree
    polygon_tree: shapely.STRtree
    point_offset: NDArrayInt
    point_key: NDArrayF64
    lane_key_shift: NDArrayF64
    point_heading: NDArrayF64
    drivable_area: shapely.Geometry
    drivable_boundary_tree: shapely.STRtree

    def rows_of(self, lane_ids: NDArrayInt) -> NDArrayInt:
        """int64[N] rows of `lane_ids: int[N]`; `DataError` naming the first unknown id."""
        lane_ids = np.asarray(lane_ids, dtype=np.int64)
        order = np.argsort(self.lane_ids)
        position = np.clip(np.searchsorted(self.lane_ids[order], lane_ids), 0, order.size - 1)
        rows = order[position]
        unknown = self.lane_ids[rows] != lane_ids
        if np.any(unknown):
            missing = lane_ids[np.flatnonzero(unknown)[0]]
            raise DataError(f"map {self.source!r}: no lane with id {missing}")
        return rows


def build_lane_index(road_map: RoadMap) -> LaneIndex:
    """Flatten the lanes of `road_map` and build its trees (once per map: `RoadMap.index`)."""
    lanes = list(road_map.lanes.values())
    if not lanes:
        raise DataError(f"map {road_map.source!r}: it has no lanes to index")
    centerlines = _ragged_geometries([lane.centerline for lane in lanes], shapely.linestrings)
    outlines = [np.concatenate([ln.left_boundary, ln.right_boundary[::-1]]) for ln in lanes]
    polygons = shapely.polygons(_ragged_geometries(outlines, shapely.linearrings))
    broken = ~shapely.is_valid(polygons)
    polygons[broken] = shapely.make_valid(polygons[broken])
    arcs = [arc_length(lane.centerline) for lane in lanes]
    lengths = np.array([arc[-1] for arc in arcs])
    lane_key_shift = np.concatenate([[0.0], np.cumsum(lengths + _KEY_GAP_M)[:-1]])
    headings = [segment_headings(lane.centerline) for lane in lanes]
    counts = np.array([lane.centerline.shape[0] for lane in lanes])
    area = _drivable_union(road_map, polygons)
    return LaneIndex(
        source=road_map.source,
        lane_ids=np.array([lane.id for lane in lanes], dtype=np.int64),
        centerlines=centerlines,
        polygons=polygons,
        centerline_tree=shapely.STRtree(centerlines),
        polygon_tree=shapely.STRtree(polygons),
        point_offset=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        point_key=np.concatenate(
            [arc + shift for arc, shift in zip(arcs, lane_key_shift, strict=True)]
        ),
        lane_key_shift=lane_key_shift,
        point_heading=np.concatenate([np.append(h, h[-1]) for h in headings]),
        drivable_area=area,
        drivable_boundary_tree=shapely.STRtree(_boundary_segments(area)),
    )


def _ragged_geometries(
    parts: list[NDArrayF64], constructor: Callable[..., np.ndarray]
) -> np.ndarray:
    """object[len(parts)]: one geometry per `float64[P_i, 2]` array, built in one call."""
    counts = [part.shape[0] for part in parts]
    return constructor(np.concatenate(parts), indices=np.repeat(np.arange(len(parts)), counts))


def _drivable_union(road_map: RoadMap, lane_polygons: np.ndarray) -> shapely.Geometry:
    """Prepared union of the drivable areas (of the lane polygons if the map has none)."""
    if road_map.drivable_areas:
        rings = _ragged_geometries(list(road_map.drivable_areas), shapely.linearrings)
        parts = shapely.make_valid(shapely.polygons(rings))
    else:
        parts = lane_polygons
    area = shapely.union_all(parts)
    shapely.prepare(area)
    return area


def _boundary_segments(area: shapely.Geometry) -> np.ndarray:
    """object[S]: the boundary of `area` as two-point LineStrings (rings kept apart)."""
    coords, part = shapely.get_coordinates(
        shapely.get_parts(shapely.boundary(area)), return_index=True
    )
    same_part = part[1:] == part[:-1]
    return shapely.linestrings(np.stack([coords[:-1][same_part], coords[1:][same_part]], axis=1))


def _as_points(index: LaneIndex, xy: NDArrayF64, name: str = "xy") -> NDArrayF64:
    """float64[N, 2] view of `xy: float[..., 2]`; `DataError` on a bad shape or non-finite values."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim < 1 or xy.shape[-1] != 2:
        raise DataError(f"map {index.source!r} query: {name} must be float[..., 2], got {xy.shape}")
    if not np.all(np.isfinite(xy)):
        raise DataError(f"map {index.source!r} query: {name} has non-finite coordinates")
    return xy.reshape(-1, 2)


def nearest_lanes(index: LaneIndex, xy: NDArrayF64) -> tuple[NDArrayInt, NDArrayF64]:
    """The lane whose centerline is nearest to each of `xy: float64[N, 2]` (map frame).

    Returns lane_ids: int64[N] and distance_m: float64[N] to that centerline (ties: any).
    """
    points = shapely.points(_as_points(index, xy))
    (point_index, rows), distance = index.centerline_tree.query_nearest(
        points, return_distance=True, all_matches=False
    )
    lane_ids = np.empty(points.shape[0], dtype=np.int64)
    distance_m = np.empty(points.shape[0], dtype=np.float64)
    lane_ids[point_index], distance_m[point_index] = index.lane_ids[rows], distance
    return lane_ids, distance_m


def lanes_within_radius(
    index: LaneIndex, xy: NDArrayF64, radius_m: float
) -> tuple[NDArrayInt, NDArrayInt, NDArrayF64]:
    """Every (point, lane) pair whose centerline passes within `radius_m` of the point.

    xy: float64[N, 2], map frame. Returns point_index: int64[M], lane_ids: int64[M] and
    distance_m: float64[M], sorted by point, then by distance.
    """
    points = shapely.points(_as_points(index, xy))
    point_index, rows = index.centerline_tree.query(points, predicate="dwithin", distance=radius_m)
    distance = shapely.distance(index.centerlines[rows], points[point_index])
    order = np.lexsort((distance, point_index))
    return point_index[order], index.lane_ids[rows[order]], distance[order]


def lanes_containing(index: LaneIndex, xy: NDArrayF64) -> tuple[NDArrayInt, NDArrayInt]:
    """Every (point, lane) pair whose lane polygon contains the point (boundary included).

    xy: float64[N, 2], map frame. Returns point_index: int64[M], lane_ids: int64[M], by point.
    """
    points = shapely.points(_as_points(index, xy))
    point_index, rows = index.polygon_tree.query(points, predicate="intersects")
    order = np.lexsort((rows, point_index))
    return point_index[order], index.lane_ids[rows[order]]


def project_to_lanes(
    index: LaneIndex, xy: NDArrayF64, rows: NDArrayInt
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """Project each point `xy: float64[M, 2]` onto the centerline of lane row `rows: int[M]`.

    Returns s_m: float64[M] (arc length of the closest point), distance_m: float64[M] and
    heading: float64[M] (radians, of the centerline segment there). Where the compiled switch
    is on, s_m and distance_m come from `_project_kernel`, GEOS's arithmetic (the same floats
    as shapely's `line_locate_point` and `distance`, the reference).
    """
    if compiled.enabled():
        xy = np.ascontiguousarray(xy, dtype=np.float64).reshape(-1, 2)
        rows = np.asarray(rows, dtype=np.int64)
        s_m, distance_m = np.empty(rows.shape[0]), np.empty(rows.shape[0])
        _project_kernel(_centerline_points(index), index.point_offset, xy, rows, s_m, distance_m)
    else:
        points = shapely.points(xy)
        lines = index.centerlines[rows]
        s_m = shapely.line_locate_point(lines, points)
        distance_m = shapely.distance(lines, points)
    key = index.lane_key_shift[rows] + s_m
    segment = np.searchsorted(index.point_key, key, side="right") - 1
    segment = np.clip(segment, index.point_offset[rows], index.point_offset[rows + 1] - 2)
    return s_m, distance_m, index.point_heading[segment]


#: `_centerline_points` of the last few indexes, by the identity of their centerlines array
#: (held, so the id is not reused while kept). Not a `LaneIndex` field: indexes pickled with
#: their maps before it existed still load.
_CENTERLINE_POINTS: OrderedDict[int, tuple[np.ndarray, NDArrayF64, NDArrayF64]] = OrderedDict()
_KEPT_INDEXES = 8
#: `_near_lanes_kernel`: a lane's bounding box must be this much farther (m) than a distance
#: for the lane to be skipped (the box's gap is a lower bound of the lane's distance; the
#: margin covers its rounding).
_BOX_MARGIN_M = 1e-3


def _centerline_points(index: LaneIndex) -> NDArrayF64:
    """float64[Q, 2]: the centerlines' points, map frame, row r's at [point_offset[r],
    point_offset[r + 1]) (made once per index)."""
    return _centerline_arrays(index)[0]


def _centerline_arrays(index: LaneIndex) -> tuple[NDArrayF64, NDArrayF64]:
    """`_centerline_points` and each lane's bounding box float64[L, 4] (x min, y min, x max,
    y max), made once per index."""
    key = id(index.centerlines)
    kept = _CENTERLINE_POINTS.get(key)
    if kept is None or kept[0] is not index.centerlines:
        points = np.ascontiguousarray(shapely.get_coordinates(index.centerlines), np.float64)
        start = index.point_offset[:-1]
        low, high = np.minimum.reduceat(points, start), np.maximum.reduceat(points, start)
        kept = (index.centerlines, points, np.ascontiguousarray(np.concatenate([low, high], 1)))
        _CENTERLINE_POINTS[key] = kept
        while len(_CENTERLINE_POINTS) > _KEPT_INDEXES:
            _CENTERLINE_POINTS.popitem(last=False)
    _CENTERLINE_POINTS.move_to_end(key)
    return kept[1], kept[2]


@compiled.njit
def _project_kernel(
    point_xy: NDArrayF64,
    point_offset: NDArrayInt,
    xy: NDArrayF64,
    rows: NDArrayInt,
    s_m: NDArrayF64,
    distance_m: NDArrayF64,
) -> None:  # pragma: no cover - compiled
    """Into s_m, distance_m [M]: shapely's `line_locate_point` and `distance` of point xy[m]
    on lane row rows[m]'s centerline (points point_xy[point_offset[r]:point_offset[r + 1]]),
    in GEOS's operations: the distance is the least `Distance::pointToSegment` over the
    segments; the located point is on the first segment at that distance, at its
    `projectionFactor` clamped to [0, 1] x its length, after the lengths before it."""
    for m in range(rows.shape[0]):
        px, py = xy[m, 0], xy[m, 1]
        best, located, start = np.inf, 0.0, 0.0
        for i in range(point_offset[rows[m]], point_offset[rows[m] + 1] - 1):
            ax, ay, bx, by = point_xy[i, 0], point_xy[i, 1], point_xy[i + 1, 0], point_xy[i + 1, 1]
            dx, dy = bx - ax, by - ay
            length = np.sqrt(dx * dx + dy * dy)
            distance = _point_to_segment(px, py, ax, ay, bx, by)
            if distance < best:
                best = distance
                if px == ax and py == ay:
                    located = start
                elif px == bx and py == by:
                    located = start + length
                else:
                    length2 = dx * dx + dy * dy
                    factor = ((px - ax) * dx + (py - ay) * dy) / length2 if length2 > 0 else np.nan
                    if factor <= 0.0:
                        located = start
                    elif factor <= 1.0:
                        located = start + factor * length
                    else:
                        located = start + length
            start += length
        s_m[m], distance_m[m] = located, best


@compiled.njit
def _point_to_segment(
    px: float, py: float, ax: float, ay: float, bx: float, by: float
) -> float:  # pragma: no cover - compiled
    """GEOS `Distance::pointToSegment`: the distance from point p to segment a-b (m)."""
    if ax == bx and ay == by:
        return np.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    length2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length2
    if r <= 0.0:
        return np.sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay))
    if r >= 1.0:
        return np.sqrt((px - bx) * (px - bx) + (py - by) * (py - by))
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / length2
    return abs(s) * np.sqrt(length2)


def best_lanes_for_poses(
    index: LaneIndex,
    xy: NDArrayF64,
    heading: NDArrayF64,
    config: PoseMatchConfig | None = None,
) -> tuple[NDArrayInt, NDArrayF64]:
    """The lane that best explains each pose: close to its centerline and pointing the same way.

    xy: float64[N, 2], map frame; heading: float64[N], radians. A vehicle in the
    opposite-direction lane is matched to that lane, not to ours. Returns lane_ids: int64[N]
    and cost: float64[N] (metres-equivalent, see `PoseMatchConfig`).
    """
    lane_ids, cost, _ = best_lanes_with_headings(index, xy, heading, config)
    return lane_ids, cost


def best_lanes_with_headings(
    index: LaneIndex,
    xy: NDArrayF64,
    heading: NDArrayF64,
    config: PoseMatchConfig | None = None,
) -> tuple[NDArrayInt, NDArrayF64, NDArrayF64]:
    """`best_lanes_for_poses` (lane_ids int64[N], cost float64[N]) and the heading float64[N]
    (radians) of each best lane's centerline where the pose projects on it: what
    `project_to_lanes` gives for that lane, without projecting again."""
    config = PoseMatchConfig() if config is None else config
    if compiled.enabled():
        points_xy, heading = _poses(index, xy, heading)
        count = points_xy.shape[0]
        best = np.empty(count, np.int64), np.empty(count), np.empty(count)
        points, bounds = _centerline_arrays(index)
        lanes = (index.point_offset, bounds, index.point_key, index.lane_key_shift)
        weight = config.heading_weight_m_per_rad
        searched = (config.search_radius_m, weight)
        poses = np.ascontiguousarray(points_xy), np.ascontiguousarray(heading)
        if count and _best_lanes_kernel(
            points, *lanes, index.point_heading, *poses, *searched, *best
        ):
            return index.lane_ids[best[0]], best[1], best[2]
    point_index, rows, cost, lane_heading = _scored_candidates(index, xy, heading, config)
    order = np.lexsort((cost, point_index))
    first = order[np.r_[True, np.diff(point_index[order]) != 0]]
    return index.lane_ids[rows[first]], cost[first], lane_heading[first]


def pose_candidates(
    index: LaneIndex, xy: NDArrayF64, heading: NDArrayF64, config: PoseMatchConfig
) -> tuple[NDArrayInt, NDArrayInt, NDArrayF64]:
    """Candidate (pose, lane row) pairs and their `PoseMatchConfig` cost; every pose gets one.

    xy: float64[N, 2]; heading: float64[N] radians, NaN where unknown (no heading term).
    Returns point_index: int64[M], rows: int64[M], cost: float64[M], ordered by pose then
    row.
    """
    point_index, rows, cost, _ = _scored_candidates(index, xy, heading, config)
    return point_index, rows, cost


def _scored_candidates(
    index: LaneIndex, xy: NDArrayF64, heading: NDArrayF64, config: PoseMatchConfig
) -> tuple[NDArrayInt, NDArrayInt, NDArrayF64, NDArrayF64]:
    """`pose_candidates` and the lane heading float64[M] at each pair's projection. The
    candidates are the lanes within the search radius, or the nearest lane for a pose that
    has none there (the nearest is among them when it has one)."""
    points_xy, heading = _poses(index, xy, heading)
    if compiled.enabled():
        point_index, rows = _compiled_pairs(index, points_xy, config.search_radius_m)
    else:
        point_index, rows = _tree_pairs(index, points_xy, config.search_radius_m)
    if compiled.enabled():
        cost, lane_heading = np.empty(rows.shape[0]), np.empty(rows.shape[0])
        lanes = (index.point_offset, index.point_key, index.lane_key_shift, index.point_heading)
        _score_kernel(
            _centerline_points(index),
            *lanes,
            points_xy,
            heading,
            point_index,
            rows,
            config.heading_weight_m_per_rad,
            cost,
            lane_heading,
        )
        return point_index, rows, cost, lane_heading
    _, distance_m, lane_heading = project_to_lanes(index, points_xy[point_index], rows)
    heading_error = np.abs(wrap_angle(heading[point_index] - lane_heading))
    heading_error = np.where(np.isnan(heading_error), 0.0, heading_error)
    cost = distance_m + config.heading_weight_m_per_rad * heading_error
    return point_index, rows, cost, lane_heading


def _poses(index: LaneIndex, xy: NDArrayF64, heading: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
    """xy float64[N, 2] and heading float64[N] of a pose query; `DataError` naming the map on
    bad points or a heading count that differs."""
    points_xy = _as_points(index, xy)
    heading = np.asarray(heading, dtype=np.float64).reshape(-1)
    if heading.shape[0] != points_xy.shape[0]:
        raise DataError(
            f"map {index.source!r} query: {heading.shape[0]} headings for {points_xy.shape[0]} points"
        )
    return points_xy, heading


@compiled.njit
def _best_lanes_kernel(
    point_xy: NDArrayF64,
    point_offset: NDArrayInt,
    bounds: NDArrayF64,
    point_key: NDArrayF64,
    lane_key_shift: NDArrayF64,
    point_heading: NDArrayF64,
    xy: NDArrayF64,
    heading: NDArrayF64,
    radius_m: float,
    heading_weight: float,
    best_row: NDArrayInt,
    best_cost: NDArrayF64,
    best_heading: NDArrayF64,
) -> bool:  # pragma: no cover - compiled
    """`best_lanes_with_headings` in one pass: the candidates of `_near_lanes_kernel`, scored
    by `_score_kernel`, the first least cost per pose (by row) into best_row, best_cost,
    best_heading [N]. False, nothing written, where a lone pose's nearest lanes tie (the
    tree's choice decides: the caller takes the other path)."""
    count, num_rows = xy.shape[0], point_offset.shape[0] - 1
    within = np.empty((count, num_rows), np.bool_)
    nearest, tied = np.empty(count, np.int64), np.empty(count, np.bool_)
    _near_lanes_kernel(point_xy, point_offset, bounds, xy, radius_m, within, nearest, tied)
    if tied.any():
        return False
    for n in range(count):
        if nearest[n] >= 0:
            within[n, nearest[n]] = True
    point_index, rows = np.nonzero(within)
    cost, lane_heading = np.empty(rows.shape[0]), np.empty(rows.shape[0])
    lanes = (point_xy, point_offset, point_key, lane_key_shift, point_heading)
    _score_kernel(*lanes, xy, heading, point_index, rows, heading_weight, cost, lane_heading)
    best_row[:] = -1
    for m in range(rows.shape[0]):
        n = point_index[m]
        if best_row[n] < 0 or cost[m] < best_cost[n]:
            best_row[n], best_cost[n], best_heading[n] = rows[m], cost[m], lane_heading[m]
    return True


def _tree_pairs(
    index: LaneIndex, points_xy: NDArrayF64, radius_m: float
) -> tuple[NDArrayInt, NDArrayInt]:
    """(point index, lane row) int64[M] pairs by point then row: the lanes within radius_m
    of each point (the tree's dwithin), or its nearest lane (`query_nearest`) if none."""
    points = shapely.points(points_xy)
    near_index, near_rows = index.centerline_tree.query(
        points, predicate="dwithin", distance=radius_m
    )
    alone = np.ones(points.shape[0], dtype=bool)
    alone[near_index] = False
    if alone.any():
        lone = np.flatnonzero(alone)
        nearest_index, nearest_rows = index.centerline_tree.query_nearest(
            points[lone], all_matches=False
        )
        near_index = np.r_[near_index, lone[nearest_index]]
        near_rows = np.r_[near_rows, nearest_rows]
    num_rows = index.lane_ids.shape[0]
    pair = np.unique(near_index.astype(np.int64) * num_rows + near_rows)  # by pose, then row
    point_index, rows = np.divmod(pair, num_rows)
    return point_index, rows


def _compiled_pairs(
    index: LaneIndex, points_xy: NDArrayF64, radius_m: float
) -> tuple[NDArrayInt, NDArrayInt]:
    """`_tree_pairs` from `_near_lanes_kernel` (GEOS's distances, lanes skipped by their
    bounding boxes); the tree is asked only for a point whose nearest lanes tie (which one
    `query_nearest` returns is its own choice, e.g. at a vertex two lanes share)."""
    points, bounds = _centerline_arrays(index)
    count, num_rows = points_xy.shape[0], index.lane_ids.shape[0]
    within = np.empty((count, num_rows), np.bool_)
    nearest, tied = np.empty(count, np.int64), np.empty(count, np.bool_)
    xy = np.ascontiguousarray(points_xy, np.float64)
    _near_lanes_kernel(points, index.point_offset, bounds, xy, radius_m, within, nearest, tied)
    if tied.any():
        ask = np.flatnonzero(tied)
        asked, asked_rows = index.centerline_tree.query_nearest(
            shapely.points(xy[ask]), all_matches=False
        )
        nearest[ask[asked]] = asked_rows
    lone = np.flatnonzero(nearest >= 0)
    within[lone, nearest[lone]] = True
    point_index, rows = np.nonzero(within)
    return point_index.astype(np.int64), rows.astype(np.int64)


@compiled.njit
def _near_lanes_kernel(
    point_xy: NDArrayF64,
    point_offset: NDArrayInt,
    bounds: NDArrayF64,
    xy: NDArrayF64,
    radius_m: float,
    within: NDArrayBool,
    nearest: NDArrayInt,
    tied: NDArrayBool,
) -> None:  # pragma: no cover - compiled
    """Into within [N, L]: whether lane row r's centerline is at most radius_m from point n
    (its least `_point_to_segment`: GEOS's dwithin); nearest, tied [N]: for a point with no
    such lane, the nearest row and whether another is exactly as near (else -1, False).
    A lane whose bounding box is farther than the distance sought (+ `_BOX_MARGIN_M`) is
    skipped."""
    num_rows = point_offset.shape[0] - 1
    for n in range(xy.shape[0]):
        px, py = xy[n, 0], xy[n, 1]
        found = False
        for row in range(num_rows):
            within[n, row] = False
            if _box_gap(px, py, bounds[row]) > radius_m + _BOX_MARGIN_M:
                continue
            if _lane_distance(point_xy, point_offset, row, px, py, radius_m) <= radius_m:
                within[n, row] = True
                found = True
        nearest[n], tied[n] = -1, False
        if found:
            continue
        best = np.inf
        for row in range(num_rows):
            if _box_gap(px, py, bounds[row]) > best + _BOX_MARGIN_M:
                continue
            distance = _lane_distance(point_xy, point_offset, row, px, py, -1.0)
            if distance < best:
                best, nearest[n], tied[n] = distance, row, False
            elif distance == best:
                tied[n] = True


@compiled.njit
def _box_gap(px: float, py: float, box: NDArrayF64) -> float:  # pragma: no cover - compiled
    """The distance from point p to the box (x min, y min, x max, y max) (0 inside)."""
    dx = max(box[0] - px, 0.0, px - box[2])
    dy = max(box[1] - py, 0.0, py - box[3])
    return np.sqrt(dx * dx + dy * dy)


@compiled.njit
def _lane_distance(
    point_xy: NDArrayF64, point_offset: NDArrayInt, row: int, px: float, py: float, enough: float
) -> float:  # pragma: no cover - compiled
    """`polyline_distance` from p to lane row's centerline."""
    return polyline_distance(point_xy[point_offset[row] : point_offset[row + 1]], px, py, enough)


@compiled.njit
def polyline_distance(
    points: NDArrayF64, px: float, py: float, enough: float
) -> float:  # pragma: no cover - compiled
    """The least `_point_to_segment` from p to the segments of the polyline points [P, 2]
    (inf for fewer than two points), or the first found at most `enough` (a negative
    `enough`: the least)."""
    least = np.inf
    for i in range(points.shape[0] - 1):
        ax, ay, bx, by = points[i, 0], points[i, 1], points[i + 1, 0], points[i + 1, 1]
        least = min(least, _point_to_segment(px, py, ax, ay, bx, by))
        if least <= enough:
            return least
    return least


@compiled.njit
def _score_kernel(
    point_xy: NDArrayF64,
    point_offset: NDArrayInt,
    point_key: NDArrayF64,
    lane_key_shift: NDArrayF64,
    point_heading: NDArrayF64,
    xy: NDArrayF64,
    heading: NDArrayF64,
    point_index: NDArrayInt,
    rows: NDArrayInt,
    heading_weight: float,
    cost: NDArrayF64,
    lane_heading: NDArrayF64,
) -> None:  # pragma: no cover - compiled
    """Into cost, lane_heading [M]: `_scored_candidates`' numpy path for the pairs (pose
    point_index[m], lane row rows[m]) in the same operations: `_project_kernel`, the segment
    of `project_to_lanes`, |`wrap_angle`(heading error)| (np.mod's fmod and sign fix; NaN:
    0) x heading_weight + distance."""
    s_m, distance_m = np.empty(rows.shape[0]), np.empty(rows.shape[0])
    pair_xy = np.empty((rows.shape[0], 2))
    for m in range(rows.shape[0]):
        pair_xy[m, 0], pair_xy[m, 1] = xy[point_index[m], 0], xy[point_index[m], 1]
    _project_kernel(point_xy, point_offset, pair_xy, rows, s_m, distance_m)
    full_turn = 2.0 * np.pi
    for m in range(rows.shape[0]):
        row = rows[m]
        segment = np.searchsorted(point_key, lane_key_shift[row] + s_m[m], side="right") - 1
        segment = min(max(segment, point_offset[row]), point_offset[row + 1] - 2)
        lane_heading[m] = point_heading[segment]
        turned = np.fmod(heading[point_index[m]] - lane_heading[m] + np.pi, full_turn)
        if turned != 0.0:
            if turned < 0.0:
                turned += full_turn
        else:
            turned = 0.0
        error = turned - np.pi
        if error == -np.pi:
            error = np.pi
        error = abs(error)
        if error != error:  # no heading
            error = 0.0
        cost[m] = distance_m[m] + heading_weight * error


def in_drivable_area(index: LaneIndex, points: NDArrayF64) -> NDArrayBool:
    """bool[...]: whether each of `points: float64[..., 2]` (map frame) is drivable (edge included)."""
    flat = _as_points(index, points, "points")
    inside = shapely.intersects_xy(index.drivable_area, flat[:, 0], flat[:, 1])
    return inside.reshape(np.shape(points)[:-1])


def distance_outside_drivable_area(index: LaneIndex, points: NDArrayF64) -> NDArrayF64:
    """float64[...]: metres from each of `points: float64[..., 2]` to the drivable area (0 inside).

    Containment is one vectorised test on the prepared union; only the points outside are
    measured, against an STRtree of the boundary's segments.
    """
    flat = _as_points(index, points, "points")
    outside = ~shapely.intersects_xy(index.drivable_area, flat[:, 0], flat[:, 1])
    distance = np.zeros(flat.shape[0], dtype=np.float64)
    if np.any(outside):
        query = shapely.points(flat[outside])
        (query_index, _), nearest = index.drivable_boundary_tree.query_nearest(
            query, return_distance=True, all_matches=False
        )
        distance[np.flatnonzero(outside)[query_index]] = nearest
    return distance.reshape(np.shape(points)[:-1])
