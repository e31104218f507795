"""The scorer's broad phase changes the time, never the scores or the choice: the pair finder
keeps every overlapping pair, and PAIRS / AGENTS score like the dense reference (NONE)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.planning.scenes import observation_now, scene

from urbandrive.bench.planning import PerturbedConstantVelocity, busy_scene
from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.planning.planner import (
    URBAN_DEFAULT,
    PlanningCycle,
    UrbanPlanner,
    UrbanPlannerConfig,
)
from urbandrive.planning.scoring.pairs import StepBoxes, interacting_pairs
from urbandrive.planning.scoring.scorer import BroadPhase


def _with_broad_phase(broad_phase: BroadPhase) -> UrbanPlannerConfig:
    scoring = dataclasses.replace(URBAN_DEFAULT.scoring, broad_phase=broad_phase)
    return dataclasses.replace(URBAN_DEFAULT, scoring=scoring)


def _narrow_buffer(broad_phase: BroadPhase) -> UrbanPlannerConfig:
    config = _with_broad_phase(broad_phase)
    scoring = dataclasses.replace(config.scoring, collision_buffer_m=(0.5, 0.3))
    return dataclasses.replace(config, scoring=scoring)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 7), st.integers(1, 6))
def test_interacting_pairs_are_exactly_the_overlapping_step_boxes(
    seed: int, block_steps: int, group_size: int
) -> None:
    rng = np.random.default_rng(seed)
    num_candidates, num_modes, num_agents, num_steps = 11, 2, 5, 13
    ego_xy = rng.uniform(0, 40, (num_candidates, num_steps, 2))
    agent_start = rng.uniform(0, 40, (num_modes, num_agents, num_steps, 2))
    agent_end = agent_start + rng.uniform(-5, 5, agent_start.shape)
    valid = rng.random((num_agents, num_steps)) < 0.8
    margin = rng.uniform(0, 6, num_agents)
    ego, agents = StepBoxes.of_points(ego_xy), StepBoxes.of_segments(agent_start, agent_end, valid)
    found = np.zeros((num_candidates, num_modes, num_agents, num_steps), bool)
    found[interacting_pairs(ego, agents, margin, block_steps, group_size)] = True
    low, high = ego_xy[:, None, None], ego_xy[:, None, None]
    grown = margin[None, None, :, None, None]
    expected = np.all(
        (low - grown <= agents.high[None]) & (agents.low[None] <= high + grown), axis=-1
    )
    np.testing.assert_array_equal(found, expected)


def _scenes() -> dict[str, Scenario]:
    return {
        "slow_car": scene(others=[(35.0, 0.0, 4.0, 0.0, AgentType.VEHICLE)]),
        "stopped_car": scene(others=[(40.0, 0.0, 0.0, 0.0, AgentType.VEHICLE)], num_lanes=1),
        "crossing": scene(
            others=[
                (30.0, 0.0, 3.0, 0.0, AgentType.VEHICLE),
                (45.0, 3.5, 6.0, 0.0, AgentType.VEHICLE),
                (50.0, -2.5, 0.0, 0.5, AgentType.PEDESTRIAN),
                (25.0, 4.5, 0.0, -0.6, AgentType.CYCLIST),
            ],
            crosswalk_at_m=50.0,
        ),
        "wall": scene(
            others=[(17.0, y, 0.0, 0.0, AgentType.STATIC) for y in (-1.5, -0.5, 0.5, 1.5)],
            num_lanes=1,
        ),
        "busy": busy_scene(),
        "busy_seed_3": busy_scene(3),
    }


def _cycles(scenario: Scenario, phases: tuple[BroadPhase, ...]) -> list[PlanningCycle]:
    observation = observation_now(scenario)
    return [
        UrbanPlanner(scenario, _with_broad_phase(phase), PerturbedConstantVelocity()).cycle(
            observation
        )
        for phase in phases
    ]


@pytest.mark.parametrize("name", list(_scenes()))
def test_pair_broad_phase_scores_and_selects_like_the_dense_reference(name: str) -> None:
    fast, reference = _cycles(_scenes()[name], (BroadPhase.PAIRS, BroadPhase.NONE))
    np.testing.assert_allclose(
        fast.scoring.table.values, reference.scoring.table.values, rtol=0, atol=1e-12
    )
    assert fast.selection == reference.selection


def test_previous_agent_broad_phase_missed_pedestrians_on_the_crosswalk() -> None:
    """The previous implementation (AGENTS) marks agent steps outside the candidates' swept box
    invalid, which drops pedestrians from the crosswalk check: the busy scene shows it. It
    still selects the same candidate there; the pair broad phase has no such gap. (With the
    collision buffer of the time, 0.3 m wide: the urban default's wider box reaches them.)"""
    observation = observation_now(busy_scene())
    previous, reference = (
        UrbanPlanner(busy_scene(), _narrow_buffer(phase), PerturbedConstantVelocity()).cycle(
            observation
        )
        for phase in (BroadPhase.AGENTS, BroadPhase.NONE)
    )
    differs = np.any(previous.scoring.table.values != reference.scoring.table.values, axis=0)
    names = reference.scoring.table.names
    assert [name for name, d in zip(names, differs, strict=True) if d] == ["crosswalk_yield"]
    assert previous.selection == reference.selection


@pytest.mark.real_data
def test_pair_broad_phase_selects_like_the_dense_reference_on_av2_logs(av2_dir: Path) -> None:
    from urbandrive.core.observation import observe
    from urbandrive.datasets import expand_uris, load_scenario
    from urbandrive.simulation.runner import with_route

    logs = av2_dir / "logs"
    if not logs.is_dir():
        pytest.skip(f"AV2 logs not found at {logs}")
    for uri in expand_uris([f"av2:{logs}"]):
        scenario = with_route(load_scenario(uri))
        planners = [UrbanPlanner(scenario, _with_broad_phase(phase)) for phase in PHASES]
        for step in range(scenario.current_index, scenario.num_steps - 1, 40):
            observation = observe(scenario, step)
            fast, reference = (planner.cycle(observation) for planner in planners)
            np.testing.assert_allclose(
                fast.scoring.table.values, reference.scoring.table.values, rtol=0, atol=1e-12
            )
            assert fast.selection == reference.selection, f"{uri} step {step}"


PHASES = (BroadPhase.PAIRS, BroadPhase.NONE)
