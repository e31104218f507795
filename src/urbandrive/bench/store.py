"""Scenario store benchmarks: Parquet shards written and read back, against pickle files."""

from __future__ import annotations

import atexit
import dataclasses
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np

from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.scenarios.noise import PerceptionNoiseConfig, apply_perception_noise
from urbandrive.scenarios.store import clear_caches, read_scenarios, write_scenarios
from urbandrive.scenarios.town import TownConfig, generate_town, light_states
from urbandrive.testing import scenario_from_states

NUM_SCENARIOS = 16
NUM_AGENTS = 60
NUM_STEPS = 150
UTM_OFFSET_M = np.array([584_000.0, 4_477_000.0])  # real logs sit far from the origin


def busy_scenarios(count: int = NUM_SCENARIOS, seed: int = 0) -> list[Scenario]:
    """`count` scenes of 60 agents x 150 steps (smooth curving drives, typical perception
    noise, about 10 % of steps missing) sharing one town map and its lights."""
    rng = np.random.default_rng(seed)
    town = generate_town(TownConfig.small(), seed=seed)
    times_s = np.arange(NUM_STEPS) * 0.1
    lights = light_states(town, times_s)
    scenarios = []
    for index in range(count):
        speed = rng.uniform(0.5, 14.0, (NUM_AGENTS, 1))
        turn_rate = np.cumsum(rng.normal(0.0, 0.01, (NUM_AGENTS, NUM_STEPS)), axis=1)
        heading = rng.uniform(-np.pi, np.pi, (NUM_AGENTS, 1)) + np.cumsum(turn_rate * 0.1, axis=1)
        step = speed[..., None] * 0.1 * np.stack([np.cos(heading), np.sin(heading)], -1)
        xy = UTM_OFFSET_M + rng.uniform(0, 300, (NUM_AGENTS, 1, 2)) + np.cumsum(step, axis=1)
        valid = np.ones((NUM_AGENTS, NUM_STEPS), bool)
        valid[rng.integers(1, NUM_AGENTS, 6), :] &= times_s > rng.uniform(0, 15)
        types = rng.choice([AgentType.VEHICLE, AgentType.PEDESTRIAN, AgentType.CYCLIST], NUM_AGENTS)
        clean = scenario_from_states(
            xy,
            np.angle(np.exp(1j * heading)),
            types,
            valid=valid,
            current_index=49,
            scenario_id=f"busy-{index:03d}",
            road_map=town.road_map,
        )
        clean = dataclasses.replace(clean, traffic_lights=lights, metadata={"city": "bench"})
        scenarios.append(apply_perception_noise(clean, PerceptionNoiseConfig.typical(), index))
    return scenarios


def _temporary_root() -> Path:
    """A temporary folder removed when the process exits."""
    root = Path(tempfile.mkdtemp(prefix="urbandrive-bench-store-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def _store_round_trip(scenarios: list[Scenario], root: Path) -> list[Scenario]:
    folder = Path(tempfile.mkdtemp(dir=root))
    write_scenarios(folder, scenarios, shard_size=64)
    loaded = list(read_scenarios(folder))
    shutil.rmtree(folder)
    return loaded


def _pickle_round_trip(scenarios: list[Scenario], root: Path) -> list[Scenario]:
    path = root / "scenarios.pkl"
    path.write_bytes(pickle.dumps(scenarios, protocol=pickle.HIGHEST_PROTOCOL))
    loaded = pickle.loads(path.read_bytes())
    path.unlink()
    return loaded


def _sizes_mb(scenarios: list[Scenario], root: Path) -> tuple[float, float]:
    """(store, pickle) bytes on disk for `scenarios`, in MB."""
    folder = root / "size"
    write_scenarios(folder, scenarios)
    store_bytes = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder)
    pickle_bytes = len(pickle.dumps(scenarios, protocol=pickle.HIGHEST_PROTOCOL))
    return store_bytes / 1e6, pickle_bytes / 1e6


@benchmark("store_write_read")
def store_write_read() -> Case:
    """16 scenes (60 agents x 150 steps, one shared town map) written to a new store and read
    back; baseline: one pickle file of the same scenes written and read back."""
    scenarios = busy_scenarios()
    root = _temporary_root()
    store_mb, pickle_mb = _sizes_mb(scenarios, root)
    return Case(
        run=lambda: _store_round_trip(scenarios, root),
        baseline=lambda: _pickle_round_trip(scenarios, root),
        baseline_name=f"pickle file (on disk: store {store_mb:.2f} MB, pickle {pickle_mb:.2f} MB)",
        unit_count=float(NUM_SCENARIOS),
        unit="scenario",
        repeats=5,
    )


@benchmark("store_read")
def store_read() -> Case:
    """Read 16 stored scenes back (maps decoded once per store); baseline: unpickling them."""
    scenarios = busy_scenarios()
    root = _temporary_root()
    write_scenarios(root / "store", scenarios)
    pickled = root / "scenarios.pkl"
    pickled.write_bytes(pickle.dumps(scenarios, protocol=pickle.HIGHEST_PROTOCOL))

    def read_store() -> list[Scenario]:
        clear_caches()  # a cold reader: the map is decoded again, as pickle does
        return list(read_scenarios(root / "store"))

    return Case(
        run=read_store,
        baseline=lambda: pickle.loads(pickled.read_bytes()),
        baseline_name="unpickling one file",
        unit_count=float(NUM_SCENARIOS),
        unit="scenario",
        repeats=10,
    )
