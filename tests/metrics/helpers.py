"""Small builders of ego / agent arrays for the metric tests."""

from __future__ import annotations

import numpy as np

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.metrics.collisions import AtFaultCollisionResult
from urbandrive.metrics.states import AgentStates, EgoStates

CAR = np.array(DEFAULT_SIZE_M[AgentType.VEHICLE])


def straight_ego(
    speed_mps: float, num_steps: int, x0: float = 0.0, y0: float = 0.0, dt_s: float = 0.1
) -> EgoStates:
    """An ego (batch 1) driving along +x at constant speed."""
    x = x0 + speed_mps * dt_s * np.arange(num_steps)
    xy = np.stack([x, np.full(num_steps, y0)], -1)[None]
    return EgoStates(xy, np.zeros((1, num_steps)), np.full((1, num_steps), speed_mps), CAR)


def agents_from(
    xy0: list[tuple[float, float]],
    velocity: list[tuple[float, float]],
    types: list[AgentType],
    num_steps: int,
    dt_s: float = 0.1,
    heading: list[float] | None = None,
) -> AgentStates:
    """Agents moving at constant velocity from xy0 (heading along the velocity unless given)."""
    xy0_array, velocity_array = np.asarray(xy0, float), np.asarray(velocity, float)
    t = dt_s * np.arange(num_steps)
    xy = xy0_array[:, None, :] + t[None, :, None] * velocity_array[:, None, :]
    if heading is None:
        heading_array = np.arctan2(velocity_array[:, 1], velocity_array[:, 0])
    else:
        heading_array = np.asarray(heading, float)
    num_agents = len(types)
    size = np.array([DEFAULT_SIZE_M[t] for t in types])
    return AgentStates(
        xy=xy,
        heading=np.repeat(heading_array[:, None], num_steps, 1),
        velocity=np.repeat(velocity_array[:, None, :], num_steps, 1),
        size_m=size,
        types=np.array([int(t) for t in types]),
        valid=np.ones((num_agents, num_steps), bool),
    )


NUM_CANDIDATES, NUM_MODES, NUM_AGENTS, NUM_STEPS = 5, 3, 7, 12


def random_scene(seed: int) -> tuple[EgoStates, AgentStates, np.ndarray]:
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


def assert_same_collisions(sparse: AtFaultCollisionResult, dense: AtFaultCollisionResult) -> None:
    np.testing.assert_array_equal(sparse.multiplier, dense.multiplier)
    np.testing.assert_array_equal(sparse.at_fault_counts, dense.at_fault_counts)
    np.testing.assert_array_equal(sparse.first_collision_step, dense.first_collision_step)
    np.testing.assert_array_equal(sparse.at_fault_step, dense.at_fault_step)
    for name in ("batch_index", "step", "agent_index", "kind", "at_fault", "ego_delta_v_mps"):
        np.testing.assert_array_equal(getattr(sparse.events, name), getattr(dense.events, name))
