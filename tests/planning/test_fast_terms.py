"""The compiled twins of the score terms (`scoring.fast_terms`) equal `terms`, their numpy
reference, bit for bit on the broad-phase test scenes and the benchmark's busy scene."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from tests.planning.scenes import planned_now
from tests.planning.test_broad_phase import _scenes

from urbandrive.bench.planning import busy_scene
from urbandrive.geometry.boxes import box_corners
from urbandrive.metrics import kernels
from urbandrive.metrics.states import shared_rows
from urbandrive.planning.scoring import fast_terms, row_terms, terms
from urbandrive.planning.scoring.drivable_grid import DrivableAreaGrid
from urbandrive.planning.scoring.kernels import _equal_modes, box_corners_rows, headway_shortfall
from urbandrive.planning.scoring.scorer import scoring_inputs

pytestmark = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba is not installed")


def _cases() -> dict[str, object]:
    return {**_scenes(), "busy": busy_scene(0), "busy_seed_2": busy_scene(2)}


def test_headway_kernel_walks_each_agent_mode_once() -> None:
    """`_equal_modes` names the first equal mode; NaN or one differing step keeps them apart."""
    s_a = np.zeros((2, 4, 3))
    s_a[0, 1, 2] = 1.0  # agent 0: modes 0, 2, 3 alike, mode 1 differs at one step
    s_a[1, 2, 0] = np.nan  # agent 1: mode 2 is NaN somewhere, equal to none
    d_a, live = np.zeros_like(s_a), np.ones(s_a.shape, np.bool_)
    live[1, 3, 1] = False  # agent 1: mode 3 not live at one step
    same = _equal_modes(s_a, d_a, live)
    np.testing.assert_array_equal(same, [[0, 1, 0, 0], [0, 0, 2, 3]])


@pytest.mark.parametrize("seed", range(6))
def test_headway_kernel_equals_numpy_on_random_rows(seed: int) -> None:
    """The kernel walks each step's candidates by s, only those that can fall short; the
    worst shortfall equals the dense numpy one (NaN positions, reversing candidates with a
    wanted gap <= 0 and equal modes included)."""
    rng = np.random.default_rng(seed)
    num_candidates, num_agents, num_modes, num_steps = 40, 7, 4, 9
    s_e = rng.uniform(0, 60, (num_candidates, num_steps))
    d_e = rng.uniform(-3, 3, (num_candidates, num_steps))
    speed_e = rng.uniform(-1 if seed % 2 else 0, 15, (num_candidates, num_steps))
    s_a = rng.uniform(0, 80, (num_agents, num_modes, num_steps))
    d_a = rng.uniform(-4, 4, (num_agents, num_modes, num_steps))
    s_a[:, 2], d_a[:, 2] = s_a[:, 0], d_a[:, 0]  # a mode equal to another
    s_e[3, 4], s_a[1, 1, 5], d_a[2, 3, 6] = np.nan, np.nan, np.nan
    live = rng.random((num_agents, num_modes, num_steps)) < 0.8
    live[:, 2] = live[:, 0]
    reach = rng.uniform(0.5, 3.0, num_agents)
    half = rng.uniform(2.0, 6.0, num_agents)
    min_gap, headway_s = 2.0, 1.0 if seed % 3 else 0.0
    worst = np.zeros((num_candidates, num_modes, num_steps))
    headway_shortfall(s_e, d_e, speed_e, s_a, d_a, live, reach, half, min_gap, headway_s, worst)
    ahead = s_a[None] - s_e[:, None, None]  # [M, N, K, T]
    across = np.abs(d_a[None] - d_e[:, None, None]) < reach[None, :, None, None]
    wanted = min_gap + headway_s * speed_e[:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip(1.0 - (ahead - half[None, :, None, None]) / wanted, 0.0, 1.0)
    share = np.where(across & (ahead > 0.0) & live[None], share, 0.0)
    expected = np.nan_to_num(share, nan=0.0).max(axis=1)
    assert np.any(expected > 0.0)
    np.testing.assert_array_equal(worst, expected)


@pytest.mark.parametrize("name", list(_cases()))
def test_compiled_headway_equals_numpy(name: str) -> None:
    scenario = _cases()[name]
    planner, cycle = planned_now(scenario)
    context, candidates = cycle.context, cycle.candidates
    config = planner.scorer.config
    inputs = scoring_inputs(context, candidates, config)
    arguments = (inputs, context.agents, context.ego_size_m, config.headway)
    compiled = fast_terms.headway(*arguments)
    reference = terms.headway(*arguments)
    np.testing.assert_array_equal(compiled, reference)
    if name.startswith("busy"):
        assert np.any(reference < 1.0)  # the busy scene has agents to follow
        rows = terms.headway_rows(*arguments)
        assert rows is not None
        same = _equal_modes(rows.s_a, rows.d_a, rows.live)
        assert np.any(same != np.arange(same.shape[1]))  # modes shared: the kernel reuses them


def test_compiled_signal_shares_equal_numpy() -> None:
    signals = np.random.default_rng(9).normal(0.0, 3.0, (7, 6, 81))
    signals[0, 2, :3] = [np.nan, -0.0, np.inf]
    shared, bounds = [4, 2, 1], [2.0, 4.5, 0.7]
    compiled = terms._signal_shares(signals, shared, bounds)
    with kernels.numpy_reference():
        reference = terms._signal_shares(signals, shared, bounds)
    assert compiled.flags.c_contiguous
    assert np.array_equal(compiled.view(np.int64), reference.view(np.int64))


@pytest.mark.parametrize("name", list(_cases()))
def test_compiled_lane_centering_equals_numpy(name: str) -> None:
    # the scene's candidates, then with offsets off the lanes, at a centre, NaN and -0.0
    planner, cycle = planned_now(_cases()[name])
    inputs = scoring_inputs(cycle.context, cycle.candidates, planner.scorer.config)
    d_m = inputs.d_m.copy()
    d_m[0, :4] = [np.nan, -0.0, 40.0, inputs.reference.left_offset_m[inputs.lane_index[0, 3]]]
    d_m[1] = -d_m[1] * 3.0
    for changed in (inputs, dataclasses.replace(inputs, d_m=d_m)):
        compiled = fast_terms.lane_centering(changed)
        with kernels.numpy_reference():
            reference = terms.lane_centering(changed)
        assert np.array_equal(compiled, reference, equal_nan=True)
        assert np.array_equal(np.signbit(compiled), np.signbit(reference))


@pytest.mark.parametrize("name", list(_cases()))
def test_compiled_drivable_area_equals_numpy(name: str) -> None:
    scenario = _cases()[name]
    planner, cycle = planned_now(scenario)
    context, candidates = cycle.context, cycle.candidates
    inputs = scoring_inputs(context, candidates, planner.scorer.config)
    area = planner.scorer.drivable_area
    np.testing.assert_array_equal(
        fast_terms.drivable_area(inputs, area), terms.drivable_area(inputs, area)
    )


def test_compiled_drivable_area_off_a_small_grid_equals_numpy() -> None:
    # a grid around the ego alone: most corners lie off it (the exact map query), some on it
    planner, cycle = planned_now(busy_scene(0))
    context, candidates = cycle.context, cycle.candidates
    inputs = scoring_inputs(context, candidates, planner.scorer.config)
    small = DrivableAreaGrid.around(
        planner.scorer.drivable_area.road_map, context.ego_center_xy[None], margin_m=15.0
    )
    found = fast_terms.drivable_area(inputs, small)
    np.testing.assert_array_equal(found, terms.drivable_area(inputs, small))
    short = slice(0, 10)  # the first second: every corner on the grid (the fused kernel)
    early = dataclasses.replace(
        inputs, ego=dataclasses.replace(inputs.ego, xy=inputs.ego.xy[:, short],
                                        heading=inputs.ego.heading[:, short],
                                        speed_mps=inputs.ego.speed_mps[:, short]),
    )  # fmt: skip
    np.testing.assert_array_equal(
        fast_terms.drivable_area(early, small), terms.drivable_area(early, small)
    )


def test_compiled_box_corners_equal_numpy() -> None:
    rng = np.random.default_rng(0)
    xy, heading = rng.uniform(-50, 50, (200, 2)), rng.uniform(-4, 4, 200)
    size = rng.uniform(0.5, 12.0, (200, 2))
    cos, sin = kernels.cos_sin(heading)
    corners = np.empty((200, 4, 2))
    box_corners_rows(xy, cos, sin, size, corners)
    np.testing.assert_array_equal(corners, box_corners(xy, heading, size))


@pytest.mark.parametrize("name", list(_cases()))
def test_crosswalk_yield_on_rows_equals_numpy(name: str) -> None:
    """The compiled crosswalk term on the distinct rows equals `terms.crosswalk_yield` with the
    kernels off (the numpy reference); the busy scene has candidates that violate it."""
    scenario = _cases()[name]
    planner, cycle = planned_now(scenario)
    context, candidates = cycle.context, cycle.candidates
    config = planner.scorer.config
    inputs = scoring_inputs(context, candidates, config)
    shared = shared_rows(inputs.agents)
    compiled = row_terms.crosswalk_yield(inputs, shared, config.crosswalk_yield)
    boxes = row_terms.row_boxes(inputs, shared)  # cos / sin read from the cycle's boxes
    on_boxes = row_terms.crosswalk_yield(inputs, shared, config.crosswalk_yield, boxes)
    with kernels.numpy_reference():
        reference = terms.crosswalk_yield(inputs, config.crosswalk_yield)
    np.testing.assert_array_equal(compiled, reference)
    np.testing.assert_array_equal(on_boxes, reference)
    if name == "busy":
        assert np.any(reference == 0.0) and np.any(reference == 1.0)


def test_crosswalk_violations_on_rows_pairs_every_ego_with_every_agent() -> None:
    """Hand-built: a square crosswalk at x in [10, 14]; ego row 0 drives over it at step 1,
    ego row 1 stands before it; agent row 0 is on it at step 1 (a violation with ego 0 only),
    agent row 1 is on it but not yielding (never a violation)."""
    polygons = np.array([[[10.0, -4.0], [14.0, -4.0], [14.0, 4.0], [10.0, 4.0]]])
    ego_xy = np.array([[[0.0, 0.0], [12.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    agent_xy = np.array([[[12.0, 3.0], [12.0, 3.0]], [[12.0, -3.0], [12.0, -3.0]]])
    zeros, ones = np.zeros((2, 2)), np.ones((2, 2))
    ego_size = np.broadcast_to([4.5, 2.0], (2, 2, 2)).copy()
    agent_size = np.broadcast_to([0.5, 0.5], (2, 2, 2)).copy()
    violated = kernels.crosswalk_violations_on_rows(
        ego_xy, ones, zeros, ego_size, np.ones((2, 2), bool), agent_xy, ones, zeros, agent_size,
        np.array([[True, True], [False, False]]), polygons, 4.0,
    )  # fmt: skip
    assert violated.tolist() == [[True, False], [False, False]]
