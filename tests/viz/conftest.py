"""Small synthetic scenes and a low-resolution config, so the renderer's tests stay fast."""

from __future__ import annotations

import numpy as np
import pytest

from urbandrive.core import AgentType, Scenario
from urbandrive.testing import scenario_from_states, straight_road
from urbandrive.viz import RenderConfig

NUM_STEPS = 12


def three_agent_scene(num_steps: int = NUM_STEPS, with_map: bool = True) -> Scenario:
    """Ego at 10 m/s in lane 0, a car in lane 1, a pedestrian crossing at x = 60 m."""
    t_s = np.arange(num_steps) * 0.1
    ego = np.stack([30 + 10 * t_s, np.zeros(num_steps)], -1)
    car = np.stack([45 + 8 * t_s, np.full(num_steps, 3.5)], -1)
    pedestrian = np.stack([np.full(num_steps, 60.0), -2 + 1.2 * t_s], -1)
    heading = np.zeros((3, num_steps))
    heading[2] = np.pi / 2
    return scenario_from_states(
        np.stack([ego, car, pedestrian]),
        heading,
        [AgentType.VEHICLE, AgentType.VEHICLE, AgentType.PEDESTRIAN],
        road_map=straight_road(num_lanes=2, length_m=120.0, crosswalk_at_m=60.0)
        if with_map
        else None,
        current_index=num_steps // 2,
        scenario_id="three_agents",
    )


@pytest.fixture
def scene() -> Scenario:
    return three_agent_scene()


@pytest.fixture
def small_config() -> RenderConfig:
    """200 x 220 pixels, a 30 m radius window."""
    return RenderConfig(figure_size_in=(4.0, 4.4), dpi=50, view_radius_m=30.0)
