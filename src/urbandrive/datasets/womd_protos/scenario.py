"""Waymo Open Motion `Scenario` messages decoded from the wire into numpy arrays.

Field numbers follow the public `scenario.proto` and `map.proto` of waymo-open-dataset
(Apache-2.0, `src/waymo_open_dataset/protos/`, proto2, as of v1.6): no generated code is used.
Per-state and per-point messages go through `wire.read_run` (one numpy view per run); the
rest is decoded field by field. Unknown fields are skipped, as protobuf does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.datasets.womd_protos.map import RawMap, decode_map_feature, decode_map_point
from urbandrive.datasets.womd_protos.wire import (
    FIXED64,
    LENGTH_DELIMITED,
    VARINT,
    WireError,
    as_signed,
    expect,
    fixed_layout,
    packed_varints,
    read_double,
    read_field,
    read_run,
)

#: `ObjectState` fields (scenario.proto): (name, field number, kind), in file order; the
#: columns of `RawScenario.states`.
STATE_FIELDS = (
    ("center_x", 2, "double"),
    ("center_y", 3, "double"),
    ("center_z", 4, "double"),
    ("length", 5, "float"),
    ("width", 6, "float"),
    ("height", 7, "float"),
    ("heading", 8, "float"),
    ("velocity_x", 9, "float"),
    ("velocity_y", 10, "float"),
    ("valid", 11, "bool"),
)
STATE_COLUMNS = tuple(name for name, _, _ in STATE_FIELDS)
#: How Waymo writes a valid state (every field) and an invalid one (center_z and valid only).
STATE_LAYOUTS = (
    fixed_layout(3, STATE_FIELDS),
    fixed_layout(3, tuple(f for f in STATE_FIELDS if f[0] in ("center_z", "valid"))),
)
_STATE_COLUMN_OF_FIELD = {number: column for column, (_, number, _) in enumerate(STATE_FIELDS)}


@dataclass(frozen=True, slots=True)
class SignalStep:
    """The `lane_states` of one `DynamicMapState`: lanes int64[L], states int64[L] (the
    `TrafficSignalLaneState.State` values), stop_points float64[L, 3] metres."""

    lanes: NDArrayInt
    states: NDArrayInt
    stop_points: NDArrayF64


@dataclass(frozen=True, slots=True)
class RawScenario:
    """One `Scenario` as arrays; A tracks, T steps.

    timestamps_seconds: float64[T]. track_ids, object_types: int64[A] (`Track.ObjectType`).
    states: float64[A, T, len(STATE_COLUMNS)], the `ObjectState` fields (valid as 0 / 1).
    tracks_to_predict: int64[K, 2] (track_index, difficulty). objects_of_interest: int64[M]
    track ids. sdc_track_index / current_time_index: -1 when absent.
    """

    scenario_id: str
    timestamps_seconds: NDArrayF64
    current_time_index: int
    sdc_track_index: int
    track_ids: NDArrayInt
    object_types: NDArrayInt
    states: np.ndarray
    tracks_to_predict: NDArrayInt
    objects_of_interest: NDArrayInt
    signal_steps: tuple[SignalStep, ...]
    map: RawMap


def decode_scenario(data: bytes, start: int, stop: int, per_state: bool = False) -> RawScenario:
    """The `Scenario` in `data[start:stop]`; `WireError` if malformed or not a Scenario.

    per_state: decode every `ObjectState` field by field (the slow reference path).
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    fields: dict[str, list[int]] = {"timestamps": [], "interest": []}
    scalars = {"scenario_id": "", "current": -1, "sdc": -1}
    tracks, signal_steps, features, predict = [], [], [], []
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        if number == 1:
            fields["timestamps"] += _doubles(data, wire_type, value, end)
        elif number == 2:
            expect("tracks", wire_type, LENGTH_DELIMITED)
            tracks.append(decode_track(data, buffer, value, end, per_state))
        elif number == 4:
            fields["interest"] += _varints(data, wire_type, value, end, "objects_of_interest")
        elif number == 5:
            expect("scenario_id", wire_type, LENGTH_DELIMITED)
            scalars["scenario_id"] = _text(data, value, end)
        elif number in (6, 10):
            expect("sdc_track_index", wire_type, VARINT)
            scalars["sdc" if number == 6 else "current"] = as_signed(value)
        elif number == 7:
            expect("dynamic_map_states", wire_type, LENGTH_DELIMITED)
            signal_steps.append(_dynamic_map_state(data, value, end))
        elif number == 8:
            expect("map_features", wire_type, LENGTH_DELIMITED)
            features.append(decode_map_feature(data, buffer, value, end))
        elif number == 11:
            expect("tracks_to_predict", wire_type, LENGTH_DELIMITED)
            predict.append(_required_prediction(data, value, end))
        offset = end
    return _assemble(fields, scalars, tracks, signal_steps, features, predict)


def _assemble(
    fields: dict[str, list[int]],
    scalars: dict[str, object],
    tracks: list[tuple[int, int, NDArrayF64]],
    signal_steps: list[SignalStep],
    features: list[object],
    predict: list[tuple[int, int]],
) -> RawScenario:
    """Stack the decoded parts; `WireError` if tracks and timestamps disagree in length."""
    timestamps = np.asarray(fields["timestamps"], dtype=np.float64)
    if not tracks:
        raise WireError("no tracks (field 2): not a Scenario")
    lengths = sorted({states.shape[0] for _, _, states in tracks})
    if lengths != [timestamps.size]:
        raise WireError(f"tracks have {lengths} states but there are {timestamps.size} timestamps")
    return RawScenario(
        scenario_id=str(scalars["scenario_id"]),
        timestamps_seconds=timestamps,
        current_time_index=int(scalars["current"]),  # type: ignore[call-overload]
        sdc_track_index=int(scalars["sdc"]),  # type: ignore[call-overload]
        track_ids=np.array([track_id for track_id, _, _ in tracks], dtype=np.int64),
        object_types=np.array([kind for _, kind, _ in tracks], dtype=np.int64),
        states=np.stack([states for _, _, states in tracks]),
        tracks_to_predict=np.array(predict, dtype=np.int64).reshape(-1, 2),
        objects_of_interest=np.array(fields["interest"], dtype=np.int64),
        signal_steps=tuple(signal_steps),
        map=RawMap.from_features(features),
    )


def decode_track(
    data: bytes, buffer: np.ndarray, start: int, stop: int, per_state: bool = False
) -> tuple[int, int, NDArrayF64]:
    """(id, object_type, states: float64[T, len(STATE_COLUMNS)]) of the `Track` at
    `data[start:stop]`. per_state: decode every state field by field (reference path)."""
    track_id = object_type = 0
    runs: list[NDArrayF64] = []
    offset = start
    while offset < stop:
        if not per_state and buffer[offset] == STATE_LAYOUTS[0].expected[0]:
            run, offset = _state_run(data, buffer, offset, stop)
            if run.size:
                runs.append(run)
                continue
        number, wire_type, value, end = read_field(data, offset, stop)
        if number in (1, 2):
            expect("Track.id/object_type", wire_type, VARINT)
            if number == 1:
                track_id = as_signed(value)
            else:
                object_type = as_signed(value)
        elif number == 3:
            expect("Track.states", wire_type, LENGTH_DELIMITED)
            runs.append(decode_object_state(data, value, end))
        offset = end
    states = np.concatenate(runs) if runs else np.zeros((0, len(STATE_COLUMNS)))
    return track_id, object_type, states


def _state_run(data: bytes, buffer: np.ndarray, offset: int, stop: int) -> tuple[NDArrayF64, int]:
    """The run of states at `offset` in the first `STATE_LAYOUTS` entry that matches, as
    float64[N, len(STATE_COLUMNS)] (absent fields 0); N = 0 if none matches."""
    for layout in STATE_LAYOUTS:
        records, end = read_run(data, buffer, offset, stop, layout)
        if records.size:
            states = np.zeros((records.size, len(STATE_COLUMNS)))
            for name in records.dtype.names:
                states[:, STATE_COLUMNS.index(name)] = records[name]
            return states, end
    return np.zeros((0, len(STATE_COLUMNS))), offset


def decode_object_state(data: bytes, start: int, stop: int) -> NDArrayF64:
    """One `ObjectState`, field by field: float64[1, len(STATE_COLUMNS)], absent fields 0
    (the proto2 defaults)."""
    state = np.zeros((1, len(STATE_COLUMNS)))
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        column = _STATE_COLUMN_OF_FIELD.get(number)
        if column == STATE_COLUMNS.index("valid"):
            expect("ObjectState.valid", wire_type, VARINT)
            state[0, column] = float(value != 0)
        elif column is not None:
            state[0, column] = read_double(data, wire_type, value)
        offset = end
    return state


def _dynamic_map_state(data: bytes, start: int, stop: int) -> SignalStep:
    """The `lane_states` (field 1) of one `DynamicMapState`."""
    lanes, states, points = [], [], []
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        if number == 1:
            expect("DynamicMapState.lane_states", wire_type, LENGTH_DELIMITED)
            lane, state, point = _lane_state(data, value, end)
            lanes.append(lane)
            states.append(state)
            points.append(point)
        offset = end
    return SignalStep(
        lanes=np.array(lanes, dtype=np.int64),
        states=np.array(states, dtype=np.int64),
        stop_points=np.array(points, dtype=np.float64).reshape(-1, 3),
    )


def _lane_state(data: bytes, start: int, stop: int) -> tuple[int, int, tuple[float, ...]]:
    """(lane id, state, stop point xyz) of a `TrafficSignalLaneState`."""
    lane = state = 0
    point = (0.0, 0.0, 0.0)
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        if number in (1, 2):
            expect("TrafficSignalLaneState.lane/state", wire_type, VARINT)
            lane, state = (as_signed(value), state) if number == 1 else (lane, as_signed(value))
        elif number == 3:
            expect("TrafficSignalLaneState.stop_point", wire_type, LENGTH_DELIMITED)
            point = decode_map_point(data, value, end)
        offset = end
    return lane, state, point


def _required_prediction(data: bytes, start: int, stop: int) -> tuple[int, int]:
    """(track_index, difficulty) of a `RequiredPrediction`."""
    values = {1: 0, 2: 0}
    offset = start
    while offset < stop:
        number, wire_type, value, end = read_field(data, offset, stop)
        if number in values:
            expect("RequiredPrediction", wire_type, VARINT)
            values[number] = as_signed(value)
        offset = end
    return values[1], values[2]


def _doubles(data: bytes, wire_type: int, value: int, end: int) -> list[float]:
    """A repeated double field's values: one (fixed64) or packed (length-delimited)."""
    if wire_type == FIXED64:
        return [read_double(data, wire_type, value)]
    expect("timestamps_seconds", wire_type, LENGTH_DELIMITED)
    if (end - value) % 8:
        raise WireError(f"packed doubles of {end - value} bytes (not a multiple of 8)")
    return np.frombuffer(data, dtype="<f8", count=(end - value) // 8, offset=value).tolist()


def _varints(data: bytes, wire_type: int, value: int, end: int, name: str) -> list[int]:
    """A repeated integer field's values: one varint, or packed (length-delimited)."""
    if wire_type == VARINT:
        return [as_signed(value)]
    expect(name, wire_type, LENGTH_DELIMITED)
    return packed_varints(data, value, end)


def _text(data: bytes, start: int, stop: int) -> str:
    try:
        return data[start:stop].decode("utf-8")
    except UnicodeDecodeError as error:
        raise WireError(f"scenario_id is not UTF-8 ({error.reason})") from error
