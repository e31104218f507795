"""The ScenarioNet adapter: real Waymo / nuScenes pickles (skipped when absent), bad inputs."""

from __future__ import annotations

import collections
import json
import pickle
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
from urbandrive.datasets.scenarionet import LOADER, read_description
from urbandrive.maps.road_map import StopKind

WAYMO_MOTION = "sd_training.tfrecord-00000-of-01000_2a1e44d405a6833f.pkl"
WAYMO_20S = "metadrive_waymo_0.pkl"
NUSCENES = "sd_nuscenes_v1.0-mini_scene-0061.pkl"
#: file -> (tracks, steps, ego id, lanes, crosswalks, signals)
EXPECTED = {
    WAYMO_MOTION: (211, 91, "1629", 182, 16, 8),
    WAYMO_20S: (75, 197, "4624", 319, 7, 19),  # 326 lanes, 7 with a single point skipped
    NUSCENES: (226, 191, "ego", 460, 0, 0),
}


@pytest.fixture(scope="session")
def scenarionet_dir(data_dir: Path) -> Path:
    path = data_dir / "scenarionet"
    if not path.is_dir():
        pytest.skip(f"ScenarioNet data not found at {path}")
    return path


@pytest.fixture(scope="session")
def real_files(scenarionet_dir: Path) -> dict[str, Path]:
    files = {path.name: path for path in scenarionet_dir.glob("*/*.pkl")}
    missing = set(EXPECTED) - set(files)
    if missing:
        pytest.skip(f"ScenarioNet files missing: {sorted(missing)}")
    return files


@pytest.fixture(scope="session")
def raw(real_files: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {name: read_description(real_files[name]) for name in EXPECTED}


@pytest.fixture(scope="session")
def scenarios(real_files: dict[str, Path]) -> dict[str, Scenario]:
    from urbandrive.datasets.scenarionet import load_scenarionet

    loaded = {name: load_scenarionet(real_files[name]) for name in EXPECTED}
    for scenario in loaded.values():
        scenario.validate()
    return loaded


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_steps_ego_and_map_sizes(name: str, scenarios: dict[str, Scenario]) -> None:
    scenario = scenarios[name]
    tracks, steps, ego, lanes, crosswalks, signals = EXPECTED[name]
    assert scenario.tracks.num_agents == tracks
    assert scenario.num_steps == steps
    assert scenario.tracks.ids[scenario.ego_index] == ego
    assert len(scenario.road_map.lanes) == lanes
    assert len(scenario.road_map.crosswalks) == crosswalks
    assert len(scenario.road_map.signals) == signals
    assert scenario.dt_s == 0.1
    assert np.allclose(np.diff(scenario.timestamps_us), 100_000, atol=12_000)


@pytest.mark.real_data
def test_no_valid_step_dropped(raw: dict[str, Any], scenarios: dict[str, Scenario]) -> None:
    for name, description in raw.items():
        stored = sum(
            int((np.asarray(t["state"]["valid"]) > 0.5).sum())
            for t in description["tracks"].values()
        )
        assert int(scenarios[name].tracks.valid.sum()) == stored


@pytest.mark.real_data
def test_types_follow_the_source(raw: dict[str, Any], scenarios: dict[str, Scenario]) -> None:
    nuscenes = scenarios[NUSCENES].tracks
    by_type = collections.Counter(AgentType(int(t)).name for t in nuscenes.types)
    # 71 cones + 65 barriers; 3 bicycles; 3 motorcycles; 2 buses (+ long trucks)
    assert by_type["STATIC"] == 136
    assert by_type["CYCLIST"] == 3 and by_type["MOTORCYCLIST"] == 3
    assert by_type["PEDESTRIAN"] == 60
    buses = np.char.startswith(
        nuscenes.info.attributes["source_category"].astype(str), "vehicle.bus"
    )
    assert np.all(nuscenes.types[buses] == AgentType.LARGE_VEHICLE)
    waymo = scenarios[WAYMO_MOTION].tracks
    source = collections.Counter(t["type"] for t in raw[WAYMO_MOTION]["tracks"].values())
    assert int((waymo.types == AgentType.PEDESTRIAN).sum()) == source["PEDESTRIAN"]
    assert (
        int(np.isin(waymo.types, [AgentType.VEHICLE, AgentType.LARGE_VEHICLE]).sum())
        == source["VEHICLE"]
    )


@pytest.mark.real_data
def test_nuscenes_ego_is_longer_than_wide(scenarios: dict[str, Scenario]) -> None:
    scenario = scenarios[NUSCENES]
    np.testing.assert_allclose(scenario.tracks.size_m[scenario.ego_index], [4.08, 1.73])
    assert scenario.current_index == 20 and scenario.metadata["current_index_is_default"]
    assert scenario.traffic_lights is None


@pytest.mark.real_data
def test_waymo_metadata_kept(raw: dict[str, Any], scenarios: dict[str, Scenario]) -> None:
    scenario, metadata = scenarios[WAYMO_MOTION], raw[WAYMO_MOTION]["metadata"]
    assert scenario.current_index == metadata["current_time_index"] == 10
    assert scenario.ego_index == metadata["sdc_track_index"]
    to_predict = scenario.metadata["tracks_to_predict"]
    assert set(to_predict) == set(metadata["tracks_to_predict"])
    for track_id, entry in metadata["tracks_to_predict"].items():
        assert scenario.tracks.ids[entry["track_index"]] == track_id
    summary = summarize_scenario(scenario)
    json.dumps(summary)
    assert summary["has_traffic_lights"]


@pytest.mark.real_data
@pytest.mark.parametrize("name", [WAYMO_MOTION, WAYMO_20S])
def test_light_states_at_a_step_match_the_raw_dict(
    name: str, raw: dict[str, Any], scenarios: dict[str, Scenario]
) -> None:
    scenario, dynamic = scenarios[name], raw[name]["dynamic_map_states"]
    step = 30
    names = {"LANE_STATE_STOP": 1, "LANE_STATE_ARROW_STOP": 1, "LANE_STATE_GO": 3}
    names |= {"LANE_STATE_CAUTION": 2, "LANE_STATE_ARROW_CAUTION": 2, "LANE_STATE_ARROW_GO": 3}
    waymo_enum = [0, 1, 2, 3, 1, 2, 3, 4, 5]
    lights = scenario.traffic_lights.at(step)
    assert len(lights) == len(dynamic)
    for key, entry in dynamic.items():
        value = entry["state"]["object_state"][step]
        expected = (
            waymo_enum[int(value)] if not isinstance(value, str | None) else names.get(value, 0)
        )
        assert lights[int(key)] == TrafficLightState(expected), key
        stop = [s for s in scenario.road_map.stop_lines.values() if s.lane_ids == (int(key),)]
        assert len(stop) == 1 and stop[0].kind == StopKind.TRAFFIC_LIGHT
    assert any(s.must_stop for s in lights.values())


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_moving_vehicles_sit_on_lanes(name: str, scenarios: dict[str, Scenario]) -> None:
    scenario = scenarios[name]
    tracks = scenario.tracks
    vehicles = np.isin(tracks.types, [AgentType.VEHICLE, AgentType.LARGE_VEHICLE])
    moving = tracks.valid & (tracks.speed_mps > 2.0) & vehicles[:, None]
    _, distance_m = scenario.road_map.nearest_lanes(tracks.xy[moving])
    assert moving.sum() > 500
    assert np.mean(distance_m < 2.0) > 0.9


@pytest.mark.real_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_lane_centerlines_lie_in_the_drivable_area(
    name: str, scenarios: dict[str, Scenario]
) -> None:
    road_map = scenarios[name].road_map
    area = shapely.union_all([shapely.Polygon(p) for p in road_map.drivable_areas])
    for polygon in road_map.drivable_areas:
        assert not shapely.Polygon(polygon).interiors  # hole-free pieces
    points = np.concatenate([lane.centerline for lane in road_map.lanes.values()])
    assert shapely.intersects_xy(area.buffer(0.05), points[:, 0], points[:, 1]).all()


@pytest.mark.real_data
def test_lane_graph_and_marks(scenarios: dict[str, Scenario]) -> None:
    lanes = scenarios[WAYMO_MOTION].road_map.lanes
    assert sum(bool(lane.successors) for lane in lanes.values()) > 150
    marks = collections.Counter(
        m for lane in lanes.values() for m in (lane.left_mark_type, lane.right_mark_type)
    )
    assert marks["DASHED_WHITE"] > 0 and marks["NONE"] > 0
    assert {round(lane.speed_limit_mps / 0.44704) for lane in lanes.values()} >= {25, 35, 45}
    nuscenes = scenarios[NUSCENES]
    assert nuscenes.metadata["map_feature_ids"][0] in raw_keys(nuscenes)
    assert all(lane.speed_limit_is_default for lane in nuscenes.road_map.lanes.values())


def raw_keys(scenario: Scenario) -> set[str]:
    return set(scenario.metadata["map_feature_ids"].values())


@pytest.mark.real_data
def test_folder_lists_scenarios_not_index_files(scenarionet_dir: Path, tmp_path: Path) -> None:
    waymo = scenarionet_dir / "waymo"
    listed = LOADER.list_scenarios(str(waymo))
    assert listed == sorted(str(p) for p in waymo.glob("*.pkl"))
    (tmp_path / "dataset_summary.pkl").write_bytes(pickle.dumps({"a": {}}))
    (tmp_path / "dataset_mapping.pkl").write_bytes(pickle.dumps({"a": ""}))
    with pytest.raises(DataError, match="no ScenarioNet scenario"):
        LOADER.list_scenarios(str(tmp_path))


@pytest.mark.real_data
@pytest.mark.parametrize("name", [WAYMO_MOTION, NUSCENES])
def test_render(name: str, scenarios: dict[str, Scenario], tmp_path: Path) -> None:
    from urbandrive.viz import render_scenario

    out = render_scenario(scenarios[name], tmp_path / "x.png")
    assert out.stat().st_size > 10_000


# -- malformed inputs: one clear DataError each ---------------------------------------------


def _write(tmp_path: Path, value: Any) -> Path:
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(value))
    return path


def _minimal() -> dict[str, Any]:
    state = {
        "position": np.zeros((3, 3)), "heading": np.zeros(3), "velocity": np.zeros((3, 2)),
        "valid": np.ones(3, bool), "length": np.full(3, 4.5), "width": np.full(3, 2.0),
    }  # fmt: skip
    lane = {"type": "LANE_SURFACE_STREET", "polyline": np.array([[0.0, 0.0], [10.0, 0.0]])}
    return {
        "length": 3,
        "tracks": {"7": {"type": "VEHICLE", "state": state}},
        "map_features": {"1": lane},
        "dynamic_map_states": {},
        "metadata": {"sdc_id": "7", "ts": np.arange(3) * 0.1, "dataset": "test"},
    }


def test_minimal_description_loads(tmp_path: Path) -> None:
    scenario = LOADER.load(str(_write(tmp_path, _minimal())))
    scenario.validate()
    assert scenario.ego_index == 0 and scenario.current_index == 2  # 2 s default, clipped
    lane = scenario.road_map.lanes[1]
    np.testing.assert_allclose(lane.left_boundary[:, 1], 1.85)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: [d], "expected a dict, got list"),
        (lambda d: {k: v for k, v in d.items() if k != "tracks"}, "key 'tracks' missing"),
        (lambda d: (d["tracks"]["7"].pop("state"), d)[1], r"tracks\['7'\] has no 'state'"),
        (lambda d: (d["tracks"]["7"]["state"].pop("heading"), d)[1], "'heading' missing"),
        (
            lambda d: d["tracks"]["7"]["state"].update(valid=np.ones(5)) or d,
            r"'valid'.*shape \(5, 1\)",
        ),
        (lambda d: d["metadata"].update(sdc_id="9") or d, "'sdc_id' '9' is not a track"),
        (
            lambda d: (d["map_features"]["1"].pop("polyline"), d)[1],
            r"map_features\['1'\] has no 'polyline'",
        ),
    ],
)
def test_malformed_description_names_file_and_key(tmp_path: Path, edit: Any, message: str) -> None:
    path = _write(tmp_path, edit(_minimal()))
    with pytest.raises(DataError, match=message) as caught:
        LOADER.load(str(path))
    assert str(path) in str(caught.value)


class Sneaky:
    """Any class outside numpy / builtins must be refused by the unpickler."""


def test_pickle_with_a_foreign_class_is_refused(tmp_path: Path) -> None:
    description = _minimal()
    description["metadata"]["extra"] = collections.Counter(a=1)
    path = _write(tmp_path, description)
    with pytest.raises(DataError, match=r"collections\.Counter is not allowed"):
        LOADER.load(str(path))


def test_truncated_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps(_minimal())[:200])
    with pytest.raises(DataError, match="not a readable scenario pickle"):
        LOADER.load(str(path))


def test_index_file_is_not_a_scenario(tmp_path: Path) -> None:
    path = tmp_path / "dataset_summary.pkl"
    path.write_bytes(pickle.dumps({}))
    with pytest.raises(DataError, match="index file"):
        LOADER.load(str(path))
