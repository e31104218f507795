"""The pair finder's `skip` mask: the (candidate, mode, agent) it names never pair, the others
pair as without it, compiled and numpy alike, in the same order; the contact search's exact
box test folded into the compiled pair finder."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.metrics import kernels
from urbandrive.metrics.collisions import row_kernel_inputs
from urbandrive.metrics.states import AgentStates, EgoStates, is_vulnerable, shared_rows
from urbandrive.planning.scoring.pairs import StepBoxes, contacts_on_rows, interacting_pairs


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


@pytest.mark.parametrize("seed", range(4))
def test_contact_search_finds_first_overlaps_and_keeps_the_vulnerable_pairs(seed: int) -> None:
    """`contacts_on_rows` compiled: the numpy reference's pairs of vulnerable rows, in the
    same order, and each (candidate, row)'s first overlap as the kernel finds it on every pair."""
    if not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(seed)
    num_rows, num_steps = 9, 23
    ego = EgoStates(
        rng.uniform(0, 30, (13, num_steps, 2)), rng.uniform(-np.pi, np.pi, (13, num_steps)),
        np.zeros((13, num_steps)), np.array([4.8, 2.0]),
    )  # fmt: skip
    types = rng.choice([AgentType.VEHICLE, AgentType.PEDESTRIAN, AgentType.CYCLIST], num_rows)
    rows = AgentStates(
        rng.uniform(0, 30, (num_rows, num_steps, 2)),
        rng.uniform(-np.pi, np.pi, (num_rows, num_steps)),
        np.zeros((num_rows, num_steps, 2)), rng.uniform(0.5, 5.0, (num_rows, 2)),
        types.astype(np.int64), rng.random((num_rows, num_steps)) < 0.9,
    )  # fmt: skip
    pairs, first = contacts_on_rows(ego, rows, 1.5)
    with kernels.numpy_reference():
        every, none = contacts_on_rows(ego, rows, 1.5)
    assert none is None and first is not None
    vulnerable = is_vulnerable(rows.types)[every[1]]
    assert 0 < vulnerable.sum() < vulnerable.size
    for found, expected in zip(pairs, every, strict=True):
        np.testing.assert_array_equal(found, expected[vulnerable])
    expected_first = np.full((13, num_rows), num_steps, np.int64)
    kernels.first_overlap_on_rows(
        *every, *row_kernel_inputs(ego, rows), np.ascontiguousarray(rows.valid), expected_first
    )
    assert (expected_first < num_steps).any()
    np.testing.assert_array_equal(first, expected_first)
