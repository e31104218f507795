"""The route's own lane changes count as changing lanes for the planner's at-fault check."""

from __future__ import annotations

import dataclasses

import numpy as np
from tests.planning.scenes import observation_now, scene

from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Route
from urbandrive.planning.planner import UrbanPlanner
from urbandrive.planning.reference import build_route_reference, reference_lane_context

CAR_LENGTH_M = 4.7  # `urbandrive.testing` boxes


def _changing_route(ego_x_m: float, others: list[tuple[float, float, float, float, AgentType]]):
    """The ego at 10 m/s in lane 0; the route leaves it for lane 1 in the first segment (the
    path crosses from x = 50, the middle of lane 0's first segment, to 20 m further on)."""
    scenario = scene(ego_speed_mps=10.0, ego_x_m=ego_x_m, others=others)
    return dataclasses.replace(scenario, route=Route((0, 100, 101)))


def test_the_route_lane_change_stretch_and_its_lane_facts() -> None:
    scenario = _changing_route(10.0, [])
    reference = build_route_reference(scenario.road_map, scenario.route)
    np.testing.assert_allclose(reference.lane_change_s_m[:, 0], [50.0])
    end = float(reference.lane_change_s_m[0, 1])
    assert 69.0 < end < 71.0  # 20 m along lane 1 from the point beside x = 50
    s_m = np.array([[40.0, 55.0, 65.0, end + 5.0]])
    lanes = reference_lane_context(reference, s_m, np.zeros_like(s_m), 1.9)
    # on the path's crossing the ego is between two lanes even at d = 0
    np.testing.assert_array_equal(lanes.changing_lanes_or_offroad, [[False, True, True, False]])
    # a route of successors has no crossing
    straight = build_route_reference(scenario.road_map, Route((0, 1)))
    assert straight.lane_change_s_m.shape == (0, 2)


def test_the_planner_does_not_follow_the_route_into_a_car_beside_it() -> None:
    # lane_change_dense-006: a car beside the ego in the target lane, both at 10 m/s. Counted
    # as keeping its lane on the crossing, a side collision there was not the ego's fault and
    # the planner accelerated into the target lane beside the car.
    car_x = 38.0
    scenario = _changing_route(40.0, [(car_x, 3.5, 10.0, 0.0, AgentType.VEHICLE)])
    cycle = UrbanPlanner(scenario).cycle(observation_now(scenario))
    chosen = cycle.candidates.trajectory(cycle.selection.index)
    car_now = car_x + 10.0 * chosen.times_s
    beside = np.abs(chosen.xy[:, 0] - car_now) < CAR_LENGTH_M + 0.5
    assert not np.any(beside & (chosen.xy[:, 1] > 1.0))  # never in its lane alongside it


def test_the_planner_keeps_its_route_lane_behind_a_car_at_half_the_limit() -> None:
    # lane_change_dense-003: in the target lane behind a stream at ~70 % of the limit, the
    # ego changed into the free lane beside it (not on its route) and ended the run there.
    # It still passes a car crawling at 3 m/s (22 % of the 13.4 m/s limit).
    for lead_speed, passes in ((7.0, False), (3.0, True)):
        car = (30.0, 0.0, lead_speed, 0.0, AgentType.VEHICLE)
        scenario = scene(ego_speed_mps=lead_speed, others=[car])
        cycle = UrbanPlanner(scenario).cycle(observation_now(scenario))
        chosen = cycle.candidates.trajectory(cycle.selection.index)
        assert (chosen.xy[-1, 1] > 1.75) == passes, (lead_speed, chosen.xy[-1, 1])
