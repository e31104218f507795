"""Frenet frame along lane sequences (urbandrive.maps.frenet)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.core import compiled
from urbandrive.core.errors import DataError
from urbandrive.maps import ReferencePath, RoadMap

from .test_routing import ego_path


def test_reference_path_along_successors(road: RoadMap) -> None:
    path = road.reference_path([0, 1])
    assert path.length_m == pytest.approx(200.0)
    assert path.xy.shape == (201, 2)  # the shared point at x = 100 appears once
    assert path.lane_ids[99] == 0 and path.lane_ids[100] == 1  # lane of the segment leaving it
    np.testing.assert_allclose(path.speed_limit_mps, 13.4)
    np.testing.assert_allclose(path.heading, 0.0)
    np.testing.assert_allclose(path.curvature, 0.0)


def test_known_points_on_the_straight_road(road: RoadMap) -> None:
    path = road.reference_path([0, 1])
    s_m, d_m = path.to_frenet(np.array([[10.0, 1.0], [150.0, -2.0], [-5.0, 1.0], [210.0, 3.5]]))
    np.testing.assert_allclose(s_m, [10.0, 150.0, -5.0, 210.0])
    np.testing.assert_allclose(d_m, [1.0, -2.0, 1.0, 3.5])
    xy, heading = path.to_cartesian(np.array([10.0, 150.0]), np.array([1.0, -2.0]))
    np.testing.assert_allclose(xy, [[10.0, 1.0], [150.0, -2.0]])
    np.testing.assert_allclose(heading, 0.0)


def test_a_lane_change_leaves_at_mid_lane_and_joins_ahead(road: RoadMap) -> None:
    path = road.reference_path([0, 100, 101])
    np.testing.assert_array_equal(path.xy[50], [50.0, 0.0])  # middle of lane 0
    np.testing.assert_array_equal(path.xy[51], [70.0, 3.5])  # 20 m further, on lane 100
    assert path.lane_ids[50] == 0 and path.lane_ids[51] == 100 and path.lane_ids[-1] == 101
    s_m, d_m = path.to_frenet(np.array([[60.0, 1.75]]))  # on the diagonal, half-way
    np.testing.assert_allclose(d_m, 0.0, atol=1e-12)
    np.testing.assert_allclose(s_m, 50.0 + 0.5 * np.hypot(20.0, 3.5))


def test_unlinked_or_unknown_lanes_are_refused(road: RoadMap) -> None:
    with pytest.raises(DataError, match="lane 1 neither follows nor neighbours lane 100"):
        road.reference_path([100, 1])
    with pytest.raises(DataError, match="no lane with id 5"):
        road.reference_path([0, 5])


@pytest.mark.parametrize("batch_shape", [(), (7,), (2, 3)])
def test_round_trip_keeps_batch_shapes(road: RoadMap, batch_shape: tuple[int, ...]) -> None:
    path = road.reference_path([0, 1])
    xy = np.random.default_rng(1).uniform([0, -3], [200, 3], size=(*batch_shape, 2))
    s_m, d_m = path.to_frenet(xy)
    assert s_m.shape == d_m.shape == batch_shape
    back, heading = path.to_cartesian(s_m, d_m)
    assert back.shape == xy.shape and heading.shape == batch_shape
    np.testing.assert_allclose(back, xy, atol=1e-9)


def _curvy_path(radius_m: float, turn_rad: float, spacing_m: float, wiggle: float) -> ReferencePath:
    """A straight lead-in, an arc of `turn_rad`, a straight exit; points jittered by `wiggle`."""
    arc_points = max(3, int(abs(turn_rad) * radius_m / spacing_m))
    angle = np.linspace(0.0, turn_rad, arc_points)
    arc = np.stack(
        [radius_m * np.sin(np.abs(angle)), np.sign(turn_rad) * radius_m * (1 - np.cos(angle))], -1
    )
    lead_in = np.stack(
        [np.arange(-20.0, 0.0, spacing_m), np.zeros(len(np.arange(-20.0, 0.0, spacing_m)))], -1
    )
    exit_direction = np.array([np.cos(turn_rad), np.sin(turn_rad)])
    exit_line = arc[-1] + np.arange(spacing_m, 20.0, spacing_m)[:, None] * exit_direction
    xy = np.concatenate([lead_in, arc, exit_line])
    jitter = wiggle * np.sin(np.arange(len(xy)) * 1.7)[:, None] * np.array([0.0, 1.0])
    return ReferencePath.from_points(xy + jitter)


paths = st.builds(
    _curvy_path,
    radius_m=st.floats(12.0, 200.0),
    turn_rad=st.floats(-2.5, 2.5),
    spacing_m=st.floats(0.5, 4.0),
    wiggle=st.floats(0.0, 0.01),  # keeps the radius of curvature above 3 m
)


@settings(max_examples=60, deadline=None)
@given(
    path=paths,
    fraction=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
    seed=st.integers(0, 99),
)
def test_frenet_then_cartesian_round_trip(
    path: ReferencePath, fraction: list[float], seed: int
) -> None:
    s_m = np.asarray(fraction) * path.length_m
    d_m = np.random.default_rng(seed).uniform(-3.0, 3.0, size=s_m.shape)
    xy, _ = path.to_cartesian(s_m, d_m)
    s_back, d_back = path.to_frenet(xy)
    np.testing.assert_allclose(s_back, s_m, atol=1e-6)
    np.testing.assert_allclose(d_back, d_m, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(path=paths, seed=st.integers(0, 99))
def test_cartesian_then_frenet_round_trip(path: ReferencePath, seed: int) -> None:
    rng = np.random.default_rng(seed)
    near = path.xy[rng.integers(0, len(path.xy), 30)] + rng.uniform(-3.0, 3.0, (30, 2))
    s_m, d_m = path.to_frenet(near)
    back, _ = path.to_cartesian(s_m, d_m)
    np.testing.assert_allclose(back, near, atol=1e-6)


@pytest.mark.real_data
def test_av2_ego_path_in_the_frenet_frame_of_its_route(
    av2_log_maps: list[tuple[Path, RoadMap]],
) -> None:
    for log, road_map in av2_log_maps:
        xy, yaw = ego_path(log)
        path = road_map.reference_path(road_map.match_path_to_lanes(xy, yaw))
        s_m, d_m = path.to_frenet(xy)
        assert np.all(np.abs(d_m) < 2.5)  # the ego drives in its lanes (wide in turns)
        assert np.all(np.diff(s_m) > -0.5)  # and forward along them
        back, heading = path.to_cartesian(s_m, d_m)
        np.testing.assert_allclose(back, xy, atol=1e-6)
        heading_error = np.angle(np.exp(1j * (heading - yaw)))
        assert np.all(np.abs(heading_error) < 0.5)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_frenet_kernels_equal_the_numpy_reference_bit_for_bit(seed: int) -> None:
    """`to_frenet` and `to_cartesian` with the compiled kernels on and off: the same floats,
    on winding paths (hairpins included) with points far enough off to fall in no sector."""
    if not compiled.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(seed)
    turns = np.cumsum(rng.normal(0.0, 0.6 if seed % 2 else 0.15, 60))
    steps = np.stack([np.cos(turns), np.sin(turns)], -1) * rng.uniform(0.2, 3.0, (60, 1))
    path = ReferencePath.from_points(np.cumsum(steps, axis=0))
    points = path.xy[rng.integers(0, len(path.xy), (40, 7))] + rng.normal(0.0, 4.0, (40, 7, 2))
    s_m = rng.uniform(-5.0, path.length_m + 5.0, (9, 11))
    d_m = rng.normal(0.0, 3.0, (9, 11))
    found = (*path.to_frenet(points), *path.to_cartesian(s_m, d_m))
    with compiled.numpy_reference():
        expected = (*path.to_frenet(points), *path.to_cartesian(s_m, d_m))
    for value, reference in zip(found, expected, strict=True):
        assert value.shape == reference.shape
        np.testing.assert_array_equal(value, reference)


@pytest.mark.parametrize("seed", range(4))
def test_cartesian_pairs_are_cartesian_of_every_pair_bit_for_bit(seed: int) -> None:
    """`to_cartesian_pairs` (compiled and numpy) gives for pair (l, a) exactly
    `to_cartesian(s_m[l], d_m[a])`, and the path heading of s_m[l] for every a; s beyond
    both ends and on the path's own points (segment boundaries) included."""
    rng = np.random.default_rng(seed)
    turns = np.cumsum(rng.normal(0.0, 0.3, 40))
    steps = np.stack([np.cos(turns), np.sin(turns)], -1) * rng.uniform(0.5, 3.0, (40, 1))
    path = ReferencePath.from_points(np.cumsum(steps, axis=0))
    s_m = rng.uniform(-5.0, path.length_m + 5.0, (5, 13))
    s_m[0, :4] = path.s_m[:4]
    d_m = rng.normal(0.0, 3.0, (3, 13))
    expected_xy, expected_heading = path.to_cartesian(np.repeat(s_m, 3, 0), np.tile(d_m, (5, 1)))
    contexts = [compiled.numpy_reference()]
    if compiled.HAVE_NUMBA:
        contexts.append(contextlib.nullcontext())
    for context in contexts:
        with context:
            xy, heading = path.to_cartesian_pairs(s_m, d_m)
        assert xy.shape == (5, 3, 13, 2) and heading.shape == (5, 13)
        np.testing.assert_array_equal(xy.reshape(15, 13, 2), expected_xy)
        np.testing.assert_array_equal(np.repeat(heading, 3, 0), expected_heading)


@pytest.mark.parametrize("seed", range(4))
def test_grid_nearest_vertex_is_the_kd_trees(seed: int) -> None:
    """The compiled grid's nearest vertex is the KD-tree's: points near and far (outside the
    grid), and on a straight path points equidistant from two vertices take the first."""
    if not compiled.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(seed)
    turns = np.cumsum(rng.normal(0.0, 0.6 if seed % 2 else 0.15, 200))
    steps = np.stack([np.cos(turns), np.sin(turns)], -1) * rng.uniform(0.2, 3.0, (200, 1))
    path = ReferencePath.from_points(np.cumsum(steps, axis=0))
    points = path.xy[rng.integers(0, len(path.xy), 3000)] + rng.normal(0.0, 20.0, (3000, 2))
    points[:20] *= 50.0  # far outside the grid
    _, expected = path._vertex_tree.query(points)
    assert path._vertex_grid is not None
    np.testing.assert_array_equal(path._nearest_vertex(points), expected)
    fine = np.linspace(0.0, 1.0, 3000)[:, None] * [1000.0, 400.0]  # cells of many segments
    long_path = ReferencePath.from_points(fine + [[0.0, 1.0]] * np.sin(fine[:, :1] / 50.0))
    assert long_path._vertex_grid is None  # keeps the KD-tree
    _, expected = long_path._vertex_tree.query(points)
    np.testing.assert_array_equal(long_path._nearest_vertex(points), expected)
    straight = ReferencePath.from_points(np.stack([np.arange(10.0), np.zeros(10)], -1))
    halfway = np.array([[0.5, 0.0], [3.5, 2.0], [8.5, -1.0]])
    np.testing.assert_array_equal(straight._nearest_vertex(halfway), [0, 3, 8])
    with pytest.raises(ValueError, match="finite"):
        straight.to_frenet(np.array([[np.nan, 0.0]]))
