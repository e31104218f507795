"""Oriented boxes: corners by hand, overlap against shapely, batching."""

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.geometry import box_corners, boxes_overlap


def test_corners_of_a_rotated_box_by_hand():
    corners = box_corners(np.array([1.0, 2.0]), np.pi / 2, np.array([4.0, 2.0]))
    # Facing +y: front-left is (x - 1, y + 2), rear-left (x - 1, y - 2), ...
    expected = np.array([[0.0, 4.0], [0.0, 0.0], [2.0, 0.0], [2.0, 4.0]])
    np.testing.assert_allclose(corners, expected, atol=1e-12)


def test_touching_boxes_overlap_and_separated_ones_do_not():
    size = np.array([4.0, 2.0])
    assert boxes_overlap([0, 0], 0.0, size, [4.0, 0], 0.0, size)  # edges touch
    assert not boxes_overlap([0, 0], 0.0, size, [4.01, 0], 0.0, size)
    # A 45-degree box whose corner reaches within the first box.
    assert boxes_overlap([0, 0], 0.0, size, [3.5, 0], np.pi / 4, size)
    assert not boxes_overlap([0, 0], 0.0, size, [5.0, 0], np.pi / 4, size)


def test_overlap_broadcasts_over_batches():
    xy_a = np.zeros((3, 1, 2))
    xy_b = np.stack([np.array([[x, 0.0]]) for x in (1.0, 3.0, 10.0)])
    result = boxes_overlap(xy_a, np.zeros((3, 1)), [4.0, 2.0], xy_b, np.zeros((3, 1)), [2.0, 2.0])
    assert result.shape == (3, 1)
    assert result[:, 0].tolist() == [True, True, False]


coordinate = st.floats(-10, 10, allow_nan=False)
angle = st.floats(-np.pi, np.pi, allow_nan=False)
length = st.floats(0.2, 6.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(coordinate, coordinate, angle, length, length, coordinate, coordinate, angle, length, length)
def test_overlap_agrees_with_shapely(xa, ya, ha, la, wa, xb, yb, hb, lb, wb):
    corners_a = box_corners(np.array([xa, ya]), ha, np.array([la, wa]))
    corners_b = box_corners(np.array([xb, yb]), hb, np.array([lb, wb]))
    polygon_a, polygon_b = shapely.Polygon(corners_a), shapely.Polygon(corners_b)
    distance = polygon_a.distance(polygon_b)
    if distance < 1e-9 and polygon_a.intersection(polygon_b).area < 1e-9:
        return  # touching within rounding: either answer is right
    expected = polygon_a.intersects(polygon_b)
    got = boxes_overlap([xa, ya], ha, [la, wa], [xb, yb], hb, [lb, wb])
    assert bool(got) == expected


def test_strict_overlap_needs_a_positive_area():
    size = np.array([2.0, 2.0])
    # Corner to corner at (1, 1), and edge to edge along x = 1: touching, no area.
    for other in ([2.0, 2.0], [2.0, 0.5]):
        assert boxes_overlap([0, 0], 0.0, size, other, 0.0, size)
        assert not boxes_overlap([0, 0], 0.0, size, other, 0.0, size, touching_counts=False)
    # A diamond (square of side sqrt 2 turned 45 degrees, half-diagonal 1) whose left corner
    # reaches 0.1 m into the first box: a triangle of area 0.1^2 = 0.01 > 0.
    diamond = np.full(2, np.sqrt(2.0))
    assert boxes_overlap([0, 0], 0.0, size, [1.9, 0], np.pi / 4, diamond, touching_counts=False)
    assert not boxes_overlap([0, 0], 0.0, size, [2.1, 0], np.pi / 4, diamond)


@settings(max_examples=300, deadline=None)
@given(coordinate, coordinate, angle, length, length, coordinate, coordinate, angle, length, length)
def test_strict_overlap_is_a_positive_shapely_area(xa, ya, ha, la, wa, xb, yb, hb, lb, wb):
    corners_a = box_corners(np.array([xa, ya]), ha, np.array([la, wa]))
    corners_b = box_corners(np.array([xb, yb]), hb, np.array([lb, wb]))
    area = shapely.Polygon(corners_a).intersection(shapely.Polygon(corners_b)).area
    if abs(area) < 1e-9:
        return  # touching within rounding: either answer is right
    got = boxes_overlap([xa, ya], ha, [la, wa], [xb, yb], hb, [lb, wb], touching_counts=False)
    assert bool(got) == (area > 0)
