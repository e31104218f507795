"""Closed-loop simulation speed: steps per second on one core with the idm planner, reactive.

Baseline: the same scenario with the `log` planner (no planning work), so the ratio shows what
planning + reactive agents cost on top of the loop itself.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Route, Scenario
from urbandrive.planning.baselines import IdmPlanner, LogPlanner
from urbandrive.simulation.engine import SimulationConfig, simulate
from urbandrive.testing import scenario_from_states, straight_road

NUM_AGENTS = 60
NUM_STEPS = 101


def busy_road_scenario() -> Scenario:
    """60 vehicles in platoons on a 3-lane, 600 m road; the ego in the middle lane."""
    rng = np.random.default_rng(0)
    times = np.arange(NUM_STEPS) * 0.1
    lane = np.arange(NUM_AGENTS) % 3
    start = 10.0 + 12.0 * (np.arange(NUM_AGENTS) // 3) + rng.uniform(0, 3, NUM_AGENTS)
    speed = rng.uniform(8.0, 11.0, NUM_AGENTS)
    x = start[:, None] + speed[:, None] * times[None]
    xy = np.stack([x, np.broadcast_to(3.5 * lane[:, None], x.shape)], axis=-1)
    scenario = scenario_from_states(
        xy,
        np.zeros(x.shape),
        [AgentType.VEHICLE] * NUM_AGENTS,
        road_map=straight_road(num_lanes=3, length_m=600.0, num_segments=6),
        current_index=0,
        ego_index=int(np.flatnonzero(lane == 1)[3]),
    )
    return dataclasses.replace(scenario, route=Route((100, 101, 102, 103, 104, 105)))


@benchmark("simulation_steps_idm_reactive")
def simulation_steps() -> Case:
    scenario = busy_road_scenario()
    config = SimulationConfig(reactive=True, keep_plans=False)
    return Case(
        run=lambda: simulate(scenario, IdmPlanner(scenario), config),
        baseline=lambda: simulate(
            scenario, LogPlanner(scenario), SimulationConfig(keep_plans=False)
        ),
        baseline_name="log planner, replayed agents",
        unit_count=NUM_STEPS - 1,
        unit="step",
        repeats=5,
    )
