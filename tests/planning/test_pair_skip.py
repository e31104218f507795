"""The pair finder's `skip` mask: the (candidate, mode, agent) it names never pair, the others
pair as without it, compiled and numpy alike, in the same order."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from urbandrive.metrics import kernels
from urbandrive.metrics.states import AgentStates, shared_rows
from urbandrive.planning.scoring.pairs import StepBoxes, interacting_pairs


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("compiled", [True, False])
def test_skipped_candidate_agents_never_pair_and_the_rest_are_unchanged(
    seed: int, compiled: bool
) -> None:
    if compiled and not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(seed)
    ego_xy = rng.uniform(0, 40, (11, 13, 2))
    agent_start = rng.uniform(0, 40, (2, 5, 13, 2))
    agent_end = agent_start + rng.uniform(-5, 5, agent_start.shape)
    valid = rng.random((5, 13)) < 0.8
    margin = rng.uniform(0, 6, 5)
    skip = rng.random((11, 2, 5)) < 0.4
    ego, agents = StepBoxes.of_points(ego_xy), StepBoxes.of_segments(agent_start, agent_end, valid)
    with contextlib.ExitStack() as stack:
        if not compiled:
            stack.enter_context(kernels.numpy_reference())
        every = interacting_pairs(ego, agents, margin, 3, 4)
        kept = interacting_pairs(ego, agents, margin, 3, 4, skip=skip)
    keep = ~skip[every[0], every[1], every[2]]
    assert not keep.all()  # the test skips some pairs
    for found, expected in zip(kept, every, strict=True):
        np.testing.assert_array_equal(found, expected[keep])


def test_all_modes_holds_where_every_mode_using_a_row_holds() -> None:
    rng = np.random.default_rng(0)
    xy = np.repeat(rng.uniform(0, 10, (1, 3, 4, 2)), 3, axis=0)  # 3 modes, 3 agents
    xy[2, 1] += 1.0  # agent 1 differs in mode 2
    heading = np.zeros(xy.shape[:-1])
    agents = AgentStates(xy, heading, np.zeros_like(xy), np.ones((3, 2)), np.zeros(3, int),
                         np.ones((3, 4), bool))  # fmt: skip
    shared = shared_rows(agents)
    assert shared.num_rows == 4  # agents 0, 2: one row; agent 1: modes {0, 1} and {2}
    flags = np.array([[True, True, False], [True, False, True]])  # [M = 2, K = 3]
    held = shared.all_modes(flags)  # [2, U]
    expected = np.array(
        [[flags[m, shared.row_of[:, shared.agent_of[u]] == u].all() for u in range(4)]
         for m in range(2)]
    )  # fmt: skip
    np.testing.assert_array_equal(held, expected)
    assert held[0, shared.row_of[0, 1]] and not held[0, shared.row_of[0, 0]]
