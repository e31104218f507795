"""AV2 adapters on tiny synthetic files: transforms, interpolation, and every bad-input error."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.datasets import expand_uris, load_scenario
from urbandrive.datasets.av2_map import load_av2_map
from urbandrive.datasets.av2_sensor import EGO_REAR_AXLE_TO_CENTER_M, EGO_SIZE_M
from urbandrive.maps.road_map import DEFAULT_SPEED_LIMIT_MPS, LaneType


def test_sensor_log_puts_cuboids_in_the_city_frame(tmp_path: Path, av2_files: ModuleType) -> None:
    scenario = load_scenario(f"av2:{av2_files.write_sensor_log(tmp_path)}")
    tracks = scenario.tracks
    assert tracks.ids.tolist() == ["ego", "car", "cone"]
    assert scenario.ego_index == 0 and scenario.num_steps == 5
    car = tracks.index_of("car")
    # ego at x = 0.5 * step (5 m/s), car 10 m ahead of the rear axle
    np.testing.assert_allclose(tracks.xy[car, :, 0], 10.0 + 0.5 * np.arange(5))
    np.testing.assert_allclose(tracks.velocity[car, :, 0], 5.0)
    np.testing.assert_allclose(tracks.xy[0, :, 0], EGO_REAR_AXLE_TO_CENTER_M + 0.5 * np.arange(5))
    assert tracks.size_m[0].tolist() == list(EGO_SIZE_M)
    cone = tracks.index_of("cone")
    assert tracks.valid[cone].tolist() == [True, False, False, False, False]
    assert tracks.velocity[cone].tolist() == [[0.0, 0.0]] * 5  # a single step: zero
    assert tracks.types[cone] == AgentType.STATIC
    assert tracks.info.attributes["source_category"][cone] == "CONSTRUCTION_CONE"
    assert tracks.info.attributes["num_interior_pts"][car].tolist() == [40] * 5
    assert scenario.timestamps_us[1] - scenario.timestamps_us[0] == 100_000
    assert scenario.metadata["city"] == "pittsburgh"


def test_rotated_ego_rotates_cuboids_and_headings(tmp_path: Path, av2_files: ModuleType) -> None:
    poses = av2_files.pose_rows(speed_mps=0.0)
    half = np.sqrt(0.5)  # ego yawed +90 degrees: quaternion (cos 45, 0, 0, sin 45)
    poses["qw"] = [half] * len(poses["qw"])
    poses["qz"] = [half] * len(poses["qz"])
    tracks = load_scenario(f"av2:{av2_files.write_sensor_log(tmp_path, poses=poses)}").tracks
    car = tracks.index_of("car")
    np.testing.assert_allclose(tracks.xy[car, 0], [0.0, 10.0], atol=1e-12)
    np.testing.assert_allclose(tracks.heading[car], np.pi / 2)
    np.testing.assert_allclose(tracks.xy[0, 0], [0.0, EGO_REAR_AXLE_TO_CENTER_M], atol=1e-12)


def test_poses_between_sweeps_are_interpolated(tmp_path: Path, av2_files: ModuleType) -> None:
    poses = av2_files.pose_rows(stride=3)
    keep = [i for i in range(len(poses["timestamp_ns"])) if i % 3 != 0 or i in (0, 12)]
    poses = {name: [values[i] for i in keep] for name, values in poses.items()}  # no exact match
    tracks = load_scenario(f"av2:{av2_files.write_sensor_log(tmp_path, poses=poses)}").tracks
    np.testing.assert_allclose(tracks.xy[tracks.index_of("car"), :, 0], 10.0 + 0.5 * np.arange(5))


def test_annotations_outside_the_poses_name_the_file_and_timestamp(
    tmp_path: Path, av2_files: ModuleType
) -> None:
    poses = {name: values[:3] for name, values in av2_files.pose_rows().items()}
    folder = av2_files.write_sensor_log(tmp_path, poses=poses)
    first_uncovered = av2_files.START_NS + 3 * av2_files.STEP_NS
    with pytest.raises(DataError, match=rf"city_SE3_egovehicle.feather: .*{first_uncovered} ns"):
        load_scenario(f"av2:{folder}")


@pytest.mark.parametrize("column", ["tx_m", "qw", "category", "timestamp_ns"])
def test_missing_annotation_column_is_named(
    tmp_path: Path, av2_files: ModuleType, column: str
) -> None:
    rows = av2_files.annotation_rows()
    del rows[column]
    folder = av2_files.write_sensor_log(tmp_path, annotations=rows)
    with pytest.raises(DataError, match=rf"annotations.feather: column '{column}' missing"):
        load_scenario(f"av2:{folder}")


def test_nan_position_is_named_with_its_row(tmp_path: Path, av2_files: ModuleType) -> None:
    rows = av2_files.annotation_rows()
    rows["ty_m"][2] = float("nan")
    folder = av2_files.write_sensor_log(tmp_path, annotations=rows)
    with pytest.raises(DataError, match=r"annotations.feather: column 'ty_m' is nan at row 2"):
        load_scenario(f"av2:{folder}")


@pytest.mark.parametrize("name", ["annotations.feather", "city_SE3_egovehicle.feather"])
def test_corrupt_feather_is_named(tmp_path: Path, av2_files: ModuleType, name: str) -> None:
    folder = av2_files.write_sensor_log(tmp_path)
    (folder / name).write_bytes(b"\x00garbage, not arrow\xff" * 10)
    with pytest.raises(DataError, match=rf"{name}: not a readable feather file"):
        load_scenario(f"av2:{folder}")


def test_corrupt_map_json_is_named(tmp_path: Path, av2_files: ModuleType) -> None:
    folder = av2_files.write_sensor_log(tmp_path)
    map_path = next((folder / "map").glob("*.json"))
    map_path.write_bytes(b"{not json")
    with pytest.raises(DataError, match=r"log_map_archive_.*\.json: not valid JSON"):
        load_scenario(f"av2:{folder}")


def test_map_without_lanes_is_refused(tmp_path: Path, av2_files: ModuleType) -> None:
    road_map = av2_files.straight_lane_map() | {"lane_segments": {}}
    folder = av2_files.write_sensor_log(tmp_path, road_map=road_map)
    with pytest.raises(DataError, match=r"log_map_archive_.*\.json: the map has no lanes"):
        load_scenario(f"av2:{folder}")


def test_map_lane_missing_a_key_names_the_lane(tmp_path: Path, av2_files: ModuleType) -> None:
    road_map = av2_files.straight_lane_map()
    del road_map["lane_segments"]["1"]["right_lane_boundary"]
    path = tmp_path / "map.json"
    path.write_text(json.dumps(road_map))
    with pytest.raises(DataError, match=r"map.json: .*lane 1: key 'right_lane_boundary' missing"):
        load_av2_map(path)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere: no such file or folder"):
        load_scenario(f"av2:{tmp_path / 'nowhere'}")


def test_map_json_becomes_a_road_map(tmp_path: Path, av2_files: ModuleType) -> None:
    path = tmp_path / "map.json"
    path.write_text(json.dumps(av2_files.straight_lane_map()))
    road_map = load_av2_map(path)
    lane = road_map.lanes[1]
    np.testing.assert_allclose(lane.centerline[[0, -1]], [[0.0, 0.0], [100.0, 0.0]])
    assert lane.lane_type == LaneType.VEHICLE and lane.speed_limit_is_default
    assert lane.speed_limit_mps == DEFAULT_SPEED_LIMIT_MPS[LaneType.VEHICLE]
    assert (lane.successors, lane.right_neighbor, lane.left_neighbor) == ((99,), 7, None)
    assert (lane.left_mark_type, lane.right_mark_type) == ("DASHED_WHITE", "SOLID_WHITE")
    np.testing.assert_allclose(
        road_map.crosswalks[5].polygon, [[60, -3], [60, 3], [63, 3], [63, -3]]
    )
    assert road_map.drivable_areas[0].shape == (4, 2)  # closing vertex dropped


def test_forecasting_scenario(tmp_path: Path, av2_files: ModuleType) -> None:
    scenario = load_scenario(f"av2:{av2_files.write_forecasting_scenario(tmp_path)}")
    tracks = scenario.tracks
    assert scenario.num_steps == 110 and scenario.current_index == 49
    assert tracks.ids[scenario.ego_index] == "AV"
    pedestrian = tracks.index_of("7")
    assert tracks.types[pedestrian] == AgentType.PEDESTRIAN
    assert tracks.valid[pedestrian].sum() == 20
    assert tracks.info.attributes["object_category"][pedestrian] == 3
    assert (
        scenario.metadata["focal_track_id"] == "7" and scenario.metadata["num_observed_steps"] == 50
    )
    assert np.all(np.diff(scenario.timestamps_us) == 100_000)


def test_corrupt_parquet_is_named(tmp_path: Path, av2_files: ModuleType) -> None:
    folder = av2_files.write_forecasting_scenario(tmp_path)
    (folder / "scenario_s1.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(DataError, match=r"scenario_s1.parquet: not a readable parquet file"):
        load_scenario(f"av2:{folder}")


def test_a_folder_of_many_expands_to_one_uri_each(tmp_path: Path, av2_files: ModuleType) -> None:
    log = av2_files.write_sensor_log(tmp_path / "logs")
    scenario = av2_files.write_forecasting_scenario(tmp_path / "forecasting")
    assert expand_uris([f"av2:{tmp_path}"]) == [f"av2:{scenario}", f"av2:{log}"]
    with pytest.raises(DataError, match=r"holds 2 AV2 logs/scenarios"):
        load_scenario(f"av2:{tmp_path}")


def test_annotations_table_with_a_string_position_is_refused(
    tmp_path: Path, av2_files: ModuleType
) -> None:
    folder = av2_files.write_sensor_log(tmp_path)
    rows = av2_files.annotation_rows()
    rows["tx_m"] = [str(value) for value in rows["tx_m"]]
    feather.write_feather(pa.table(rows), folder / "annotations.feather")
    with pytest.raises(DataError, match=r"column 'tx_m' has type string, expected a number"):
        load_scenario(f"av2:{folder}")
