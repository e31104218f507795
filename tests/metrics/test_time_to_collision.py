"""time_to_collision_within_bound on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.metrics.collisions import no_ego_at_fault_collisions
from urbandrive.metrics.time_to_collision import (
    TimeToCollisionConfig,
    time_to_collision_within_bound,
)

from .helpers import CAR, agents_from, straight_ego


def _ttc(ego, agents, lateral=False, config=None):
    config = TimeToCollisionConfig() if config is None else config
    flag = np.full((1, ego.num_steps), lateral)
    collisions = no_ego_at_fault_collisions(ego, agents, flag)
    return time_to_collision_within_bound(ego, agents, collisions, flag, config=config)


@pytest.mark.parametrize("use_broad_phase", [True, False])
def test_cars_closing_at_10_mps_from_9_m_have_ttc_0_9_s_and_fail(use_broad_phase: bool) -> None:
    ego = straight_ego(10.0, 1)
    agents = agents_from([(CAR[0] + 9.0, 0.0)], [(0.0, 0.0)], [AgentType.VEHICLE], 1)
    result = _ttc(ego, agents, config=TimeToCollisionConfig(use_broad_phase=use_broad_phase))
    assert result.min_time_to_collision_s[0] == pytest.approx(0.9)
    assert not result.within_bound[0]
    assert result.score.tolist() == [0.0]


def test_ttc_above_the_bound_passes() -> None:
    ego = straight_ego(10.0, 1)
    agents = agents_from([(CAR[0] + 14.5, 0.0)], [(0.0, 0.0)], [AgentType.VEHICLE], 1)
    result = _ttc(ego, agents)
    assert result.min_time_to_collision_s[0] == pytest.approx(1.5)
    assert result.within_bound[0]


def test_nothing_within_the_3_s_horizon_is_inf() -> None:
    ego = straight_ego(10.0, 1)
    agents = agents_from([(CAR[0] + 31.0, 0.0)], [(0.0, 0.0)], [AgentType.VEHICLE], 1)
    assert np.isinf(_ttc(ego, agents).min_time_to_collision_s[0])


def test_stopped_ego_has_no_ttc() -> None:
    ego = straight_ego(0.0, 1)
    agents = agents_from(
        [(CAR[0] + 2.0, 0.0)], [(-10.0, 0.0)], [AgentType.VEHICLE], 1, heading=[np.pi]
    )
    assert np.isinf(_ttc(ego, agents).time_to_collision_s).all()


def test_agents_behind_are_ignored() -> None:
    ego = straight_ego(5.0, 1)
    agents = agents_from([(-8.0, 0.0)], [(15.0, 0.0)], [AgentType.VEHICLE], 1)
    assert np.isinf(_ttc(ego, agents).min_time_to_collision_s[0])


def test_lateral_agents_count_only_while_changing_lanes() -> None:
    ego = straight_ego(10.0, 1)
    # a car beside the ego (not ahead within 20 deg) that cuts in
    agents = agents_from([(1.0, 3.5)], [(10.0, -3.0)], [AgentType.VEHICLE], 1)
    assert np.isinf(_ttc(ego, agents, lateral=False).min_time_to_collision_s[0])
    with_lateral = _ttc(ego, agents, lateral=True).min_time_to_collision_s[0]
    exact = _ttc(ego, agents, lateral=True, config=TimeToCollisionConfig(use_broad_phase=False))
    assert 0.0 < with_lateral < 3.0
    assert with_lateral == exact.min_time_to_collision_s[0]


def test_at_fault_collision_step_has_ttc_zero_and_collided_agent_is_dropped() -> None:
    num_steps = 25
    ego = straight_ego(10.0, num_steps)
    agents = agents_from([(20.0, 0.0)], [(0.0, 0.0)], [AgentType.VEHICLE], num_steps)
    result = _ttc(ego, agents)
    ttc = result.time_to_collision_s[0]
    assert ttc[16] == 0.0
    assert np.isinf(ttc[17:]).all()
    assert ttc[15] == pytest.approx(0.1)
