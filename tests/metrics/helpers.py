"""Small builders of ego / agent arrays for the metric tests."""

from __future__ import annotations

import numpy as np

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
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
