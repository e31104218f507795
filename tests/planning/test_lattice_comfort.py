"""The lattice's profiles stay within nuPlan's comfortable longitudinal acceleration."""

from __future__ import annotations

import numpy as np
from tests.planning.scenes import observation_now, scene

from urbandrive.metrics.comfort import ComfortConfig
from urbandrive.planning.planner import URBAN_DEFAULT, UrbanPlanner
from urbandrive.planning.proposals.candidates import CandidateIndex
from urbandrive.planning.proposals.lattice import FrenetLatticeGenerator


def test_lattice_from_standstill_accelerates_within_the_comfort_bound() -> None:
    # replanned every cycle from the ego's acceleration, a quartic that may peak above the
    # bound ratchets the executed acceleration up to it (stop_and_go-011 reached 2.48 m/s^2)
    scenario = scene(ego_speed_mps=0.0, num_lanes=1)
    planner = UrbanPlanner(scenario, URBAN_DEFAULT)
    observation = observation_now(scenario)
    context = planner.context(observation, planner.predictor.predict(observation))
    candidates = FrenetLatticeGenerator().generate(context)
    assert candidates.num_candidates > 0
    accel = candidates.states[..., CandidateIndex.ACCEL]
    assert np.all(accel <= ComfortConfig().max_lon_accel_mps2)
