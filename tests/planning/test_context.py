"""The cycle's agents along the reference: a merging vehicle splits the future in two."""

from __future__ import annotations

import numpy as np
from tests.planning.scenes import observation_now, scene

from urbandrive.core.agent_type import AgentType
from urbandrive.planning.planner import UrbanPlanner


def _cycle(others: list[tuple[float, float, float, float, AgentType]]):
    scenario = scene(ego_speed_mps=10.0, others=others)
    return UrbanPlanner(scenario).cycle(observation_now(scenario))


def test_a_car_cutting_in_settles_in_the_lane_or_stays_in_its_own() -> None:
    # 15 m ahead in the left lane (y = 3.5), 2.5 m/s towards the ego's lane: constant velocity
    # alone has it cross the ego's lane within 3 s and leave it.
    cycle = _cycle([(25.0, 3.5, 7.0, -2.5, AgentType.VEHICLE)])
    agents = cycle.context.agents
    assert agents.mode_probs.shape == (2,)
    np.testing.assert_allclose(agents.mode_probs, [0.5, 0.5])
    row = int(np.flatnonzero(agents.types == AgentType.VEHICLE)[-1])
    settled, kept = agents.d_m[row, 0], agents.d_m[row, 1]
    assert settled.min() >= -1e-9 and abs(settled[-1]) < 1e-6  # on the reference, not across
    np.testing.assert_allclose(kept, 3.5, atol=1e-6)  # in its own lane
    # positions follow the new offsets (the scorer reads xy, the proposals read s and d)
    np.testing.assert_allclose(agents.states.xy[0, row, -1, 1], 0.0, atol=1e-6)
    np.testing.assert_allclose(agents.states.xy[1, row, -1, 1], 3.5, atol=1e-6)


def test_a_parallel_car_and_a_crossing_pedestrian_are_not_split() -> None:
    cycle = _cycle(
        [
            (25.0, 3.5, 7.0, 0.0, AgentType.VEHICLE),
            (40.0, 3.0, 0.0, -1.4, AgentType.PEDESTRIAN),
        ]
    )
    assert cycle.context.agents.mode_probs.shape == (1,)


def test_the_planner_brakes_for_a_cut_in_instead_of_changing_into_its_lane() -> None:
    cycle = _cycle([(25.0, 3.5, 7.0, -2.5, AgentType.VEHICLE)])
    chosen = cycle.candidates.trajectory(cycle.selection.index)
    assert abs(chosen.xy[-1, 1]) < 1.0  # keeps its lane
    assert chosen.speed_mps[-1] < 8.0  # and slows to follow the car
