"""ego_is_comfortable: each bound violated alone, nuPlan's filters, bound 0.0 is a bound."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

from urbandrive.core.errors import DataError
from urbandrive.metrics import kernels
from urbandrive.metrics.comfort import (
    ComfortConfig,
    ComfortSignal,
    body_frame_acceleration,
    comfort_along_heading,
    comfort_signals,
    ego_is_comfortable,
    savgol_matrix,
    within_bound,
)

T, DT = 40, 0.1


def _calm() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((1, T)), np.zeros((1, T, 2))


def test_a_calm_rollout_is_comfortable() -> None:
    heading, acceleration = _calm()
    result = ego_is_comfortable(heading, acceleration, DT)
    assert result.is_comfortable.tolist() == [True]
    assert result.score.tolist() == [1.0]


@pytest.mark.parametrize(
    ("signal", "acceleration_lon", "acceleration_lat", "yaw_rate"),
    [
        (ComfortSignal.LON_ACCEL, 2.5, 0.0, 0.0),
        (ComfortSignal.LON_ACCEL, -4.2, 0.0, 0.0),
        (ComfortSignal.LAT_ACCEL, 0.0, 5.0, 0.0),
        (ComfortSignal.YAW_RATE, 0.0, 0.0, 1.0),
    ],
)
def test_constant_violations_fail_exactly_their_signal(
    signal: ComfortSignal, acceleration_lon: float, acceleration_lat: float, yaw_rate: float
) -> None:
    heading = (yaw_rate * DT * np.arange(T))[None]
    acceleration = np.zeros((1, T, 2))
    acceleration[..., 0], acceleration[..., 1] = acceleration_lon, acceleration_lat
    result = ego_is_comfortable(heading, acceleration, DT)
    assert not result.is_comfortable[0]
    failed = set(np.flatnonzero(~result.within_bound[0]).tolist())
    if signal == ComfortSignal.LAT_ACCEL:
        assert failed == {ComfortSignal.LAT_ACCEL}
    else:
        assert signal in failed


def test_yaw_acceleration_alone_fails() -> None:
    yaw_accel = 2.5  # rad/s^2 for 0.3 s keeps the yaw rate under 0.95 rad/s
    time = DT * np.arange(T)
    rate = np.clip(yaw_accel * (time - 1.0), 0.0, 0.75) * (time < 1.5)
    heading = np.cumsum(rate * DT)[None]
    result = ego_is_comfortable(heading, np.zeros((1, T, 2)), DT)
    assert not result.within_bound[0, ComfortSignal.YAW_ACCEL]
    assert result.within_bound[0, ComfortSignal.YAW_RATE]


def test_fast_acceleration_ramp_fails_longitudinal_jerk_alone() -> None:
    ramp = np.clip((np.arange(T) - 15) / 3, 0.0, 1.0)  # -3.5 -> 2.0 m/s^2 in 0.3 s
    acceleration = np.zeros((1, T, 2))
    acceleration[0, :, 0] = -3.5 + 5.5 * ramp
    result = ego_is_comfortable(np.zeros((1, T)), acceleration, DT)
    failed = np.flatnonzero(~result.within_bound[0]).tolist()
    assert failed == [ComfortSignal.LON_JERK]


def test_jerk_magnitude_bound_alone() -> None:
    # nuPlan's 15-step derivative smooths so much that the magnitude jerk cannot pass 8.37
    # while every other signal is within bounds; so switch the others off (None).
    only_jerk = ComfortConfig(
        min_lon_accel_mps2=None,
        max_lon_accel_mps2=None,
        max_abs_lat_accel_mps2=None,
        max_abs_yaw_rate_radps=None,
        max_abs_yaw_accel_radps2=None,
        max_abs_lon_jerk_mps3=None,
    )
    acceleration = np.zeros((1, T, 2))
    acceleration[0, T // 2 :, 1] = 10.0
    result = ego_is_comfortable(np.zeros((1, T)), acceleration, DT, only_jerk)
    assert np.flatnonzero(~result.within_bound[0]).tolist() == [ComfortSignal.JERK]


def test_signals_match_nuplan_filters() -> None:
    rng = np.random.default_rng(3)
    acceleration = rng.normal(0, 1, (T, 2))
    heading = np.cumsum(rng.normal(0, 0.05, T))
    signals = comfort_signals(heading[None], acceleration[None], DT)[0]
    lon = np.round(savgol_filter(acceleration[:, 0], 8, 2), 8)
    np.testing.assert_allclose(signals[ComfortSignal.LON_ACCEL], lon)
    np.testing.assert_allclose(
        signals[ComfortSignal.LON_JERK], np.round(savgol_filter(lon, 15, 2, deriv=1, delta=DT), 8)
    )
    np.testing.assert_allclose(
        signals[ComfortSignal.YAW_RATE],
        np.round(savgol_filter(heading, 5, 2, deriv=1, delta=DT), 8),
    )
    np.testing.assert_allclose(
        signals[ComfortSignal.YAW_ACCEL],
        np.round(savgol_filter(heading, 5, 3, deriv=2, delta=DT), 8),
    )


@pytest.mark.parametrize("num_steps", [4, 5, 8, 15, 41, 81])
@pytest.mark.parametrize(
    ("window", "poly_order", "deriv", "delta"),
    [(8, 2, 0, 1.0), (15, 2, 1, 0.1), (5, 2, 1, 0.1), (5, 3, 2, 0.1)],
)
def test_savgol_matrix_equals_scipy_savgol_filter(
    num_steps: int, window: int, poly_order: int, deriv: int, delta: float
) -> None:
    window = min(window, num_steps)
    if poly_order >= window:
        pytest.skip("scipy needs polyorder < window_length")
    values = np.random.default_rng(num_steps).normal(0, 2, (3, 4, num_steps))
    expected = savgol_filter(values, window, poly_order, deriv=deriv, delta=delta, axis=-1)
    found = values @ savgol_matrix(num_steps, window, poly_order, deriv, delta)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-9 * np.abs(expected).max())


@pytest.mark.parametrize("num_steps", [4, 9, 81])
def test_compiled_signals_equal_the_numpy_reference(num_steps: int) -> None:
    rng = np.random.default_rng(num_steps)
    acceleration = rng.normal(0, 2, (5, 3, num_steps, 2))
    heading = np.cumsum(rng.normal(0, 0.1, (5, 3, num_steps)), -1)
    compiled = comfort_signals(heading, acceleration, DT)
    with kernels.numpy_reference():
        reference = comfort_signals(heading, acceleration, DT)
    # Rounding to 8 decimals after sums in another order may move a value by one unit.
    np.testing.assert_allclose(compiled, reference, rtol=0, atol=1.5e-8)


def test_compiled_signals_of_a_row_do_not_depend_on_its_block() -> None:
    # The kernel filters four rows at a time; each row's sums keep their own order.
    rng = np.random.default_rng(7)
    acceleration = rng.normal(0, 2, (6, 81, 2))
    heading = np.cumsum(rng.normal(0, 0.1, (6, 81)), -1)
    together = comfort_signals(heading, acceleration, DT)
    for row in range(6):
        alone = comfort_signals(heading[row : row + 1], acceleration[row : row + 1], DT)
        assert np.array_equal(alone[0], together[row])


def _rollouts(seed: int, num_rows: int, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(heading, speed) float64[R, T]: wiggling, braking, reversing rollouts."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.08, (num_rows, num_steps)), -1) + rng.uniform(-4, 4)
    speed = np.cumsum(rng.normal(0, 0.6, (num_rows, num_steps)), -1) + 5.0
    return heading, speed


@pytest.mark.parametrize(("num_rows", "num_steps"), [(1, 4), (5, 9), (9, 81), (16, 40)])
@pytest.mark.parametrize(
    "config", [ComfortConfig(), ComfortConfig(max_lon_accel_mps2=None, max_abs_jerk_mps3=0.0)]
)
def test_comfort_along_heading_equals_its_composition(
    num_rows: int, num_steps: int, config: ComfortConfig
) -> None:
    heading, speed = _rollouts(num_steps, num_rows, num_steps)
    velocity = speed[..., None] * np.stack([np.cos(heading), np.sin(heading)], -1)
    acceleration = body_frame_acceleration(velocity, heading, DT)
    expected = ego_is_comfortable(heading, acceleration, DT, config)
    fused = comfort_along_heading(heading, speed, DT, config)  # one kernel
    assert np.array_equal(fused.signals, expected.signals)
    assert np.array_equal(fused.within_bound, expected.within_bound)
    assert np.array_equal(fused.is_comfortable, expected.is_comfortable)
    with kernels.numpy_reference():
        reference = comfort_along_heading(heading, speed, DT, config)
    np.testing.assert_allclose(fused.signals, reference.signals, rtol=0, atol=1.5e-8)


def test_comfort_along_heading_fails_on_a_hard_stop() -> None:
    speed = np.where(np.arange(T) < 20, 10.0, 10.0 - 0.6 * (np.arange(T) - 19)).clip(0)[None]
    result = comfort_along_heading(np.zeros((1, T)), speed, DT)  # ~6 m/s^2 of braking
    assert not result.within_bound[0, ComfortSignal.LON_ACCEL]
    assert not result.is_comfortable[0]
    assert comfort_along_heading(np.zeros((1, T)), np.full((1, T), 10.0), DT).is_comfortable[0]


def test_heading_wrap_does_not_look_like_a_spin() -> None:
    heading = np.angle(np.exp(1j * (np.pi - 0.05 + 0.01 * np.arange(T))))[None]
    result = ego_is_comfortable(heading, np.zeros((1, T, 2)), DT)
    assert result.within_bound[0, ComfortSignal.YAW_RATE]


def test_bound_zero_is_a_bound_and_none_is_not() -> None:
    values = np.array([0.5, 0.2])
    assert not within_bound(values, None, 0.0)
    assert within_bound(values, None, None)
    heading, acceleration = _calm()
    acceleration[..., 0] = 0.1
    strict = ComfortConfig(max_lon_accel_mps2=0.0)
    assert not ego_is_comfortable(heading, acceleration, DT, strict).is_comfortable[0]
    unbounded = ComfortConfig(max_lon_accel_mps2=None)
    assert ego_is_comfortable(heading, acceleration, DT, unbounded).is_comfortable[0]


def test_batches_of_candidates_by_modes() -> None:
    heading = np.zeros((3, 2, T))
    acceleration = np.zeros((3, 2, T, 2))
    acceleration[1, 0, :, 0] = 3.0
    result = ego_is_comfortable(heading, acceleration, DT)
    assert result.is_comfortable.tolist() == [[True, True], [False, True], [True, True]]


def test_too_few_steps_raise() -> None:
    with pytest.raises(DataError, match="at least 4 steps"):
        ego_is_comfortable(np.zeros((1, 3)), np.zeros((1, 3, 2)), DT)


def test_body_frame_acceleration_of_a_circle_is_centripetal() -> None:
    speed, radius = 10.0, 50.0
    angle = speed / radius * DT * np.arange(T)
    velocity = speed * np.stack([-np.sin(angle), np.cos(angle)], -1)
    heading = angle + np.pi / 2
    acceleration = body_frame_acceleration(velocity, heading, DT)
    np.testing.assert_allclose(acceleration[1:-1, 1], speed**2 / radius, rtol=1e-3)
    np.testing.assert_allclose(acceleration[1:-1, 0], 0.0, atol=1e-9)
