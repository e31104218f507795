"""Small synthetic maps and scenes for the prediction tests."""

from __future__ import annotations

import numpy as np

from urbandrive.core import AgentType
from urbandrive.maps import Lane, RoadMap
from urbandrive.testing import scenario_from_states, straight_road

LANE_WIDTH_M = 3.5


def lane_from_centerline(lane_id: int, centerline: np.ndarray, **links: object) -> Lane:
    """A lane of width LANE_WIDTH_M around `centerline: float64[P, 2]`."""
    direction = np.gradient(centerline, axis=0)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1) * LANE_WIDTH_M / 2
    return Lane(
        id=lane_id,
        centerline=centerline,
        left_boundary=centerline + normal,
        right_boundary=centerline - normal,
        speed_limit_mps=15.0,
        speed_limit_is_default=False,
        **links,  # type: ignore[arg-type]
    )


def junction_map() -> RoadMap:
    """Lane 1 along +x to (50, 0); successors 2 (straight on to (120, 0)) and 3 (a left turn
    of radius 20 m, then north to (70, 80))."""
    approach = np.stack([np.linspace(0, 50, 51), np.zeros(51)], axis=1)
    straight = np.stack([np.linspace(50, 120, 71), np.zeros(71)], axis=1)
    angle = np.linspace(-np.pi / 2, 0, 32)
    arc = np.stack([50 + 20 * np.cos(angle), 20 + 20 * np.sin(angle)], axis=1)
    north = np.stack([np.full(60, 70.0), np.linspace(21, 80, 60)], axis=1)
    turn = np.concatenate([arc, north])
    lanes = {
        1: lane_from_centerline(1, approach, successors=(2, 3)),
        2: lane_from_centerline(2, straight, predecessors=(1,)),
        3: lane_from_centerline(3, turn, predecessors=(1,), is_intersection=True),
    }
    road_map = RoadMap(lanes=lanes, source="junction")
    road_map.validate()
    return road_map


def car_on_road(
    road_map: RoadMap, start_xy: tuple[float, float], speed_mps: float, num_steps: int = 30
):
    """Ego parked far behind, one car driving along +x from `start_xy` at `speed_mps`."""
    t = 0.1 * np.arange(num_steps)
    car = np.stack([start_xy[0] + speed_mps * (t - t[-1]), np.full_like(t, start_xy[1])], -1)
    ego = np.stack([np.full_like(t, 5.0), np.full_like(t, 0.0)], -1)
    return scenario_from_states(
        np.stack([ego, car]),
        np.zeros((2, num_steps)),
        [AgentType.VEHICLE, AgentType.VEHICLE],
        velocity=np.stack([np.zeros_like(ego), np.tile([speed_mps, 0.0], (num_steps, 1))]),
        road_map=road_map,
    )


def mixed_scene(seed: int = 0, num_agents: int = 12, num_steps: int = 60):
    """Ego + vehicles on a 3-lane straight road, pedestrians and a static object, random."""
    rng = np.random.default_rng(seed)
    road_map = straight_road(num_lanes=3, length_m=300.0)
    types = [AgentType.VEHICLE] * (num_agents - 3) + [AgentType.PEDESTRIAN] * 2 + [AgentType.STATIC]
    t = 0.1 * np.arange(num_steps)
    start = np.stack([rng.uniform(20, 150, num_agents), rng.choice([0, 3.5, 7.0], num_agents)], 1)
    speed = rng.uniform(0, 12, num_agents) * np.array([t != AgentType.STATIC for t in types])
    heading = np.where(np.array(types) == AgentType.PEDESTRIAN, 1.2, 0.0)
    velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], -1)
    xy = start[:, None, :] + velocity[:, None, :] * t[None, :, None]
    return scenario_from_states(
        xy,
        np.repeat(heading[:, None], num_steps, 1),
        types,
        velocity=np.repeat(velocity[:, None, :], num_steps, 1),
        road_map=road_map,
    )
