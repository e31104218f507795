"""The urban planner on hand-built scenes: stops, follows or passes, yields, keeps red lights,
brakes when nothing is safe, and drives a closed loop without an at-fault collision."""

from __future__ import annotations

import numpy as np
import pytest
from tests.planning.scenes import observation_now, scene

from urbandrive.core.agent_type import AgentType
from urbandrive.geometry.boxes import boxes_distance
from urbandrive.planning.planner import PDM_CLOSED, UrbanPlanner, UrbanPlannerConfig
from urbandrive.planning.proposals.candidates import ProposalKind
from urbandrive.planning.registry import PLANNERS
from urbandrive.planning.selection import SelectionReason
from urbandrive.simulation.engine import SimulationConfig, simulate
from urbandrive.simulation.evaluation import evaluate_rollout

EGO_HALF_LENGTH_M = 2.35


def _front_x(plan_xy: np.ndarray) -> np.ndarray:
    return plan_xy[..., 0] + EGO_HALF_LENGTH_M


def test_urban_is_registered() -> None:
    assert "urban" in PLANNERS.names


def test_stopped_car_ahead_stops_behind_it() -> None:
    scenario = scene(others=[(50.0, 0.0, 0.0, 0.0, AgentType.VEHICLE)], num_lanes=1)
    plan = UrbanPlanner(scenario).plan(observation_now(scenario))
    assert plan.trajectory.speed_mps[-1] < 0.5
    assert _front_x(plan.trajectory.xy).max() < 50.0 - 2.35


def test_slower_car_with_free_left_lane_is_passed_or_followed_without_collision() -> None:
    scenario = scene(others=[(35.0, 0.0, 4.0, 0.0, AgentType.VEHICLE)])
    plan = UrbanPlanner(scenario).plan(observation_now(scenario))
    car_xy = np.array([35.0, 0.0]) + np.array([4.0, 0.0]) * plan.trajectory.times_s[:, None]
    gap = boxes_distance(
        plan.trajectory.xy,
        plan.trajectory.heading,
        np.array([4.7, 1.9]),
        car_xy,
        np.zeros(car_xy.shape[0]),
        np.array([4.7, 1.9]),
    )
    assert gap.min() > 0.5
    changed_lane = plan.trajectory.xy[-1, 1] > 2.0
    followed = plan.trajectory.xy[-1, 0] < car_xy[-1, 0] - 4.7
    assert changed_lane or followed


def test_pedestrian_on_crosswalk_is_yielded_to() -> None:
    scenario = scene(
        others=[(60.0, 1.0, 0.0, -0.3, AgentType.PEDESTRIAN)], num_lanes=1, crosswalk_at_m=60.0
    )
    plan = UrbanPlanner(scenario).plan(observation_now(scenario))
    assert _front_x(plan.trajectory.xy).max() < 58.0


def test_red_light_stops_at_the_line() -> None:
    scenario = scene(ego_x_m=55.0, red_light_lane=1, num_lanes=1)
    plan = UrbanPlanner(scenario).plan(observation_now(scenario))
    front = _front_x(plan.trajectory.xy)
    assert front.max() <= 100.0
    assert front[-1] > 90.0  # it stops near the line, not far before it


@pytest.mark.parametrize("speed_mps", [8.0, 12.0])
def test_red_light_is_not_run_by_changing_lanes(speed_mps: float) -> None:
    # The red stop used to be a 3.5 m line across the route's centre: a lane change to the
    # free left lane crossed beside it and scored as compliant (town:standard red_light-001).
    scenario = scene(ego_x_m=55.0, ego_speed_mps=speed_mps, red_light_lane=1, num_lanes=2)
    plan = UrbanPlanner(scenario).plan(observation_now(scenario))
    assert _front_x(plan.trajectory.xy).max() <= 100.0


def test_all_candidates_colliding_falls_back_to_an_emergency_stop() -> None:
    wall = [(17.0, y, 0.0, 0.0, AgentType.STATIC) for y in (-1.5, -0.5, 0.5, 1.5)]
    scenario = scene(ego_x_m=10.0, others=wall, num_lanes=1)
    planner = UrbanPlanner(scenario, PDM_CLOSED)
    cycle = planner.cycle(observation_now(scenario))
    assert cycle.selection.reason == SelectionReason.ALL_UNSAFE
    assert cycle.candidates.kind[cycle.selection.index] == ProposalKind.EMERGENCY_STOP


def test_plan_carries_candidates_scores_and_prediction() -> None:
    scenario = scene(others=[(40.0, 3.5, 8.0, 0.0, AgentType.VEHICLE)])
    plan = UrbanPlanner(scenario).plan(observation_now(scenario))
    assert plan.candidates is not None and plan.selected is not None
    num = plan.candidates.batch_shape[0]
    assert num >= 100
    assert all(values.shape == (num,) for values in plan.scores.values())
    assert plan.selected == int(np.argmax(plan.scores["total"]))
    assert plan.prediction is not None
    np.testing.assert_allclose(plan.trajectory.xy, plan.candidates.xy[plan.selected])


@pytest.mark.parametrize("config", [PDM_CLOSED], ids=["pdm"])
def test_closed_loop_behind_a_stopped_car_has_no_at_fault_collision(
    config: UrbanPlannerConfig,
) -> None:
    scenario = scene(ego_speed_mps=8.0, others=[(60.0, 0.0, 0.0, 0.0, AgentType.VEHICLE)])
    rollout = simulate(
        scenario, UrbanPlanner(scenario, config), SimulationConfig(max_steps=60, keep_plans=False)
    )
    result = evaluate_rollout(rollout)
    assert result["no_ego_at_fault_collisions"] == 1.0
    assert result["drivable_area_compliance"] == 1.0
