"""Argoverse 2 vector map (`log_map_archive_*.json`) -> `RoadMap`, in the city frame.

The JSON has `lane_segments`, `pedestrian_crossings` and `drivable_areas`, each a dict keyed by
id; points are `{"x", "y", "z"}` in metres (z is dropped). AV2 maps have no speed limits, stop
lines or signals: lanes get `DEFAULT_SPEED_LIMIT_MPS[lane_type]` with `speed_limit_is_default`.
Successor / predecessor / neighbour ids are kept even when they point outside the map's crop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64
from urbandrive.datasets.arrow_io import one_line
from urbandrive.geometry.polyline import midline
from urbandrive.maps.road_map import DEFAULT_SPEED_LIMIT_MPS, Crosswalk, Lane, LaneType, RoadMap

_LANE_TYPES = {"VEHICLE": LaneType.VEHICLE, "BUS": LaneType.BUS, "BIKE": LaneType.BIKE}


def load_av2_map(path: Path) -> RoadMap:
    """Read and validate an AV2 map JSON; `DataError` naming `path` and the element if bad."""
    document = _read_json(path)
    try:
        lanes = {lane.id: lane for lane in map(_lane, _section(path, document, "lane_segments"))}
        crosswalks = [_crosswalk(raw) for raw in _section(path, document, "pedestrian_crossings")]
        areas = [_drivable_area(raw) for raw in _section(path, document, "drivable_areas")]
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(f"{path}: malformed map element ({_describe(error)})") from error
    if not lanes:
        raise DataError(f"{path}: the map has no lanes")
    road_map = RoadMap(
        lanes=lanes,
        crosswalks={crosswalk.id: crosswalk for crosswalk in crosswalks},
        drivable_areas=tuple(areas),
        source=str(path),
    )
    road_map.validate()
    return road_map


def city_from_map_filename(path: Path) -> tuple[str, int | None]:
    """(city code, map id) from `log_map_archive_<log>____<CITY>_city_<id>.json`; ("", None)
    for the forecasting form, whose name carries only the scenario id."""
    stem = path.stem
    if "____" not in stem:
        return "", None
    city, _, map_id = stem.split("____", 1)[1].partition("_city_")
    return city, int(map_id) if map_id.isdigit() else None


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        document = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not valid JSON ({one_line(error)})") from error
    if not isinstance(document, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(document).__name__}")
    return document


def _section(path: Path, document: dict[str, Any], name: str) -> list[dict[str, Any]]:
    section = document.get(name)
    if section is None:
        raise DataError(f"{path}: key {name!r} missing")
    if not isinstance(section, dict | list):
        raise DataError(f"{path}: {name!r} must be an object or a list")
    return list(section.values() if isinstance(section, dict) else section)


def _points(raw: list[dict[str, float]]) -> NDArrayF64:
    """float64[P, 2] from a list of {"x", "y", "z"}."""
    return np.array([(point["x"], point["y"]) for point in raw], dtype=np.float64).reshape(-1, 2)


def _lane(raw: dict[str, Any]) -> Lane:
    lane_id = int(raw["id"])
    try:
        left, right = _points(raw["left_lane_boundary"]), _points(raw["right_lane_boundary"])
        centerline = _points(raw["centerline"]) if raw.get("centerline") else None
        if centerline is None and min(len(left), len(right)) >= 2:
            centerline = midline(left, right)  # av2-api: average of the resampled boundaries
        lane_type = _LANE_TYPES.get(str(raw["lane_type"]), LaneType.UNKNOWN)
        return Lane(
            id=lane_id,
            centerline=np.zeros((0, 2)) if centerline is None else centerline,
            left_boundary=left,
            right_boundary=right,
            lane_type=lane_type,
            speed_limit_mps=DEFAULT_SPEED_LIMIT_MPS[lane_type],
            speed_limit_is_default=True,
            is_intersection=bool(raw["is_intersection"]),
            successors=tuple(int(i) for i in raw.get("successors") or ()),
            predecessors=tuple(int(i) for i in raw.get("predecessors") or ()),
            left_neighbor=_optional_id(raw.get("left_neighbor_id")),
            right_neighbor=_optional_id(raw.get("right_neighbor_id")),
            left_mark_type=str(raw.get("left_lane_mark_type") or "UNKNOWN"),
            right_mark_type=str(raw.get("right_lane_mark_type") or "UNKNOWN"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"lane {lane_id}: {_describe(error)}") from error


def _crosswalk(raw: dict[str, Any]) -> Crosswalk:
    """The area between edge1 and edge2 (both drawn the same way): e1[0], e1[-1], e2[-1], e2[0]."""
    edge1, edge2 = _points(raw["edge1"]), _points(raw["edge2"])
    return Crosswalk(id=int(raw["id"]), polygon=np.concatenate([edge1, edge2[::-1]], axis=0))


def _drivable_area(raw: dict[str, Any]) -> NDArrayF64:
    """The boundary polygon, its closing vertex (a repeat of the first) dropped."""
    polygon = _points(raw["area_boundary"])
    closed = len(polygon) > 3 and np.array_equal(polygon[0], polygon[-1])
    return polygon[:-1] if closed else polygon


def _optional_id(value: Any) -> int | None:
    return None if value is None else int(value)


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"key {error.args[0]!r} missing"
    return one_line(error)
