"""The compiled kernels (`urbandrive.metrics.kernels`) equal the numpy reference exactly: the
scalar box tests on random and touching boxes, and the crosswalk-yield rule with the kernels
on and off, over random scenes (the `*_on_rows` entry points: tests/metrics/test_shared_rows)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.core.agent_type import AgentType
from urbandrive.geometry.boxes import (
    boxes_distance,
    boxes_overlap,
    boxes_overlap_convex_polygons,
)
from urbandrive.metrics import kernels
from urbandrive.metrics.states import AgentStates, EgoStates
from urbandrive.metrics.traffic_rules import YieldConfig, pedestrian_yield_compliance

from .helpers import NUM_AGENTS, random_scene

pytestmark = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba is not installed")


def _random_boxes(seed: int, count: int, snap: bool) -> tuple[np.ndarray, ...]:
    """Box pairs: xy float64[N, 2], heading [N], size [N, 2] for a and b; with `snap`, on a
    0.5 m grid at right angles (many exactly touching boxes)."""
    rng = np.random.default_rng(seed)
    xy_a, xy_b = rng.uniform(-4, 4, (2, count, 2))
    heading_a, heading_b = rng.uniform(-np.pi, np.pi, (2, count))
    size_a, size_b = rng.uniform(0.2, 5.0, (2, count, 2))
    if snap:
        xy_a, xy_b = np.round(xy_a * 2) / 2, np.round(xy_b * 2) / 2
        size_a, size_b = np.round(size_a * 2) / 2 + 0.5, np.round(size_b * 2) / 2 + 0.5
        heading_a = rng.choice([0.0, 0.5 * np.pi, np.pi, -0.5 * np.pi], count)
        heading_b = rng.choice([0.0, 0.5 * np.pi, np.pi], count)
    return xy_a, heading_a, size_a, xy_b, heading_b, size_b


def _scalar_args(boxes: tuple[np.ndarray, ...], n: int) -> tuple[float, ...]:
    xy_a, heading_a, size_a, xy_b, heading_b, size_b = boxes
    return (
        xy_a[n, 0], xy_a[n, 1], np.cos(heading_a[n]), np.sin(heading_a[n]), size_a[n, 0],
        size_a[n, 1], xy_b[n, 0], xy_b[n, 1], np.cos(heading_b[n]), np.sin(heading_b[n]),
        size_b[n, 0], size_b[n, 1],
    )  # fmt: skip


def test_boxes_touching_edge_to_edge_overlap_only_when_touching_counts() -> None:
    # two 2 m x 1 m boxes side by side along x, touching at x = 1
    touching = (0.0, 0.0, 1.0, 0.0, 2.0, 1.0, 2.0, 0.0, 1.0, 0.0, 2.0, 1.0)
    assert kernels.boxes_overlap_scalar(*touching)
    assert not kernels.boxes_overlap_scalar(*touching, False)
    overlapping = (*touching[:6], 1.99, *touching[7:])
    assert kernels.boxes_overlap_scalar(*overlapping, False)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_scalar_box_tests_equal_numpy(seed: int, snap: bool) -> None:
    boxes = _random_boxes(seed, 64, snap)
    overlap, distance = boxes_overlap(*boxes), boxes_distance(*boxes)
    overlap_area = boxes_overlap(*boxes, touching_counts=False)
    for n in range(64):
        args = _scalar_args(boxes, n)
        assert kernels.boxes_overlap_scalar(*args) == overlap[n]
        assert kernels.boxes_overlap_scalar(*args, False) == overlap_area[n]
        assert kernels.boxes_distance_scalar(*args) == distance[n]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_scalar_box_on_polygon_equals_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy, heading, size = (
        rng.uniform(-6, 6, (40, 2)),
        rng.uniform(-4, 4, 40),
        rng.uniform(1, 5, (40, 2)),
    )
    polygon = np.array([[-3.0, -2.0], [3.0, -2.5], [3.5, 2.0], [-2.0, 2.0], [-2.0, 2.0]])
    expected = boxes_overlap_convex_polygons(xy, heading, size, polygon)
    for n in range(40):
        found = kernels.box_overlaps_convex_polygon(
            xy[n, 0], xy[n, 1], np.cos(heading[n]), np.sin(heading[n]), size[n, 0], size[n, 1],
            polygon,
        )  # fmt: skip
        assert found == expected[n]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_boxes_on_polygons_equal_numpy_near_and_far(seed: int) -> None:
    # `_on_polygons` skips the test for boxes whose bounding circle is clear of a polygon's
    # bounding box: boxes up to 20 m away, some just beside an edge, give numpy's answers.
    rng = np.random.default_rng(seed)
    xy, heading = rng.uniform(-20, 20, (30, 9, 2)), rng.uniform(-4, 4, (30, 9))
    size = rng.uniform(1, 5, (30, 9, 2))
    polygons = np.array(
        [
            [[-3.0, -2.0], [3.0, -2.5], [3.5, 2.0], [-2.0, 2.0]],
            [[8.0, 8.0], [12.0, 8.0], [12.0, 9.0], [8.0, 9.0]],
        ]
    )
    xy[:, 0, 0] = 3.5 + 0.5 * size[:, 0, 0] + rng.uniform(-0.2, 0.6, 30)  # at an edge
    xy[:, 0, 1] = 0.0
    cos, sin = np.cos(heading), np.sin(heading)
    heading[:, 0] = 0.0
    cos[:, 0], sin[:, 0] = 1.0, 0.0
    active = rng.random((30, 9)) < 0.9
    found = kernels._on_polygons(xy, cos, sin, size, active, polygons)  # [R, C, T]
    for c in range(2):
        expected = boxes_overlap_convex_polygons(xy, heading, size, polygons[c]) & active
        np.testing.assert_array_equal(found[:, c], expected)


@pytest.mark.parametrize("degrees", [20.0, 150.0, 0.0, 180.0])
@pytest.mark.parametrize("strict", [True, False])
def test_arccos_threshold_decides_like_arccos(degrees: float, strict: bool) -> None:
    threshold = float(np.deg2rad(degrees))
    limit = kernels.arccos_threshold(threshold, strict)
    cosines = np.concatenate([np.linspace(-1, 1, 2001), np.nextafter(limit, [-2.0, 2.0]), [limit]])
    cosines = cosines[np.abs(cosines) <= 1]
    angle = np.arccos(cosines)
    np.testing.assert_array_equal(
        cosines >= limit, angle < threshold if strict else angle <= threshold
    )


def _both(function, *args):  # type: ignore[no-untyped-def]
    """(compiled, numpy reference) results of `function(*args)`."""
    compiled = function(*args)
    with kernels.numpy_reference():
        return compiled, function(*args)


def _crosswalk_scene(seed: int) -> tuple[EgoStates, AgentStates, np.ndarray]:
    """Egos [M, 1] driving across x = 10, pedestrians [K] on and around crosswalks there."""
    rng = np.random.default_rng(seed)
    ego, agents, _ = random_scene(seed)
    xy = agents.xy.copy()
    xy[..., 0] = 8.0 + rng.uniform(-3, 3, xy.shape[:-3] + (1, 1)) + 0.3 * (xy[..., 0] - 10)
    types = np.where(rng.random(NUM_AGENTS) < 0.7, AgentType.PEDESTRIAN, agents.types)
    walkers = AgentStates(xy, agents.heading, agents.velocity, agents.size_m, types, agents.valid)
    polygons = np.array(
        [
            [[6.0, -8.0], [11.0, -8.0], [11.0, 8.0], [6.0, 8.0], [6.0, 8.0]],
            [[14.0, -5.0], [17.0, -6.0], [18.0, 5.0], [13.0, 6.0], [14.0, -5.0]],
        ]
    )
    return ego, walkers, polygons


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1.0, 4.0]))
def test_compiled_crosswalk_yield_equals_numpy(seed: int, distance_m: float) -> None:
    ego, agents, polygons = _crosswalk_scene(seed)
    config = YieldConfig(conflict_distance_m=distance_m)
    compiled, reference = _both(pedestrian_yield_compliance, ego, agents, polygons, config)
    for name in ("score", "first_violation_step", "violated_element"):
        np.testing.assert_array_equal(getattr(compiled, name), getattr(reference, name))


def test_compiled_crosswalk_yield_finds_violations_over_unbatched_inputs() -> None:
    ego, agents, polygons = _crosswalk_scene(7)
    single_ego = EgoStates(ego.xy[0, 0], ego.heading[0, 0], ego.speed_mps[0, 0], ego.size_m)
    single = AgentStates(
        agents.xy[0], agents.heading[0], agents.velocity[0], agents.size_m, agents.types,
        agents.valid[0],
    )  # fmt: skip
    compiled, reference = _both(pedestrian_yield_compliance, single_ego, single, polygons)
    assert compiled.score.shape == reference.score.shape == ()
    assert compiled.first_violation_step == reference.first_violation_step


def test_the_switch_turns_the_kernels_off_and_back() -> None:
    assert kernels.enabled()
    with kernels.numpy_reference():
        assert not kernels.enabled()
    assert kernels.enabled()
    kernels.set_enabled(False)
    try:
        assert not kernels.enabled()
    finally:
        kernels.set_enabled(True)


def test_cos_sin_reuses_only_bit_identical_headings() -> None:
    rng = np.random.default_rng(0)
    heading = rng.uniform(-4, 4, (3, 5, 7))
    cos, sin = kernels.cos_sin(heading)
    np.testing.assert_array_equal(cos, np.cos(heading))
    again = kernels.cos_sin(heading.copy())
    assert again[0] is cos and again[1] is sin  # equal content: the kept result
    extra_axis = kernels.cos_sin(heading[:, None])  # the same values with an axis more
    assert extra_axis[0].base is cos.base or np.shares_memory(extra_axis[0], cos)
    np.testing.assert_array_equal(extra_axis[1], np.sin(heading[:, None]))
    heading[1, 2, 3] += 1e-12  # the caller changes its array: a fresh result
    np.testing.assert_array_equal(kernels.cos_sin(heading)[1], np.sin(heading))
    signed = np.array([0.0, -0.0])
    assert np.signbit(kernels.cos_sin(signed)[1]).tolist() == [False, True]
    assert np.signbit(kernels.cos_sin(-signed)[1]).tolist() == [True, False]
    with pytest.raises(ValueError):
        cos[0, 0, 0] = 2.0  # read-only
    kept = kernels.cos_sin(heading)[0]
    assert kernels.cos_sin(heading)[0] is kept
    kernels.forget_cos_sin()  # a new planning cycle: nothing kept is returned again
    fresh = kernels.cos_sin(heading)[0]
    assert fresh is not kept and kernels.cos_sin(heading)[0] is fresh
    np.testing.assert_array_equal(fresh, np.cos(heading))


def test_cos_sin_computes_each_run_once_with_numpys_values() -> None:
    # runs of bit-identical headings (a constant-velocity agent) are computed once and
    # spread: numpy's values bit for bit, signed zeros, NaN and run ends included
    rng = np.random.default_rng(5)
    heading = np.repeat(rng.uniform(-7, 7, 40), rng.integers(1, 9, 40))
    heading[[3, 4, 5, 9]] = [0.0, -0.0, -0.0, np.nan]
    heading[-3:] = np.pi
    for array in (heading, heading[None, ::-1], heading[:60].reshape(6, 10)):
        kernels.forget_cos_sin()
        cos, sin = kernels.cos_sin(array)
        assert cos.shape == sin.shape == array.shape and cos.flags.c_contiguous
        for got, want in ((cos, np.cos(array)), (sin, np.sin(array))):
            assert np.array_equal(got.view(np.int64), np.asarray(want).view(np.int64))
    kernels.forget_cos_sin()
    assert kernels.cos_sin(np.zeros((0, 3)))[0].shape == (0, 3)


def test_cos_sin_finds_a_strided_heading_it_kept() -> None:
    # a heading cut from a wider array (the candidates' states) is compared in place
    states = np.random.default_rng(6).uniform(-3, 3, (5, 11, 7))
    kernels.forget_cos_sin()
    cos, _ = kernels.cos_sin(states[..., 2])
    assert kernels.cos_sin(states[..., 2].copy())[0] is cos
    assert kernels.cos_sin(states[:, None, :, 2])[0].base is cos
    states[4, 10, 2] += 1.0  # the last element differs: not the kept one
    np.testing.assert_array_equal(kernels.cos_sin(states[..., 2])[0], np.cos(states[..., 2]))
    kernels.forget_cos_sin()


def test_contiguous_pairs_copies_strided_xy_bit_for_bit() -> None:
    xy = np.random.default_rng(7).uniform(-50, 50, (6, 81, 2))
    xy[1, 5] = [np.nan, -0.0]
    for cut in (xy[:, ::5], xy[::2, 3::7], xy[2], xy, xy[..., :1]):
        copy = kernels.contiguous_pairs(cut)
        assert copy.flags.c_contiguous and copy.shape == cut.shape
        assert np.array_equal(copy.view(np.int64), np.ascontiguousarray(cut).view(np.int64))


def test_velocity_along_heading_rows_is_numpys() -> None:
    # |v| (0 for STATIC rows) times numpy's (cos, sin): the numpy path's floats
    from urbandrive.metrics.time_to_collision import _agent_velocity_along_heading

    rng = np.random.default_rng(8)
    num_rows, num_steps = 5, 17
    rows = AgentStates(
        rng.uniform(-9, 9, (num_rows, num_steps, 2)), rng.uniform(-4, 4, (num_rows, num_steps)),
        rng.uniform(-9, 9, (num_rows, num_steps, 2)), np.ones((num_rows, 2)),
        np.array([1, 7, 5, 7, 0]), np.ones((num_rows, num_steps), bool),
    )  # fmt: skip
    rows.velocity[0, 3] = [np.nan, 1.0]
    cos_sin = (np.cos(rows.heading), np.sin(rows.heading))
    compiled = _agent_velocity_along_heading(rows, cos_sin)
    with kernels.numpy_reference():
        reference = _agent_velocity_along_heading(rows, cos_sin)
    assert np.array_equal(compiled, reference, equal_nan=True)
    assert np.all(compiled[[1, 3]] == 0.0)  # STATIC rows do not move


@pytest.mark.parametrize("dt_s", [0.1, 0.25, 2.0])
def test_driving_direction_rows_equal_numpy(dt_s: float) -> None:
    from urbandrive.metrics.compliance import driving_direction_compliance

    rng = np.random.default_rng(11)
    progress = rng.normal(-0.3, 1.0, (60, 41)) * rng.integers(0, 4, (60, 1))
    progress[0, 5], progress[1, 0], progress[2, 7], progress[3] = np.nan, -0.0, -np.inf, 0.0
    progress[4, 3] = np.inf
    progress[5], progress[5, 9] = 0.0, -3.0  # worst 3 m: 0.5
    compiled = driving_direction_compliance(progress, dt_s)
    with kernels.numpy_reference(), np.errstate(invalid="ignore"):  # inf - inf
        reference = driving_direction_compliance(progress, dt_s)
    np.testing.assert_array_equal(compiled, reference)
    assert set(reference.tolist()) == {0.0, 0.5, 1.0}


def test_over_speed_rows_equal_numpy() -> None:
    from urbandrive.metrics.compliance import speed_limit_compliance

    rng = np.random.default_rng(12)
    speed = rng.normal(8.0, 6.0, (30, 41))
    limit = rng.choice([5.0, 10.0, np.nan, np.inf], (30, 41))
    speed[0, :4], limit[0, 4] = [np.nan, -0.0, -12.0, 10.0], 10.0
    for cut in (speed, speed[:, ::3]):
        compiled = speed_limit_compliance(cut, limit[:, : cut.shape[1]], 0.1)
        with kernels.numpy_reference():
            reference = speed_limit_compliance(cut, limit[:, : cut.shape[1]], 0.1)
        assert np.array_equal(compiled, reference, equal_nan=True)
        assert np.any((reference > 0.0) & (reference < 1.0))


def test_first_true_is_numpys_argmax_where_any() -> None:
    flags = np.random.default_rng(13).random((5, 6, 81)) < 0.02
    flags[0, 0], flags[1, 2, 80], flags[2, 3, 0] = False, True, True
    for cut in (flags, flags[..., ::5], flags[3]):
        want = np.where(cut.any(-1), np.argmax(cut, axis=-1), cut.shape[-1])
        np.testing.assert_array_equal(kernels.first_true(cut), want)
        with kernels.numpy_reference():
            np.testing.assert_array_equal(kernels.first_true(cut), want)


def test_ttc_summary_equals_numpy() -> None:
    from urbandrive.metrics.collisions import AtFaultCollisionResult
    from urbandrive.metrics.time_to_collision import TimeToCollisionConfig, _ttc_from_per_step

    rng = np.random.default_rng(14)
    ttc = np.where(rng.random((7, 6, 17)) < 0.95, np.inf, rng.choice([0.5, 1.2, 2.0], (7, 6, 17)))
    ttc[0, 0, 3] = np.nan
    fault = rng.random((7, 6, 81)) < 0.01
    collisions = AtFaultCollisionResult(None, None, None, fault[..., ::5], None)
    compiled = _ttc_from_per_step(ttc.copy(), collisions, TimeToCollisionConfig())
    with kernels.numpy_reference():
        reference = _ttc_from_per_step(ttc.copy(), collisions, TimeToCollisionConfig())
    for name in ("within_bound", "min_time_to_collision_s", "time_to_collision_s"):
        assert np.array_equal(getattr(compiled, name), getattr(reference, name), equal_nan=True)
    assert 0 < reference.within_bound.sum() < reference.within_bound.size


def test_cos_sin_of_a_subset_cuts_the_whole_arrays_result() -> None:
    heading = np.random.default_rng(3).uniform(-7, 7, (40, 81))
    heading[3, 4], heading[5, 6] = np.pi, -0.0
    rows = np.array([3, 5, 0, 39])
    for index in (rows, (slice(None), slice(0, None, 5))):
        cos, sin = kernels.cos_sin_of(heading, index)
        assert cos.flags.c_contiguous and sin.flags.c_contiguous
        subset = np.ascontiguousarray(heading[index])
        np.testing.assert_array_equal(cos, np.cos(subset))
        np.testing.assert_array_equal(sin, np.sin(subset))
        assert np.array_equal(np.signbit(sin), np.signbit(np.sin(subset)))


@pytest.mark.parametrize(
    ("shape", "axis"),
    [((7,), 0), ((3, 2), 1), ((4, 5, 9, 2), 2), ((4, 5, 9), -1), ((6, 2), 0), ((2, 3), 0)],
)
@pytest.mark.parametrize("step", [0.1, 1.0, 0.25])
def test_gradient_is_numpys_bit_for_bit(shape: tuple[int, ...], axis: int, step: float) -> None:
    values = np.random.default_rng(len(shape)).normal(0, 30, shape)
    values.reshape(-1)[::7] = np.nan
    values.reshape(-1)[3::11] = np.inf
    strided = np.moveaxis(np.moveaxis(values, axis, 0).copy(), 0, axis)  # not C-contiguous
    for array in (values, strided):
        expected = np.gradient(array, step, axis=axis)
        assert np.array_equal(kernels.gradient(array, step, axis), expected, equal_nan=True)
    with pytest.raises(ValueError):
        kernels.gradient(np.zeros((3, 1)), 0.1, 1)  # numpy's error: too few steps


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(-20.0, 20.0),
            st.sampled_from([np.pi, -np.pi, 2 * np.pi, 0.0, np.nan, np.inf, -np.inf]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_unwrap_row_is_numpys_bit_for_bit(steps: list[float]) -> None:
    """`unwrap_row` equals np.unwrap: steps below, at and above pi, NaN and infinities."""
    with np.errstate(invalid="ignore"):
        angles = np.cumsum(np.asarray(steps))
    angles[::3] = np.asarray(steps)[::3]  # some steps exactly the drawn values
    out = np.empty_like(angles)
    kernels.unwrap_row(angles, out)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(out, np.unwrap(angles))
