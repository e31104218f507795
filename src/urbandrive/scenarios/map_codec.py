"""`RoadMap` <-> one-row Arrow table (one Parquet file per map), content-addressed, exact.

Every element kind is stored as columns of one row: scalars per element as lists
(`lane_id: list<int64>`), polylines as lists of flat coordinate lists
(`lane_centerline: list<list<float64>>`, x0 y0 x1 y1 ...), id tuples as lists of lists.
Decoding gives back the same lanes, crosswalks, stop lines, signals and drivable areas, in
the same order, with the same values (float64 bit for bit) and the same enum types.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as parquet

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.road_map import (
    Crosswalk,
    Lane,
    LaneType,
    RoadMap,
    StopKind,
    StopLine,
    TrafficSignal,
)

CODEC_VERSION = 1
_POINTS = pa.list_(pa.list_(pa.float64()))
_ID_LISTS = pa.list_(pa.list_(pa.int64()))

#: Lane fields and how they are stored; a new `Lane` field must be added here (a test checks).
LANE_FIELDS = (
    "id",
    "centerline",
    "left_boundary",
    "right_boundary",
    "lane_type",
    "speed_limit_mps",
    "speed_limit_is_default",
    "is_intersection",
    "successors",
    "predecessors",
    "left_neighbor",
    "right_neighbor",
    "left_mark_type",
    "right_mark_type",
)


def encode_road_map(road_map: RoadMap) -> pa.Table:
    """The map as a one-row table; `DataError` if an element is stored under another id."""
    _check_keys(road_map)
    lanes = list(road_map.lanes.values())
    columns: dict[str, pa.Array] = {
        "codec_version": pa.array([CODEC_VERSION], pa.int32()),
        "source": pa.array([road_map.source], pa.string()),
        **_lane_columns(lanes),
    }
    crosswalks = list(road_map.crosswalks.values())
    columns["crosswalk_id"] = _row([c.id for c in crosswalks], pa.int64())
    columns["crosswalk_polygon"] = _points_row([c.polygon for c in crosswalks])
    stop_lines = list(road_map.stop_lines.values())
    columns["stop_line_id"] = _row([s.id for s in stop_lines], pa.int64())
    columns["stop_line_xy"] = _points_row([s.xy for s in stop_lines])
    columns["stop_line_kind"] = _row([int(s.kind) for s in stop_lines], pa.int8())
    columns["stop_line_lane_ids"] = _row(
        [list(s.lane_ids) for s in stop_lines], _ID_LISTS.value_type
    )
    signals = list(road_map.signals.values())
    columns["signal_id"] = _row([s.id for s in signals], pa.int64())
    columns["signal_xy"] = _points_row([s.xy for s in signals])
    columns["signal_lane_ids"] = _row([list(s.lane_ids) for s in signals], _ID_LISTS.value_type)
    columns["drivable_areas"] = _points_row(list(road_map.drivable_areas))
    return pa.table(columns)


def _check_keys(road_map: RoadMap) -> None:
    for kind, elements in (
        ("lane", road_map.lanes),
        ("crosswalk", road_map.crosswalks),
        ("stop line", road_map.stop_lines),
        ("signal", road_map.signals),
    ):
        for key, element in elements.items():
            if key != element.id:
                raise DataError(
                    f"map {road_map.source!r}: {kind} stored under {key} has id {element.id}"
                )


def _lane_columns(lanes: list[Lane]) -> dict[str, pa.Array]:
    return {
        "lane_id": _row([lane.id for lane in lanes], pa.int64()),
        "lane_centerline": _points_row([lane.centerline for lane in lanes]),
        "lane_left_boundary": _points_row([lane.left_boundary for lane in lanes]),
        "lane_right_boundary": _points_row([lane.right_boundary for lane in lanes]),
        "lane_type": _row([int(lane.lane_type) for lane in lanes], pa.int8()),
        "lane_speed_limit_mps": _row([float(lane.speed_limit_mps) for lane in lanes], pa.float64()),
        "lane_speed_limit_is_default": _row(
            [lane.speed_limit_is_default for lane in lanes], pa.bool_()
        ),
        "lane_is_intersection": _row([lane.is_intersection for lane in lanes], pa.bool_()),
        "lane_successors": _row([list(lane.successors) for lane in lanes], pa.list_(pa.int64())),
        "lane_predecessors": _row(
            [list(lane.predecessors) for lane in lanes], pa.list_(pa.int64())
        ),
        "lane_left_neighbor": _row([lane.left_neighbor for lane in lanes], pa.int64()),
        "lane_right_neighbor": _row([lane.right_neighbor for lane in lanes], pa.int64()),
        "lane_left_mark_type": _row([lane.left_mark_type for lane in lanes], pa.string()),
        "lane_right_mark_type": _row([lane.right_mark_type for lane in lanes], pa.string()),
    }


def _row(values: list, value_type: pa.DataType) -> pa.Array:
    """A one-row `list<value_type>` column holding `values`."""
    return pa.array([values], pa.list_(value_type))


def _points_row(polylines: list[NDArrayF64]) -> pa.Array:
    """A one-row `list<list<float64>>` column: each float64[P, 2] polyline flattened."""
    flat = [np.ascontiguousarray(p, dtype=np.float64).reshape(-1) for p in polylines]
    lengths = np.array([f.shape[0] for f in flat], dtype=np.int32)
    inner_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    values = np.concatenate(flat) if flat else np.zeros(0, np.float64)
    inner = pa.ListArray.from_arrays(pa.array(inner_offsets), pa.array(values, pa.float64()))
    return pa.ListArray.from_arrays(pa.array([0, len(flat)], pa.int32()), inner)


def map_hash(table: pa.Table) -> str:
    """A content hash of an encoded map (sha256 of its Arrow IPC bytes), 32 hex characters."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:32]


def write_road_map(road_map: RoadMap, maps_dir: Path) -> str:
    """Write the map once as `maps_dir/<hash>.parquet` (kept if already there); its hash."""
    table = encode_road_map(road_map)
    digest = map_hash(table)
    path = map_path(maps_dir, digest)
    if not path.exists():
        maps_dir.mkdir(parents=True, exist_ok=True)
        write_parquet_exclusive(table, path)
    return digest


def map_path(maps_dir: Path, digest: str) -> Path:
    return maps_dir / f"{digest}.parquet"


def write_parquet_exclusive(table: pa.Table, path: Path, **options: object) -> None:
    """Write `table` to a temporary file, then link it to `path`; never replaces a file.

    Readers see the whole file or none; `FileExistsError` if `path` exists.
    """
    temporary = temporary_file(path)
    try:
        parquet.write_table(table, temporary, **options)
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def temporary_file(path: Path) -> Path:
    """A new empty file beside `path`, readable as the user's umask allows (not just 0600)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_UMASK)
    return Path(temporary)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@lru_cache(maxsize=16)
def read_road_map(path: Path) -> RoadMap:
    """The map stored at `path` (cached: map files are content-addressed and never change)."""
    if not path.is_file():
        raise DataError(f"{path}: map file not found")
    try:
        table = parquet.read_table(path)
        return decode_road_map(table)
    except (pa.ArrowException, OSError, KeyError, ValueError, IndexError) as error:
        message = " ".join(str(error).split())[:160]
        raise DataError(f"{path}: not a readable map file ({message})") from error


def decode_road_map(table: pa.Table) -> RoadMap:
    """Inverse of `encode_road_map`."""
    row = {name: table.column(name).combine_chunks() for name in table.column_names}
    version = row["codec_version"][0].as_py()
    if version != CODEC_VERSION:
        raise ValueError(f"codec_version {version}, this reader knows {CODEC_VERSION}")
    lanes = _decode_lanes(row)
    crosswalks = [
        Crosswalk(id=i, polygon=p)
        for i, p in zip(_ints(row["crosswalk_id"]), _points(row["crosswalk_polygon"]), strict=True)
    ]
    stop_lines = [
        StopLine(id=i, xy=p, kind=StopKind(k), lane_ids=tuple(ids))
        for i, p, k, ids in zip(
            _ints(row["stop_line_id"]),
            _points(row["stop_line_xy"]),
            _ints(row["stop_line_kind"]),
            _values(row["stop_line_lane_ids"]),
            strict=True,
        )
    ]
    signals = [
        TrafficSignal(id=i, xy=p.reshape(2), lane_ids=tuple(ids))
        for i, p, ids in zip(
            _ints(row["signal_id"]),
            _points(row["signal_xy"]),
            _values(row["signal_lane_ids"]),
            strict=True,
        )
    ]
    return RoadMap(
        lanes={lane.id: lane for lane in lanes},
        crosswalks={c.id: c for c in crosswalks},
        stop_lines={s.id: s for s in stop_lines},
        signals={s.id: s for s in signals},
        drivable_areas=tuple(_points(row["drivable_areas"])),
        source=row["source"][0].as_py(),
    )


def _decode_lanes(row: dict[str, pa.Array]) -> list[Lane]:
    columns = {
        "id": _ints(row["lane_id"]),
        "centerline": _points(row["lane_centerline"]),
        "left_boundary": _points(row["lane_left_boundary"]),
        "right_boundary": _points(row["lane_right_boundary"]),
        "lane_type": [LaneType(t) for t in _ints(row["lane_type"])],
        "speed_limit_mps": _values(row["lane_speed_limit_mps"]),
        "speed_limit_is_default": _values(row["lane_speed_limit_is_default"]),
        "is_intersection": _values(row["lane_is_intersection"]),
        "successors": [tuple(ids) for ids in _values(row["lane_successors"])],
        "predecessors": [tuple(ids) for ids in _values(row["lane_predecessors"])],
        "left_neighbor": _values(row["lane_left_neighbor"]),
        "right_neighbor": _values(row["lane_right_neighbor"]),
        "left_mark_type": _values(row["lane_left_mark_type"]),
        "right_mark_type": _values(row["lane_right_mark_type"]),
    }
    count = len(columns["id"])
    return [Lane(**{name: columns[name][i] for name in LANE_FIELDS}) for i in range(count)]


def _values(column: pa.Array) -> list:
    """The Python values of a one-row list column."""
    return column[0].values.to_pylist()


def _ints(column: pa.Array) -> list[int]:
    return [int(v) for v in _values(column)]


def _points(column: pa.Array) -> list[NDArrayF64]:
    """float64[P, 2] arrays from a one-row `list<list<float64>>` column."""
    inner = column[0].values
    offsets = inner.offsets.to_numpy()
    flat = inner.values.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    return [flat[start:stop].reshape(-1, 2) for start, stop in itertools.pairwise(offsets)]


def lane_fields_covered() -> bool:
    """Whether `LANE_FIELDS` names every field of `Lane` (checked by the tests)."""
    return set(LANE_FIELDS) == {f.name for f in dataclasses.fields(Lane)}
