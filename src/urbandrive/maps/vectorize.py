"""Fixed-size arrays of map polylines around a pose, for learned models.

Every map element (lane centerline, lane boundary, crosswalk outline) is resampled at a fixed
spacing and cut into pieces of `points_per_polyline` points, once per map and setting, in the
map frame (float64). A query picks the pieces within a radius of a centre pose, nearest
first, and moves them into the centre's frame; only then are they cast to float32 (a float32
map-frame coordinate is ~25 cm coarse at UTM scale; a local one is sub-millimetre).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from urbandrive.core import compiled
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.polyline import resample_by_spacing
from urbandrive.maps.index import _BOX_MARGIN_M, _box_gap, polyline_distance
from urbandrive.maps.road_map import LaneType

if TYPE_CHECKING:
    from urbandrive.maps.road_map import Lane, RoadMap


class MapFeature(enum.IntEnum):
    """Columns of `MapPolylines.features` (float32, one row per polyline)."""

    IS_LANE_CENTERLINE = 0
    IS_LANE_BOUNDARY = 1
    IS_CROSSWALK = 2
    SPEED_LIMIT_MPS = 3  # of the lane (centerlines only; 0 otherwise)
    IS_INTERSECTION = 4  # lane inside an intersection (centerlines and boundaries)
    IS_BUS_LANE = 5
    IS_BIKE_LANE = 6
    IS_SOLID_MARK = 7  # painted boundary is solid (boundaries only)
    IS_YELLOW_MARK = 8  # painted boundary is yellow (boundaries only)


NUM_MAP_FEATURES = len(MapFeature)


@dataclass(frozen=True, slots=True)
class MapPolylines:
    """L polylines of P points around a centre pose, in the centre's frame (x forward, y left).

    points: float32[L, P, 2], metres, centre frame; zero where not valid.
    features: float32[L, F], columns indexed by `MapFeature`; zero for padding rows.
    valid: bool[L, P], real points. polyline_valid: bool[L], real polylines (padding: False).
    lane_ids: int64[L], the lane a centerline / boundary belongs to, -1 otherwise.
    piece_ids: int64[L], each row's index in the map's `polyline_pieces` (-1 for padding).
    """

    points: np.ndarray
    features: np.ndarray
    valid: NDArrayBool
    polyline_valid: NDArrayBool
    lane_ids: NDArrayInt
    piece_ids: NDArrayInt


@dataclass(frozen=True, slots=True)
class PolylinePieces:
    """Every element of a map cut into K pieces of P points, map frame (built once per map).

    points: float64[K, P, 2]; valid: bool[K, P]; features: float32[K, F]; lane_ids: int64[K];
    geometries: object[K], shapely LineStrings of the valid points; tree: STRtree over them.
    """

    points: NDArrayF64
    valid: NDArrayBool
    features: np.ndarray
    lane_ids: NDArrayInt
    geometries: np.ndarray
    tree: shapely.STRtree


def vectorize_map(
    road_map: RoadMap,
    centre_xy: NDArrayF64,
    centre_heading: float,
    radius_m: float = 50.0,
    max_polylines: int = 256,
    points_per_polyline: int = 20,
    point_spacing_m: float = 1.0,
) -> MapPolylines:
    """The map pieces passing within `radius_m` of a pose, nearest first, in its frame.

    centre_xy: float64[2], metres, map frame; centre_heading: radians. Pieces are
    `points_per_polyline` points `point_spacing_m` apart (long elements are cut into several);
    beyond `max_polylines` the farthest are dropped. Returns `MapPolylines` with L = max_polylines.
    """
    pieces = polyline_pieces(road_map, points_per_polyline, point_spacing_m)
    centre_xy = np.asarray(centre_xy, dtype=np.float64).reshape(2)
    if not (np.all(np.isfinite(centre_xy)) and np.isfinite(centre_heading)):
        raise DataError(
            f"map {road_map.source!r}: vectorize_map centre {centre_xy}, {centre_heading}"
        )
    chosen, distance = _pieces_within(road_map, pieces, centre_xy, radius_m)
    chosen = chosen[np.lexsort((chosen, distance))][:max_polylines]
    cos, sin = np.cos(centre_heading), np.sin(centre_heading)
    offset = pieces.points[chosen] - centre_xy  # float64 until the frame is local
    local = np.stack(
        [cos * offset[..., 0] + sin * offset[..., 1], -sin * offset[..., 0] + cos * offset[..., 1]],
        -1,
    )
    valid = pieces.valid[chosen]
    count = chosen.shape[0]
    result = MapPolylines(
        points=np.zeros((max_polylines, points_per_polyline, 2), dtype=np.float32),
        features=np.zeros((max_polylines, NUM_MAP_FEATURES), dtype=np.float32),
        valid=np.zeros((max_polylines, points_per_polyline), dtype=bool),
        polyline_valid=np.arange(max_polylines) < count,
        lane_ids=np.full(max_polylines, -1, dtype=np.int64),
        piece_ids=np.full(max_polylines, -1, dtype=np.int64),
    )
    result.points[:count] = np.where(valid[..., None], local, 0.0).astype(np.float32)
    result.features[:count] = pieces.features[chosen]
    result.valid[:count] = valid
    result.lane_ids[:count] = pieces.lane_ids[chosen]
    result.piece_ids[:count] = chosen
    return result


def _pieces_within(
    road_map: RoadMap, pieces: PolylinePieces, centre_xy: NDArrayF64, radius_m: float
) -> tuple[NDArrayInt, NDArrayF64]:
    """The pieces within radius_m of the centre (int64[n]) and their distances float64[n]:
    the tree's dwithin and shapely's distance, or where the compiled switch is on one kernel
    of GEOS's distances (`index._point_to_segment`), pieces skipped by their bounding boxes
    (kept in the map's query cache)."""
    if not compiled.enabled():
        centre = shapely.Point(centre_xy)
        chosen = pieces.tree.query(centre, predicate="dwithin", distance=radius_m)
        return chosen, shapely.distance(pieces.geometries[chosen], centre)
    key = ("polyline_piece_bounds", pieces.points.shape[1], id(pieces))
    kept = road_map.query_cache.get(key)
    if kept is None or kept[0] is not pieces:
        valid = pieces.valid[..., None]
        low = np.where(valid, pieces.points, np.inf).min(1)
        high = np.where(valid, pieces.points, -np.inf).max(1)
        count = pieces.valid.sum(1).astype(np.int64)
        kept = (pieces, np.ascontiguousarray(np.concatenate([low, high], 1)), count)
        road_map.query_cache[key] = kept
    distance = np.empty(pieces.points.shape[0])
    _piece_distance_kernel(pieces.points, kept[2], kept[1], centre_xy, radius_m, distance)
    chosen = np.flatnonzero(distance <= radius_m)
    return chosen, distance[chosen]


@compiled.njit
def _piece_distance_kernel(
    points: NDArrayF64,
    count: NDArrayInt,
    bounds: NDArrayF64,
    centre: NDArrayF64,
    radius_m: float,
    distance: NDArrayF64,
) -> None:  # pragma: no cover - compiled
    """Into distance [K]: `index.polyline_distance` from the centre to piece k's first
    count[k] points (its LineString), inf where its bounding box is farther than radius_m
    (+ `_BOX_MARGIN_M`)."""
    cx, cy = centre[0], centre[1]
    for k in range(points.shape[0]):
        distance[k] = np.inf
        if _box_gap(cx, cy, bounds[k]) > radius_m + _BOX_MARGIN_M:
            continue
        distance[k] = polyline_distance(points[k, : count[k]], cx, cy, -1.0)


def polyline_pieces(
    road_map: RoadMap, points_per_polyline: int, point_spacing_m: float
) -> PolylinePieces:
    """The map's `PolylinePieces` for this setting, built on first use and kept on the map."""
    if points_per_polyline < 2 or not point_spacing_m > 0:
        raise ValueError(
            f"need points_per_polyline >= 2 and point_spacing_m > 0, got {points_per_polyline}, {point_spacing_m}"
        )
    key = ("polyline_pieces", points_per_polyline, float(point_spacing_m))
    if key not in road_map.query_cache:
        road_map.query_cache[key] = _build_pieces(road_map, points_per_polyline, point_spacing_m)
    pieces: PolylinePieces = road_map.query_cache[key]
    return pieces


def _build_pieces(road_map: RoadMap, points_per_polyline: int, spacing_m: float) -> PolylinePieces:
    """Resample and cut every element of the map (one pass over its elements)."""
    elements = _map_elements(road_map)
    all_points, all_valid, all_features, all_lanes = [], [], [], []
    for polyline, features, lane_id in elements:
        points, valid = _cut(resample_by_spacing(polyline, spacing_m), points_per_polyline)
        all_points.append(points)
        all_valid.append(valid)
        all_features.append(np.broadcast_to(features, (len(points), NUM_MAP_FEATURES)))
        all_lanes.append(np.full(len(points), lane_id, dtype=np.int64))
    points, valid = np.concatenate(all_points), np.concatenate(all_valid)
    counts = valid.sum(1)
    geometries = shapely.linestrings(
        points[valid], indices=np.repeat(np.arange(len(points)), counts)
    )
    return PolylinePieces(
        points=points,
        valid=valid,
        features=np.concatenate(all_features).astype(np.float32),
        lane_ids=np.concatenate(all_lanes),
        geometries=geometries,
        tree=shapely.STRtree(geometries),
    )


def _cut(polyline: NDArrayF64, points_per_polyline: int) -> tuple[NDArrayF64, NDArrayBool]:
    """Pieces float64[n, P, 2] of `polyline: float64[Q, 2]` sharing their end points; valid[n, P]."""
    step = points_per_polyline - 1
    num_pieces = max(1, int(np.ceil((len(polyline) - 1) / step)))
    index = np.arange(num_pieces)[:, None] * step + np.arange(points_per_polyline)
    valid = index < len(polyline)
    return polyline[np.minimum(index, len(polyline) - 1)], valid


def _map_elements(road_map: RoadMap) -> list[tuple[NDArrayF64, NDArrayF64, int]]:
    """(polyline float64[P, 2], features float32[F], lane id or -1) per element; shared
    boundaries (same points, either direction) appear once."""
    elements = []
    seen: set[bytes] = set()
    for lane in road_map.lanes.values():
        elements.append(
            (lane.centerline, _lane_features(lane, MapFeature.IS_LANE_CENTERLINE, ""), lane.id)
        )
        for boundary, mark in (
            (lane.left_boundary, lane.left_mark_type),
            (lane.right_boundary, lane.right_mark_type),
        ):
            keys = {np.round(boundary, 3).tobytes(), np.round(boundary[::-1], 3).tobytes()}
            if keys & seen:
                continue
            seen |= keys
            elements.append(
                (boundary, _lane_features(lane, MapFeature.IS_LANE_BOUNDARY, mark), lane.id)
            )
    for crosswalk in road_map.crosswalks.values():
        features = np.zeros(NUM_MAP_FEATURES, dtype=np.float32)
        features[MapFeature.IS_CROSSWALK] = 1.0
        elements.append((np.concatenate([crosswalk.polygon, crosswalk.polygon[:1]]), features, -1))
    return elements


def _lane_features(lane: Lane, kind: MapFeature, mark_type: str) -> NDArrayF64:
    """float32[F]: the feature row of a lane's centerline or of one of its boundaries."""
    features = np.zeros(NUM_MAP_FEATURES, dtype=np.float32)
    features[kind] = 1.0
    if kind == MapFeature.IS_LANE_CENTERLINE:
        features[MapFeature.SPEED_LIMIT_MPS] = lane.speed_limit_mps
    features[MapFeature.IS_INTERSECTION] = float(lane.is_intersection)
    features[MapFeature.IS_BUS_LANE] = float(lane.lane_type == LaneType.BUS)
    features[MapFeature.IS_BIKE_LANE] = float(lane.lane_type == LaneType.BIKE)
    features[MapFeature.IS_SOLID_MARK] = float("SOLID" in mark_type)
    features[MapFeature.IS_YELLOW_MARK] = float("YELLOW" in mark_type)
    return features
