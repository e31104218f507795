"""Reactive agents' path helpers, by hand."""

import numpy as np

from urbandrive.agents.reactive import (
    PATH_EXTENSION_M,
    interpolate_paths,
    padded_paths,
    project_onto_paths,
)


def test_paths_skip_invalid_steps_pad_and_extend_straight_ahead():
    xy = np.array([[[0.0, 0.0], [9.0, 9.0], [1.0, 0.0], [2.0, 0.0]]])
    valid = np.array([[True, False, True, True]])
    path, heading, s = padded_paths(xy, np.zeros((1, 4)), valid)
    np.testing.assert_allclose(
        path[0, :4], [[0, 0], [1, 0], [2, 0], [2, 0]]
    )  # padded with the last
    np.testing.assert_allclose(path[0, -1], [2.0 + PATH_EXTENSION_M, 0.0])
    np.testing.assert_allclose(s[0], [0, 1, 2, 2, 2 + PATH_EXTENSION_M])
    assert heading.shape == (1, 5)


def test_projection_and_interpolation_on_an_l_shaped_path():
    path = np.array([[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]])
    s_path = np.array([[0.0, 10.0, 20.0]])
    heading = np.array([[0.0, np.pi / 2, np.pi / 2]])
    s, lateral = project_onto_paths(path, s_path, np.array([[[5.0, 1.0], [11.0, 15.0]]]))
    np.testing.assert_allclose(s, [[5.0, 20.0]])
    np.testing.assert_allclose(lateral, [[1.0, np.hypot(1.0, 5.0)]])
    xy, at_heading = interpolate_paths(path, heading, s_path, np.array([12.0]))
    np.testing.assert_allclose(xy, [[10.0, 2.0]])
    np.testing.assert_allclose(at_heading, [np.pi / 2])
