"""Scene-mode separation: overlapping agents of one scene mode re-choose their modes."""

import numpy as np
import pytest

from urbandrive.prediction.scene_modes import Futures, SeparationConfig, separate_scene_modes


def _head_on(gap_now: float = 10.0):
    """Agents 0 and 1 (1 m squares) walk at each other along y = 0 from x = 0 and x = gap;
    mode 0 of each walks 0.5 m per step for 10 steps (they meet at x = 5), mode 1 stands
    still. Agent 2 stands far away. One scene mode, choosing walking for everybody."""
    steps = np.arange(1, 11)[:, None] * np.array([0.5, 0.0])
    walk = [steps, np.array([gap_now, 0.0]) - steps, np.full((10, 2), 50.0)]
    stand = [np.zeros((10, 2)), np.full((10, 2), [gap_now, 0.0]), np.full((10, 2), 50.0)]
    marginal_xy = np.stack([np.stack([w, s]) for w, s in zip(walk, stand, strict=True)])
    marginal = Futures(marginal_xy, np.zeros((3, 2, 10)))
    joint = Futures(marginal_xy[:, :1].copy(), np.zeros((3, 1, 10)))  # scene mode = walking
    choice = np.array([[[0.8, 0.2]], [[0.7, 0.3]], [[0.8, 0.2]]])
    now_xy = np.array([[0.0, 0.0], [gap_now, 0.0], [50.0, 0.0]])
    return joint, marginal, choice, now_xy, np.zeros(3), np.ones((3, 2))


def test_the_cheaper_agent_of_an_overlapping_pair_stands_still():
    joint, marginal, choice, *rest = _head_on()
    result = separate_scene_modes(joint, marginal, choice, *rest, SeparationConfig(3.0))
    # Standing gains agent 0: 3 - (-log 0.2 + log 0.8) = 1.61 nats, agent 1: 3 - (-log 0.3
    # + log 0.7) = 2.15 nats: agent 1 stands, and agent 0 has no overlap left.
    np.testing.assert_array_equal(result[1, 0], marginal.xy[1, 1])
    np.testing.assert_array_equal(result[[0, 2], 0], joint.xy[[0, 2], 0])


def test_a_small_penalty_keeps_the_likelier_overlap():
    joint, marginal, choice, *rest = _head_on()
    result = separate_scene_modes(joint, marginal, choice, *rest, SeparationConfig(0.5))
    np.testing.assert_array_equal(result, joint.xy)  # moving costs 0.85 nats > 0.5 saved


def test_pairs_overlapping_now_or_not_judged_are_left_alone():
    joint, marginal, choice, *rest = _head_on(gap_now=0.5)  # boxes overlap now
    result = separate_scene_modes(joint, marginal, choice, *rest, SeparationConfig(3.0))
    np.testing.assert_array_equal(result, joint.xy)
    joint, marginal, choice, *rest = _head_on()
    judged = np.ones((3, 3), bool)
    judged[0, 1] = judged[1, 0] = False
    result = separate_scene_modes(joint, marginal, choice, *rest, SeparationConfig(3.0), judged)
    np.testing.assert_array_equal(result, joint.xy)


def test_separation_config_is_checked():
    with pytest.raises(ValueError, match="penalty_nats"):
        SeparationConfig(penalty_nats=0.0)
    with pytest.raises(ValueError, match="pedestrians"):
        SeparationConfig(pedestrians="some")
