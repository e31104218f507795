"""The `womd:PATH` loader: Waymo Open Motion Dataset `Scenario` TFRecords -> `Scenario`.

PATH is a TFRecord file (`...tfrecord` or a shard `...tfrecord-00000-of-01000`), optionally
with `#<record index>` or `#<scenario_id>`, or a folder of such files. No TensorFlow and no
generated protobuf code: `womd_protos` reads the framing (both CRC-32C checksums checked) and
decodes the wire format by the public `scenario.proto` / `map.proto` field numbers.

Tracks: 91 steps at 10 Hz (1.1 s history, current step 10, 8 s future) in the map's frame.
Object types: vehicle -> VEHICLE, pedestrian -> PEDESTRIAN, cyclist -> CYCLIST, other / unset
-> UNKNOWN (the name kept in `source_object_type`). Sizes: median over valid steps (height in
`height_m`, per-step box-centre z in `z_m`). `sdc_track_index` is the ego; `tracks_to_predict`
and `objects_of_interest` are kept in the metadata as track ids. Signals: see `traffic_lights`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.traffic_light import TrafficLightState, TrafficLightStates
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.datasets.womd_map import (
    build_lanes,
    crosswalks,
    drivable_pieces,
    signal_geometry,
    stop_sign_lines,
)
from urbandrive.datasets.womd_protos.scenario import (
    STATE_COLUMNS,
    RawScenario,
    SignalStep,
    decode_scenario,
)
from urbandrive.datasets.womd_protos.tfrecord import RecordSpan, read_file, record_spans
from urbandrive.datasets.womd_protos.wire import LENGTH_DELIMITED, WireError, read_field
from urbandrive.geometry.angles import wrap_angle
from urbandrive.maps.road_map import RoadMap

DT_S = 0.1
#: `Track.ObjectType` value -> (our type, source name).
OBJECT_TYPES = {
    0: (AgentType.UNKNOWN, "TYPE_UNSET"),
    1: (AgentType.VEHICLE, "TYPE_VEHICLE"),
    2: (AgentType.PEDESTRIAN, "TYPE_PEDESTRIAN"),
    3: (AgentType.CYCLIST, "TYPE_CYCLIST"),
    4: (AgentType.UNKNOWN, "TYPE_OTHER"),
}
#: `TrafficSignalLaneState.State` value (index) -> `TrafficLightState`: arrow and round
#: heads alike (each lane has its own signal); flashing stop / caution -> flashing red / yellow.
LANE_STATE_TO_LIGHT = np.array(
    [
        TrafficLightState.UNKNOWN,
        TrafficLightState.RED,  # ARROW_STOP
        TrafficLightState.YELLOW,  # ARROW_CAUTION
        TrafficLightState.GREEN,  # ARROW_GO
        TrafficLightState.RED,  # STOP
        TrafficLightState.YELLOW,  # CAUTION
        TrafficLightState.GREEN,  # GO
        TrafficLightState.FLASHING_RED,  # FLASHING_STOP
        TrafficLightState.FLASHING_YELLOW,  # FLASHING_CAUTION
    ],
    dtype=np.int8,
)
_FILE_PATTERNS = ("*.tfrecord", "*.tfrecord-*", "*.tfrecords")
_COLUMN = {name: column for column, name in enumerate(STATE_COLUMNS)}


@dataclass(frozen=True, slots=True)
class WomdLoader:
    """Loads Waymo Open Motion `Scenario` records from TFRecord files."""

    scheme: str = "womd"

    def load(self, location: str) -> Scenario:
        """The scenario at `PATH#<index>`, `PATH#<scenario_id>`, or the only one in PATH."""
        path, selector = split_location(location)
        if path.is_dir():
            files = find_record_files(path)
            if len(files) != 1:
                raise DataError(
                    f"{path}: holds {len(files)} TFRecord files; load one of them, or expand the URI"
                )
            path = files[0]
        return load_womd_record(path, selector)

    def list_scenarios(self, location: str) -> list[str]:
        """`FILE#<index>` for every record of the file(s) at `location`, in file order."""
        path, selector = split_location(location)
        if selector is not None:
            return [location]
        files = find_record_files(path) if path.is_dir() else [path]
        if not files:
            raise DataError(f"{path}: no TFRecord files (*.tfrecord, *.tfrecord-*) found")
        found = []
        for file in files:
            spans = record_spans(file, read_file(file), verify_data=False)
            found += [f"{file}#{span.index}" for span in spans]
        return found


LOADER = WomdLoader()


def split_location(location: str) -> tuple[Path, str | None]:
    """(path, selector) of `PATH` or `PATH#<index or scenario id>`; `DataError` if PATH is
    missing."""
    path_text, separator, selector = location.rpartition("#")
    if not separator or not path_text:
        path_text, selector = location, ""
    path = Path(path_text).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    return path, selector or None


def find_record_files(folder: Path) -> list[Path]:
    """TFRecord files directly in `folder`, sorted."""
    found = {file for pattern in _FILE_PATTERNS for file in folder.glob(pattern)}
    return sorted(file for file in found if file.is_file())


def load_womd_record(path: Path, selector: str | None = None) -> Scenario:
    """The scenario of record `selector` (an index or a scenario id) of the file at `path`;
    without a selector the file must hold exactly one record."""
    data = read_file(path)
    spans = record_spans(path, data)
    span = _select(path, data, spans, selector)
    try:
        raw = decode_scenario(data, span.start, span.stop)
    except WireError as error:
        raise DataError(
            f"{path}: record {span.index} is not a WOMD Scenario protocol buffer ({error})"
        ) from error
    return scenario_from_raw(raw, f"{path}#{span.index}")


def _select(path: Path, data: bytes, spans: list[RecordSpan], selector: str | None) -> RecordSpan:
    """The record named by `selector`; `DataError` naming the file if there is none."""
    if not spans:
        raise DataError(f"{path}: holds no records")
    if selector is None:
        if len(spans) > 1:
            raise DataError(
                f"{path}: holds {len(spans)} scenarios; name one as {path}#<index> "
                "or expand the URI"
            )
        return spans[0]
    if selector.isdigit():
        if int(selector) >= len(spans):
            raise DataError(f"{path}: record {selector} asked for, the file holds {len(spans)}")
        return spans[int(selector)]
    for span in spans:
        if peek_scenario_id(data, span) == selector:
            return span
    raise DataError(f"{path}: no scenario with id {selector!r} among its {len(spans)} records")


def peek_scenario_id(data: bytes, span: RecordSpan) -> str | None:
    """The record's `scenario_id` (field 5), read without decoding the rest; None if absent
    or unreadable."""
    offset = span.start
    try:
        while offset < span.stop:
            number, wire_type, value, end = read_field(data, offset, span.stop)
            if number == 5 and wire_type == LENGTH_DELIMITED:
                return data[value:end].decode("utf-8", errors="replace")
            offset = end
    except WireError:
        return None
    return None


def scenario_from_raw(raw: RawScenario, source: str) -> Scenario:
    """The `Scenario` of a decoded record; `source` (FILE#index) names it in errors."""
    num_steps = raw.timestamps_seconds.size
    if num_steps == 0:
        raise DataError(f"{source}: the scenario has no timestamps_seconds")
    if not 0 <= raw.current_time_index < num_steps:
        raise DataError(
            f"{source}: current_time_index {raw.current_time_index} outside [0, {num_steps})"
        )
    num_agents = raw.track_ids.size
    if not -1 <= raw.sdc_track_index < num_agents:
        raise DataError(f"{source}: sdc_track_index {raw.sdc_track_index} outside the tracks")
    road_map, lights, notes = build_map_and_lights(raw, source)
    ids = raw.track_ids.astype(str)
    return Scenario(
        id=raw.scenario_id or source,
        source="womd",
        timestamps_us=np.round(raw.timestamps_seconds * 1e6).astype(np.int64),
        dt_s=DT_S,
        current_index=raw.current_time_index,
        tracks=tracks_from_states(raw.states, raw.track_ids, raw.object_types, source),
        ego_index=raw.sdc_track_index if raw.sdc_track_index >= 0 else None,
        road_map=road_map,
        traffic_lights=lights,
        metadata={
            "scenario_id": raw.scenario_id,
            "file": source.rpartition("#")[0],
            "record_index": int(source.rpartition("#")[2]),
            "tracks_to_predict": [str(ids[i]) for i in _track_indices(raw, source)],
            "tracks_to_predict_difficulty": raw.tracks_to_predict[:, 1].tolist(),
            "objects_of_interest": [str(i) for i in raw.objects_of_interest.tolist()],
            "map_notes": notes,
        },
    )


def _track_indices(raw: RawScenario, source: str) -> list[int]:
    indices = raw.tracks_to_predict[:, 0]
    outside = indices[(indices < 0) | (indices >= raw.track_ids.size)]
    if outside.size:
        raise DataError(f"{source}: tracks_to_predict names track index {int(outside[0])}")
    return indices.tolist()


def tracks_from_states(
    states: NDArrayF64, track_ids: NDArrayInt, object_types: NDArrayInt, source: str
) -> Tracks:
    """`Tracks` from `states: float64[A, T, len(STATE_COLUMNS)]` in one vectorised pass.

    Sizes (length, width, height): the median over each agent's valid steps; an agent never
    valid, or with no positive size, takes its type's `DEFAULT_SIZE_M`.
    """
    valid = states[..., _COLUMN["valid"]] > 0.5
    type_rows = np.clip(object_types, 0, 4)
    types = np.array([int(OBJECT_TYPES[t][0]) for t in range(5)], dtype=np.int8)[type_rows]
    names = np.array([OBJECT_TYPES[t][1] for t in range(5)])[type_rows]
    sizes = np.where(
        valid[..., None], states[..., _COLUMN["length"] : _COLUMN["height"] + 1], np.nan
    )
    with np.errstate(all="ignore"):
        median_size = np.nanmedian(np.where(np.isnan(sizes).all(1, keepdims=True), 0.0, sizes), 1)
    defaults = np.array([DEFAULT_SIZE_M[AgentType(t)] for t in types.tolist()]).reshape(-1, 2)
    usable = (median_size[:, :2] > 0).all(-1) & valid.any(1)
    xy = states[..., [_COLUMN["center_x"], _COLUMN["center_y"]]]
    return Tracks.from_arrays(
        ids=track_ids.astype(str).tolist(),
        types=types,
        size_m=np.where(usable[:, None], median_size[:, :2], defaults),
        xy=xy,
        heading=wrap_angle(states[..., _COLUMN["heading"]]),
        velocity=states[..., [_COLUMN["velocity_x"], _COLUMN["velocity_y"]]],
        valid=valid,
        attributes={
            "source_object_type": names,
            "height_m": np.where(usable, median_size[:, 2], 0.0),
            "z_m": np.where(valid, states[..., _COLUMN["center_z"]], 0.0),
        },
    )


def build_map_and_lights(
    raw: RawScenario, source: str
) -> tuple[RoadMap, TrafficLightStates, dict[str, object]]:
    """The validated `RoadMap` (lanes, crosswalks, stop lines, signals, drivable area), the
    light states over every step, and the map notes for the metadata."""
    lanes, notes = build_lanes(raw.map)
    if not lanes:
        raise DataError(
            f"{source}: the map has no usable lanes ({len(raw.map.lanes)} lane features)"
        )
    signal_lanes, stop_points, lights = traffic_lights(
        raw.signal_steps, raw.timestamps_seconds.size, source
    )
    all_ids = [*raw.map.lanes, *raw.map.road_lines, *raw.map.road_edges, *raw.map.stop_signs]
    first_line_id = max([*all_ids, *raw.map.crosswalks, 0]) + 1
    signals, light_lines = signal_geometry(lanes, signal_lanes, stop_points, first_line_id)
    sign_lines = stop_sign_lines(raw.map, lanes, first_line_id + len(light_lines))
    road_map = RoadMap(
        lanes=lanes,
        crosswalks=crosswalks(raw.map, source),
        stop_lines={line.id: line for line in [*light_lines, *sign_lines]},
        signals=signals,
        drivable_areas=drivable_pieces(lanes),
        source=source,
    )
    road_map.validate()
    return road_map, lights, notes.as_metadata()


def traffic_lights(
    steps: tuple[SignalStep, ...], num_steps: int, source: str
) -> tuple[NDArrayInt, NDArrayF64, TrafficLightStates]:
    """Per controlled lane (sorted ids int64[S]): its stop point float64[S, 2] (where first
    reported) and its light states int8[S, T]; UNKNOWN at steps that do not list the lane."""
    if steps and len(steps) != num_steps:
        raise DataError(f"{source}: {len(steps)} dynamic_map_states for {num_steps} timestamps")
    counts = np.array([step.lanes.size for step in steps], dtype=np.int64)
    lanes = np.concatenate([step.lanes for step in steps]) if steps else np.zeros(0, np.int64)
    values = np.concatenate([step.states for step in steps]) if steps else np.zeros(0, np.int64)
    points = np.concatenate([step.stop_points for step in steps]) if steps else np.zeros((0, 3))
    bad = np.flatnonzero((values < 0) | (values >= LANE_STATE_TO_LIGHT.size))
    if bad.size:
        raise DataError(
            f"{source}: lane {int(lanes[bad[0]])} has unknown signal state {values[bad[0]]}"
        )
    step_of_row = np.repeat(np.arange(counts.size), counts)
    signal_ids, first_row, signal_of_row = np.unique(lanes, return_index=True, return_inverse=True)
    states = np.full((signal_ids.size, num_steps), int(TrafficLightState.UNKNOWN), np.int8)
    states[signal_of_row, step_of_row] = LANE_STATE_TO_LIGHT[values]
    return signal_ids, points[first_row, :2], TrafficLightStates(signal_ids, states)
