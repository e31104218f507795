"""The `scenarionet:PATH` loader: ScenarioNet / MetaDrive "scenario description" pickles.

PATH is a `.pkl` file, or a folder: `list_scenarios` lists every `.pkl` below it except
ScenarioNet's index files (`dataset_summary.pkl`, `dataset_mapping.pkl`).

SECURITY: unpickling can run arbitrary code. Only load files you trust. The reader is a
restricted `pickle.Unpickler` that resolves only numpy arrays / dtypes / scalars and plain
builtins containers; any other class in the pickle raises `DataError`.

A description is a dict: `tracks` (id -> {type, state: {position, heading, velocity, valid,
length, width, height}, metadata}), `map_features`, `dynamic_map_states`, `metadata` (sdc_id,
ts, dataset, scenario_id, and for Waymo motion files current_time_index, sdc_track_index,
tracks_to_predict). Decisions, per dataset:

- frame: the file's global frame (metres; nuScenes scenes are centred on the ego's first pose
  by the converter). `metadata.coordinate` "metadrive" (left-handed) is refused.
- timestamps: `metadata.ts` (seconds) rounded to int64 microseconds (Waymo's real, jittered
  ~10 Hz clock; nuScenes 2 Hz keyframes interpolated to 0.1 s by the converter), else
  `arange(T) * sample_rate` (default 0.1 s). dt_s = 0.1.
- current_index: `metadata.current_time_index` (Waymo 9.1 s files: 10) when present, else the
  step `DEFAULT_HISTORY_S` = 2 s after the first (the AV2 sensor-log convention).
- tracks in file order (so Waymo's `sdc_track_index` / `tracks_to_predict.track_index` stay
  valid rows); ego = `metadata.sdc_id`; sizes = median over valid steps with size > 0, the
  type's default otherwise (attribute `size_is_default`); a vehicle wider than long has the two
  swapped (attribute `size_swapped`: the nuScenes converter writes the ego as 1.73 m long and
  4.08 m wide); `valid` > 0.5 (nuScenes stores 0/1
  floats); velocity as stored (nuScenes: the converter's finite differences).
- types: VEHICLE (LARGE_VEHICLE for nuScenes bus / trailer, and any vehicle longer than
  `LARGE_VEHICLE_MIN_LENGTH_M`), nuScenes vehicle.motorcycle -> MOTORCYCLIST, CYCLIST,
  PEDESTRIAN, animal -> ANIMAL, TRAFFIC_CONE / TRAFFIC_BARRIER / TRAFFIC_OBJECT -> STATIC,
  anything else UNKNOWN; the source names stay in attributes `source_type`, `source_category`.
- map and lights: see `urbandrive.datasets.scenarionet_map`.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.datasets.arrow_io import one_line
from urbandrive.datasets.scenarionet_map import build_map
from urbandrive.geometry.angles import wrap_angle

INDEX_FILES = frozenset({"dataset_summary.pkl", "dataset_mapping.pkl"})
DEFAULT_DT_S = 0.1
DEFAULT_HISTORY_S = 2.0
LARGE_VEHICLE_MIN_LENGTH_M = 7.0
_REQUIRED_KEYS = ("tracks", "map_features", "metadata")
_ALLOWED_CLASSES = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("collections", "OrderedDict"),
        *(("builtins", name) for name in ("set", "frozenset", "complex", "bytearray", "slice")),
    }
)
_COARSE_TYPES = {
    "VEHICLE": AgentType.VEHICLE,
    "PEDESTRIAN": AgentType.PEDESTRIAN,
    "CYCLIST": AgentType.CYCLIST,
    "TRAFFIC_CONE": AgentType.STATIC,
    "TRAFFIC_BARRIER": AgentType.STATIC,
    "TRAFFIC_OBJECT": AgentType.STATIC,
}
#: nuScenes category prefixes (track metadata `type`) that refine the coarse type.
_CATEGORY_TYPES = (
    ("vehicle.bus", AgentType.LARGE_VEHICLE),
    ("vehicle.trailer", AgentType.LARGE_VEHICLE),
    ("vehicle.motorcycle", AgentType.MOTORCYCLIST),
    ("animal", AgentType.ANIMAL),
)
# state columns gathered per track: x, y, heading, vx, vy, length, width, height
_COLUMNS = 8


@dataclass(frozen=True, slots=True)
class ScenarioNetLoader:
    """Loads ScenarioNet scenario pickles (Waymo- and nuScenes-origin); trusted files only."""

    scheme: str = "scenarionet"

    def load(self, location: str) -> Scenario:
        """The scenario in the `.pkl` at `location` (or the only one in that folder)."""
        path = Path(location).expanduser()
        if path.is_dir():
            found = find_scenario_files(path)
            if len(found) != 1:
                raise DataError(
                    f"{path}: holds {len(found)} ScenarioNet scenarios; load one of them, "
                    "or expand the URI"
                )
            path = found[0]
        return load_scenarionet(path)

    def list_scenarios(self, location: str) -> list[str]:
        """Every scenario `.pkl` at or below `location`, sorted; index files skipped."""
        path = Path(location).expanduser()
        found = [path] if path.is_file() else find_scenario_files(path)
        if not found:
            raise DataError(f"{path}: no ScenarioNet scenario .pkl files found")
        return [str(file) for file in found]


LOADER = ScenarioNetLoader()


def find_scenario_files(folder: Path) -> list[Path]:
    """The `.pkl` files below `folder`, sorted, without ScenarioNet's index files."""
    if not folder.exists():
        raise DataError(f"{folder}: no such file or folder")
    return sorted(p for p in folder.rglob("*.pkl") if p.is_file() and p.name not in INDEX_FILES)


def load_scenarionet(path: Path) -> Scenario:
    """Read (restricted unpickling: trusted files only) and convert one scenario pickle."""
    return scenario_from_description(path, read_description(path))


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Resolves only numpy arrays / dtypes / scalars and plain builtins containers."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_CLASSES:
            raise pickle.UnpicklingError(f"class {module}.{name} is not allowed")
        return super().find_class(module, name)


def read_description(path: Path) -> dict[str, Any]:
    """The pickled dict, checked to hold `tracks`, `map_features` and `metadata`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.name in INDEX_FILES:
        raise DataError(f"{path}: a ScenarioNet index file, not a scenario")
    try:
        description = _NumpyOnlyUnpickler(io.BytesIO(path.read_bytes())).load()
    except Exception as error:  # a broken pickle can raise almost anything
        raise DataError(f"{path}: not a readable scenario pickle ({one_line(error)})") from error
    if not isinstance(description, dict):
        raise DataError(f"{path}: expected a dict, got {type(description).__name__}")
    for key in _REQUIRED_KEYS:
        if key not in description:
            raise DataError(f"{path}: key {key!r} missing")
        if not isinstance(description[key], Mapping):
            raise DataError(f"{path}: {key!r} must be a dict")
    return description


def scenario_from_description(path: Path, description: Mapping[str, Any]) -> Scenario:
    """Convert a scenario-description dict (`read_description`) into a `Scenario`."""
    metadata = description["metadata"]
    _check_frame(path, metadata)
    raw_tracks = description["tracks"]
    if not raw_tracks:
        raise DataError(f"{path}: 'tracks' is empty")
    num_steps = _num_steps(path, description, raw_tracks)
    timestamps_us = _timestamps_us(path, metadata, num_steps)
    tracks = tracks_from_description(path, raw_tracks, num_steps)
    dynamic = description.get("dynamic_map_states") or {}
    if not isinstance(dynamic, Mapping):
        raise DataError(f"{path}: 'dynamic_map_states' must be a dict")
    built = build_map(path, description["map_features"], dynamic, num_steps)
    return Scenario(
        id=str(metadata.get("scenario_id", description.get("id", path.stem))),
        source=f"scenarionet_{metadata.get('dataset', 'unknown')}",
        timestamps_us=timestamps_us,
        dt_s=DEFAULT_DT_S,
        current_index=_current_index(path, metadata, timestamps_us),
        tracks=tracks,
        ego_index=_ego_index(path, metadata, tracks),
        road_map=built.road_map,
        traffic_lights=built.lights,
        metadata=_metadata(path, description, built.ids.source_ids, built.notes),
    )


def _check_frame(path: Path, metadata: Mapping[str, Any]) -> None:
    coordinate = str(metadata.get("coordinate", "waymo"))
    if coordinate not in ("waymo", "right-handed"):
        raise DataError(
            f"{path}: metadata 'coordinate' is {coordinate!r}; only right-handed frames "
            "('waymo', 'right-handed') are supported"
        )


def _num_steps(path: Path, description: Mapping[str, Any], tracks: Mapping[str, Any]) -> int:
    """T: `length` when given, else the first track's `valid` length."""
    if "length" in description:
        return int(description["length"])
    first_id, first = next(iter(tracks.items()))
    return int(np.asarray(_state(path, str(first_id), first)["valid"]).reshape(-1).shape[0])


def _timestamps_us(path: Path, metadata: Mapping[str, Any], num_steps: int) -> NDArrayInt:
    """int64[T] microseconds from `ts` (seconds), else a `sample_rate` (default 0.1 s) grid."""
    if "ts" in metadata:
        seconds = np.asarray(metadata["ts"], dtype=np.float64).reshape(-1)
        if seconds.shape[0] != num_steps or not np.all(np.isfinite(seconds)):
            raise DataError(
                f"{path}: metadata 'ts' has {seconds.shape[0]} finite-checked values, want {num_steps}"
            )
    else:
        seconds = np.arange(num_steps) * float(metadata.get("sample_rate", DEFAULT_DT_S))
    return np.round(seconds * 1e6).astype(np.int64)


def _current_index(path: Path, metadata: Mapping[str, Any], timestamps_us: NDArrayInt) -> int:
    if "current_time_index" in metadata:
        index = int(metadata["current_time_index"])
        if not 0 <= index < timestamps_us.shape[0]:
            raise DataError(f"{path}: metadata 'current_time_index' {index} outside the steps")
        return index
    times_s = (timestamps_us - timestamps_us[0]) * 1e-6
    return int(np.argmin(np.abs(times_s - DEFAULT_HISTORY_S)))


def _ego_index(path: Path, metadata: Mapping[str, Any], tracks: Tracks) -> int | None:
    if "sdc_id" not in metadata:
        return None
    hits = np.flatnonzero(tracks.ids == str(metadata["sdc_id"]))
    if hits.size == 0:
        raise DataError(f"{path}: metadata 'sdc_id' {metadata['sdc_id']!r} is not a track")
    return int(hits[0])


def _state(path: Path, track_id: str, track: Any) -> Mapping[str, Any]:
    where = f"tracks[{track_id!r}]"
    if not isinstance(track, Mapping):
        raise DataError(f"{path}: {where} must be a dict, got {type(track).__name__}")
    state = track.get("state")
    if not isinstance(state, Mapping):
        raise DataError(f"{path}: {where} has no 'state' dict")
    for key in ("position", "heading", "valid"):
        if key not in state:
            raise DataError(f"{path}: {where}['state'] key {key!r} missing")
    return state


def tracks_from_description(path: Path, raw_tracks: Mapping[str, Any], num_steps: int) -> Tracks:
    """Tracks `(A, T)` in file order: states stacked once, sizes and types per agent."""
    ids = [str(track_id) for track_id in raw_tracks]
    columns, valid = zip(
        *(
            _state_columns(path, i, t, num_steps)
            for i, t in zip(ids, raw_tracks.values(), strict=True)
        ),
        strict=True,
    )
    states, valid_array = np.stack(columns), np.stack(valid)  # [A, T, 8], [A, T]
    coarse = [str(track.get("type", "UNKNOWN")) for track in raw_tracks.values()]
    category = [str((t.get("metadata") or {}).get("type", "")) for t in raw_tracks.values()]
    size_m, size_is_default = _sizes(states[..., 5:7], valid_array)
    vehicle = np.isin(np.array(coarse), ("VEHICLE",))
    size_swapped = vehicle & (size_m[:, 1] > size_m[:, 0])  # nuScenes ego: (1.73 long, 4.08 wide)
    size_m = np.where(size_swapped[:, None], size_m[:, ::-1], size_m)
    types = agent_types(np.array(coarse), np.array(category), size_m[:, 0])
    defaults = np.array([DEFAULT_SIZE_M[AgentType(int(t))] for t in types])
    size_m = np.where(size_is_default[:, None], defaults, size_m)
    return Tracks.from_arrays(
        ids=ids,
        types=types,
        size_m=size_m,
        xy=states[..., 0:2],
        heading=wrap_angle(states[..., 2]),
        velocity=states[..., 3:5],
        valid=valid_array,
        attributes={
            "source_type": np.array(coarse),
            "source_category": np.array(category),
            "size_is_default": size_is_default,
            "size_swapped": size_swapped,
            "height_m": _median_valid(states[..., 7], valid_array & (states[..., 7] > 0)),
        },
    )


def _state_columns(
    path: Path, track_id: str, track: Any, num_steps: int
) -> tuple[NDArrayF64, NDArrayBool]:
    """float64[T, 8] (x, y, heading, vx, vy, length, width, height; NaN where absent) and
    bool[T] valid, each field checked to have T rows."""
    state = _state(path, track_id, track)
    where = f"tracks[{track_id!r}]['state']"
    columns = np.full((num_steps, _COLUMNS), np.nan)
    for key, first, width in (
        ("position", 0, 2), ("heading", 2, 1), ("velocity", 3, 2),
        ("length", 5, 1), ("width", 6, 1), ("height", 7, 1),
    ):  # fmt: skip
        if key in state:
            columns[:, first : first + width] = _field_array(
                path, where, key, state[key], num_steps, width
            )
    valid = _field_array(path, where, "valid", state["valid"], num_steps, 1)[:, 0] > 0.5
    if np.isnan(columns[:, 3]).all():
        columns[:, 3:5] = 0.0  # no velocity stored
    return columns, valid


def _field_array(
    path: Path, where: str, key: str, value: Any, num_steps: int, width: int
) -> NDArrayF64:
    """float64[T, width] from a state field shaped [T], [T, 1] or [T, >= width]."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataError(f"{path}: {where}[{key!r}] is not numeric ({one_line(error)})") from error
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != num_steps or array.shape[1] < width:
        raise DataError(
            f"{path}: {where}[{key!r}] has shape {array.shape}, want ({num_steps}, >= {width})"
        )
    return array[:, :width]


def _sizes(length_width: NDArrayF64, valid: NDArrayBool) -> tuple[NDArrayF64, NDArrayBool]:
    """(length, width) float64[A, 2]: median over valid steps with a positive size; and
    bool[A], True where no such step exists (the caller puts the type's default there)."""
    usable = valid & np.all(length_width > 0, axis=-1)
    size = np.stack([_median_valid(length_width[..., k], usable) for k in range(2)], axis=-1)
    return np.nan_to_num(size, nan=1.0), ~usable.any(axis=1)


def _median_valid(values: NDArrayF64, mask: NDArrayBool) -> NDArrayF64:
    """float64[A]: median of `values: float64[A, T]` where `mask: bool[A, T]`; NaN for rows
    without any."""
    ranked = np.sort(np.where(mask, values, np.inf), axis=1)
    count = mask.sum(axis=1)
    low = np.take_along_axis(ranked, np.maximum((count - 1) // 2, 0)[:, None], axis=1)[:, 0]
    high = np.take_along_axis(ranked, (count // 2)[:, None] % values.shape[1], axis=1)[:, 0]
    return np.where(count > 0, 0.5 * (low + high), np.nan)


def agent_types(coarse: np.ndarray, category: np.ndarray, length_m: NDArrayF64) -> NDArrayInt:
    """int8[A] `AgentType` from MetaDrive types str[A], source categories str[A] (nuScenes
    `vehicle.bus.rigid`, ...; may be empty) and lengths float64[A] in metres."""
    types = np.array([int(_COARSE_TYPES.get(name, AgentType.UNKNOWN)) for name in coarse])
    for prefix, agent_type in _CATEGORY_TYPES:
        types = np.where(np.char.startswith(category.astype(str), prefix), int(agent_type), types)
    long_vehicle = (types == AgentType.VEHICLE) & (length_m > LARGE_VEHICLE_MIN_LENGTH_M)
    return np.where(long_vehicle, int(AgentType.LARGE_VEHICLE), types).astype(np.int8)


def _metadata(
    path: Path,
    description: Mapping[str, Any],
    source_ids: Mapping[int, str],
    notes: Mapping[str, Any],
) -> dict[str, Any]:
    """Source facts kept for downstream use (plain Python values, arrays for polylines)."""
    metadata = description["metadata"]
    to_predict = metadata.get("tracks_to_predict") or {}
    return {
        "path": str(path),
        "dataset": str(metadata.get("dataset", "")),
        "version": str(description.get("version", "")),
        "scenario_id": str(metadata.get("scenario_id", description.get("id", ""))),
        "source_file": str(metadata.get("source_file", "")),
        "city": str(metadata.get("map", "")) or None,
        "sdc_id": str(metadata.get("sdc_id", "")),
        "current_index_is_default": "current_time_index" not in metadata,
        "tracks_to_predict": [str(track_id) for track_id in to_predict],
        "tracks_to_predict_difficulty": {
            str(k): int(v.get("difficulty", 0))
            for k, v in to_predict.items()
            if isinstance(v, Mapping)
        },
        "objects_of_interest": [str(i) for i in metadata.get("objects_of_interest") or ()],
        "map_feature_ids": dict(source_ids),
        **notes,
    }
