"""The collision buffer widens the ego's box for the agent terms only."""

from __future__ import annotations

import dataclasses

import numpy as np
from tests.planning.scenes import planned_now
from tests.planning.test_broad_phase import _scenes

from urbandrive.planning.scoring import terms
from urbandrive.planning.scoring.scorer import scoring_inputs


def test_the_collision_buffer_does_not_shrink_the_drivable_area() -> None:
    """A 10 m wide buffer would put every candidate's corners off the 4-lane road (town
    red_light-000 stopped for good when a 0.8 m buffer pushed them over a curb)."""
    scenario = _scenes()["busy"]
    planner, cycle = planned_now(scenario)
    context, candidates = cycle.context, cycle.candidates
    wide = dataclasses.replace(planner.scorer.config, collision_buffer_m=(0.5, 10.0))
    inputs = scoring_inputs(context, candidates, wide)
    np.testing.assert_array_equal(inputs.ego.size_m, context.ego_size_m)
    np.testing.assert_array_equal(inputs.ego_per_mode.size_m, context.ego_size_m + (0.5, 10.0))
    assert terms.drivable_area(inputs, planner.scorer.drivable_area).max() == 1.0
