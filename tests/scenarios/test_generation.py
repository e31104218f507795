"""Dataset generation: suites, factories over processes, noise, the store, the CLI command."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.scenarios.empty_roads import NUM_TOWNS, SUITE_NAME, build_empty_roads
from urbandrive.scenarios.generation import (
    SUITES,
    SuiteSpec,
    generate_dataset,
    register_suite,
    suite_factories,
)
from urbandrive.scenarios.noise import PerceptionNoiseConfig
from urbandrive.scenarios.store import LOADER, read_scenarios, stored_ids
from urbandrive.scenarios.store_codec import scenario_differences
from urbandrive.testing import scenario_from_states


def _line_scenario(scenario_id: str, num_agents: int) -> Scenario:
    """A module-level factory body (picklable through functools.partial)."""
    xy = np.zeros((num_agents, 5, 2))
    xy[..., 0] = np.arange(5) * 1.0 + np.arange(num_agents)[:, None] * 10
    return scenario_from_states(
        xy, np.zeros((num_agents, 5)), [AgentType.VEHICLE] * num_agents, scenario_id=scenario_id
    )


def test_the_builtin_suite_is_registered_and_duplicates_are_refused() -> None:
    assert SUITE_NAME in SUITES
    with pytest.raises(ValueError, match="already registered"):
        register_suite(SuiteSpec(SUITE_NAME, "again", build_empty_roads))
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        suite_factories("nope", 3, seed=0)


def test_suite_factories_are_seeded_and_named() -> None:
    factories = suite_factories(SUITE_NAME, 4, seed=7)
    assert [f.scenario_id for f in factories] == [f"{SUITE_NAME}/7/{i:06d}" for i in range(4)]
    assert factories == suite_factories(SUITE_NAME, 4, seed=7)
    assert len({f.seed for f in factories}) == 4
    assert factories[0]().id == factories[0].scenario_id


def test_empty_roads_agents_drive_lane_centerlines_at_constant_speed() -> None:
    scenario = build_empty_roads(seed=5)
    scenario.validate()
    tracks, road_map = scenario.tracks, scenario.road_map
    assert road_map is not None and tracks.num_agents >= 5 and scenario.ego_index == 0
    points = tracks.xy[tracks.valid]
    _, distance_m = road_map.nearest_lanes(points)
    assert distance_m.max() < 1e-6
    speed = tracks.speed_mps
    for agent in range(tracks.num_agents):
        observed = speed[agent, tracks.valid[agent]]
        assert np.ptp(observed) < 1e-6 and observed[0] > 1.0
    assert scenario.route is not None and scenario.route.lane_ids[0] in road_map.lanes
    assert scenario.traffic_lights is not None
    assert scenario.traffic_lights.states.shape[1] == scenario.num_steps
    assert scenario_differences(scenario, build_empty_roads(seed=5)) == []


def test_same_seed_same_store_whatever_the_number_of_workers(tmp_path: Path) -> None:
    factories = suite_factories(SUITE_NAME, 7, seed=1)
    noise = PerceptionNoiseConfig.typical()
    serial = generate_dataset(factories, tmp_path / "a", 1, 3, noise, seed=2, progress=False)
    parallel = generate_dataset(factories, tmp_path / "b", 2, 3, noise, seed=2, progress=False)
    assert serial.scenario_ids == parallel.scenario_ids == tuple(f.scenario_id for f in factories)
    for first, second in zip(
        read_scenarios(tmp_path / "a"), read_scenarios(tmp_path / "b"), strict=True
    ):
        assert scenario_differences(first, second) == []
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert [len(s["scenario_ids"]) for s in manifest["shards"]] == [3, 3, 1]
    assert 1 <= len(list((tmp_path / "b" / "maps").glob("*.parquet"))) <= NUM_TOWNS


def test_noise_is_applied_and_recorded_and_the_ego_kept(tmp_path: Path) -> None:
    factories = suite_factories(SUITE_NAME, 2, seed=4)
    heavy = PerceptionNoiseConfig.heavy()
    generate_dataset(factories, tmp_path / "clean", progress=False)
    generate_dataset(factories, tmp_path / "noisy", noise=heavy, seed=9, progress=False)
    for clean, noisy in zip(
        read_scenarios(tmp_path / "clean"), read_scenarios(tmp_path / "noisy"), strict=True
    ):
        assert "perception_noise" not in clean.metadata
        assert noisy.metadata["perception_noise"]["position_std_m"] == heavy.position_std_m
        np.testing.assert_array_equal(noisy.tracks.xy[0], clean.tracks.xy[0])
        assert not np.array_equal(noisy.tracks.xy[1:], clean.tracks.xy[1:])
        assert "category_confidence" in noisy.tracks.info.attributes


def test_plain_callables_are_factories_too(tmp_path: Path) -> None:
    factories = [functools.partial(_line_scenario, f"line-{i}", i + 2) for i in range(4)]
    result = generate_dataset(factories, tmp_path, workers=2, shard_size=2, progress=False)
    assert result.scenario_ids == ("line-0", "line-1", "line-2", "line-3")
    loaded = LOADER.load(f"{tmp_path}#line-3")
    assert scenario_differences(_line_scenario("line-3", 5), loaded) == []


def test_generating_the_same_scenarios_again_is_refused_before_any_work(tmp_path: Path) -> None:
    generate_dataset(suite_factories(SUITE_NAME, 2, seed=0), tmp_path, progress=False)
    with pytest.raises(DataError, match="already holds 2 of these scenarios"):
        generate_dataset(suite_factories(SUITE_NAME, 2, seed=0), tmp_path, progress=False)
    generate_dataset(suite_factories(SUITE_NAME, 1, seed=1), tmp_path, progress=False)
    assert len(stored_ids(tmp_path)) == 3


def test_generate_command_writes_the_store_and_says_where(tmp_path: Path) -> None:
    from urbandrive.cli import app

    out = tmp_path / "dataset"
    arguments = ["generate", "--suite", SUITE_NAME, "--count", "3", "--out", str(out)]
    result = CliRunner().invoke(app, [*arguments, "--noise", "typical", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert f"wrote 3 scenarios of {SUITE_NAME} to {out}" in result.output
    assert stored_ids(out) == [f"{SUITE_NAME}/5/{i:06d}" for i in range(3)]
    bad = CliRunner().invoke(app, [*arguments, "--noise", "extreme"])
    assert bad.exit_code != 0 and "unknown noise preset 'extreme'" in str(bad.exception)
