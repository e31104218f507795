"""ScenarioNet `map_features` and `dynamic_map_states` -> `RoadMap` and `TrafficLightStates`.

Feature ids are strings. When every id is a decimal number (Waymo) it becomes that int; else
(nuScenes tokens, `boundary_<n>`) ids are numbered 0.. in sorted string order, so the same
file always gives the same ints. `MapFeatureIds.source_ids` maps each int back to its string.

Lane boundaries, per what the file carries:
- a `polygon` (nuScenes lanes): its vertices left / right of the centerline, sorted along it;
- a `width` array (Waymo, filled by the converter from the referenced road lines): one half
  width per side, the median of the plausible per-point values (`PLAUSIBLE_HALF_WIDTH_M`),
  because the per-point values are noisy (0 where unreferenced, up to ~100 m);
- neither, or nothing plausible (nuScenes lane connectors, Waymo intersection lanes): the
  centerline offset by `DEFAULT_HALF_WIDTH_M` (bike lanes: `BIKE_HALF_WIDTH_M`).
Mark types come from the referenced boundary features (Waymo), else from the nearest road line
within `MARK_MATCH_DISTANCE_M` of the boundary's midpoint, else "UNKNOWN"; road edges -> "NONE".

Drivable area: the union of the lane polygons (and centerlines widened by 0.5 m), plus (nuScenes) the areas the `boundary_<n>`
rings enclose (the converter writes the nuScenes `drivable_area` layer's outline as those rings;
even-odd rule for holes); cut into hole-free pieces.
Speed limits: `speed_limit_mph` (Waymo, 0 = unknown); nuScenes lane connectors carry
`speed_limit_kmh = 100`, a converter placeholder, which is ignored: defaults apply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from urbandrive.core.errors import DataError
from urbandrive.core.traffic_light import TrafficLightState, TrafficLightStates
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.geometry.polyline import arc_length, project_points
from urbandrive.maps.road_map import (
    DEFAULT_SPEED_LIMIT_MPS,
    MPH,
    Crosswalk,
    Lane,
    LaneType,
    RoadMap,
    StopKind,
    StopLine,
    TrafficSignal,
)

DEFAULT_HALF_WIDTH_M = 1.85
BIKE_HALF_WIDTH_M = 0.9
PLAUSIBLE_HALF_WIDTH_M = (0.5, 3.0)
MARK_MATCH_DISTANCE_M = 0.75
CENTERLINE_MARGIN_M = 0.5
NUSCENES_PLACEHOLDER_KMH = 100.0
_LANE_TYPES = {
    "LANE_SURFACE_STREET": LaneType.VEHICLE,
    "LANE_FREEWAY": LaneType.VEHICLE,
    "LANE_SURFACE_UNSTRUCTURE": LaneType.VEHICLE,
    "LANE_BIKE_LANE": LaneType.BIKE,
    "LANE_UNKNOWN": LaneType.UNKNOWN,
}
#: MetaDrive road-line types -> AV2-style mark names (what `Lane.*_mark_type` uses).
MARK_TYPES = {
    "ROAD_LINE_BROKEN_SINGLE_WHITE": "DASHED_WHITE",
    "ROAD_LINE_SOLID_SINGLE_WHITE": "SOLID_WHITE",
    "ROAD_LINE_SOLID_DOUBLE_WHITE": "DOUBLE_SOLID_WHITE",
    "ROAD_LINE_BROKEN_SINGLE_YELLOW": "DASHED_YELLOW",
    "ROAD_LINE_BROKEN_DOUBLE_YELLOW": "DOUBLE_DASH_YELLOW",
    "ROAD_LINE_SOLID_SINGLE_YELLOW": "SOLID_YELLOW",
    "ROAD_LINE_SOLID_DOUBLE_YELLOW": "DOUBLE_SOLID_YELLOW",
    "ROAD_LINE_PASSING_DOUBLE_YELLOW": "SOLID_DASH_YELLOW",
    "UNKNOWN_LINE": "UNKNOWN",
    "ROAD_EDGE_BOUNDARY": "NONE",
    "ROAD_EDGE_MEDIAN": "NONE",
    "ROAD_EDGE_SIDEWALK": "NONE",
}
_CROSSWALK_TYPES = frozenset({"CROSSWALK", "CROSS_WALK"})
#: Waymo `TrafficSignalLaneState` values 0..8 (ints in older files, names in newer ones).
_LIGHT_NAMES = (
    "LANE_STATE_UNKNOWN", "LANE_STATE_ARROW_STOP", "LANE_STATE_ARROW_CAUTION",
    "LANE_STATE_ARROW_GO", "LANE_STATE_STOP", "LANE_STATE_CAUTION", "LANE_STATE_GO",
    "LANE_STATE_FLASHING_STOP", "LANE_STATE_FLASHING_CAUTION",
)  # fmt: skip
_S = TrafficLightState
_LIGHT_VALUES = (_S.UNKNOWN, _S.RED, _S.YELLOW, _S.GREEN, _S.RED, _S.YELLOW, _S.GREEN)
_LIGHT_VALUES += (_S.FLASHING_RED, _S.FLASHING_YELLOW)
LIGHT_STATES: dict[str, TrafficLightState] = dict(zip(_LIGHT_NAMES, _LIGHT_VALUES, strict=True))
LIGHT_STATES |= {
    "TRAFFIC_LIGHT_RED": _S.RED, "TRAFFIC_LIGHT_YELLOW": _S.YELLOW,
    "TRAFFIC_LIGHT_GREEN": _S.GREEN, "TRAFFIC_LIGHT_UNKNOWN": _S.UNKNOWN, "None": _S.UNKNOWN,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class MapFeatureIds:
    """Source string id <-> int id of every map feature (see the module docstring)."""

    to_int: Mapping[str, int]
    source_ids: Mapping[int, str]

    def lane_reference(self, value: Any) -> int | None:
        """Int id of a referenced feature (int or str); numbers outside the map kept, else None."""
        text = str(value)
        if text in self.to_int:
            return self.to_int[text]
        return int(text) if text.lstrip("-").isdigit() else None


@dataclass(frozen=True, slots=True)
class MapBuild:
    """What `build_map` returns. lights: None when the file has no dynamic map states.
    notes: facts for `Scenario.metadata` (skipped features, unused types, road edges)."""

    road_map: RoadMap
    lights: TrafficLightStates | None
    ids: MapFeatureIds
    notes: Mapping[str, Any]


def map_feature_ids(keys: list[str]) -> MapFeatureIds:
    """Stable ints for the feature ids `keys` (decimal strings keep their value)."""
    if all(key.lstrip("-").isdigit() for key in keys):
        to_int = {key: int(key) for key in keys}
    else:
        to_int = {key: index for index, key in enumerate(sorted(keys))}
    return MapFeatureIds(to_int, {value: key for key, value in to_int.items()})


def build_map(
    path: Path, features: Mapping[str, Any], dynamic: Mapping[str, Any], num_steps: int
) -> MapBuild:
    """The RoadMap (lanes, crosswalks, stop lines, signals, drivable area) and light states."""
    features = {str(key): _feature(path, str(key), value) for key, value in features.items()}
    ids = map_feature_ids(list(features))
    kinds = {key: str(feature["type"]) for key, feature in features.items()}
    lines = _road_lines(path, features, kinds, ids)
    lanes, skipped = _lanes(path, features, kinds, ids, lines)
    if not lanes:
        raise DataError(f"{path}: 'map_features' has no usable lane (skipped: {skipped[:5]})")
    signals, light_stops, lights = traffic_lights(path, dynamic, lanes, ids, num_steps)
    sign_stops = _stop_sign_lines(path, features, kinds, ids, lanes, first_id=len(light_stops))
    stop_lines = light_stops + sign_stops
    lanes = _mark_intersections(lanes, {i for s in stop_lines for i in s.lane_ids})
    rings = [
        lines[ids.to_int[key]][1]
        for key in features
        if key.startswith("boundary_") and kinds[key] in MARK_TYPES
    ]
    road_map = RoadMap(
        lanes={lane.id: lane for lane in lanes},
        crosswalks=_crosswalks(path, features, kinds, ids),
        stop_lines={stop.id: stop for stop in stop_lines},
        signals={signal.id: signal for signal in signals},
        drivable_areas=drivable_pieces(list(lanes), [r for r in rings if len(r) >= 4]),
        source=str(path),
    )
    road_map.validate()
    return MapBuild(road_map, lights, ids, _notes(kinds, skipped, lines))


def _feature(path: Path, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or "type" not in value:
        raise DataError(f"{path}: map_features[{key!r}] must be a dict with a 'type'")
    return value


def points_2d(path: Path, where: str, value: Any) -> NDArrayF64:
    """float64[P, 2] from an array-like of [x, y(, z)] rows; `DataError` naming path / where."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataError(f"{path}: {where} is not numeric ({error})") from error
    if array.ndim != 2 or array.shape[1] < 2 or not np.all(np.isfinite(array[:, :2])):
        raise DataError(f"{path}: {where} must be finite float[P, 2 or 3], got {array.shape}")
    return array[:, :2].copy()


def _road_lines(
    path: Path, features: dict[str, Any], kinds: dict[str, str], ids: MapFeatureIds
) -> dict[int, tuple[str, NDArrayF64]]:
    """int id -> (mark type, float64[P, 2]) of every road line and road edge."""
    return {
        ids.to_int[key]: (
            MARK_TYPES[kind],
            points_2d(path, f"map_features[{key!r}]['polyline']", _field(path, features, key)),
        )
        for key, kind in kinds.items()
        if kind in MARK_TYPES
    }


def _field(path: Path, features: dict[str, Any], key: str, name: str = "polyline") -> Any:
    if name not in features[key]:
        raise DataError(f"{path}: map_features[{key!r}] has no {name!r}")
    return features[key][name]


def _lanes(
    path: Path,
    features: dict[str, Any],
    kinds: dict[str, str],
    ids: MapFeatureIds,
    lines: dict[int, tuple[str, NDArrayF64]],
) -> tuple[list[Lane], list[str]]:
    """The lanes, and the source ids of those skipped for having < 2 distinct points."""
    lanes, skipped = [], []
    for key, kind in kinds.items():
        if kind not in _LANE_TYPES:
            continue
        centerline = _distinct(points_2d(path, f"map_features[{key!r}]['polyline']", _field(
            path, features, key)))  # fmt: skip
        if centerline.shape[0] < 2:
            skipped.append(key)
            continue
        lanes.append(_lane(path, key, features[key], kind, centerline, ids, lines))
    return _with_mark_types_from_nearby_lines(lanes, lines), skipped


def _distinct(points: NDArrayF64) -> NDArrayF64:
    """The points without consecutive repeats (closer than 1 mm)."""
    keep = np.ones(points.shape[0], dtype=bool)
    keep[1:] = np.linalg.norm(np.diff(points, axis=0), axis=-1) > 1e-3
    return points[keep]


def _lane(
    path: Path,
    key: str,
    feature: Mapping[str, Any],
    kind: str,
    centerline: NDArrayF64,
    ids: MapFeatureIds,
    lines: dict[int, tuple[str, NDArrayF64]],
) -> Lane:
    lane_type = _LANE_TYPES[kind]
    left, right = _boundaries(path, key, feature, centerline, lane_type)
    speed_mps = _speed_limit_mps(feature)
    return Lane(
        id=ids.to_int[key],
        centerline=centerline,
        left_boundary=left,
        right_boundary=right,
        lane_type=lane_type,
        speed_limit_mps=DEFAULT_SPEED_LIMIT_MPS[lane_type] if speed_mps is None else speed_mps,
        speed_limit_is_default=speed_mps is None,
        is_intersection=bool(feature.get("interpolating", False))
        or kind == "LANE_SURFACE_UNSTRUCTURE"
        or ("polygon" not in feature and "width" not in feature),
        successors=_references(feature.get("exit_lanes"), ids),
        predecessors=_references(feature.get("entry_lanes"), ids),
        left_neighbor=_neighbor(feature.get("left_neighbor"), ids),
        right_neighbor=_neighbor(feature.get("right_neighbor"), ids),
        left_mark_type=_referenced_mark(feature.get("left_boundaries"), ids, lines),
        right_mark_type=_referenced_mark(feature.get("right_boundaries"), ids, lines),
    )


def _boundaries(
    path: Path, key: str, feature: Mapping[str, Any], centerline: NDArrayF64, lane_type: LaneType
) -> tuple[NDArrayF64, NDArrayF64]:
    """(left, right) float64[P, 2] boundaries; the choice per source is in the module docstring."""
    if "polygon" in feature:
        polygon = points_2d(path, f"map_features[{key!r}]['polygon']", feature["polygon"])
        halves = polygon_halves(centerline, polygon)
        if halves is not None:
            return halves
    default = BIKE_HALF_WIDTH_M if lane_type == LaneType.BIKE else DEFAULT_HALF_WIDTH_M
    left_m, right_m = default, default
    if "width" in feature:
        width = np.asarray(feature["width"], dtype=np.float64).reshape(-1, 2)
        left_m, right_m = (
            _plausible_median(width[:, 0], default),
            _plausible_median(width[:, 1], default),
        )
    return offset_polyline(centerline, left_m), offset_polyline(centerline, -right_m)


def _plausible_median(half_widths_m: NDArrayF64, default_m: float) -> float:
    low, high = PLAUSIBLE_HALF_WIDTH_M
    plausible = half_widths_m[(half_widths_m >= low) & (half_widths_m <= high)]
    return float(np.median(plausible)) if plausible.size else default_m


def polygon_halves(
    centerline: NDArrayF64, polygon: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64] | None:
    """The lane outline's vertices left / right of `centerline`, each sorted by arc length.

    centerline: float64[P, 2]; polygon: float64[Q, 2] (closed or not). None when a side has
    fewer than two vertices (then the caller offsets the centerline).
    """
    s_m, lateral_m, _ = project_points(centerline, polygon)
    sides = []
    for on_side in (lateral_m > 0.05, lateral_m < -0.05):
        order = np.argsort(s_m[on_side], kind="stable")
        side = _distinct(polygon[on_side][order])
        if side.shape[0] < 2:
            return None
        sides.append(side)
    return sides[0], sides[1]


def offset_polyline(polyline: NDArrayF64, distance_m: float) -> NDArrayF64:
    """float64[P, 2]: `polyline` moved `distance_m` to its left (negative: right) at each point,
    along the normal of the averaged tangent."""
    tangent = np.gradient(polyline, axis=0)
    norm = np.linalg.norm(tangent, axis=-1, keepdims=True)
    tangent = tangent / np.where(norm > 0, norm, 1.0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=-1)
    return polyline + distance_m * normal


def _speed_limit_mps(feature: Mapping[str, Any]) -> float | None:
    """The posted limit in m/s, or None (no limit, 0, or the nuScenes 100 km/h placeholder)."""
    mph = float(feature.get("speed_limit_mph") or 0.0)
    if mph > 0:
        return mph * MPH
    kmh = float(feature.get("speed_limit_kmh") or 0.0)
    if kmh > 0 and kmh != NUSCENES_PLACEHOLDER_KMH:
        return kmh / 3.6
    return None


def _references(values: Any, ids: MapFeatureIds) -> tuple[int, ...]:
    found = (ids.lane_reference(value) for value in (values or ()))
    return tuple(value for value in found if value is not None)


def _neighbor(values: Any, ids: MapFeatureIds) -> int | None:
    """The neighbour overlapping the lane the most (Waymo lists one dict per stretch)."""
    best, best_span = None, -1
    for value in values or ():
        if isinstance(value, Mapping):
            span = int(value.get("self_end_index", 0)) - int(value.get("self_start_index", 0))
            value = value.get("feature_id")
        else:
            span = 0
        reference = ids.lane_reference(value)
        if reference is not None and span > best_span:
            best, best_span = reference, span
    return best


def _referenced_mark(
    values: Any, ids: MapFeatureIds, lines: dict[int, tuple[str, NDArrayF64]]
) -> str:
    """Mark of the boundary stretch covering most of the lane; "UNKNOWN" if none referenced."""
    best, best_span = "UNKNOWN", -1
    for value in values or ():
        if not isinstance(value, Mapping):
            continue
        reference = ids.lane_reference(value.get("boundary_feature_id"))
        source_type = str(value.get("boundary_type", "UNKNOWN"))
        mark = MARK_TYPES.get(source_type)
        if mark is None and reference in lines:
            mark = lines[reference][0]
        span = int(value.get("lane_end_index", 0)) - int(value.get("lane_start_index", 0))
        if mark is not None and span > best_span:
            best, best_span = mark, span
    return best


def _with_mark_types_from_nearby_lines(
    lanes: list[Lane], lines: dict[int, tuple[str, NDArrayF64]]
) -> list[Lane]:
    """Fill "UNKNOWN" marks from the road line nearest each boundary's midpoint (one query)."""
    if not lines:
        return lanes
    marks = np.array([mark for mark, _ in lines.values()], dtype=object)
    tree = shapely.STRtree([shapely.LineString(points) for points in _padded(lines)])
    boundaries = [b for lane in lanes for b in (lane.left_boundary, lane.right_boundary)]
    midpoints = np.array([boundary[boundary.shape[0] // 2] for boundary in boundaries])
    query, hit = tree.query_nearest(
        shapely.points(midpoints), max_distance=MARK_MATCH_DISTANCE_M, all_matches=False
    )
    found = np.full(len(boundaries), "UNKNOWN", dtype=object)
    found[query] = marks[hit]
    result = []
    for index, lane in enumerate(lanes):
        left = lane.left_mark_type if lane.left_mark_type != "UNKNOWN" else str(found[2 * index])
        right = (
            lane.right_mark_type if lane.right_mark_type != "UNKNOWN" else str(found[2 * index + 1])
        )
        result.append(replace(lane, left_mark_type=left, right_mark_type=right))
    return result


def _padded(lines: dict[int, tuple[str, NDArrayF64]]) -> list[NDArrayF64]:
    """Each line's points, a single point doubled so that shapely accepts it."""
    return [p if p.shape[0] >= 2 else np.repeat(p, 2, axis=0) for _, p in lines.values()]


def traffic_lights(
    path: Path, dynamic: Mapping[str, Any], lanes: list[Lane], ids: MapFeatureIds, num_steps: int
) -> tuple[list[TrafficSignal], list[StopLine], TrafficLightStates | None]:
    """One signal per controlled lane (id = the lane's id), a TRAFFIC_LIGHT stop line across the
    lane at its stop point (ids 0..), and states int8[S, T]; None states without any entry."""
    if not dynamic:
        return [], [], None
    by_id = {lane.id: lane for lane in lanes}
    signals, stops, rows = [], [], []
    for key, raw in sorted(dynamic.items(), key=lambda item: str(item[0])):
        lane_id, stop_xy, states = _light(path, str(key), raw, ids, num_steps)
        if any(signal.id == lane_id for signal in signals):
            raise DataError(f"{path}: dynamic_map_states[{key!r}] controls lane {lane_id} twice")
        signals.append(TrafficSignal(id=lane_id, xy=stop_xy, lane_ids=(lane_id,)))
        if lane_id in by_id:
            stops.append(_stop_line(len(stops), by_id[lane_id], stop_xy, StopKind.TRAFFIC_LIGHT))
        rows.append(states)
    signal_ids = np.array([signal.id for signal in signals], dtype=np.int64)
    return signals, stops, TrafficLightStates(signal_ids, np.stack(rows).astype(np.int8))


def _light(
    path: Path, key: str, raw: Any, ids: MapFeatureIds, num_steps: int
) -> tuple[int, NDArrayF64, NDArrayInt]:
    """(lane id, stop point float64[2], states int8[T]) of one entry, either layout:
    newer files: `lane` and `stop_point` at the top, `state.object_state` names (or None);
    older ones: per-step `state.lane` (0 = absent), `state.stop_point`, Waymo enum ints."""
    where = f"dynamic_map_states[{key!r}]"
    state = raw.get("state") if isinstance(raw, Mapping) else None
    if not isinstance(state, Mapping) or "object_state" not in state:
        raise DataError(f"{path}: {where} has no 'state' with 'object_state'")
    states = light_state_values(path, where, state["object_state"], num_steps)
    if "lane" in raw:
        lane, stop = raw["lane"], np.asarray(raw.get("stop_point", (np.nan,) * 3), np.float64)
    else:
        per_step = np.asarray(state.get("lane", ()), dtype=np.int64).reshape(-1)
        present = np.flatnonzero(per_step != 0)
        if present.size == 0:
            raise DataError(f"{path}: {where} 'state.lane' never names a lane")
        lane = per_step[present[0]]
        stop = np.asarray(state.get("stop_point"), np.float64).reshape(-1, 3)[present[0]]
    lane_id = ids.lane_reference(lane)
    if lane_id is None or stop.shape[0] < 2 or not np.all(np.isfinite(stop[:2])):
        raise DataError(f"{path}: {where} has lane {lane!r} / stop point {stop} unusable")
    return lane_id, stop[:2].copy(), states


def light_state_values(path: Path, where: str, values: Any, num_steps: int) -> NDArrayInt:
    """int8[T] `TrafficLightState` values from Waymo enum ints or MetaDrive state names."""
    raw = np.asarray(values, dtype=object).reshape(-1)
    if raw.shape[0] != num_steps:
        raise DataError(f"{path}: {where} has {raw.shape[0]} light states, want {num_steps}")
    names, inverse = np.unique(raw.astype(str), return_inverse=True)
    table = []
    for name in names.tolist():
        if name.isdigit() and int(name) < len(_LIGHT_NAMES):
            name = _LIGHT_NAMES[int(name)]
        if name not in LIGHT_STATES:
            raise DataError(f"{path}: {where} has unknown light state {name!r}")
        table.append(int(LIGHT_STATES[name]))
    return np.asarray(table, dtype=np.int8)[inverse.reshape(-1)]


def _stop_line(stop_id: int, lane: Lane, xy: NDArrayF64, kind: StopKind) -> StopLine:
    """A line across `lane` through the projection of `xy` on its centerline."""
    s_m, _, segment = project_points(lane.centerline, xy[None])
    direction = np.diff(lane.centerline, axis=0)[segment[0]]
    direction = direction / max(float(np.linalg.norm(direction)), 1e-9)
    cumulative = arc_length(lane.centerline)
    ratio = (s_m[0] - cumulative[segment[0]]) / max(
        cumulative[segment[0] + 1] - cumulative[segment[0]], 1e-9
    )
    on_lane = lane.centerline[segment[0]] + ratio * np.diff(lane.centerline, axis=0)[segment[0]]
    half_width_m = 0.5 * _width_near(lane, on_lane)
    normal = np.array([-direction[1], direction[0]])
    ends = np.stack([on_lane + half_width_m * normal, on_lane - half_width_m * normal])
    return StopLine(id=stop_id, xy=ends, kind=kind, lane_ids=(lane.id,))


def _width_near(lane: Lane, xy: NDArrayF64) -> float:
    """Lane width (m) near `xy`: distance between the boundaries' points nearest to it."""
    left = lane.left_boundary[np.argmin(np.linalg.norm(lane.left_boundary - xy, axis=-1))]
    right = lane.right_boundary[np.argmin(np.linalg.norm(lane.right_boundary - xy, axis=-1))]
    return float(np.clip(np.linalg.norm(left - right), 1.0, 2 * PLAUSIBLE_HALF_WIDTH_M[1]))


def _stop_sign_lines(
    path: Path,
    features: dict[str, Any],
    kinds: dict[str, str],
    ids: MapFeatureIds,
    lanes: list[Lane],
    first_id: int,
) -> list[StopLine]:
    """A STOP_SIGN stop line across each controlled lane, at the sign's projection on it."""
    by_id = {lane.id: lane for lane in lanes}
    stops: list[StopLine] = []
    for key, kind in kinds.items():
        if kind != "STOP_SIGN":
            continue
        where = f"map_features[{key!r}]['position']"
        position = points_2d(
            path, where, np.reshape(_field(path, features, key, "position"), (1, -1))
        )[0]
        for value in features[key].get("lane") or ():
            lane_id = ids.lane_reference(value)
            if lane_id in by_id:
                stop_id = first_id + len(stops)
                stops.append(_stop_line(stop_id, by_id[lane_id], position, StopKind.STOP_SIGN))
    return stops


def _crosswalks(
    path: Path, features: dict[str, Any], kinds: dict[str, str], ids: MapFeatureIds
) -> dict[int, Crosswalk]:
    """Crosswalk polygons (`polygon`, or `polyline` in older Waymo files), closing vertex dropped."""
    crosswalks = {}
    for key, kind in kinds.items():
        if kind not in _CROSSWALK_TYPES:
            continue
        name = "polygon" if "polygon" in features[key] else "polyline"
        polygon = points_2d(
            path, f"map_features[{key!r}][{name!r}]", _field(path, features, key, name)
        )
        if polygon.shape[0] > 3 and np.allclose(polygon[0], polygon[-1]):
            polygon = polygon[:-1]
        crosswalks[ids.to_int[key]] = Crosswalk(id=ids.to_int[key], polygon=polygon)
    return crosswalks


def _mark_intersections(lanes: list[Lane], stop_lane_ids: set[int]) -> list[Lane]:
    """Lanes leaving a stop line (successors of a light / stop-sign lane) are in an intersection."""
    entering = {
        successor for lane in lanes if lane.id in stop_lane_ids for successor in lane.successors
    }
    return [replace(lane, is_intersection=True) if lane.id in entering else lane for lane in lanes]


def drivable_pieces(lanes: list[Lane], rings: list[NDArrayF64]) -> tuple[NDArrayF64, ...]:
    """Hole-free polygons float64[P, 2] (open rings) covering the lanes' outlines, their
    centerlines widened by `CENTERLINE_MARGIN_M` (a polygon may end short of its centerline),
    and the areas the `rings` enclose (even-odd rule)."""
    outlines = [np.concatenate([lane.left_boundary, lane.right_boundary[::-1]]) for lane in lanes]
    polygons = shapely.make_valid(shapely.polygons([shapely.linearrings(o) for o in outlines]))
    centerlines = shapely.buffer(
        [shapely.LineString(lane.centerline) for lane in lanes], CENTERLINE_MARGIN_M, quad_segs=2
    )
    area = shapely.union_all(np.concatenate([polygons, centerlines]))
    if rings:
        area = shapely.union(area, even_odd_area(rings))
    return tuple(_open_ring(p) for p in _hole_free(area))


def even_odd_area(rings: list[NDArrayF64]) -> shapely.Geometry:
    """The area inside an odd number of `rings` (float64[P, 2] each): outer rings minus holes,
    a ring being a hole when it lies within an odd number of the others."""
    enclosed = shapely.make_valid(shapely.polygons([shapely.linearrings(r) for r in rings]))
    inner, outer = shapely.STRtree(enclosed).query(enclosed, predicate="within")
    depth = np.bincount(inner[inner != outer], minlength=len(rings))
    holes = shapely.union_all(enclosed[depth % 2 == 1])
    return shapely.difference(shapely.union_all(enclosed[depth % 2 == 0]), holes)


def _hole_free(geometry: shapely.Geometry) -> list[shapely.Polygon]:
    """The polygons of `geometry`, each one with holes cut by vertical lines through its holes."""
    pieces = []
    for polygon in _polygons(geometry):
        if not polygon.interiors:
            pieces.append(polygon)
            continue
        x_min, y_min, x_max, y_max = polygon.bounds
        cuts = sorted({ring.centroid.x for ring in polygon.interiors})
        for low, high in pairwise([x_min - 1.0, *cuts, x_max + 1.0]):
            strip = shapely.box(low, y_min - 1.0, high, y_max + 1.0)
            pieces.extend(_hole_free(shapely.intersection(polygon, strip)))
    return pieces


def _polygons(geometry: shapely.Geometry) -> list[shapely.Polygon]:
    """The non-empty polygons of a polygon, multipolygon or (nested once) collection."""
    parts = shapely.get_parts(shapely.get_parts(geometry))
    return [p for p in parts if isinstance(p, shapely.Polygon) and p.area > 1e-6]


def _open_ring(polygon: shapely.Polygon) -> NDArrayF64:
    return np.asarray(polygon.exterior.coords, dtype=np.float64)[:-1, :2]


def _notes(
    kinds: dict[str, str], skipped: list[str], lines: dict[int, tuple[str, NDArrayF64]]
) -> dict[str, Any]:
    """Map facts for the scenario's metadata: nothing the RoadMap lacks goes unmentioned."""
    used = set(_LANE_TYPES) | _CROSSWALK_TYPES | {"STOP_SIGN"}
    return {
        "map_feature_counts": dict(Counter(kinds.values())),
        "lanes_skipped_degenerate": skipped,
        "map_features_not_in_road_map": dict(
            Counter(k for k in kinds.values() if k not in used and k not in MARK_TYPES)
        ),
        "road_edges": {i: points for i, (mark, points) in lines.items() if mark == "NONE"},
    }
