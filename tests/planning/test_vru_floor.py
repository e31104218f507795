"""The VRU clearance term's floor: passing a pedestrian closer than `vru_clearance_floor_m`
scores 0 (town:standard/jaywalker-013 swerved past at 0.66 m rather than brake)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from tests.planning.scenes import observation_now, scene
from tests.planning.test_safety_terms import _straight

from urbandrive.core.agent_type import AgentType
from urbandrive.planning.planner import URBAN_DEFAULT, UrbanPlanner
from urbandrive.planning.scoring.scorer import BroadPhase, ScoringConfig, UrbanScorer
from urbandrive.planning.scoring.terms import clearance_score

# the buffered ego box (1.9 m wide + 0.8 m) reaches y = -1.35; a pedestrian is 0.6 m wide
BUFFERED_HALF_WIDTH_M, PEDESTRIAN_HALF_M = 1.35, 0.3


def test_clearance_score_by_hand() -> None:
    clearance = np.array([0.0, 0.5, 0.9, 1.2, 1.5, 3.0, np.inf])
    np.testing.assert_allclose(clearance_score(clearance, 1.5, 0.0), [0, 1 / 3, 0.6, 0.8, 1, 1, 1])
    np.testing.assert_allclose(clearance_score(clearance, 1.5, 0.9), [0, 0, 0.6, 0.8, 1, 1, 1])


def _vru_clearance(clearance_m: float, scoring: ScoringConfig) -> np.ndarray:
    """float64[2, K]: the term for driving past a pedestrian standing `clearance_m` (from the
    buffered box) beside the lane at 10 m/s, and for standing still 30 m before it."""
    y = -(BUFFERED_HALF_WIDTH_M + PEDESTRIAN_HALF_M + clearance_m)
    scenario = scene(others=[(40.0, y, 0.0, 0.0, AgentType.PEDESTRIAN)])
    planner = UrbanPlanner(scenario)
    cycle = planner.cycle(observation_now(scenario))
    candidates = _straight(cycle, [10.0, 0.0])
    scorer = UrbanScorer(planner.scorer.drivable_area, scoring)
    return scorer.score(cycle.context, candidates).per_mode["vru_clearance"]


@pytest.mark.parametrize("broad_phase", [BroadPhase.PAIRS, BroadPhase.NONE])
def test_passing_a_pedestrian_under_the_floor_scores_zero(broad_phase: BroadPhase) -> None:
    urban = dataclasses.replace(URBAN_DEFAULT.scoring, broad_phase=broad_phase)
    assert urban.vru_clearance_floor_m == pytest.approx(0.7)
    no_floor = dataclasses.replace(urban, vru_clearance_floor_m=0.0)
    close, far = _vru_clearance(0.5, urban), _vru_clearance(1.2, urban)
    np.testing.assert_allclose(close[0], 0.0)
    np.testing.assert_allclose(_vru_clearance(0.5, no_floor)[0], 0.5 / 1.5)
    np.testing.assert_allclose(far[0], 1.2 / 1.5)
    np.testing.assert_allclose(close[1], 1.0)  # standing still: never near


def test_floor_must_lie_below_the_required_clearance() -> None:
    with pytest.raises(ValueError, match="vru_clearance_floor_m"):
        ScoringConfig(vru_clearance_floor_m=1.5)
