"""The Parquet scenario store: exact round trips, maps written once, append-only, clear errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Goal, Route, Scenario
from urbandrive.core.tracks import AgentInfo
from urbandrive.core.traffic_light import TrafficLightStates
from urbandrive.maps.road_map import Lane, StopKind, StopLine, TrafficSignal
from urbandrive.scenarios.map_codec import (
    decode_road_map,
    encode_road_map,
    lane_fields_covered,
)
from urbandrive.scenarios.store import (
    LOADER,
    ScenarioStoreWriter,
    load_stored_scenario,
    read_scenarios,
    stored_ids,
    write_scenarios,
)
from urbandrive.scenarios.store_codec import scenario_differences
from urbandrive.testing import scenario_from_states, straight_road


def _rich_scenario(scenario_id: str = "rich", seed: int = 0) -> Scenario:
    """A scenario using every stored field: map with stop line and signal, lights, route, goal,
    attributes of several dtypes and shapes, invalid steps, metadata with awkward values."""
    rng = np.random.default_rng(seed)
    num_agents, num_steps = 5, 12
    xy = rng.normal(size=(num_agents, num_steps, 2)) * 30 + [4000.0, -2000.0]
    xy[1, 0, 0] = -0.0
    valid = rng.random((num_agents, num_steps)) > 0.2
    valid[0] = True
    base = scenario_from_states(
        xy,
        rng.uniform(-np.pi, np.pi, (num_agents, num_steps)),
        [
            AgentType.VEHICLE,
            AgentType.PEDESTRIAN,
            AgentType.CYCLIST,
            AgentType.STATIC,
            AgentType.LARGE_VEHICLE,
        ],
        valid=valid,
        ids=["ego", "a9f3-uuid", "bike", "cone#1?", "bus"],
        current_index=4,
        scenario_id=scenario_id,
    )
    road = straight_road(num_lanes=2, crosswalk_at_m=50.0)
    road = dataclasses.replace(
        road,
        stop_lines={
            7: StopLine(7, np.array([[40.0, -1.75], [40.0, 5.25]]), StopKind.STOP_SIGN, (0, 100))
        },
        signals={
            3: TrafficSignal(3, np.array([39.0, 6.0]), (0,)),
            4: TrafficSignal(4, np.array([1.0, 2.0])),
        },
    )
    info = base.tracks.info
    attributes = {
        "category_confidence": rng.random(num_agents).astype(np.float32),
        "source_category": np.array(["EGO", "PEDESTRIAN", "BICYCLIST", "CONE", "BUS"]),
        "num_interior_pts": rng.integers(0, 500, (num_agents, num_steps)),
        "is_parked": np.array([False, False, False, True, False]),
        "size_jitter_m": rng.normal(size=(num_agents, num_steps, 2)).astype(np.float32),
    }
    tracks = dataclasses.replace(base.tracks, info=dataclasses.replace(info, attributes=attributes))
    lights = TrafficLightStates(
        np.array([3, 4], np.int64), rng.integers(0, 6, (2, num_steps)).astype(np.int8)
    )
    return dataclasses.replace(
        base,
        tracks=tracks,
        road_map=road,
        traffic_lights=lights,
        route=Route((0, 1)),
        goal=Goal(xy=np.array([190.0, 0.0]), heading=None, radius_m=3.0),
        metadata={
            "city": "pittsburgh",
            "tracks_to_predict": ("a9f3-uuid", "bike"),
            "nested": {"k": [1, 2.5, None, True], 3: "int key", "__odd": 1},
            "array": np.arange(3, dtype=np.int16),
            "scalar": np.float32(0.25),
            "nan": float("nan"),
        },
    )


def _assert_identical(expected: Scenario, actual: Scenario) -> None:
    assert scenario_differences(expected, actual) == []


def test_round_trip_is_bit_identical(tmp_path: Path) -> None:
    scenario = _rich_scenario()
    write_scenarios(tmp_path / "store", [scenario])
    loaded = LOADER.load(f"{tmp_path / 'store'}#rich")
    _assert_identical(scenario, loaded)
    assert loaded.metadata["tracks_to_predict"] == ("a9f3-uuid", "bike")
    assert loaded.metadata["array"].dtype == np.int16
    assert type(loaded.metadata["scalar"]) is np.float32
    assert np.isnan(loaded.metadata["nan"])
    assert np.signbit(loaded.tracks.xy[1, 0, 0]) == np.signbit(scenario.tracks.xy[1, 0, 0])
    loaded.tracks.xy[0, 0, 0] = 1.0  # loaded arrays are ordinary writable arrays


def test_every_map_field_survives(tmp_path: Path) -> None:
    assert lane_fields_covered()
    road = _rich_scenario().road_map
    decoded = decode_road_map(encode_road_map(road))
    assert list(decoded.lanes) == list(road.lanes)
    for lane_id, lane in road.lanes.items():
        for field in dataclasses.fields(Lane):
            want, got = getattr(lane, field.name), getattr(decoded.lanes[lane_id], field.name)
            if isinstance(want, np.ndarray):
                assert got.dtype == want.dtype and np.array_equal(got, want), field.name
            else:
                assert got == want and type(got) is type(want), field.name
    assert decoded.stop_lines[7].kind is StopKind.STOP_SIGN
    assert decoded.stop_lines[7].lane_ids == (0, 100)
    assert decoded.signals[4].lane_ids == () and decoded.signals[3].xy.shape == (2,)
    np.testing.assert_array_equal(decoded.crosswalks[1].polygon, road.crosswalks[1].polygon)
    assert len(decoded.drivable_areas) == 1 and decoded.source == road.source


def test_scenarios_without_map_lights_route_goal_or_ego(tmp_path: Path) -> None:
    bare = scenario_from_states(
        np.zeros((2, 3, 2)),
        np.zeros((2, 3)),
        [AgentType.VEHICLE] * 2,
        ego_index=None,
        scenario_id="bare",
    )
    empty_lights = dataclasses.replace(
        _rich_scenario("empty"),
        traffic_lights=TrafficLightStates(np.zeros(0, np.int64), np.zeros((0, 12), np.int8)),
        route=Route(()),
    )
    write_scenarios(tmp_path, [bare, empty_lights])
    for scenario in (bare, empty_lights):
        _assert_identical(scenario, load_stored_scenario(tmp_path, scenario.id))


def test_shards_hold_shard_size_scenarios_and_maps_are_written_once(tmp_path: Path) -> None:
    scenarios = [_rich_scenario(f"s{i}", seed=i) for i in range(7)]
    shared_map = scenarios[0].road_map
    scenarios = [dataclasses.replace(s, road_map=shared_map) for s in scenarios]
    write_scenarios(tmp_path, scenarios, shard_size=3)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [len(shard["scenario_ids"]) for shard in manifest["shards"]] == [3, 3, 1]
    assert len(list((tmp_path / "maps").glob("*.parquet"))) == 1
    loaded = list(read_scenarios(tmp_path))
    assert [s.id for s in loaded] == [f"s{i}" for i in range(7)]
    for expected, actual in zip(scenarios, loaded, strict=True):
        _assert_identical(expected, actual)
    assert loaded[0].road_map is loaded[6].road_map  # one decoded map shared by its scenarios


def test_writing_again_appends_and_refuses_duplicate_ids(tmp_path: Path) -> None:
    write_scenarios(tmp_path, [_rich_scenario("first")])
    shard_files = sorted(p.name for p in (tmp_path / "shards").iterdir())
    write_scenarios(tmp_path, [_rich_scenario("second", seed=1)])
    assert stored_ids(tmp_path) == ["first", "second"]
    assert set(shard_files) < {p.name for p in (tmp_path / "shards").iterdir()}
    with pytest.raises(DataError, match="already holds scenario 'first'"):
        write_scenarios(tmp_path, [_rich_scenario("first")])
    with ScenarioStoreWriter(tmp_path) as writer:
        writer.add(_rich_scenario("third"))
        with pytest.raises(DataError, match="'third'"):
            writer.add(_rich_scenario("third"))
    assert stored_ids(tmp_path) == ["first", "second", "third"]


def test_loader_lists_one_location_per_scenario(tmp_path: Path) -> None:
    write_scenarios(tmp_path, [_rich_scenario("a"), _rich_scenario("b")], shard_size=1)
    locations = LOADER.list_scenarios(str(tmp_path))
    assert locations == [f"{tmp_path}#a", f"{tmp_path}#b"]
    assert LOADER.scheme == "store"
    _assert_identical(_rich_scenario("b"), LOADER.load(locations[1]))
    with pytest.raises(DataError, match="holds 2 scenarios"):
        LOADER.load(str(tmp_path))


def test_unknown_scenario_id_names_the_manifest(tmp_path: Path) -> None:
    write_scenarios(tmp_path, [_rich_scenario()])
    with pytest.raises(DataError, match=r"manifest\.json: no scenario with id 'nope'"):
        LOADER.load(f"{tmp_path}#nope")
    with pytest.raises(DataError, match="not a scenario store"):
        LOADER.list_scenarios(str(tmp_path / "elsewhere"))


def test_corrupt_shard_names_the_file(tmp_path: Path) -> None:
    write_scenarios(tmp_path, [_rich_scenario()])
    agents_file = next((tmp_path / "shards").glob("*.steps.parquet"))
    agents_file.chmod(0o644)
    agents_file.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataError, match=agents_file.name):
        LOADER.load(f"{tmp_path}#rich")
    with pytest.raises(DataError, match=agents_file.name):
        list(read_scenarios(tmp_path))


def test_missing_map_file_names_the_file(tmp_path: Path) -> None:
    write_scenarios(tmp_path, [_rich_scenario()])
    map_file = next((tmp_path / "maps").glob("*.parquet"))
    map_file.unlink()
    with pytest.raises(DataError, match=map_file.name):
        LOADER.load(f"{tmp_path}#rich")


def test_values_that_cannot_be_stored_are_refused_before_writing(tmp_path: Path) -> None:
    scenario = dataclasses.replace(_rich_scenario(), metadata={"when": object()})
    with pytest.raises(DataError, match="'when'"):
        write_scenarios(tmp_path, [scenario])
    info = _rich_scenario().tracks.info
    odd = AgentInfo(info.ids, info.types, info.size_m, {"tags": np.array([None] * 5)})
    scenario = dataclasses.replace(
        _rich_scenario(), tracks=dataclasses.replace(_rich_scenario().tracks, info=odd)
    )
    with pytest.raises(DataError, match="'tags'"):
        write_scenarios(tmp_path, [scenario])
    assert not (tmp_path / "manifest.json").exists()


@pytest.fixture(scope="module")
def av2_scenarios(av2_dir: Path) -> list[Scenario]:
    from urbandrive.datasets import load_scenario

    logs = sorted(path for path in (av2_dir / "logs").glob("*") if path.is_dir())
    if not logs:
        pytest.skip(f"no AV2 sensor logs under {av2_dir / 'logs'}")
    return [load_scenario(f"av2:{log}") for log in logs]


def test_real_av2_logs_round_trip_bit_identical(
    tmp_path: Path, av2_scenarios: list[Scenario]
) -> None:
    write_scenarios(tmp_path, av2_scenarios)
    for scenario in av2_scenarios:
        loaded = load_stored_scenario(tmp_path, scenario.id)
        _assert_identical(scenario, loaded)
        assert loaded.tracks.info.attributes["num_interior_pts"].shape == (
            scenario.tracks.valid.shape
        )
