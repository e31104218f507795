"""The plan starts as the ego is now, because the tracker's feed-forward reads the plan's
start: its acceleration at t = 0 is the rate of its speed there (the closed loop pulls away
from standstill; `planner.commanded_accel`) and the PDM rollouts start from the ego's
steering (the closed loop keeps to its path in turns)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from tests.planning.scenes import NOW, NUM_STEPS, observation_now, scene

from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Route
from urbandrive.planning.planner import PDM_CLOSED, UrbanPlanner
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.proposals.pdm import (
    PdmProposalConfig,
    PdmProposalGenerator,
    ego_steering_rad,
)
from urbandrive.simulation.engine import SimulationConfig, simulate
from urbandrive.testing import scenario_from_states, straight_road


def test_plan_from_standstill_on_a_free_road_starts_accelerating() -> None:
    scenario = scene(ego_speed_mps=0.0, num_lanes=1)
    plan = UrbanPlanner(scenario, PDM_CLOSED).plan(observation_now(scenario))
    assert plan.trajectory.accel_mps2 is not None
    assert plan.trajectory.accel_mps2[0] > 0.1


def test_closed_loop_pulls_away_from_standstill() -> None:
    scenario = scene(ego_speed_mps=0.0, num_lanes=1)
    rollout = simulate(scenario, UrbanPlanner(scenario, PDM_CLOSED), SimulationConfig(max_steps=30))
    ego = scenario.ego_index
    start, end = rollout.start_index, rollout.end_index
    moved = np.linalg.norm(
        rollout.scenario.tracks.xy[ego, end] - rollout.scenario.tracks.xy[ego, start]
    )
    assert moved > 1.0


RADIUS_M, SPEED_MPS = 20.0, 6.0


def _bend(xy: np.ndarray) -> np.ndarray:
    """Map straight-road coordinates onto a left bend of RADIUS_M about (0, RADIUS_M)."""
    angle, radius = xy[..., 0] / RADIUS_M, RADIUS_M - xy[..., 1]
    return np.stack([radius * np.sin(angle), RADIUS_M - radius * np.cos(angle)], -1)


def _turning_context() -> PlanningContext:
    """The ego at 6 m/s along a one-lane left bend of radius 20 m (yaw rate 0.3 rad/s)."""
    road = straight_road(num_lanes=1, length_m=60.0)
    lanes = {
        i: dataclasses.replace(
            lane,
            centerline=_bend(lane.centerline),
            left_boundary=_bend(lane.left_boundary),
            right_boundary=_bend(lane.right_boundary),
        )
        for i, lane in road.lanes.items()
    }
    along = np.linspace(0.0, 60.0, 61)
    right = _bend(np.stack([along, np.full(61, -1.75)], -1))
    left = _bend(np.stack([along, np.full(61, 1.75)], -1))
    road = dataclasses.replace(
        road, lanes=lanes, drivable_areas=(np.concatenate([right, left[::-1]]),)
    )
    arc = 10.0 + SPEED_MPS * 0.1 * (np.arange(NUM_STEPS) - NOW)
    xy = _bend(np.stack([arc, np.zeros_like(arc)], -1))[None]
    heading = (arc / RADIUS_M)[None]
    velocity = SPEED_MPS * np.stack([np.cos(heading), np.sin(heading)], -1)
    scenario = scenario_from_states(
        xy, heading, [AgentType.VEHICLE], velocity=velocity, current_index=NOW, road_map=road
    )
    scenario = dataclasses.replace(scenario, route=Route((0, 1)))
    planner = UrbanPlanner(scenario, PDM_CLOSED)
    observation = observation_now(scenario)
    return planner.context(observation, planner.predictor.predict(observation))


def test_ego_steering_is_read_from_the_last_yaw_rate() -> None:
    vehicle = PdmProposalConfig().tracker.vehicle
    expected = np.arctan(vehicle.wheelbase_m / RADIUS_M)
    assert ego_steering_rad(_turning_context(), vehicle) == pytest.approx(expected, rel=1e-3)


def test_proposals_start_turning_as_the_ego_turns() -> None:
    # the rollouts start from the ego's steering, so they start on its circle (curvature
    # 1 / R); from straight wheels they started straighter, the tracker's feed-forward read
    # that, and the closed loop drifted out of turns (right_turn_pedestrians-012: 2.8 m)
    candidates = PdmProposalGenerator().generate(_turning_context())
    plan = candidates.trajectory(candidates.labels.index("pdm d+0.0 v1.0")).with_derivatives()
    assert plan.curvature_1pm is not None
    assert plan.curvature_1pm[0] == pytest.approx(1.0 / RADIUS_M, rel=0.02)
