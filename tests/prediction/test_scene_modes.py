"""Scene-mode separation: overlapping agents of one scene mode re-choose their modes."""

import numpy as np
import pytest

from urbandrive.core.compiled import numpy_reference
from urbandrive.prediction.scene_modes import (
    Futures,
    SeparationConfig,
    separate_scene_modes,
    separate_scene_modes_reference,
)

#: Both backends of every hand-computed case: the compiled kernel and the numpy reference.
BACKENDS = pytest.mark.parametrize("separate", ["compiled", "numpy"], indirect=True)


@pytest.fixture
def separate(request):
    """`separate_scene_modes` run compiled or under `numpy_reference()`."""
    if request.param == "compiled":
        yield separate_scene_modes
    else:
        with numpy_reference():
            yield separate_scene_modes


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


@BACKENDS
def test_the_cheaper_agent_of_an_overlapping_pair_stands_still(separate):
    joint, marginal, choice, *rest = _head_on()
    result = separate(joint, marginal, choice, *rest, SeparationConfig(3.0))
    # Standing gains agent 0: 3 - (-log 0.2 + log 0.8) = 1.61 nats, agent 1: 3 - (-log 0.3
    # + log 0.7) = 2.15 nats: agent 1 stands, and agent 0 has no overlap left.
    np.testing.assert_array_equal(result[1, 0], marginal.xy[1, 1])
    np.testing.assert_array_equal(result[[0, 2], 0], joint.xy[[0, 2], 0])


@BACKENDS
def test_a_small_penalty_keeps_the_likelier_overlap(separate):
    joint, marginal, choice, *rest = _head_on()
    result = separate(joint, marginal, choice, *rest, SeparationConfig(0.5))
    np.testing.assert_array_equal(result, joint.xy)  # moving costs 0.85 nats > 0.5 saved


@BACKENDS
def test_pairs_overlapping_now_or_not_judged_are_left_alone(separate):
    joint, marginal, choice, *rest = _head_on(gap_now=0.5)  # boxes overlap now
    result = separate(joint, marginal, choice, *rest, SeparationConfig(3.0))
    np.testing.assert_array_equal(result, joint.xy)
    joint, marginal, choice, *rest = _head_on()
    judged = np.ones((3, 3), bool)
    judged[0, 1] = judged[1, 0] = False
    result = separate(joint, marginal, choice, *rest, SeparationConfig(3.0), judged)
    np.testing.assert_array_equal(result, joint.xy)


def test_separation_config_is_checked():
    with pytest.raises(ValueError, match="penalty_nats"):
        SeparationConfig(penalty_nats=0.0)
    with pytest.raises(ValueError, match="pedestrians"):
        SeparationConfig(pedestrians="some")


def _busy_scene(seed: int, num_agents: int = 24, num_modes: int = 6, steps: int = 30):
    """Random crossing agents in a 40 m square: many overlapping pairs per scene mode. The
    scene modes take a marginal mode per agent (by the choice weights) plus a little noise;
    every fourth agent is in no judged pair."""
    rng = np.random.default_rng(seed)
    now_xy = rng.uniform(0, 40, (num_agents, 2))
    now_heading = rng.uniform(-np.pi, np.pi, num_agents)
    heading = now_heading[:, None] + rng.normal(0, 0.6, (num_agents, num_modes))
    speed = rng.uniform(0, 3, (num_agents, num_modes, 1))
    travel = np.arange(1, steps + 1)[None, None, :, None] * speed[..., None]
    direction = np.stack([np.cos(heading), np.sin(heading)], -1)[:, :, None]
    marginal_xy = now_xy[:, None, None] + travel * direction  # [N, M, H, 2]
    marginal = Futures(marginal_xy, np.broadcast_to(heading[..., None], marginal_xy.shape[:3]))
    choice = rng.dirichlet(np.full(num_modes, 0.5), (num_agents, num_modes))  # [N, K, M]
    taken = choice.argmax(-1)  # [N, K]
    joint_xy = np.take_along_axis(marginal_xy, taken[..., None, None], 1)
    joint_xy = joint_xy + rng.normal(0, 0.05, joint_xy.shape)
    joint = Futures(joint_xy, np.take_along_axis(marginal.heading, taken[..., None], 1).copy())
    size = np.stack([rng.uniform(0.5, 5, num_agents), rng.uniform(0.5, 2, num_agents)], -1)
    judged = rng.uniform(size=(num_agents, num_agents)) < 0.9
    judged &= judged.T
    judged[3::4], judged[:, 3::4] = False, False  # agents of no judged pair (the kernel skips them)
    return joint, marginal, choice, now_xy, now_heading, size, judged


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "config",
    [SeparationConfig(), SeparationConfig(1.0, 1, 1), SeparationConfig(8.0, 5, 2)],
    ids=["default", "one_sweep", "strong"],
)
def test_the_compiled_separation_is_the_reference_bit_for_bit(seed, config):
    joint, marginal, choice, now_xy, now_heading, size, judged = _busy_scene(seed, steps=28 + seed)
    args = (joint, marginal, choice, now_xy, now_heading, size, config)
    for pairs in (judged, None):
        expected = separate_scene_modes_reference(*args, pairs)
        assert (expected != joint.xy).any()  # some agents were re-chosen: the case means something
        np.testing.assert_array_equal(separate_scene_modes(*args, pairs), expected)
        with numpy_reference():
            np.testing.assert_array_equal(separate_scene_modes(*args, pairs), expected)


def test_the_compiled_separation_of_one_or_no_overlap():
    joint, marginal, choice, now_xy, now_heading, size, _ = _busy_scene(0, num_agents=2)
    far = now_xy.copy()
    far[1] += 1000.0
    moved = Futures(joint.xy + (far - now_xy)[:, None, None], joint.heading)
    for args in (
        (joint, marginal, choice, now_xy, now_heading, size),
        (moved, marginal, choice, far, now_heading, size),
        (Futures(joint.xy[:1], joint.heading[:1]), marginal, choice[:1], now_xy[:1],
         now_heading[:1], size[:1]),
    ):  # fmt: skip
        np.testing.assert_array_equal(
            separate_scene_modes(*args), separate_scene_modes_reference(*args)
        )
