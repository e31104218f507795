"""The previous plan continued as a candidate: offered while a lateral manoeuvre is under way,
equal to the old plan re-timed once the start has blended onto the ego's pose."""

from __future__ import annotations

import numpy as np
from tests.planning.scenes import scene

from urbandrive.core.agent_type import AgentType
from urbandrive.core.observation import observe
from urbandrive.planning.planner import UrbanPlanner
from urbandrive.planning.proposals.previous import PREVIOUS_LABEL, continued


def _two_cycles(others):
    scenario = scene(ego_speed_mps=10.0, others=others)
    planner = UrbanPlanner(scenario)
    first = planner.plan(observe(scenario, scenario.current_index))
    second = planner.cycle(observe(scenario, scenario.current_index + 1))
    return first, second


def test_a_lane_change_in_progress_is_offered_as_planned() -> None:
    # a stopped car ahead in the ego's lane and a free left lane: the first plan changes lanes
    first, second = _two_cycles([(45.0, 0.0, 0.0, 0.0, AgentType.VEHICLE)])
    assert np.ptp(first.trajectory.xy[:, 1]) > 0.5
    assert PREVIOUS_LABEL in second.candidates.labels
    row = second.candidates.labels.index(PREVIOUS_LABEL)
    candidate = second.candidates.trajectory(row)
    # after the blend and before the old plan's end: the old plan 0.1 s on
    later = (candidate.times_s >= 1.0) & (candidate.times_s + 0.1 <= first.trajectory.times_s[-1])
    np.testing.assert_allclose(
        candidate.xy[later], first.trajectory.at(candidate.times_s[later] + 0.1).xy, atol=1e-6
    )
    np.testing.assert_allclose(candidate.xy[0], second.context.ego_center_xy, atol=1e-9)


def test_a_plain_speed_plan_is_not_offered_again() -> None:
    _, second = _two_cycles([])
    assert PREVIOUS_LABEL not in second.candidates.labels


def test_continued_extends_straight_on_at_the_last_speed() -> None:
    times = np.array([0.0, 1.0, 2.0])
    arrays = (
        times,
        np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]),
        np.zeros(3),
        np.ones(3),
        np.zeros(3),
    )
    xy, _, speed, accel = continued(arrays, np.array([0.5, 2.0, 3.5]))
    np.testing.assert_allclose(xy, [[0.5, 0.0], [2.0, 0.0], [3.5, 0.0]])
    np.testing.assert_allclose(speed, 1.0)
    np.testing.assert_allclose(accel, 0.0)
