"""Hand-built scenes on `urbandrive.testing.straight_road` for the planner tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from urbandrive.bench.planning import PerturbedConstantVelocity
from urbandrive.core.agent_type import AgentType
from urbandrive.core.observation import Observation, observe
from urbandrive.core.scenario import Route, Scenario
from urbandrive.core.traffic_light import TrafficLightState, TrafficLightStates
from urbandrive.maps.road_map import TrafficSignal
from urbandrive.planning.planner import PlanningCycle, UrbanPlanner
from urbandrive.testing import scenario_from_states, straight_road

NUM_STEPS, NOW = 120, 10


def scene(
    ego_speed_mps: float = 10.0,
    ego_x_m: float = 10.0,
    others: Sequence[tuple[float, float, float, float, AgentType]] = (),
    num_lanes: int = 2,
    crosswalk_at_m: float | None = None,
    red_light_lane: int | None = None,
    ego_lane: int = 0,
) -> Scenario:
    """The ego in lane `ego_lane` (y = 3.5 x ego_lane) heading +x, and `others` = (x, y, vx,
    vy, type) at now, every agent at constant velocity over the whole log; route along the
    ego's lane."""
    road_map = straight_road(num_lanes=num_lanes, crosswalk_at_m=crosswalk_at_m)
    times = 0.1 * (np.arange(NUM_STEPS) - NOW)
    rows = [(ego_x_m, 3.5 * ego_lane, ego_speed_mps, 0.0, AgentType.VEHICLE), *others]
    start = np.array([[x, y] for x, y, *_ in rows])
    velocity = np.array([[vx, vy] for _, _, vx, vy, _ in rows])
    xy = start[:, None] + velocity[:, None] * times[None, :, None]
    speed = np.linalg.norm(velocity, axis=-1)
    heading = np.where(speed > 0, np.arctan2(velocity[:, 1], velocity[:, 0]), 0.0)
    scenario = scenario_from_states(
        xy,
        np.repeat(heading[:, None], NUM_STEPS, 1),
        [row[-1] for row in rows],
        velocity=np.repeat(velocity[:, None], NUM_STEPS, 1),
        current_index=NOW,
        road_map=road_map,
    )
    scenario = dataclasses.replace(scenario, route=Route((100 * ego_lane, 100 * ego_lane + 1)))
    if red_light_lane is None:
        return scenario
    signals = {7: TrafficSignal(7, np.array([100.0, -3.0]), lane_ids=(red_light_lane,))}
    lights = TrafficLightStates(
        np.array([7]), np.full((1, NUM_STEPS), int(TrafficLightState.RED), dtype=np.int8)
    )
    return dataclasses.replace(
        scenario,
        road_map=dataclasses.replace(road_map, signals=signals),
        traffic_lights=lights,
    )


def observation_now(scenario: Scenario) -> Observation:
    return observe(scenario, scenario.current_index)


def planned_now(scenario: Scenario) -> tuple[UrbanPlanner, PlanningCycle]:
    """The urban planner with the benchmark's perturbed constant-velocity predictor on
    `scenario`, and its cycle now (context, candidates, scores, selection)."""
    planner = UrbanPlanner(scenario, predictor=PerturbedConstantVelocity())
    return planner, planner.cycle(observation_now(scenario))
