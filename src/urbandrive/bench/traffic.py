"""Town traffic benchmarks: one world step with 60 agents, reported as scenario-seconds
generated per CPU-second (goal >= 50); baseline: the same step with a per-agent loop for the
leader search (no broad phase)."""

from __future__ import annotations

from unittest import mock

import numpy as np

from urbandrive.agents.traffic import DT_S, TrafficWorld, step
from urbandrive.agents.traffic import vehicles as traffic_vehicles
from urbandrive.agents.traffic.paths import project_on_windows
from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.scenarios.town import TownConfig, generate_town, light_states, walk_signals
from urbandrive.scenarios.town.population import PopulationConfig, populate

#: 60 agents: 30 cars, a bus, 4 cyclists, 15 pedestrians, 2 dogs, 8 parked cars.
POPULATION_60 = PopulationConfig(
    num_vehicles=30,
    num_buses=1,
    num_cyclists=4,
    num_pedestrians=15,
    num_dogs=2,
    num_parked=8,
    num_double_parked=0,
)
WARMUP_STEPS = 150


def leader_gaps_per_agent(
    world: TrafficWorld, rows: NDArrayInt
) -> tuple[NDArrayF64, NDArrayF64, np.ndarray]:
    """`vehicles.leader_gaps` with a Python loop over agents: each projects every other
    active agent onto its path window (no broad phase)."""
    gap, lead_speed = np.full(rows.shape[0], np.inf), np.zeros(rows.shape[0])
    is_vehicle = np.zeros(rows.shape[0], dtype=bool)
    window = int(traffic_vehicles.LOOKAHEAD_M / (2 * world.paths.spacing_m)) + 4
    for index, agent in enumerate(rows.tolist()):
        others = np.flatnonzero(world.active & (np.arange(world.num_agents) != agent))
        repeated = np.full(others.shape[0], agent)
        s_foot, d_foot, path_heading, inside = project_on_windows(
            world.paths, repeated, world.s_m[repeated], world.xy[others], window
        )
        relative = world.heading[others] - path_heading
        cos, sin = np.abs(np.cos(relative)), np.abs(np.sin(relative))
        lat_extent = 0.5 * (world.length_m[others] * sin + world.width_m[others] * cos)
        long_extent = 0.5 * (world.length_m[others] * cos + world.width_m[others] * sin)
        limit = 0.5 * world.width_m[agent] + lat_extent + traffic_vehicles.LATERAL_MARGIN_M
        on_path = inside & (np.abs(d_foot) < limit) & (s_foot > world.s_m[agent])
        gaps = np.where(
            on_path, s_foot - world.s_m[agent] - 0.5 * world.length_m[agent] - long_extent, np.inf
        )
        if on_path.any():
            best = int(np.argmin(gaps))
            gap[index] = gaps[best]
            lead_speed[index] = max(world.speed_mps[others[best]] * np.cos(relative[best]), 0.0)
            is_vehicle[index] = world.kinds[others[best]] in traffic_vehicles.VEHICLE_KINDS
    return gap, lead_speed, is_vehicle


@benchmark("town_traffic_step_60")
def town_traffic_step_60() -> Case:
    """One 0.1 s step of 60 town agents (small town, after a 15 s warm-up)."""
    town = generate_town(TownConfig.small(), seed=0)
    world = populate(town, POPULATION_60, seed=0, route_length_m=1500.0).world
    times_s = np.arange(WARMUP_STEPS + 1) * DT_S
    lights, walks = light_states(town, times_s).states, walk_signals(town, times_s).states
    for index in range(WARMUP_STEPS):
        world = step(world, lights[:, index], walks[:, index])
    lights_now, walks_now = lights[:, -1], walks[:, -1]

    def baseline() -> object:
        with mock.patch.object(traffic_vehicles, "leader_gaps", leader_gaps_per_agent):
            return step(world, lights_now, walks_now)

    return Case(
        run=lambda: step(world, lights_now, walks_now),
        baseline=baseline,
        baseline_name="per-agent Python loop for the leader search",
        unit_count=DT_S,
        unit="scenario_second",
        repeats=50,
    )
