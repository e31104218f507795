"""Argoverse 2 motion-forecasting scenarios -> `Scenario`, in the city frame.

A scenario folder holds `scenario_<id>.parquet` (one row per track and step: position, heading
and velocity; 110 steps at 10 Hz, the first 50 observed) and `log_map_archive_<id>.json`.
The track named "AV" is the ego. Sizes are not in the data: type defaults
(`DEFAULT_SIZE_M`), the AV2 ego's size for the ego.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayInt
from urbandrive.datasets.arrow_io import (
    bool_column,
    float_column,
    int_column,
    read_table,
    str_column,
)
from urbandrive.datasets.av2_categories import FORECASTING_TYPE_TO_TYPE, types_of
from urbandrive.datasets.av2_map import load_av2_map
from urbandrive.datasets.av2_sensor import EGO_SIZE_M
from urbandrive.datasets.track_grid import index_rows

EGO_TRACK_ID = "AV"
_TRACK_COLUMNS = (
    "observed",
    "track_id",
    "object_type",
    "object_category",
    "timestep",
    "position_x",
    "position_y",
    "heading",
    "velocity_x",
    "velocity_y",
)
#: float64[len(AgentType), 2]: default (length, width) indexed by type value.
_DEFAULT_SIZES_M = np.array([DEFAULT_SIZE_M[agent_type] for agent_type in sorted(AgentType)])
_SCENARIO_COLUMNS = (
    "scenario_id",
    "start_timestamp",
    "end_timestamp",
    "num_timestamps",
    "focal_track_id",
    "city",
)


def scenario_file(folder: Path) -> Path | None:
    """The folder's `scenario_*.parquet`, None if it has none; `DataError` if several."""
    candidates = sorted(folder.glob("scenario_*.parquet"))
    if len(candidates) > 1:
        raise DataError(f"{folder}: {len(candidates)} scenario_*.parquet files, expected one")
    return candidates[0] if candidates else None


def load_forecasting_scenario(folder: Path) -> Scenario:
    """The scenario in `folder`; current_index is the last observed step (49)."""
    folder = Path(folder)
    path = scenario_file(folder) if folder.is_dir() else None
    if path is None:
        raise DataError(f"{folder}: no scenario_*.parquet (not an AV2 forecasting scenario)")
    table = read_table(path, _TRACK_COLUMNS + _SCENARIO_COLUMNS)
    if table.num_rows == 0:
        raise DataError(f"{path}: no rows")
    timestamps_us = _timestamps_us(path, table)
    track_ids = str_column(path, table, "track_id")
    index = index_rows(path, track_ids, int_column(path, table, "timestep"), timestamps_us.size)
    valid = index.valid
    xy = np.stack([float_column(path, table, n) for n in ("position_x", "position_y")], -1)
    velocity = np.stack([float_column(path, table, n) for n in ("velocity_x", "velocity_y")], -1)
    object_types = index.first_per_agent(str_column(path, table, "object_type"))
    types = types_of(object_types, FORECASTING_TYPE_TO_TYPE)
    size_m = _DEFAULT_SIZES_M[types]
    is_ego = index.agent_ids == EGO_TRACK_ID
    size_m[is_ego] = EGO_SIZE_M
    observed = bool_column(path, table, "observed")
    num_observed = int(index.step_of_row[observed].max()) + 1 if observed.any() else 1
    tracks = Tracks.from_arrays(
        ids=index.agent_ids.tolist(),
        types=types,
        size_m=size_m,
        xy=index.scatter(xy),
        heading=index.scatter(float_column(path, table, "heading")),
        velocity=index.scatter(velocity),
        valid=valid,
        attributes={
            "source_category": object_types.astype(str),
            "object_category": index.first_per_agent(
                int_column(path, table, "object_category")
            ).astype(np.int8),
        },
    )
    return Scenario(
        id=_first(table, "scenario_id"),
        source="av2_forecasting",
        timestamps_us=timestamps_us,
        dt_s=0.1,
        current_index=num_observed - 1,
        tracks=tracks,
        ego_index=int(np.flatnonzero(is_ego)[0]) if is_ego.any() else None,
        road_map=load_av2_map(_map_file(folder, path)),
        metadata=_metadata(table, folder, num_observed),
    )


def _timestamps_us(path: Path, table: pa.Table) -> NDArrayInt:
    """int64[T] microseconds: `num_timestamps` evenly from start to end (stored as ns)."""
    start_ns = float_column(path, table, "start_timestamp")[0]
    end_ns = float_column(path, table, "end_timestamp")[0]
    num_steps = int(int_column(path, table, "num_timestamps")[0])
    if num_steps < 1 or end_ns < start_ns:
        raise DataError(f"{path}: bad time range: {num_steps} steps from {start_ns} to {end_ns} ns")
    return np.round(np.linspace(start_ns, end_ns, num_steps) * 1e-3).astype(np.int64)


def _metadata(table: pa.Table, folder: Path, num_observed: int) -> dict[str, object]:
    return {
        "scenario_id": _first(table, "scenario_id"),
        "focal_track_id": _first(table, "focal_track_id"),
        "city": _first(table, "city"),
        "map_id": _first(table, "map_id") if "map_id" in table.column_names else None,
        "slice_id": _first(table, "slice_id") if "slice_id" in table.column_names else None,
        "num_observed_steps": num_observed,
        "path": str(folder),
    }


def _first(table: pa.Table, name: str) -> object:
    value = table.column(name)[0].as_py()
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def _map_file(folder: Path, scenario_path: Path) -> Path:
    scenario_id = scenario_path.stem.removeprefix("scenario_")
    exact = folder / f"log_map_archive_{scenario_id}.json"
    if exact.is_file():
        return exact
    candidates = sorted(folder.glob("log_map_archive_*.json"))
    if len(candidates) != 1:
        raise DataError(f"{folder}: expected one log_map_archive_*.json, found {len(candidates)}")
    return candidates[0]
