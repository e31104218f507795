"""The `womd:` loader: TFRecord framing, wire decoding, and the real WOMD scenario (skipped when
../shared/data is absent). The real file is checked against Google's own protobuf parser
(a minimal schema built in this file from the public field numbers), not against our decoder."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.traffic_light import TrafficLightState
from urbandrive.datasets import summarize_scenario
from urbandrive.datasets.womd import LOADER, load_womd_record
from urbandrive.datasets.womd_protos.crc32c import crc32c, masked_crc32c
from urbandrive.datasets.womd_protos.scenario import decode_scenario
from urbandrive.maps.road_map import DEFAULT_SPEED_LIMIT_MPS, MPH, StopKind

WOMD_FILE = "motion_data_one_scenario.tfrecord"
#: Waymo `TrafficSignalLaneState.State` -> ours, written out independently of the loader.
EXPECTED_LIGHT = {0: 0, 1: 1, 2: 2, 3: 3, 4: 1, 5: 2, 6: 3, 7: 4, 8: 5}


def _bitwise_crc32c(data: bytes) -> int:
    register = 0xFFFFFFFF
    for byte in data:
        register ^= byte
        for _ in range(8):
            register = (register >> 1) ^ 0x82F63B78 if register & 1 else register >> 1
    return register ^ 0xFFFFFFFF


def _frame(payload: bytes) -> bytes:
    """One TFRecord record around `payload`."""
    length = struct.pack("<Q", len(payload))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + payload
        + struct.pack("<I", masked_crc32c(payload))
    )


def test_crc32c_matches_the_check_value_and_a_bitwise_reference() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    data = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    for size in (0, 1, 1023, 1024, 1025, 2048, 3000):
        assert crc32c(data[:size]) == _bitwise_crc32c(data[:size])


def test_a_record_that_is_not_a_scenario_is_one_data_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.tfrecord"
    path.write_bytes(_frame(b"\x0a\x03abc"))  # a well-formed message without tracks
    with pytest.raises(DataError, match=r"junk.tfrecord: record 0 is not a WOMD Scenario"):
        LOADER.load(str(path))
    path.write_bytes(_frame(b"\xff\xff\xff"))  # not a protocol buffer at all
    with pytest.raises(DataError, match=r"junk.tfrecord: record 0 is not a WOMD Scenario"):
        LOADER.load(str(path))


def test_an_empty_file_and_a_missing_path_are_data_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.tfrecord").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.tfrecord: holds no records"):
        LOADER.load(str(tmp_path / "empty.tfrecord"))
    with pytest.raises(DataError, match="no such file"):
        LOADER.load(str(tmp_path / "absent.tfrecord"))


# -- the real file -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def womd_path(data_dir: Path) -> Path:
    path = data_dir / "womd" / WOMD_FILE
    if not path.is_file():
        pytest.skip(f"WOMD file not found at {path}")
    return path


@pytest.fixture(scope="module")
def scenario(womd_path: Path) -> Scenario:
    loaded = LOADER.load(str(womd_path))
    loaded.validate()
    return loaded


@pytest.fixture(scope="module")
def proto(womd_path: Path) -> Any:
    """The record parsed by the protobuf runtime from a minimal schema (skip if absent)."""
    pytest.importorskip("google.protobuf")
    data = womd_path.read_bytes()
    (length,) = struct.unpack_from("<Q", data)
    message = _scenario_class()()
    message.ParseFromString(data[12 : 12 + length])
    return message


def _scenario_class() -> Any:
    """`Scenario` with the fields these tests read (unknown fields are skipped by protobuf)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field_type = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="womd_test.proto", package="womd_test")
    schema = {
        "MapPoint": [("x", 1, "DOUBLE"), ("y", 2, "DOUBLE")],
        "ObjectState": [("center_x", 2, "DOUBLE"), ("center_y", 3, "DOUBLE"),
                        ("heading", 8, "FLOAT"), ("valid", 11, "BOOL")],
        "Track": [("id", 1, "INT32"), ("object_type", 2, "INT32"), ("states", 3, "*ObjectState")],
        "TrafficSignalLaneState": [("lane", 1, "INT64"), ("state", 2, "INT32"),
                                   ("stop_point", 3, "MapPoint")],
        "DynamicMapState": [("lane_states", 1, "*TrafficSignalLaneState")],
        "Scenario": [("timestamps_seconds", 1, "*DOUBLE"), ("tracks", 2, "*Track"),
                     ("scenario_id", 5, "STRING"), ("sdc_track_index", 6, "INT32"),
                     ("dynamic_map_states", 7, "*DynamicMapState"),
                     ("current_time_index", 10, "INT32")],
    }  # fmt: skip
    for message_name, fields in schema.items():
        message = file.message_type.add(name=message_name)
        for name, number, kind in fields:
            repeated, kind = kind.startswith("*"), kind.lstrip("*")
            field = message.field.add(name=name, number=number)
            field.label = field_type.LABEL_REPEATED if repeated else field_type.LABEL_OPTIONAL
            if kind in schema:
                field.type, field.type_name = field_type.TYPE_MESSAGE, f".womd_test.{kind}"
            else:
                field.type = getattr(field_type, f"TYPE_{kind}")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("womd_test.Scenario"))


@pytest.mark.real_data
def test_scenario_shape(scenario: Scenario) -> None:
    tracks = scenario.tracks
    assert scenario.id == "637f20cafde22ff8" and scenario.source == "womd"
    assert tracks.num_agents == 83 and scenario.num_steps == 91
    assert scenario.current_index == 10 and scenario.ego_index == 82
    assert tracks.types[scenario.ego_index] == AgentType.VEHICLE
    assert scenario.duration_s == pytest.approx(9.0, abs=0.01)
    counts = summarize_scenario(scenario)["agents_by_type"]
    assert counts == {"vehicle": 70, "pedestrian": 10, "cyclist": 3}
    assert scenario.metadata["tracks_to_predict"] == ["2320", "1676", "1675"]
    assert scenario.metadata["tracks_to_predict_difficulty"] == [1, 1, 2]
    assert np.all(tracks.size_m > 0) and np.all(tracks.info.attributes["height_m"] > 0)


@pytest.mark.real_data
def test_tracks_match_googles_parser(scenario: Scenario, proto: Any) -> None:
    tracks = scenario.tracks
    assert proto.scenario_id == scenario.id and proto.sdc_track_index == scenario.ego_index
    np.testing.assert_array_equal(
        scenario.timestamps_us, np.round(np.array(proto.timestamps_seconds) * 1e6)
    )
    for row, track in enumerate(proto.tracks):
        assert tracks.ids[row] == str(track.id)
        valid = np.array([state.valid for state in track.states])
        xy = np.array([(state.center_x, state.center_y) for state in track.states])
        heading = np.array([state.heading for state in track.states])
        np.testing.assert_array_equal(tracks.valid[row], valid)
        np.testing.assert_array_equal(tracks.xy[row][valid], xy[valid])
        difference = np.angle(np.exp(1j * (tracks.heading[row][valid] - heading[valid])))
        np.testing.assert_allclose(difference, 0.0, atol=1e-6)  # raw headings may pass -pi
        assert np.all(np.abs(tracks.heading[row]) <= np.pi)


@pytest.mark.real_data
def test_light_states_match_googles_parser(scenario: Scenario, proto: Any) -> None:
    lights = scenario.traffic_lights
    assert lights is not None and lights.states.shape == (12, 91)
    for step in (0, 10, 50, 90):
        at_step = lights.at(step)
        listed = proto.dynamic_map_states[step].lane_states
        for lane_state in listed:
            assert at_step[lane_state.lane] == EXPECTED_LIGHT[lane_state.state]
            signal = scenario.road_map.signals[lane_state.lane]
            np.testing.assert_array_equal(
                signal.xy, [lane_state.stop_point.x, lane_state.stop_point.y]
            )
        unlisted = set(at_step) - {lane_state.lane for lane_state in listed}
        assert all(at_step[lane] == TrafficLightState.UNKNOWN for lane in unlisted)
    assert (
        TrafficLightState.RED in lights.states
        and TrafficLightState.GREEN not in lights.states[:, :1]
    )


@pytest.mark.real_data
def test_map_sizes_and_attributes(scenario: Scenario) -> None:
    road_map = scenario.road_map
    assert len(road_map.lanes) == 198  # 199 lane features, one with a single point
    assert scenario.metadata["map_notes"]["lanes_skipped_degenerate"] == [529]
    assert len(road_map.crosswalks) == 4 and len(road_map.signals) == 12
    kinds = [line.kind for line in road_map.stop_lines.values()]
    assert kinds.count(StopKind.TRAFFIC_LIGHT) == 12 and kinds.count(StopKind.STOP_SIGN) == 8
    lane = road_map.lanes[154]
    assert lane.successors == (158,) and lane.right_neighbor == 169
    assert lane.speed_limit_mps == pytest.approx(15 * MPH) and not lane.speed_limit_is_default
    defaulted = [lane for lane in road_map.lanes.values() if lane.speed_limit_is_default]
    assert len(defaulted) == 1
    assert defaulted[0].speed_limit_mps == DEFAULT_SPEED_LIMIT_MPS[defaulted[0].lane_type]
    for line in road_map.stop_lines.values():
        width_m = np.linalg.norm(line.xy[1] - line.xy[0])
        assert 1.0 < width_m < 6.5 and line.lane_ids[0] in road_map.lanes


@pytest.mark.real_data
def test_every_centerline_is_in_the_drivable_area(scenario: Scenario) -> None:
    road_map = scenario.road_map
    points = np.concatenate([lane.centerline for lane in road_map.lanes.values()])
    assert road_map.in_drivable_area(points).all()


@pytest.mark.real_data
def test_moving_vehicles_drive_on_lanes(scenario: Scenario) -> None:
    tracks, road_map = scenario.tracks, scenario.road_map
    vehicles = tracks.types == AgentType.VEHICLE
    moving = tracks.valid & (tracks.speed_mps > 2.0) & vehicles[:, None]
    assert moving.sum() > 1000
    centerlines = shapely.MultiLineString([lane.centerline for lane in road_map.lanes.values()])
    xy = tracks.xy[moving]
    distance_m = shapely.distance(centerlines, shapely.points(xy))
    assert np.mean(distance_m < 2.0) > 0.9


@pytest.mark.real_data
def test_fast_decoding_matches_field_by_field(womd_path: Path) -> None:
    data = womd_path.read_bytes()
    (length,) = struct.unpack_from("<Q", data)
    fast = decode_scenario(data, 12, 12 + length)
    slow = decode_scenario(data, 12, 12 + length, per_state=True)
    np.testing.assert_array_equal(fast.states, slow.states)


@pytest.mark.real_data
def test_locations_by_index_id_and_folder(womd_path: Path, scenario: Scenario) -> None:
    assert LOADER.list_scenarios(str(womd_path.parent)) == [f"{womd_path}#0"]
    assert LOADER.load(f"{womd_path}#{scenario.id}").id == scenario.id
    assert LOADER.load(f"{womd_path}#0").tracks.num_agents == 83
    with pytest.raises(DataError, match=r"record 3 asked for, the file holds 1"):
        LOADER.load(f"{womd_path}#3")
    with pytest.raises(DataError, match=r"no scenario with id 'nope'"):
        LOADER.load(f"{womd_path}#nope")


@pytest.mark.real_data
def test_two_records_need_an_index(womd_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "two.tfrecord"
    path.write_bytes(womd_path.read_bytes() * 2)
    with pytest.raises(DataError, match="holds 2 scenarios"):
        LOADER.load(str(path))
    assert LOADER.list_scenarios(str(path)) == [f"{path}#0", f"{path}#1"]
    assert load_womd_record(path, "1").metadata["record_index"] == 1


@pytest.mark.real_data
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", r"record 0 at byte 0: truncated \(needs"),
        ("flip_data", r"record 0 at byte 0: data checksum mismatch"),
        ("flip_length", r"record 0 at byte 0: length checksum mismatch"),
        ("short_header", r"record 1 at byte \d+: truncated header"),
    ],
)
def test_damaged_files_give_one_clear_error(
    womd_path: Path, tmp_path: Path, damage: str, message: str
) -> None:
    data = bytearray(womd_path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip_data":
        data[5000] ^= 0x01
    elif damage == "flip_length":
        data[1] ^= 0x01
    else:
        data += b"\x00" * 5
    path = tmp_path / "damaged.tfrecord"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=f"damaged.tfrecord: {message}"):
        LOADER.load(str(path))


@pytest.mark.real_data
@pytest.mark.slow
def test_summary_and_render(scenario: Scenario, tmp_path: Path) -> None:
    from urbandrive.viz import render_scenario

    summary = summarize_scenario(scenario)
    assert summary["num_lanes"] == 198 and summary["has_traffic_lights"]
    out = render_scenario(scenario, tmp_path / "womd.png")
    assert out.stat().st_size > 10_000
    assert os.path.basename(out) == "womd.png"
