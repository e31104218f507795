"""Polylines: arc length, resampling, projection, midline — by hand and by property."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.core.errors import DataError
from urbandrive.geometry import (
    arc_length,
    interpolate_along,
    midline,
    polyline_headings,
    project_points,
    resample_by_count,
    resample_by_spacing,
)

L_SHAPE = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])


def test_arc_length_and_headings_of_an_l():
    np.testing.assert_allclose(arc_length(L_SHAPE), [0, 10, 20])
    np.testing.assert_allclose(polyline_headings(L_SHAPE), [0, np.pi / 2, np.pi / 2])


def test_projection_gives_station_and_signed_offset():
    s, lateral, segment = project_points(L_SHAPE, np.array([[5.0, 1.0], [11.0, 5.0], [5.0, -2.0]]))
    np.testing.assert_allclose(s, [5.0, 15.0, 5.0])
    np.testing.assert_allclose(lateral, [1.0, -1.0, -2.0])  # left of travel is positive
    assert segment.tolist() == [0, 1, 0]


def test_points_beyond_the_ends_clamp_to_the_ends():
    s, lateral, _ = project_points(L_SHAPE, np.array([[-3.0, 4.0], [10.0, 13.0]]))
    np.testing.assert_allclose(s, [0.0, 20.0])
    np.testing.assert_allclose(np.abs(lateral), [5.0, 3.0])


def test_interpolate_and_resample():
    xy, heading = interpolate_along(L_SHAPE, np.array([2.5, 12.0, 99.0]))
    np.testing.assert_allclose(xy, [[2.5, 0.0], [10.0, 2.0], [10.0, 10.0]])
    np.testing.assert_allclose(heading, [0.0, np.pi / 2, np.pi / 2])
    resampled = resample_by_spacing(L_SHAPE, 1.0)
    assert resampled.shape == (21, 2)
    np.testing.assert_allclose(np.diff(arc_length(resampled)), 1.0)
    np.testing.assert_allclose(resample_by_count(L_SHAPE, 3), L_SHAPE)


def test_zero_length_segments_are_harmless():
    with_duplicate = np.array([[0.0, 0.0], [0.0, 0.0], [10.0, 0.0]])
    s, lateral, _ = project_points(with_duplicate, np.array([[4.0, 2.0]]))
    np.testing.assert_allclose([s[0], lateral[0]], [4.0, 2.0])
    np.testing.assert_allclose(polyline_headings(with_duplicate)[0], 0.0)


def test_midline_between_parallel_boundaries():
    left = np.array([[0.0, 2.0], [10.0, 2.0]])
    right = np.array([[0.0, -2.0], [5.0, -2.0], [10.0, -2.0]])
    centre = midline(left, right)
    np.testing.assert_allclose(centre[:, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(centre[[0, -1], 0], [0.0, 10.0])


def test_degenerate_polyline_is_a_clear_error():
    with pytest.raises(DataError, match="polyline"):
        project_points(np.array([[0.0, 0.0]]), np.zeros((1, 2)))


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.0, 1.0),
    st.floats(-3.0, 3.0),
    st.integers(0, 10_000),
)
def test_point_offset_from_a_smooth_curve_projects_back(fraction, offset, seed):
    rng = np.random.default_rng(seed)
    radius = rng.uniform(20.0, 100.0)
    angles = np.linspace(0.0, rng.uniform(0.2, 1.5), 200)
    arc = radius * np.stack([np.sin(angles), 1.0 - np.cos(angles)], axis=-1)  # turning left
    s_true = fraction * arc_length(arc)[-1]
    on_curve, heading = interpolate_along(arc, np.array([s_true]))
    normal = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    s, lateral, _ = project_points(arc, on_curve + offset * normal)
    if 0.02 < fraction < 0.98:
        np.testing.assert_allclose(lateral, offset, atol=0.02)
        np.testing.assert_allclose(s, s_true, atol=0.05)
