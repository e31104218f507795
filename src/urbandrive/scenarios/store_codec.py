"""Scenario <-> Arrow rows of the store (`urbandrive.scenarios.store`), exact to the bit.

Agents: one row per agent with per-step lists (float64 values, `valid` as bools). Scenarios:
one row per scenario; arrays whose dtype the columns do not fix are kept with their dtype
(`dtypes`, a JSON object), agent attributes as raw bytes with dtype and shape, metadata as
JSON in which tuples, non-string keys and numpy values are tagged so they come back as they
were.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from urbandrive.core.scenario import Goal, Route, Scenario
from urbandrive.core.tracks import AgentInfo, Tracks
from urbandrive.core.traffic_light import TrafficLightStates
from urbandrive.maps.road_map import RoadMap
from urbandrive.scenarios.map_codec import encode_road_map, map_hash

_STEP_FIELDS = ("x", "y", "heading", "vx", "vy")
#: The long table of agent states: one row per (agent, step), row-major (agent, then step),
#: one row group per scenario. Non-nullable flat columns read several times faster than lists.
STEP_SCHEMA = pa.schema(
    [
        pa.field("agent_row", pa.int32(), nullable=False),
        pa.field("step", pa.int32(), nullable=False),
        *[pa.field(name, pa.float64(), nullable=False) for name in _STEP_FIELDS],
        pa.field("valid", pa.bool_(), nullable=False),
    ]
)
SCENARIO_SCHEMA = pa.schema(
    [
        ("scenario_id", pa.string()),
        ("source", pa.string()),
        ("dt_s", pa.float64()),
        ("current_index", pa.int64()),
        ("ego_index", pa.int64()),
        ("num_agents", pa.int64()),
        ("num_steps", pa.int64()),
        ("agent_ids", pa.list_(pa.string())),
        ("agent_types", pa.list_(pa.int8())),
        ("agent_length_m", pa.list_(pa.float64())),
        ("agent_width_m", pa.list_(pa.float64())),
        ("timestamps_us", pa.list_(pa.int64())),
        ("map_hash", pa.string()),
        ("route_lane_ids", pa.list_(pa.int64())),
        ("goal_xy", pa.list_(pa.float64())),
        ("goal_heading", pa.float64()),
        ("goal_radius_m", pa.float64()),
        ("light_signal_ids", pa.list_(pa.int64())),
        ("light_states", pa.binary()),
        ("dtypes", pa.string()),
        ("attributes", pa.string()),
        ("attribute_data", pa.large_binary()),
        ("metadata", pa.string()),
    ]
)
STEP_WRITE_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": ["agent_row", "step"],
    "column_encoding": {name: "BYTE_STREAM_SPLIT" for name in _STEP_FIELDS},
}
STEP_READ_COLUMNS = [*_STEP_FIELDS, "valid"]
SCENARIO_WRITE_OPTIONS: dict[str, Any] = {"compression": "zstd"}


def check_scenario_columns(table: pa.Table) -> None:
    """`ValueError` naming the first column of `SCENARIO_SCHEMA` that `table` lacks."""
    missing = [name for name in SCENARIO_SCHEMA.names if name not in table.column_names]
    if missing:
        raise ValueError(f"column {missing[0]!r} missing")


# -- encoding --------------------------------------------------------------------------------


def encode_steps(scenario: Scenario) -> pa.Table:
    """The scenario's rows of the long steps table (`STEP_SCHEMA`), A x T of them."""
    tracks = scenario.tracks
    num_agents, num_steps = tracks.valid.shape
    values = {
        "agent_row": np.repeat(np.arange(num_agents, dtype=np.int32), num_steps),
        "step": np.tile(np.arange(num_steps, dtype=np.int32), num_agents),
        "x": tracks.xy[..., 0],
        "y": tracks.xy[..., 1],
        "heading": tracks.heading,
        "vx": tracks.velocity[..., 0],
        "vy": tracks.velocity[..., 1],
        "valid": tracks.valid,
    }
    arrays = [
        pa.array(np.ascontiguousarray(values[field.name], field.type.to_pandas_dtype()).ravel())
        for field in STEP_SCHEMA
    ]
    return pa.Table.from_arrays(arrays, schema=STEP_SCHEMA)


def scenario_table(rows: list[dict[str, Any]]) -> pa.Table:
    """The scenarios table (`SCENARIO_SCHEMA`) of rows made by `scenario_row`."""
    return pa.Table.from_pylist(rows, schema=SCENARIO_SCHEMA)


def scenario_row(scenario: Scenario, map_hash: str | None) -> dict[str, Any]:
    """The scenario's row of the scenarios table; `ValueError` for what cannot be stored."""
    tracks, lights, goal = scenario.tracks, scenario.traffic_lights, scenario.goal
    spec, data = _encode_attributes(scenario)
    return {
        "scenario_id": scenario.id,
        "source": scenario.source,
        "dt_s": float(scenario.dt_s),
        "current_index": int(scenario.current_index),
        "ego_index": None if scenario.ego_index is None else int(scenario.ego_index),
        "num_agents": tracks.num_agents,
        "num_steps": scenario.num_steps,
        "agent_ids": tracks.ids.astype(str).tolist(),
        "agent_types": tracks.types.astype(np.int8).tolist(),
        "agent_length_m": tracks.size_m[:, 0].astype(np.float64).tolist(),
        "agent_width_m": tracks.size_m[:, 1].astype(np.float64).tolist(),
        "timestamps_us": scenario.timestamps_us.astype(np.int64).tolist(),
        "map_hash": map_hash,
        "route_lane_ids": None if scenario.route is None else list(scenario.route.lane_ids),
        "goal_xy": None if goal is None else np.asarray(goal.xy, np.float64).tolist(),
        "goal_heading": None if goal is None else goal.heading,
        "goal_radius_m": None if goal is None else float(goal.radius_m),
        "light_signal_ids": None if lights is None else lights.signal_ids.astype(np.int64).tolist(),
        "light_states": None if lights is None else np.ascontiguousarray(lights.states).tobytes(),
        "dtypes": json.dumps(_dtypes(scenario)),
        "attributes": json.dumps(spec),
        "attribute_data": data,
        "metadata": encode_metadata(scenario.metadata, f"scenario {scenario.id!r}"),
    }


def _dtypes(scenario: Scenario) -> dict[str, str]:
    """dtype strings of the arrays whose column types do not say them."""
    tracks = scenario.tracks
    arrays = {
        "timestamps_us": scenario.timestamps_us,
        "ids": tracks.ids,
        "types": tracks.types,
        "size_m": tracks.size_m,
        "xy": tracks.xy,
        "heading": tracks.heading,
        "velocity": tracks.velocity,
        "valid": tracks.valid,
    }
    if scenario.traffic_lights is not None:
        arrays["light_signal_ids"] = scenario.traffic_lights.signal_ids
        arrays["light_states"] = scenario.traffic_lights.states
    if scenario.goal is not None:
        arrays["goal_xy"] = np.asarray(scenario.goal.xy)
    return {name: values.dtype.str for name, values in arrays.items()}


def _encode_attributes(scenario: Scenario) -> tuple[list[dict[str, Any]], bytes]:
    """Spec (name, dtype, shape per attribute, in order) and their bytes, concatenated."""
    spec, chunks = [], []
    for name, values in scenario.tracks.info.attributes.items():
        values = np.asarray(values)
        if values.dtype.hasobject:
            raise ValueError(
                f"scenario {scenario.id!r}: attribute {name!r} has dtype object; store str arrays"
            )
        spec.append({"name": name, "dtype": values.dtype.str, "shape": list(values.shape)})
        chunks.append(np.ascontiguousarray(values).tobytes())
    return spec, b"".join(chunks)


# -- decoding --------------------------------------------------------------------------------


def decode_scenario(row: Mapping[str, Any], steps: pa.Table, road_map: RoadMap | None) -> Scenario:
    """Inverse of `encode_steps` + `scenario_row` for one scenario."""
    dtypes = json.loads(row["dtypes"])
    tracks = _decode_tracks(row, steps, dtypes)
    lights = None
    if row["light_signal_ids"] is not None:
        signal_ids = np.asarray(row["light_signal_ids"], dtype=dtypes["light_signal_ids"])
        states = np.frombuffer(row["light_states"], dtype=dtypes["light_states"])
        states = states.reshape(signal_ids.shape[0], row["num_steps"]).copy()
        lights = TrafficLightStates(signal_ids, states)
    goal = None
    if row["goal_xy"] is not None:
        goal_xy = np.asarray(row["goal_xy"], dtype=dtypes["goal_xy"])
        goal = Goal(xy=goal_xy, heading=row["goal_heading"], radius_m=row["goal_radius_m"])
    route = None if row["route_lane_ids"] is None else Route(tuple(row["route_lane_ids"]))
    return Scenario(
        id=row["scenario_id"],
        source=row["source"],
        timestamps_us=np.asarray(row["timestamps_us"], dtype=dtypes["timestamps_us"]),
        dt_s=row["dt_s"],
        current_index=row["current_index"],
        tracks=tracks,
        ego_index=row["ego_index"],
        road_map=road_map,
        traffic_lights=lights,
        route=route,
        goal=goal,
        metadata=decode_metadata(row["metadata"]),
    )


def _decode_tracks(row: Mapping[str, Any], steps: pa.Table, dtypes: dict[str, str]) -> Tracks:
    shape = (row["num_agents"], row["num_steps"])
    if steps.num_rows != shape[0] * shape[1]:
        raise ValueError(f"{steps.num_rows} step rows, expected {shape[0]} x {shape[1]}")
    values = {name: _flat(steps, name).reshape(shape) for name in STEP_READ_COLUMNS}
    size_m = np.stack([row["agent_length_m"], row["agent_width_m"]], axis=-1)
    info = AgentInfo(
        ids=np.asarray(row["agent_ids"], dtype=dtypes["ids"]),
        types=np.asarray(row["agent_types"], dtype=dtypes["types"]),
        size_m=size_m.astype(dtypes["size_m"]).reshape(shape[0], 2),
        attributes=_decode_attributes(json.loads(row["attributes"]), row["attribute_data"]),
    )
    xy = np.stack([values["x"], values["y"]], axis=-1)
    velocity = np.stack([values["vx"], values["vy"]], axis=-1)
    return Tracks(
        info=info,
        xy=xy.astype(dtypes["xy"], copy=False),
        heading=values["heading"].astype(dtypes["heading"], copy=True),
        velocity=velocity.astype(dtypes["velocity"], copy=False),
        valid=values["valid"].astype(dtypes["valid"], copy=True),
    )


def _flat(table: pa.Table, name: str) -> np.ndarray:
    """The column's values as a numpy array (may be a read-only view)."""
    column = table.column(name)
    if column.num_chunks == 1:
        return column.chunk(0).to_numpy(zero_copy_only=False)
    return column.to_numpy()


def _decode_attributes(spec: list[dict[str, Any]], data: bytes) -> dict[str, np.ndarray]:
    attributes, offset = {}, 0
    for item in spec:
        dtype, shape = np.dtype(item["dtype"]), tuple(item["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        values = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
        attributes[item["name"]] = values.reshape(shape).copy()
        offset += count * dtype.itemsize
    if offset != len(data):
        raise ValueError(f"attribute data holds {len(data)} bytes, the spec {offset}")
    return attributes


# -- metadata --------------------------------------------------------------------------------


def encode_metadata(metadata: Mapping[str, Any], where: str) -> str:
    """JSON text of `metadata`; `ValueError` naming the key of a value JSON cannot keep."""
    return json.dumps(_tag(dict(metadata), f"{where} metadata"), allow_nan=True)


def decode_metadata(text: str) -> dict[str, Any]:
    return _untag(json.loads(text))


def _tag(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_tag(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [_tag(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, Mapping):
        items = [(k, _tag(v, f"{where}[{k!r}]")) for k, v in value.items()]
        if all(isinstance(k, str) and not k.startswith("__") for k, _ in items):
            return dict(items)
        return {"__items__": [[_tag(k, where), v] for k, v in items]}
    if isinstance(value, np.ndarray | np.generic) and not np.asarray(value).dtype.hasobject:
        array = np.asarray(value)
        return {
            "__ndarray__": base64.b64encode(np.ascontiguousarray(array).tobytes()).decode(),
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "scalar": isinstance(value, np.generic),
        }
    raise ValueError(f"{where}: cannot store a {type(value).__name__} (not JSON or numpy)")


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_untag(v) for v in value["__tuple__"])
    if "__items__" in value:
        return {_untag(k): _untag(v) for k, v in value["__items__"]}
    if "__ndarray__" in value:
        raw = base64.b64decode(value["__ndarray__"])
        array = np.frombuffer(raw, dtype=value["dtype"]).reshape(value["shape"]).copy()
        return array[()] if value["scalar"] else array
    return {k: _untag(v) for k, v in value.items()}


# -- exactness -------------------------------------------------------------------------------


def scenario_differences(expected: Scenario, actual: Scenario) -> list[str]:
    """Names of the fields where `actual` is not bit-identical to `expected` (same dtypes,
    same values, NaNs in the same places, equal metadata); empty when they are identical."""
    differences = []
    for name in ("id", "source", "dt_s", "current_index", "ego_index", "route"):
        if getattr(expected, name) != getattr(actual, name):
            differences.append(name)
    if encode_metadata(expected.metadata, "") != encode_metadata(actual.metadata, ""):
        differences.append("metadata")
    if _map_digest(expected.road_map) != _map_digest(actual.road_map):
        differences.append("road_map")
    arrays = {
        "timestamps_us": (expected.timestamps_us, actual.timestamps_us),
        **{
            f"tracks.{name}": (getattr(expected.tracks, name), getattr(actual.tracks, name))
            for name in ("ids", "types", "size_m", "xy", "heading", "velocity", "valid")
        },
    }
    for label, attribute in (("lights", "traffic_lights"), ("goal", "goal")):
        first, second = getattr(expected, attribute), getattr(actual, attribute)
        if (first is None) != (second is None):
            differences.append(label)
        elif first is not None and attribute == "goal":
            arrays["goal.xy"] = (np.asarray(first.xy), np.asarray(second.xy))
            if (first.heading, first.radius_m) != (second.heading, second.radius_m):
                differences.append("goal")
        elif first is not None:
            arrays["lights.signal_ids"] = (first.signal_ids, second.signal_ids)
            arrays["lights.states"] = (first.states, second.states)
    expected_attributes = expected.tracks.info.attributes
    actual_attributes = actual.tracks.info.attributes
    if list(expected_attributes) != list(actual_attributes):
        differences.append("attributes")
    else:
        arrays.update(
            {f"attributes.{k}": (v, actual_attributes[k]) for k, v in expected_attributes.items()}
        )
    differences += [label for label, (a, b) in arrays.items() if not _bit_identical(a, b)]
    return differences


def _map_digest(road_map: RoadMap | None) -> str | None:
    return None if road_map is None else map_hash(encode_road_map(road_map))


def _bit_identical(first: np.ndarray, second: np.ndarray) -> bool:
    if first.dtype != second.dtype or first.shape != second.shape:
        return False
    return np.ascontiguousarray(first).tobytes() == np.ascontiguousarray(second).tobytes()
