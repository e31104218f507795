"""Agents whose modes share trajectories (`SharedRows`): the rows are found exactly, and the
metrics' `*_on_rows` entry points, given any superset of the pairs that can interact (every
pair, a circle broad phase), equal the dense metrics on the modes, compiled kernels and numpy
reference alike."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.metrics.helpers import assert_same_collisions, random_scene

from urbandrive.metrics import kernels
from urbandrive.metrics.clearance import (
    vulnerable_road_user_clearance,
    vulnerable_road_user_clearance_on_rows,
)
from urbandrive.metrics.collisions import (
    no_ego_at_fault_collisions,
    no_ego_at_fault_collisions_on_rows,
    row_reach,
)
from urbandrive.metrics.states import (
    VULNERABLE_TYPES,
    AgentStates,
    EgoStates,
    SharedRows,
    is_vulnerable,
    planar_norm,
    shared_rows,
    types_in,
)
from urbandrive.metrics.time_to_collision import (
    time_to_collision_within_bound,
    time_to_collision_within_bound_on_rows,
)

BACKENDS = ["compiled", "numpy"]


def _backend(name: str) -> contextlib.AbstractContextManager[None]:
    if name == "numpy":
        return kernels.numpy_reference()
    if not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    return contextlib.nullcontext()


def _with_shared_modes(agents: AgentStates, seed: int) -> AgentStates:
    """`agents` with 3 more modes, each copying some agents' rows of an earlier mode (as the
    planner's merge split does) and every agent of the last one a copy of mode 0."""
    rng = np.random.default_rng(seed)
    num_modes, num_agents = agents.xy.shape[:2]
    valid = np.broadcast_to(agents.valid, agents.xy.shape[:-1])
    fields = [agents.xy, agents.heading, agents.velocity, valid]
    for extra in range(3):
        source = rng.integers(0, num_modes + extra)
        copied = rng.random(num_agents) < 0.6 if extra < 2 else np.ones(num_agents, bool)
        if extra == 2:
            source = 0
        donor = rng.integers(0, num_modes + extra)
        new = [np.where(copied.reshape((-1,) + (1,) * (f.ndim - 2)), f[source], f[donor])
               for f in fields]  # fmt: skip
        fields = [np.concatenate([f, n[None]]) for f, n in zip(fields, new, strict=True)]
    return AgentStates(fields[0], fields[1], fields[2], agents.size_m, agents.types, fields[3])


def _scene(seed: int) -> tuple[EgoStates, AgentStates, np.ndarray]:
    """Ego batch [M], agents batch [K] with shared rows, lateral flags [M, T]."""
    ego, agents, lateral = random_scene(seed)
    ego = EgoStates(ego.xy[:, 0], ego.heading[:, 0], ego.speed_mps[:, 0], ego.size_m)
    return ego, _with_shared_modes(agents, seed), lateral[:, 0]


def _per_mode(ego: EgoStates) -> EgoStates:
    return EgoStates(ego.xy[:, None], ego.heading[:, None], ego.speed_mps[:, None], ego.size_m)


def _row_pairs(ego: EgoStates, shared: SharedRows, margin_m: float | None) -> tuple:
    """(candidate, row, step) of every pair (margin None) or those whose centres are within
    the half-diagonals plus margin_m."""
    rows = shared.rows
    shape = (ego.xy.shape[0], shared.num_rows, ego.xy.shape[1])
    if margin_m is None:
        return np.nonzero(np.ones(shape, bool))
    gap = np.linalg.norm(rows.xy[None] - ego.xy[:, None], axis=-1)
    reach = 0.5 * (np.hypot(*ego.size_m) + np.hypot(*rows.size_m.T))[:, None]
    return np.nonzero(gap <= reach + margin_m)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_shared_rows_expand_to_the_modes_and_are_distinct(seed: int) -> None:
    _, agents, _ = _scene(seed)
    shared = shared_rows(agents)
    expanded = shared.expand()
    for name in ("xy", "heading", "velocity", "size_m", "types"):
        np.testing.assert_array_equal(getattr(expanded, name), getattr(agents, name))
    np.testing.assert_array_equal(
        expanded.valid, np.broadcast_to(agents.valid, expanded.valid.shape)
    )
    assert shared.num_rows < agents.xy.shape[0] * agents.xy.shape[1]  # the copies are shared
    rows = shared.rows
    for u in range(shared.num_rows):  # no two rows of one agent are the same
        same_agent = np.nonzero(shared.agent_of == shared.agent_of[u])[0]
        for v in same_agent[same_agent > u]:
            assert not (
                np.array_equal(rows.xy[u], rows.xy[v])
                and np.array_equal(rows.heading[u], rows.heading[v])
                and np.array_equal(rows.velocity[u], rows.velocity[v])
                and np.array_equal(rows.valid[u], rows.valid[v])
            )
    item, mode = shared.spread(np.arange(shared.num_rows))
    np.testing.assert_array_equal(shared.row_of[mode, shared.agent_of[item]], item)
    assert item.shape[0] == shared.row_of.size


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_compiled_row_check_shares_the_rows_numpy_shares(seed: int) -> None:
    if not kernels.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    _, agents, _ = _scene(seed)
    found = shared_rows(agents)
    with kernels.numpy_reference():
        expected = shared_rows(agents)
    for name in ("row_of", "agent_of", "mode_start", "modes"):
        np.testing.assert_array_equal(getattr(found, name), getattr(expected, name))


@pytest.mark.parametrize("backend", BACKENDS)
def test_rows_differing_in_one_bit_are_not_shared(backend: str) -> None:
    _, agents, _ = _scene(3)
    heading = agents.heading.copy()
    heading[1] = heading[0]
    heading[1, 2, 5] = np.nextafter(heading[1, 2, 5], np.inf)
    xy, velocity = agents.xy.copy(), agents.velocity.copy()
    xy[1], velocity[1] = xy[0], velocity[0]
    valid = np.broadcast_to(agents.valid, heading.shape).copy()
    valid[1] = valid[0]
    with _backend(backend):
        shared = shared_rows(AgentStates(xy, heading, velocity, agents.size_m, agents.types, valid))
    assert shared.row_of[1, 2] != shared.row_of[0, 2]
    np.testing.assert_array_equal(np.delete(shared.row_of[1], 2), np.delete(shared.row_of[0], 2))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from(BACKENDS))
def test_collisions_on_rows_equal_dense(seed: int, every_pair: bool, backend: str) -> None:
    ego, agents, lateral = _scene(seed)
    shared = shared_rows(agents)
    pairs = _row_pairs(ego, shared, None if every_pair else 0.0)
    order = np.random.default_rng(seed).permutation(pairs[0].size)  # any order will do
    with _backend(backend):
        rows = no_ego_at_fault_collisions_on_rows(
            ego, shared, lateral, tuple(axis[order] for axis in pairs)
        )
    with kernels.numpy_reference():
        dense = no_ego_at_fault_collisions(_per_mode(ego), agents, lateral[:, None])
    assert_same_collisions(rows, dense)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(BACKENDS))
def test_collisions_on_rows_from_first_steps_equal_dense(seed: int, backend: str) -> None:
    # The scorer's pair search hands over each (candidate, row)'s first overlap: the compiled
    # path spreads those to the modes in one kernel (`kernels.spread_row_collisions`).
    ego, agents, lateral = _scene(seed)
    shared = shared_rows(agents)
    with kernels.numpy_reference():
        dense = no_ego_at_fault_collisions(_per_mode(ego), agents, lateral[:, None])
        from_pairs = no_ego_at_fault_collisions_on_rows(
            ego, shared, lateral, _row_pairs(ego, shared, None)
        )
    mode, agent = shared.modes[shared.mode_start[:-1]], shared.agent_of
    first_step = dense.first_collision_step[:, mode, agent]  # [M, U]
    nothing = tuple(np.zeros(0, np.int64) for _ in range(3))  # not read with first_step
    with _backend(backend):
        rows = no_ego_at_fault_collisions_on_rows(
            ego, shared, lateral, nothing, first_step=first_step.copy()
        )
    assert_same_collisions(rows, dense)
    for name in ("batch_index", "step", "agent_index", "agent_type", "kind", "at_fault"):
        assert np.array_equal(getattr(rows.events, name), getattr(from_pairs.events, name))
    assert np.array_equal(rows.events.ego_delta_v_mps, from_pairs.events.ego_delta_v_mps)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_pairs_means_no_collision(backend: str) -> None:
    ego, agents, lateral = _scene(0)
    empty = tuple(np.zeros(0, np.int64) for _ in range(3))
    with _backend(backend):
        result = no_ego_at_fault_collisions_on_rows(ego, shared_rows(agents), lateral, empty)
    assert result.events.num_events == 0
    assert np.all(result.first_collision_step == ego.num_steps)
    assert np.all(result.multiplier == 1.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from(BACKENDS))
def test_time_to_collision_on_rows_equals_dense(seed: int, every_pair: bool, backend: str) -> None:
    ego, agents, lateral = _scene(seed)
    junction = np.random.default_rng(seed + 1).random(lateral.shape) < 0.3
    shared = shared_rows(agents)
    relative_speed_bound = 2.9 * (10.0 + 6.0 * np.sqrt(2.0))
    pairs = _row_pairs(ego, shared, None if every_pair else relative_speed_bound)
    with _backend(backend):
        collisions = no_ego_at_fault_collisions_on_rows(ego, shared, lateral, pairs)
        rows = time_to_collision_within_bound_on_rows(
            ego, shared, collisions, lateral, junction, pairs
        )
    with kernels.numpy_reference():
        modes = time_to_collision_within_bound(
            _per_mode(ego), agents, collisions, lateral[:, None], junction[:, None]
        )
    np.testing.assert_array_equal(rows.within_bound, modes.within_bound)
    np.testing.assert_array_equal(rows.time_to_collision_s, modes.time_to_collision_s)
    with _backend(backend):  # the scorer's flag only: the same flags, values upper bounds
        flags = time_to_collision_within_bound_on_rows(
            ego, shared, collisions, lateral, junction, pairs, within_bound_only=True
        )
    np.testing.assert_array_equal(flags.within_bound, modes.within_bound)
    assert np.all(flags.time_to_collision_s >= modes.time_to_collision_s)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 10_000), st.booleans(), st.sampled_from([1.0, 3.0]), st.sampled_from(BACKENDS)
)
def test_clearance_on_rows_equals_dense(
    seed: int, every_pair: bool, radius_m: float, backend: str
) -> None:
    ego, agents, lateral = _scene(seed)
    shared = shared_rows(agents)
    pairs = _row_pairs(ego, shared, None if every_pair else radius_m)
    with _backend(backend):
        rows = vulnerable_road_user_clearance_on_rows(ego, shared, pairs, 1.0, radius_m)
    with kernels.numpy_reference():
        modes = vulnerable_road_user_clearance(_per_mode(ego), agents, 1.0, radius_m)
    np.testing.assert_array_equal(rows.clearance_per_step_m, modes.clearance_per_step_m)
    np.testing.assert_array_equal(rows.within_bound, modes.within_bound)
    collisions = no_ego_at_fault_collisions_on_rows(ego, shared, lateral, pairs)
    touching = np.any(
        (collisions.first_collision_step < ego.num_steps) & is_vulnerable(agents.types), axis=-1
    )
    for known in (None, touching):  # the scorer's minimum only: exact below the radius
        with _backend(backend):
            least = vulnerable_road_user_clearance_on_rows(
                ego, shared, pairs, 1.0, radius_m, minimum_only=True, touching=known
            )
        np.testing.assert_array_equal(least.within_bound, modes.within_bound)
        below = modes.min_clearance_m < radius_m
        np.testing.assert_array_equal(least.min_clearance_m[below], modes.min_clearance_m[below])
        assert np.all(least.min_clearance_m[~below] >= radius_m)
        assert np.all(least.clearance_per_step_m >= modes.clearance_per_step_m)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_agents_share_no_rows_and_score_clean(backend: str) -> None:
    ego, agents, lateral = _scene(0)
    none = AgentStates(
        agents.xy[:, :0], agents.heading[:, :0], agents.velocity[:, :0], agents.size_m[:0],
        agents.types[:0], agents.valid[:, :0],
    )  # fmt: skip
    shared = shared_rows(none)
    assert shared.num_rows == 0 and shared.row_of.shape == (none.xy.shape[0], 0)
    pairs = tuple(np.zeros(0, np.int64) for _ in range(3))
    with _backend(backend):
        collisions = no_ego_at_fault_collisions_on_rows(ego, shared, lateral, pairs)
        ttc = time_to_collision_within_bound_on_rows(ego, shared, collisions, lateral, None, pairs)
        clearance = vulnerable_road_user_clearance_on_rows(ego, shared, pairs)
    assert np.all(collisions.multiplier == 1.0) and collisions.events.num_events == 0
    assert np.all(ttc.within_bound) and np.all(np.isinf(clearance.min_clearance_m))


def test_planar_norm_is_numpys_norm_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(0.0, 10.0, (500, 7, 2)) * 10.0 ** rng.integers(-150, 150, (500, 7, 1))
    vectors[0, :3] = [[np.inf, 1.0], [np.nan, 0.0], [0.0, -0.0]]
    expected = np.linalg.norm(vectors, axis=-1)
    np.testing.assert_array_equal(planar_norm(vectors), expected)
    np.testing.assert_array_equal(planar_norm(vectors[:, ::3]), expected[:, ::3])  # strided


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-3, 12), max_size=20),
    st.lists(st.integers(-2, 10), max_size=5),
    st.sampled_from(["int64", "int8", "uint8"]),
)
def test_types_in_is_numpys_isin(types: list[int], members: list[int], dtype: str) -> None:
    array = np.asarray(types, np.int64)
    if dtype == "uint8":
        array = np.abs(array)
    array = array.astype(dtype)
    want = np.isin(array, np.asarray(members, np.int64))
    got = types_in(array, tuple(members))
    assert got.dtype == np.bool_ and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(is_vulnerable(array), types_in(array, VULNERABLE_TYPES))


@pytest.mark.parametrize("per_candidate", [False, True])
def test_row_reach_is_the_pairs_half_diagonals_bit_for_bit(per_candidate: bool) -> None:
    rng = np.random.default_rng(7)
    num_candidates, num_rows, num_steps = 9, 13, 4
    ego_size = rng.uniform(0.3, 20.0, (num_candidates, 2) if per_candidate else (2,))
    agent_size = rng.uniform(0.1, 20.0, (num_rows, 2))
    ego = EgoStates(np.zeros((num_candidates, num_steps, 2)), np.zeros((num_candidates, num_steps)),
                    np.zeros((num_candidates, num_steps)), ego_size)  # fmt: skip
    rows = AgentStates(np.zeros((num_rows, num_steps, 2)), np.zeros((num_rows, num_steps)),
                       np.zeros((num_rows, num_steps, 2)), agent_size,
                       np.zeros(num_rows, np.int64), np.ones((num_rows, num_steps), bool))  # fmt: skip
    sizes = np.broadcast_to(ego_size, (num_candidates, 2))
    want = 0.5 * (np.hypot(sizes[:, None, 0], sizes[:, None, 1])
                  + np.hypot(agent_size[None, :, 0], agent_size[None, :, 1]))  # fmt: skip
    got = row_reach(ego, rows)
    assert got.shape == (num_candidates, num_rows)
    assert got.flags.c_contiguous if per_candidate else got.strides[0] == 0
    np.testing.assert_array_equal(got, want)
