"""The metrics' `*_on_pairs` entry points equal the dense ones on random scenes, given any
superset of the pairs that can interact (here: every pair, and a circle broad phase)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.core.agent_type import AgentType
from urbandrive.metrics.clearance import (
    vulnerable_road_user_clearance,
    vulnerable_road_user_clearance_on_pairs,
)
from urbandrive.metrics.collisions import (
    AtFaultCollisionResult,
    no_ego_at_fault_collisions,
    no_ego_at_fault_collisions_on_pairs,
)
from urbandrive.metrics.states import AgentStates, EgoStates
from urbandrive.metrics.time_to_collision import (
    time_to_collision_within_bound,
    time_to_collision_within_bound_on_pairs,
)

NUM_CANDIDATES, NUM_MODES, NUM_AGENTS, NUM_STEPS = 5, 3, 7, 12


def _random_scene(seed: int) -> tuple[EgoStates, AgentStates, np.ndarray]:
    """Ego batch [M, 1] and agents batch [K] crowded into 30 m x 12 m; lateral flags [M, 1, T]."""
    rng = np.random.default_rng(seed)
    t = 0.1 * np.arange(NUM_STEPS)
    heading = rng.uniform(-0.3, 0.3, (NUM_CANDIDATES, 1, 1)) + np.zeros(NUM_STEPS)
    speed = rng.choice([0.0, 4.0, 10.0], (NUM_CANDIDATES, 1, 1)) + np.zeros(NUM_STEPS)
    direction = np.stack([np.cos(heading), np.sin(heading)], -1)
    ego_xy = (
        rng.uniform(-2, 2, (NUM_CANDIDATES, 1, 1, 2)) + t[:, None] * speed[..., None] * direction
    )
    ego = EgoStates(ego_xy, heading, speed, np.array([5.2, 2.2]))
    start = rng.uniform([-5.0, -6.0], [25.0, 6.0], (NUM_MODES, NUM_AGENTS, 1, 2))
    velocity = rng.uniform(-6, 6, (NUM_MODES, NUM_AGENTS, 1, 2)) + np.zeros((NUM_STEPS, 2))
    types = rng.choice(
        [AgentType.VEHICLE, AgentType.PEDESTRIAN, AgentType.CYCLIST, AgentType.STATIC], NUM_AGENTS
    ).astype(np.int64)
    agents = AgentStates(
        xy=start + t[:, None] * velocity,
        heading=rng.uniform(-np.pi, np.pi, (NUM_MODES, NUM_AGENTS, 1)) + np.zeros(NUM_STEPS),
        velocity=velocity,
        size_m=rng.uniform([0.5, 0.5], [5.0, 2.5], (NUM_AGENTS, 2)),
        types=types,
        valid=rng.random((NUM_MODES, NUM_AGENTS, NUM_STEPS)) < 0.9,
    )
    lateral = rng.random((NUM_CANDIDATES, 1, NUM_STEPS)) < 0.5
    return ego, agents, lateral


def _every_pair() -> tuple[np.ndarray, ...]:
    return np.nonzero(np.ones((NUM_CANDIDATES, NUM_MODES, NUM_AGENTS, NUM_STEPS), bool))


def _circle_pairs(ego: EgoStates, agents: AgentStates, margin_m: float) -> tuple[np.ndarray, ...]:
    gap = np.linalg.norm(agents.xy - ego.xy[..., None, :, :], axis=-1)
    reach = 0.5 * (np.hypot(*ego.size_m) + np.hypot(*agents.size_m.T))[:, None]
    return np.nonzero(gap <= reach + margin_m)


def _assert_same_collisions(sparse: AtFaultCollisionResult, dense: AtFaultCollisionResult) -> None:
    np.testing.assert_array_equal(sparse.multiplier, dense.multiplier)
    np.testing.assert_array_equal(sparse.at_fault_counts, dense.at_fault_counts)
    np.testing.assert_array_equal(sparse.first_collision_step, dense.first_collision_step)
    np.testing.assert_array_equal(sparse.at_fault_step, dense.at_fault_step)
    for name in ("batch_index", "step", "agent_index", "kind", "at_fault", "ego_delta_v_mps"):
        np.testing.assert_array_equal(getattr(sparse.events, name), getattr(dense.events, name))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_collisions_on_pairs_equal_dense(seed: int, every_pair: bool) -> None:
    ego, agents, lateral = _random_scene(seed)
    pairs = _every_pair() if every_pair else _circle_pairs(ego, agents, 0.0)
    order = np.random.default_rng(seed).permutation(pairs[0].size)  # any order will do
    shuffled = tuple(axis[order] for axis in pairs)
    dense = no_ego_at_fault_collisions(ego, agents, lateral)
    _assert_same_collisions(
        no_ego_at_fault_collisions_on_pairs(ego, agents, lateral, shuffled), dense
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_time_to_collision_on_pairs_equals_dense(seed: int, every_pair: bool) -> None:
    ego, agents, lateral = _random_scene(seed)
    junction = np.random.default_rng(seed + 1).random(lateral.shape) < 0.3
    collisions = no_ego_at_fault_collisions(ego, agents, lateral)
    relative_speed_bound = 2.9 * (10.0 + 6.0 * np.sqrt(2.0))
    pairs = _every_pair() if every_pair else _circle_pairs(ego, agents, relative_speed_bound)
    dense = time_to_collision_within_bound(ego, agents, collisions, lateral, junction)
    sparse = time_to_collision_within_bound_on_pairs(
        ego, agents, collisions, lateral, junction, pairs
    )
    np.testing.assert_array_equal(sparse.within_bound, dense.within_bound)
    np.testing.assert_array_equal(sparse.time_to_collision_s, dense.time_to_collision_s)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from([1.0, 3.0]))
def test_clearance_on_pairs_equals_dense(seed: int, every_pair: bool, radius_m: float) -> None:
    ego, agents, _ = _random_scene(seed)
    pairs = _every_pair() if every_pair else _circle_pairs(ego, agents, radius_m)
    dense = vulnerable_road_user_clearance(ego, agents, 1.0, radius_m)
    sparse = vulnerable_road_user_clearance_on_pairs(ego, agents, pairs, 1.0, radius_m)
    np.testing.assert_array_equal(sparse.clearance_per_step_m, dense.clearance_per_step_m)
    np.testing.assert_array_equal(sparse.within_bound, dense.within_bound)


def test_no_pairs_means_no_collision() -> None:
    ego, agents, lateral = _random_scene(0)
    empty = tuple(np.zeros(0, np.int64) for _ in range(4))
    result = no_ego_at_fault_collisions_on_pairs(ego, agents, lateral, empty)
    assert result.events.num_events == 0
    assert np.all(result.first_collision_step == NUM_STEPS)
    assert np.all(result.multiplier == 1.0)
