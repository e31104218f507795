"""`urbandrive.core.trajectory.Trajectory`: validation, interpolation, derivatives.

(Kept here with the model that produces and consumes it; move to tests/core if preferred.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import Trajectory, fill_from_nearest


def _straight(batch_shape: tuple[int, ...] = (), num_steps: int = 11) -> Trajectory:
    times = 0.1 * np.arange(num_steps)
    x = np.broadcast_to(5.0 * times, (*batch_shape, num_steps))
    return Trajectory(
        times_s=times,
        xy=np.stack([x, np.zeros_like(x)], -1),
        heading=np.zeros(x.shape),
        speed_mps=np.full(x.shape, 5.0),
    )


def test_validate_names_the_broken_field() -> None:
    good = _straight((3,))
    good.validate()
    with pytest.raises(DataError, match="'speed_mps' has shape"):
        Trajectory(good.times_s, good.xy, good.heading, good.speed_mps[:2]).validate()
    with pytest.raises(DataError, match="strictly increasing"):
        Trajectory(good.times_s[::-1].copy(), good.xy, good.heading, good.speed_mps).validate()
    broken = good.heading.copy()
    broken[1, 2] = np.nan
    with pytest.raises(DataError, match="'heading' has non-finite"):
        Trajectory(good.times_s, good.xy, broken, good.speed_mps).validate()


@pytest.mark.parametrize("batch_shape", [(), (2, 3)])
def test_at_interpolates_linearly_and_holds_the_ends(batch_shape: tuple[int, ...]) -> None:
    sampled = _straight(batch_shape).at(np.array([-1.0, 0.25, 5.0]))
    assert sampled.xy.shape == (*batch_shape, 3, 2)
    np.testing.assert_allclose(
        sampled.xy[..., 0], np.broadcast_to([0.0, 1.25, 5.0], (*batch_shape, 3))
    )
    assert _straight(batch_shape).at(0.3).heading.shape == (*batch_shape, 1)


def test_at_interpolates_heading_across_the_seam() -> None:
    times = np.array([0.0, 1.0])
    trajectory = Trajectory(
        times, np.zeros((2, 2)), np.array([math.pi - 0.1, -math.pi + 0.1]), np.zeros(2)
    )
    np.testing.assert_allclose(abs(trajectory.at(0.5).heading[0]), math.pi)
    np.testing.assert_allclose(trajectory.at(0.25).heading[0], math.pi - 0.05)


def test_with_derivatives_recovers_circle_curvature_and_constant_accel() -> None:
    times = 0.1 * np.arange(30)
    speed = 4.0 + 0.5 * times
    heading = np.cumsum(np.concatenate([[0.0], 0.1 * speed[:-1] / 10.0]))
    trajectory = Trajectory(times, np.zeros((30, 2)), heading, speed).with_derivatives()
    assert trajectory.accel_mps2 is not None and trajectory.curvature_1pm is not None
    np.testing.assert_allclose(trajectory.accel_mps2, 0.5)
    np.testing.assert_allclose(trajectory.curvature_1pm[2:-2], 0.1, rtol=0.05)


def test_curvature_is_held_where_the_vehicle_is_slow() -> None:
    times = 0.1 * np.arange(6)
    speed = np.array([0.0, 0.0, 2.0, 2.0, 2.0, 0.0])
    heading = np.array([0.3, -0.2, 0.0, 0.02, 0.04, 0.9])
    curvature = Trajectory(times, np.zeros((6, 2)), heading, speed).with_derivatives().curvature_1pm
    assert curvature is not None
    assert curvature[0] == curvature[1] == curvature[2]
    assert curvature[5] == curvature[4]


def test_fill_from_nearest_fills_forward_then_backward() -> None:
    values = np.array([[9.0, 1.0, 9.0, 2.0, 9.0], [9.0, 9.0, 9.0, 9.0, 9.0]])
    known = np.array([[False, True, False, True, False], [False] * 5])
    np.testing.assert_array_equal(
        fill_from_nearest(values, known), [[1.0, 1.0, 1.0, 2.0, 2.0], [0.0] * 5]
    )
