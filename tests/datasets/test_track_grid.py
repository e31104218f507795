"""Rows -> (A, T) grids and finite-difference velocities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from urbandrive.core.errors import DataError
from urbandrive.datasets.track_grid import finite_difference_velocity, index_rows

FILE = Path("some/annotations.feather")


def test_agents_are_ordered_by_first_appearance_and_rows_land_in_place() -> None:
    index = index_rows(FILE, np.array(["b", "a", "b", "c"]), np.array([0, 1, 2, 1]), 3)
    assert index.agent_ids.tolist() == ["b", "a", "c"]
    assert index.valid.tolist() == [[True, False, True], [False, True, False], [False, True, False]]
    grid = index.scatter(np.array([1.0, 2.0, 3.0, 4.0]))
    assert grid.tolist() == [[1.0, 0.0, 3.0], [0.0, 2.0, 0.0], [0.0, 4.0, 0.0]]
    assert index.median_per_agent(np.array([1.0, 2.0, 5.0, 4.0])).tolist() == [3.0, 2.0, 4.0]
    assert index.first_per_agent(np.array(["x", "y", "z", "w"])).tolist() == ["x", "y", "w"]


def test_two_rows_for_one_track_and_step_name_the_file_and_track() -> None:
    with pytest.raises(DataError, match=r"annotations.feather: track 'a' has two rows at step 1"):
        index_rows(FILE, np.array(["a", "a"]), np.array([1, 1]), 3)


def test_step_outside_the_range_names_the_row() -> None:
    with pytest.raises(DataError, match=r"row 1 has step 5 outside \[0, 3\)"):
        index_rows(FILE, np.array(["a", "a"]), np.array([1, 5]), 3)


def test_velocity_is_central_inside_runs_one_sided_at_ends_and_zero_when_alone() -> None:
    times_s = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    x = np.array([[0.0, 1.0, 3.0, 0.0, 7.0, 0.0]])  # run [0..2], gap at 3, lone step 4
    valid = np.array([[True, True, True, False, True, False]])
    xy = np.stack([x, np.zeros_like(x)], axis=-1)
    velocity = finite_difference_velocity(xy, valid, times_s)[0, :, 0]
    np.testing.assert_allclose(velocity, [10.0, 15.0, 20.0, 0.0, 0.0, 0.0])


def test_velocity_uses_the_real_uneven_timestamps() -> None:
    xy = np.array([[[0.0, 0.0], [1.0, 0.0]]])
    velocity = finite_difference_velocity(xy, np.ones((1, 2), bool), np.array([0.0, 0.25]))
    np.testing.assert_allclose(velocity[0, :, 0], [4.0, 4.0])
