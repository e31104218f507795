"""Waymo `MapFeature` messages (map.proto) decoded from the wire into small raw records.

Polylines and polygons (repeated `MapPoint`) are read as float64[P, 3] in one numpy view per
run of points (`wire.read_run`). The records keep the proto's names and values; turning them
into a `RoadMap` is `urbandrive.datasets.womd_map`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.datasets.womd_protos.wire import (
    LENGTH_DELIMITED,
    VARINT,
    FixedLayout,
    WireError,
    as_signed,
    expect,
    fixed_layout,
    packed_varints,
    read_double,
    read_field,
    read_run,
)

_POINT_FIELDS = (("x", 1, "double"), ("y", 2, "double"), ("z", 3, "double"))
#: `MapPoint` runs by the field number they are repeated under (8: lane polyline,
#: 2: road line / edge polyline, 1: crosswalk / speed bump / driveway polygon).
_POINT_LAYOUTS = {number: fixed_layout(number, _POINT_FIELDS) for number in (1, 2, 8)}
#: `MapFeature.feature_data` oneof: field number -> kind.
FEATURE_KINDS = {
    3: "lane",
    4: "road_line",
    5: "road_edge",
    7: "stop_sign",
    8: "crosswalk",
    9: "speed_bump",
    10: "driveway",
}


@dataclass(frozen=True, slots=True)
class RawLane:
    """A `LaneCenter`. polyline: float64[P, 3] m. boundaries: int64[B, 4] rows of
    (lane_start_index, lane_end_index, boundary_feature_id, boundary_type). neighbours:
    feature ids in the order given."""

    id: int
    speed_limit_mph: float
    lane_type: int
    interpolating: bool
    polyline: NDArrayF64
    entry_lanes: tuple[int, ...]
    exit_lanes: tuple[int, ...]
    left_boundaries: NDArrayInt
    right_boundaries: NDArrayInt
    left_neighbors: tuple[int, ...]
    right_neighbors: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RawShape:
    """A road line / road edge (polyline) or crosswalk / speed bump / driveway (polygon):
    points float64[P, 3] m; type: the proto's type enum (0 for polygons)."""

    id: int
    type: int
    points: NDArrayF64


@dataclass(frozen=True, slots=True)
class RawStopSign:
    """A `StopSign`: the lanes it controls and its position float64[3] m."""

    id: int
    lanes: tuple[int, ...]
    position: NDArrayF64


@dataclass(frozen=True, slots=True)
class RawMap:
    """Every map feature by kind, each a dict keyed by feature id."""

    lanes: dict[int, RawLane] = field(default_factory=dict)
    road_lines: dict[int, RawShape] = field(default_factory=dict)
    road_edges: dict[int, RawShape] = field(default_factory=dict)
    stop_signs: dict[int, RawStopSign] = field(default_factory=dict)
    crosswalks: dict[int, RawShape] = field(default_factory=dict)
    speed_bumps: dict[int, RawShape] = field(default_factory=dict)
    driveways: dict[int, RawShape] = field(default_factory=dict)

    @staticmethod
    def from_features(features: Iterable[tuple[str, object] | None]) -> RawMap:
        """Group (kind, record) pairs; None (a feature without data) is skipped.
        `WireError` on a repeated feature id."""
        raw = RawMap()
        seen: set[int] = set()
        for feature in features:
            if feature is None:
                continue
            kind, record = feature
            feature_id = record.id  # type: ignore[attr-defined]
            if feature_id in seen:
                raise WireError(f"map feature id {feature_id} appears twice")
            seen.add(feature_id)
            group = "lanes" if kind == "lane" else f"{kind}s"
            getattr(raw, group)[feature_id] = record
        return raw


def decode_map_feature(
    data: bytes, buffer: np.ndarray, start: int, stop: int
) -> tuple[str, object] | None:
    """(kind, raw record) of the `MapFeature` at `data[start:stop]`; None without data."""
    feature_id, kind, span = 0, None, (0, 0)
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        if number == 1:
            expect("MapFeature.id", wire_type, VARINT)
            feature_id = as_signed(value)
        elif number in FEATURE_KINDS:
            expect(f"MapFeature.{FEATURE_KINDS[number]}", wire_type, LENGTH_DELIMITED)
            kind, span = FEATURE_KINDS[number], (value, end)
        offset = end
    if kind is None:
        return None
    if kind == "lane":
        return kind, _lane(data, buffer, feature_id, *span)
    if kind == "stop_sign":
        return kind, _stop_sign(data, feature_id, *span)
    if kind in ("road_line", "road_edge"):
        return kind, _shape(data, buffer, feature_id, *span, points_field=2, type_field=1)
    return kind, _shape(data, buffer, feature_id, *span, points_field=1, type_field=None)


def decode_map_point(data: bytes, start: int, stop: int) -> tuple[float, float, float]:
    """(x, y, z) metres of the `MapPoint` at `data[start:stop]`, field by field."""
    xyz = [0.0, 0.0, 0.0]
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        if 1 <= number <= 3:
            xyz[number - 1] = read_double(data, wire_type, value)
        offset = end
    return xyz[0], xyz[1], xyz[2]


def read_points(
    data: bytes, buffer: np.ndarray, offset: int, stop: int, layout: FixedLayout
) -> tuple[list[tuple[float, float, float]] | np.ndarray, int]:
    """The `MapPoint` run starting at `offset` as float64[N, 3], and the offset after it;
    a point that does not follow the usual layout is decoded alone (N = 1)."""
    run, end = read_run(data, buffer, offset, stop, layout)
    if run.size:
        return np.stack([run["x"], run["y"], run["z"]], axis=-1), end
    _, wire_type, value, end = read_field(data, offset, stop)
    expect("MapPoint", wire_type, LENGTH_DELIMITED)
    return [decode_map_point(data, value, end)], end


def _lane(data: bytes, buffer: np.ndarray, lane_id: int, start: int, stop: int) -> RawLane:
    """A `LaneCenter`, its repeated fields gathered in order."""
    scalars: dict[int, float] = {1: 0.0, 2: 0, 3: 0}
    points: list[np.ndarray | list[tuple[float, float, float]]] = []
    lists: dict[int, list] = {9: [], 10: [], 11: [], 12: [], 13: [], 14: []}
    offset = start
    while offset < stop:
        if buffer[offset] == _POINT_LAYOUTS[8].expected[0]:
            run, offset = read_points(data, buffer, offset, stop, _POINT_LAYOUTS[8])
            points.append(run)
            continue
        number, wire_type, value, end = read_field(data, offset, stop)
        if number == 1:
            scalars[1] = read_double(data, wire_type, value)
        elif number in (2, 3):
            expect("LaneCenter.type/interpolating", wire_type, VARINT)
            scalars[number] = as_signed(value)
        elif number in (9, 10):
            lists[number] += (
                [as_signed(value)] if wire_type == VARINT else packed_varints(data, value, end)
            )
        elif number in lists:
            expect("LaneCenter boundaries/neighbours", wire_type, LENGTH_DELIMITED)
            lists[number].append(_small_message(data, value, end, number in (13, 14)))
        offset = end
    return RawLane(
        id=lane_id,
        speed_limit_mph=float(scalars[1]),
        lane_type=int(scalars[2]),
        interpolating=bool(scalars[3]),
        polyline=_stack_points(points),
        entry_lanes=tuple(lists[9]),
        exit_lanes=tuple(lists[10]),
        left_boundaries=np.array(lists[13], dtype=np.int64).reshape(-1, 4),
        right_boundaries=np.array(lists[14], dtype=np.int64).reshape(-1, 4),
        left_neighbors=tuple(neighbor[0] for neighbor in lists[11]),
        right_neighbors=tuple(neighbor[0] for neighbor in lists[12]),
    )


def _small_message(data: bytes, start: int, stop: int, is_boundary: bool) -> tuple[int, ...]:
    """A `BoundarySegment` as (lane_start_index, lane_end_index, boundary_feature_id,
    boundary_type), or a `LaneNeighbor` as (feature_id,) (its index ranges are not used)."""
    values = {1: 0, 2: 0, 3: 0, 4: 0}
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        if number in values and wire_type == VARINT:
            values[number] = as_signed(value)
        offset = end
    return (values[1], values[2], values[3], values[4]) if is_boundary else (values[1],)


def _shape(
    data: bytes,
    buffer: np.ndarray,
    feature_id: int,
    start: int,
    stop: int,
    points_field: int,
    type_field: int | None,
) -> RawShape:
    """A polyline feature (road line / edge) or a polygon feature (crosswalk, ...)."""
    layout = _POINT_LAYOUTS[points_field]
    kind, points = 0, []
    offset = start
    while offset < stop:
        if buffer[offset] == layout.expected[0]:
            run, offset = read_points(data, buffer, offset, stop, layout)
            points.append(run)
            continue
        number, wire_type, value, end = read_field(data, offset, stop)
        if number == type_field:
            expect("type", wire_type, VARINT)
            kind = as_signed(value)
        offset = end
    return RawShape(id=feature_id, type=kind, points=_stack_points(points))


def _stop_sign(data: bytes, feature_id: int, start: int, stop: int) -> RawStopSign:
    lanes: list[int] = []
    position = (np.nan, np.nan, np.nan)
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        if number == 1:
            lanes += [as_signed(value)] if wire_type == VARINT else packed_varints(data, value, end)
        elif number == 2:
            expect("StopSign.position", wire_type, LENGTH_DELIMITED)
            position = decode_map_point(data, value, end)
        offset = end
    return RawStopSign(id=feature_id, lanes=tuple(lanes), position=np.array(position))


def _stack_points(runs: list[np.ndarray | list[tuple[float, float, float]]]) -> NDArrayF64:
    if not runs:
        return np.zeros((0, 3))
    return np.concatenate([np.asarray(run, dtype=np.float64).reshape(-1, 3) for run in runs])
