"""Waymo Open Motion map features (decoded `RawMap`) -> `RoadMap`, in the scenario's frame.

- Lanes: the `LaneCenter` polyline is the centerline (z dropped). WOMD draws no lane outline:
  each side's boundary is rebuilt point by point from the road lines / edges its
  `BoundarySegment`s reference (centerline point index ranges): the lateral offset of the
  referenced feature at that point, kept when plausible (`PLAUSIBLE_HALF_WIDTH_M`). Points
  not covered (intersection lanes have no boundaries) take the median plausible offset of
  that side, else `DEFAULT_HALF_WIDTH_M` (bike lanes `BIKE_HALF_WIDTH_M`).
  Types: freeway / surface street -> VEHICLE, bike lane -> BIKE, undefined -> UNKNOWN.
  `speed_limit_mph` 0 -> the type's default with `speed_limit_is_default`. Entry / exit lanes
  -> predecessors / successors; the first left / right neighbour. Lanes with fewer than two
  distinct points are left out and listed in `MapNotes`.
- Crosswalks: polygons. Stop signs: a `StopLine(STOP_SIGN)` across each controlled lane at the
  sign's projection on it. Signals: one per lane named in `dynamic_map_states`, see
  `signal_geometry`.
- Drivable area: WOMD has none. It is the union of the lane outlines (plus 0.3 m around each
  centerline, so every centerline lies inside), holes under `MIN_HOLE_AREA_M2` filled, cut
  into hole-free pieces; road edges are
  not used to clip it (they bound the road, which the lanes already stay inside).
- Ignored: speed bumps and driveways (counted in `MapNotes`); `interpolating` has no `Lane`
  field and is listed in `MapNotes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import shapely
from scipy.spatial import cKDTree

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.datasets.womd_protos.map import RawLane, RawMap, RawShape
from urbandrive.geometry.polyline import interpolate_along, project_points
from urbandrive.maps.road_map import (
    DEFAULT_SPEED_LIMIT_MPS,
    MPH,
    Crosswalk,
    Lane,
    LaneType,
    StopKind,
    StopLine,
    TrafficSignal,
)

DEFAULT_HALF_WIDTH_M = 1.85
BIKE_HALF_WIDTH_M = 0.9
#: Offsets of a referenced road line / edge outside this range are not a lane's boundary.
PLAUSIBLE_HALF_WIDTH_M = (0.5, 3.0)
#: Holes of the lane union smaller than this are gaps between neighbouring outlines: filled.
MIN_HOLE_AREA_M2 = 10.0
#: Buffer around each centerline added to the drivable area, metres.
CENTERLINE_MARGIN_M = 0.3
_LANE_TYPES = {1: LaneType.VEHICLE, 2: LaneType.VEHICLE, 3: LaneType.BIKE}
#: `RoadLine.RoadLineType` -> mark names as AV2 spells them (what the renderer styles).
ROAD_LINE_MARKS = {
    0: "UNKNOWN",
    1: "DASHED_WHITE",
    2: "SOLID_WHITE",
    3: "DOUBLE_SOLID_WHITE",
    4: "DASHED_YELLOW",
    5: "DOUBLE_DASH_YELLOW",
    6: "SOLID_YELLOW",
    7: "DOUBLE_SOLID_YELLOW",
    8: "SOLID_DASH_YELLOW",
}


@dataclass(frozen=True, slots=True)
class MapNotes:
    """What the `RoadMap` cannot hold: skipped lanes, interpolating lanes, ignored features,
    and the share of boundary points taken from referenced road lines / edges."""

    lanes_skipped_degenerate: tuple[int, ...]
    interpolating_lane_ids: tuple[int, ...]
    ignored_feature_counts: dict[str, int]
    boundary_points_from_map: float

    def as_metadata(self) -> dict[str, object]:
        return {
            "lanes_skipped_degenerate": list(self.lanes_skipped_degenerate),
            "interpolating_lane_ids": list(self.interpolating_lane_ids),
            "ignored_feature_counts": dict(self.ignored_feature_counts),
            "boundary_points_from_map": self.boundary_points_from_map,
        }


def build_lanes(raw: RawMap) -> tuple[dict[int, Lane], MapNotes]:
    """Every lane with at least two distinct points, by id, and the notes."""
    lanes: dict[int, Lane] = {}
    skipped, from_map, total = [], 0, 0
    boundary_lines = _boundary_lines(raw)
    for lane_id, raw_lane in raw.lanes.items():
        centerline = _distinct(raw_lane.polyline[:, :2])
        if centerline.shape[0] < 2:
            skipped.append(lane_id)
            continue
        lane, num_from_map = _lane(raw_lane, centerline, boundary_lines)
        lanes[lane_id] = lane
        from_map, total = from_map + num_from_map, total + 2 * centerline.shape[0]
    notes = MapNotes(
        lanes_skipped_degenerate=tuple(skipped),
        interpolating_lane_ids=tuple(i for i, lane in raw.lanes.items() if lane.interpolating),
        ignored_feature_counts={"speed_bump": len(raw.speed_bumps), "driveway": len(raw.driveways)},
        boundary_points_from_map=from_map / max(total, 1),
    )
    return lanes, notes


def _boundary_lines(raw: RawMap) -> dict[int, tuple[NDArrayF64, cKDTree, str]]:
    """Road lines and edges with two or more distinct points, by feature id: (vertices
    float64[M, 2], a KD-tree over them, mark name)."""
    lines = {}
    for shapes, is_edge in ((raw.road_lines, False), (raw.road_edges, True)):
        for feature_id, shape in shapes.items():
            points = _distinct(shape.points[:, :2])
            if points.shape[0] >= 2:
                lines[feature_id] = (points, cKDTree(points), _mark(shape, is_edge))
    return lines


def _lane(
    raw_lane: RawLane, centerline: NDArrayF64, lines: dict[int, tuple[NDArrayF64, cKDTree, str]]
) -> tuple[Lane, int]:
    """The `Lane` and how many of its boundary points came from referenced features."""
    lane_type = _LANE_TYPES.get(raw_lane.lane_type, LaneType.UNKNOWN)
    default_m = BIKE_HALF_WIDTH_M if lane_type == LaneType.BIKE else DEFAULT_HALF_WIDTH_M
    index = _distinct_index(raw_lane.polyline[:, :2])
    left, left_hits, left_mark = _boundary(centerline, index, raw_lane.left_boundaries, lines, 1)
    right, right_hits, right_mark = _boundary(
        centerline, index, raw_lane.right_boundaries, lines, -1
    )
    has_limit = raw_lane.speed_limit_mph > 0
    lane = Lane(
        id=raw_lane.id,
        centerline=centerline,
        left_boundary=_fill_offsets(centerline, left, default_m, 1),
        right_boundary=_fill_offsets(centerline, right, default_m, -1),
        lane_type=lane_type,
        speed_limit_mps=raw_lane.speed_limit_mph * MPH
        if has_limit
        else DEFAULT_SPEED_LIMIT_MPS[lane_type],
        speed_limit_is_default=not has_limit,
        successors=raw_lane.exit_lanes,
        predecessors=raw_lane.entry_lanes,
        left_neighbor=raw_lane.left_neighbors[0] if raw_lane.left_neighbors else None,
        right_neighbor=raw_lane.right_neighbors[0] if raw_lane.right_neighbors else None,
        left_mark_type=left_mark,
        right_mark_type=right_mark,
    )
    return lane, left_hits + right_hits


def _boundary(
    centerline: NDArrayF64,
    index: NDArrayInt,
    segments: NDArrayInt,
    lines: dict[int, tuple[NDArrayF64, cKDTree, str]],
    side: int,
) -> tuple[NDArrayF64, int, str]:
    """Per-point half widths float64[P] (NaN where no plausible referenced feature), the
    count found, and the first segment's mark. side: +1 left, -1 right.

    index: int64[P0], the distinct-point index of each original polyline point (segments
    index the original polyline).
    """
    half_widths = np.full(centerline.shape[0], np.nan)
    normals = left_normals(centerline)
    mark = "UNKNOWN"
    for row, (start, stop, feature_id, _) in enumerate(segments.tolist()):
        if feature_id not in lines:
            continue
        vertices, tree, line_mark = lines[feature_id]
        mark = line_mark if row == 0 else mark
        lo, hi = sorted((max(start, 0), min(stop, index.size - 1)))
        points = np.unique(index[lo : hi + 1])
        offsets = _offsets(vertices, tree, centerline[points], normals[points]) * side
        plausible = (offsets >= PLAUSIBLE_HALF_WIDTH_M[0]) & (offsets <= PLAUSIBLE_HALF_WIDTH_M[1])
        half_widths[points[plausible]] = offsets[plausible]
    return half_widths, int(np.isfinite(half_widths).sum()), mark


def _offsets(
    vertices: NDArrayF64, tree: cKDTree, points: NDArrayF64, normals: NDArrayF64
) -> NDArrayF64:
    """float64[N]: signed offset along `normals: float64[N, 2]` of the closest point of the
    polyline `vertices: float64[M, 2]` to each of `points: float64[N, 2]`, searched on the
    two segments beside the nearest vertex (exact for the dense WOMD polylines)."""
    _, nearest = tree.query(points)
    candidates = []
    for start in (np.maximum(nearest - 1, 0), np.minimum(nearest, vertices.shape[0] - 2)):
        a, b = vertices[start], vertices[start + 1]
        along = np.einsum("nd,nd->n", points - a, b - a) / np.einsum("nd,nd->n", b - a, b - a)
        candidates.append(a + np.clip(along, 0.0, 1.0)[:, None] * (b - a))
    gaps = [np.linalg.norm(candidate - points, axis=-1) for candidate in candidates]
    closest = np.where((gaps[0] <= gaps[1])[:, None], candidates[0], candidates[1])
    return np.einsum("nd,nd->n", closest - points, normals)


def _fill_offsets(
    centerline: NDArrayF64, half_widths: NDArrayF64, default_m: float, side: int
) -> NDArrayF64:
    """The boundary float64[P, 2]: centerline moved by each point's half width (missing ones
    take the side's median, else `default_m`) to the left (side 1) or right (-1)."""
    known = np.isfinite(half_widths)
    fill_m = float(np.median(half_widths[known])) if known.any() else default_m
    filled = np.where(known, half_widths, fill_m)
    return centerline + side * filled[:, None] * left_normals(centerline)


def left_normals(polyline: NDArrayF64) -> NDArrayF64:
    """float64[P, 2] unit normals pointing left of the direction of travel at each point."""
    tangent = np.empty_like(polyline)
    tangent[1:-1] = polyline[2:] - polyline[:-2]
    tangent[0], tangent[-1] = polyline[1] - polyline[0], polyline[-1] - polyline[-2]
    tangent /= np.maximum(np.linalg.norm(tangent, axis=-1, keepdims=True), 1e-12)
    return np.stack([-tangent[:, 1], tangent[:, 0]], axis=-1)


def _mark(shape: RawShape, is_edge: bool) -> str:
    return "NONE" if is_edge else ROAD_LINE_MARKS.get(shape.type, "UNKNOWN")


def _distinct_index(points: NDArrayF64) -> NDArrayInt:
    """int64[P0]: for each point, the index of its run of repeated points in `_distinct`."""
    repeated = np.zeros(points.shape[0], dtype=bool)
    repeated[1:] = np.all(np.abs(np.diff(points, axis=0)) < 1e-6, axis=-1)
    return np.cumsum(~repeated) - 1


def _distinct(points: NDArrayF64) -> NDArrayF64:
    """`points` without consecutive repeats."""
    index = _distinct_index(points)
    keep = np.ones(points.shape[0], dtype=bool)
    keep[1:] = index[1:] != index[:-1]
    return points[keep]


def crosswalks(raw: RawMap, source: str) -> dict[int, Crosswalk]:
    """Crosswalk polygons (closing vertex dropped); `DataError` for fewer than 3 corners."""
    result = {}
    for crosswalk_id, shape in raw.crosswalks.items():
        polygon = shape.points[:, :2]
        if polygon.shape[0] > 3 and np.allclose(polygon[0], polygon[-1]):
            polygon = polygon[:-1]
        if polygon.shape[0] < 3:
            raise DataError(f"{source}: crosswalk {crosswalk_id} has {polygon.shape[0]} points")
        result[crosswalk_id] = Crosswalk(id=crosswalk_id, polygon=polygon)
    return result


def stop_line_across(stop_id: int, lane: Lane, xy: NDArrayF64, kind: StopKind) -> StopLine:
    """A stop line across `lane` (boundary to boundary) where `xy: float64[2]` projects on it."""
    s_m, _, _ = project_points(lane.centerline, xy[None])
    center, _ = interpolate_along(lane.centerline, s_m)
    nearest = int(np.argmin(np.linalg.norm(lane.centerline - center, axis=-1)))
    normal = left_normals(lane.centerline)[nearest]
    left_m = float(np.linalg.norm(lane.left_boundary[nearest] - lane.centerline[nearest]))
    right_m = float(np.linalg.norm(lane.right_boundary[nearest] - lane.centerline[nearest]))
    ends = np.stack([center[0] + left_m * normal, center[0] - right_m * normal])
    return StopLine(id=stop_id, xy=ends, kind=kind, lane_ids=(lane.id,))


def stop_sign_lines(raw: RawMap, lanes: dict[int, Lane], first_id: int) -> list[StopLine]:
    """One `StopLine(STOP_SIGN)` per stop sign and controlled lane of the map, numbered from
    `first_id` in file order; lanes outside the map have none."""
    lines: list[StopLine] = []
    for sign in raw.stop_signs.values():
        for lane_id in sign.lanes:
            if lane_id in lanes and np.all(np.isfinite(sign.position)):
                line_id = first_id + len(lines)
                lines.append(
                    stop_line_across(line_id, lanes[lane_id], sign.position[:2], StopKind.STOP_SIGN)
                )
    return lines


def signal_geometry(
    lanes: dict[int, Lane], lane_ids: NDArrayInt, stop_points: NDArrayF64, first_id: int
) -> tuple[dict[int, TrafficSignal], list[StopLine]]:
    """A `TrafficSignal` (id = the lane id) at each stop point float64[S, 2] of `lane_ids:
    int64[S]`, and a `StopLine(TRAFFIC_LIGHT)` across each lane of the map (ids from
    `first_id`)."""
    signals, lines = {}, []
    for lane_id, xy in zip(lane_ids.tolist(), stop_points, strict=True):
        signals[lane_id] = TrafficSignal(id=lane_id, xy=xy.copy(), lane_ids=(lane_id,))
        if lane_id in lanes:
            line_id = first_id + len(lines)
            lines.append(stop_line_across(line_id, lanes[lane_id], xy, StopKind.TRAFFIC_LIGHT))
    return signals, lines


def drivable_pieces(lanes: dict[int, Lane]) -> tuple[NDArrayF64, ...]:
    """Hole-free polygons float64[P, 2] (open rings) whose union is the lane outlines plus
    `CENTERLINE_MARGIN_M` around every centerline."""
    outlines = [
        np.concatenate([lane.left_boundary, lane.right_boundary[::-1]]) for lane in lanes.values()
    ]
    polygons = shapely.make_valid([shapely.Polygon(outline) for outline in outlines])
    centerlines = shapely.buffer(
        [shapely.LineString(lane.centerline) for lane in lanes.values()], CENTERLINE_MARGIN_M
    )
    area = shapely.union_all(np.concatenate([polygons, centerlines]))
    return tuple(
        np.asarray(piece.exterior.coords, dtype=np.float64)[:-1, :2] for piece in _hole_free(area)
    )


def _hole_free(geometry: shapely.Geometry, depth: int = 0) -> list[shapely.Polygon]:
    """The polygons of `geometry`, holes under `MIN_HOLE_AREA_M2` filled (slivers between
    neighbouring lane outlines); one with larger holes is cut into vertical strips through
    them (recursively, up to 8 times: then the holes are filled)."""
    pieces = []
    for polygon in shapely.get_parts(shapely.get_parts(geometry)):
        if not isinstance(polygon, shapely.Polygon) or polygon.area < 1e-6:
            continue
        holes = [
            ring for ring in polygon.interiors if shapely.Polygon(ring).area >= MIN_HOLE_AREA_M2
        ]
        if not holes or depth >= 8:
            pieces.append(shapely.Polygon(polygon.exterior))
            continue
        polygon = shapely.Polygon(polygon.exterior, holes)
        x_min, y_min, x_max, y_max = polygon.bounds
        cuts = sorted({ring.centroid.x for ring in holes})
        strips = [
            shapely.box(low, y_min - 1.0, high, y_max + 1.0)
            for low, high in pairwise([x_min - 1.0, *cuts, x_max + 1.0])
        ]
        for part in shapely.intersection(polygon, strips):
            pieces.extend(_hole_free(part, depth + 1))
    return pieces
