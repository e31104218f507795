"""no_ego_at_fault_collisions: nuPlan's at-fault rules on hand-built scenes."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.core.agent_type import AgentType
from urbandrive.metrics.collisions import (
    CollisionCategory,
    CollisionConfig,
    CollisionKind,
    ego_agent_overlap,
    no_ego_at_fault_collisions,
)
from urbandrive.metrics.states import AgentStates, EgoStates

from .helpers import CAR, agents_from, straight_ego

T = 30


def _no_lane_change(num_steps: int = T) -> np.ndarray:
    return np.zeros((1, num_steps), bool)


def test_ego_drives_into_stopped_car_is_at_fault_and_zeroes_the_multiplier() -> None:
    ego = straight_ego(10.0, T)
    agents = agents_from([(20.0, 0.0)], [(0.0, 0.0)], [AgentType.VEHICLE], T)
    result = no_ego_at_fault_collisions(ego, agents, _no_lane_change())
    assert result.multiplier.tolist() == [0.0]
    assert result.events.num_events == 1
    assert result.events.kind[0] == CollisionKind.STOPPED_AGENT
    assert result.events.at_fault[0]
    # front at 10 t + 2.35 meets the rear at 17.65 first when 10 t >= 15.3: step 16
    assert result.events.step[0] == 16
    assert result.at_fault_counts[0, CollisionCategory.VEHICLE] == 1


def test_rear_end_on_stopped_ego_is_not_at_fault() -> None:
    ego = straight_ego(0.0, T)
    agents = agents_from([(-15.0, 0.0)], [(10.0, 0.0)], [AgentType.VEHICLE], T)
    result = no_ego_at_fault_collisions(ego, agents, _no_lane_change())
    assert result.events.num_events == 1
    assert result.events.kind[0] == CollisionKind.STOPPED_EGO
    assert not result.events.at_fault[0]
    assert result.multiplier.tolist() == [1.0]


def test_rear_end_on_moving_ego_is_not_at_fault() -> None:
    ego = straight_ego(5.0, T)
    agents = agents_from([(-10.0, 0.0)], [(15.0, 0.0)], [AgentType.VEHICLE], T)
    result = no_ego_at_fault_collisions(ego, agents, _no_lane_change())
    assert result.events.kind.tolist() == [CollisionKind.ACTIVE_REAR]
    assert result.multiplier.tolist() == [1.0]


def test_active_front_collision_with_slower_car_is_at_fault() -> None:
    ego = straight_ego(15.0, T)
    agents = agents_from([(12.0, 0.0)], [(5.0, 0.0)], [AgentType.VEHICLE], T)
    result = no_ego_at_fault_collisions(ego, agents, _no_lane_change())
    assert result.events.kind.tolist() == [CollisionKind.ACTIVE_FRONT]
    assert result.multiplier.tolist() == [0.0]


def _side_swipe() -> tuple[EgoStates, AgentStates]:
    """A car overtaking the ego on its left, drifting into the ego's side."""
    ego = straight_ego(10.0, T)
    agents = agents_from([(-1.0, 3.0)], [(10.0, -2.0)], [AgentType.VEHICLE], T, heading=[0.0])
    return ego, agents


def test_lateral_collision_is_at_fault_only_while_ego_changes_lanes() -> None:
    ego, agents = _side_swipe()
    in_lane = no_ego_at_fault_collisions(ego, agents, _no_lane_change())
    assert in_lane.events.kind.tolist() == [CollisionKind.ACTIVE_LATERAL]
    assert in_lane.multiplier.tolist() == [1.0]
    changing = no_ego_at_fault_collisions(ego, agents, np.ones((1, T), bool))
    assert changing.multiplier.tolist() == [0.0]


def test_hitting_one_cone_halves_and_two_cones_zero() -> None:
    ego = straight_ego(10.0, T)
    one = agents_from([(15.0, 0.0)], [(0.0, 0.0)], [AgentType.STATIC], T)
    assert no_ego_at_fault_collisions(ego, one, _no_lane_change()).multiplier.tolist() == [0.5]
    two = agents_from([(15.0, 0.0), (20.0, 0.5)], [(0.0, 0.0)] * 2, [AgentType.STATIC] * 2, T)
    result = no_ego_at_fault_collisions(ego, two, _no_lane_change())
    assert result.at_fault_counts[0, CollisionCategory.OBJECT] == 2
    assert result.multiplier.tolist() == [0.0]


def test_pedestrian_hit_zeroes_the_multiplier() -> None:
    ego = straight_ego(8.0, T)
    agents = agents_from([(15.0, 0.0)], [(0.0, 0.0)], [AgentType.PEDESTRIAN], T)
    result = no_ego_at_fault_collisions(ego, agents, _no_lane_change())
    assert result.at_fault_counts[0, CollisionCategory.VULNERABLE] == 1
    assert result.multiplier.tolist() == [0.0]


def test_a_lasting_overlap_counts_once() -> None:
    ego = straight_ego(10.0, T)
    agents = agents_from(
        [(10.0, 0.0)], [(10.0, 0.0)], [AgentType.VEHICLE], T
    )  # moves with the ego, overlapping
    agents = dataclasses.replace(agents, xy=agents.xy - np.array([6.0, 0.0]))
    result = no_ego_at_fault_collisions(ego, agents, _no_lane_change())
    assert result.events.num_events == 1
    assert result.first_collision_step.tolist() == [[0]]


def test_invalid_agent_steps_never_collide() -> None:
    ego = straight_ego(10.0, T)
    agents = agents_from([(20.0, 0.0)], [(0.0, 0.0)], [AgentType.VEHICLE], T)
    agents = dataclasses.replace(agents, valid=np.zeros((1, T), bool))
    result = no_ego_at_fault_collisions(ego, agents, _no_lane_change())
    assert result.events.num_events == 0
    assert result.multiplier.tolist() == [1.0]
    assert result.first_collision_step.tolist() == [[T]]


def test_candidates_by_modes_batch_matches_single_calls() -> None:
    num_candidates, num_modes = 3, 2
    speeds = np.array([0.0, 5.0, 10.0])
    x = speeds[:, None] * 0.1 * np.arange(T)
    ego = EgoStates(
        xy=np.stack([x, np.zeros_like(x)], -1)[:, None],  # [M, 1, T, 2]
        heading=np.zeros((num_candidates, 1, T)),
        speed_mps=np.repeat(speeds[:, None], T, 1)[:, None],
        size_m=CAR,
    )
    mode_xy = np.array([[12.0, 0.0], [40.0, 0.0]])
    base = agents_from([(12.0, 0.0)], [(0.0, 0.0)], [AgentType.VEHICLE], T)
    xy = mode_xy[:, None, None, :] + np.zeros((num_modes, 1, T, 2))
    agents = dataclasses.replace(
        base,
        xy=xy,
        heading=np.zeros((num_modes, 1, T)),
        velocity=np.zeros((num_modes, 1, T, 2)),
        valid=np.ones((num_modes, 1, T), bool),
    )
    flag = np.zeros(T, bool)
    batched = no_ego_at_fault_collisions(ego, agents, flag)
    assert batched.multiplier.shape == (num_candidates, num_modes)
    assert batched.multiplier.tolist() == [[1.0, 1.0], [0.0, 1.0], [0.0, 1.0]]


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-50, 50),
    st.floats(-50, 50),
    st.floats(-np.pi, np.pi),
    st.integers(0, 2**31 - 1),
)
def test_collisions_are_invariant_to_moving_the_whole_scene(
    dx: float, dy: float, angle: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    num_agents, num_steps = 6, 12
    ego = EgoStates(
        xy=rng.uniform(-5, 5, (2, num_steps, 2)),
        heading=rng.uniform(-np.pi, np.pi, (2, num_steps)),
        speed_mps=rng.uniform(0, 5, (2, num_steps)),
        size_m=CAR,
    )
    agents = AgentStates(
        xy=rng.uniform(-8, 8, (num_agents, num_steps, 2)),
        heading=rng.uniform(-np.pi, np.pi, (num_agents, num_steps)),
        velocity=rng.uniform(-3, 3, (num_agents, num_steps, 2)),
        size_m=np.tile(CAR, (num_agents, 1)),
        types=rng.integers(0, 8, num_agents),
        valid=rng.random((num_agents, num_steps)) < 0.8,
    )
    flag = rng.random(num_steps) < 0.5
    before = no_ego_at_fault_collisions(ego, agents, flag)
    moved_ego, moved_agents = _rigidly_moved(ego, agents, dx, dy, angle)
    after = no_ego_at_fault_collisions(moved_ego, moved_agents, flag)
    np.testing.assert_array_equal(before.multiplier, after.multiplier)
    np.testing.assert_array_equal(before.first_collision_step, after.first_collision_step)
    np.testing.assert_array_equal(before.events.kind, after.events.kind)


def _rigidly_moved(
    ego: EgoStates, agents: AgentStates, dx: float, dy: float, angle: float
) -> tuple[EgoStates, AgentStates]:
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shift = np.array([dx, dy])
    moved_ego = dataclasses.replace(
        ego, xy=ego.xy @ rotation.T + shift, heading=ego.heading + angle
    )
    moved_agents = dataclasses.replace(
        agents,
        xy=agents.xy @ rotation.T + shift,
        heading=agents.heading + angle,
        velocity=agents.velocity @ rotation.T,
    )
    return moved_ego, moved_agents


def test_broad_phase_gives_the_same_overlaps() -> None:
    rng = np.random.default_rng(0)
    ego = EgoStates(
        rng.uniform(-10, 10, (5, 20, 2)), rng.uniform(-3, 3, (5, 20)), np.ones((5, 20)), CAR
    )
    agents = AgentStates(
        xy=rng.uniform(-10, 10, (15, 20, 2)),
        heading=rng.uniform(-3, 3, (15, 20)),
        velocity=np.zeros((15, 20, 2)),
        size_m=rng.uniform(0.5, 6, (15, 2)),
        types=np.ones(15, int),
        valid=np.ones((15, 20), bool),
    )
    with_broad_phase = ego_agent_overlap(ego, agents, use_broad_phase=True)
    without = ego_agent_overlap(ego, agents, use_broad_phase=False)
    assert with_broad_phase.any()
    np.testing.assert_array_equal(with_broad_phase, without)


def test_config_rejects_negative_allowances() -> None:
    try:
        CollisionConfig(max_at_fault_object=-1)
    except ValueError:
        return
    raise AssertionError("expected ValueError")
