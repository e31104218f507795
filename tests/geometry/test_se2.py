"""SE2 transforms named by frames: by-hand cases and group properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.geometry import SE2, wrap_angle

finite = st.floats(-1e4, 1e4, allow_nan=False)
angle = st.floats(-10, 10, allow_nan=False)


def test_ego_point_ahead_lands_ahead_in_city():
    city_SE2_ego = SE2.from_pose(10.0, 5.0, np.pi / 2)
    point_city = city_SE2_ego.transform_points(np.array([[2.0, 0.0]]))
    np.testing.assert_allclose(point_city, [[10.0, 7.0]], atol=1e-12)
    heading_city = city_SE2_ego.transform_headings(np.array([0.0]))
    np.testing.assert_allclose(heading_city, [np.pi / 2])


@settings(max_examples=100, deadline=None)
@given(finite, finite, angle, finite, finite)
def test_inverse_round_trips(x, y, heading, px, py):
    a_SE2_b = SE2.from_pose(x, y, heading)
    point = np.array([[px, py]])
    back = a_SE2_b.inverse().transform_points(a_SE2_b.transform_points(point))
    np.testing.assert_allclose(back, point, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(finite, finite, angle, finite, finite, angle)
def test_compose_equals_applying_in_turn(x1, y1, h1, x2, y2, h2):
    a_SE2_b, b_SE2_c = SE2.from_pose(x1, y1, h1), SE2.from_pose(x2, y2, h2)
    point = np.array([[1.0, -2.0], [3.0, 0.5]])
    composed = a_SE2_b.compose(b_SE2_c).transform_points(point)
    in_turn = a_SE2_b.transform_points(b_SE2_c.transform_points(point))
    np.testing.assert_allclose(composed, in_turn, atol=1e-6)


@pytest.mark.parametrize("batch_shape", [(), (3,), (2, 4)])
def test_batched_transforms_match_one_by_one(batch_shape):
    rng = np.random.default_rng(0)
    angles = rng.uniform(-np.pi, np.pi, batch_shape)
    translation = rng.normal(size=batch_shape + (2,))
    points = rng.normal(size=batch_shape + (5, 2))
    batched = SE2(angles, translation).transform_points(points)
    for index in np.ndindex(*batch_shape):
        single = SE2(angles[index], translation[index]).transform_points(points[index])
        np.testing.assert_allclose(batched[index], single)


def test_wrap_angle_range_and_pi():
    values = wrap_angle(np.array([np.pi, -np.pi, 3 * np.pi, 0.5, -7.0]))
    assert np.all(values > -np.pi) and np.all(values <= np.pi)
    np.testing.assert_allclose(values[:3], np.pi)
    np.testing.assert_allclose(values[3], 0.5)
