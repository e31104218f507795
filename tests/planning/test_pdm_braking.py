"""PDM proposals brake no harder than PDM-Closed's IDM (decel_max 3.0 m/s^2)."""

from __future__ import annotations

import numpy as np
from tests.planning.scenes import observation_now, scene

from urbandrive.agents.idm import IdmConfig
from urbandrive.core.agent_type import AgentType
from urbandrive.planning.planner import PDM_CLOSED, UrbanPlanner
from urbandrive.planning.proposals.candidates import CandidateIndex
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.proposals.pdm import (
    PDM_MAX_DECEL_MPS2,
    PdmProposalConfig,
    PdmProposalGenerator,
    idm_profiles,
)
from urbandrive.planning.proposals.shared import cycle_path_obstacles


def _context() -> PlanningContext:
    # 10 m/s with a stopped car 13 m ahead of the front bumper: IDM alone asks for 8 m/s^2
    scenario = scene(ego_speed_mps=10.0, others=[(28.0, 0.0, 0.0, 0.0, AgentType.VEHICLE)])
    planner = UrbanPlanner(scenario, PDM_CLOSED)
    observation = observation_now(scenario)
    return planner.context(observation, planner.predictor.predict(observation))


def test_idm_profiles_are_clipped_at_pdm_closed_decel_max() -> None:
    context, config = _context(), PdmProposalConfig()
    assert config.idm.max_decel_mps2 == PDM_MAX_DECEL_MPS2 == 3.0
    obstacles = cycle_path_obstacles(context, config.obstacles)
    offsets, fractions = np.zeros(1), np.ones(1)
    _, _, accel = idm_profiles(context, obstacles, offsets, fractions, config)
    assert accel.min() >= -3.0 - 1e-9
    unclipped = PdmProposalConfig(idm=IdmConfig())
    _, _, hard = idm_profiles(context, obstacles, offsets, fractions, unclipped)
    assert hard.min() < -4.0  # the scene needs it: the clip is what keeps it at 3


def test_tracked_proposals_stay_near_the_clip() -> None:
    candidates = PdmProposalGenerator().generate(_context())
    assert candidates.states[..., CandidateIndex.ACCEL].min() >= -3.5
