"""nuPlan's `ego_is_comfortable`, batched: six kinematic signals, each within its bounds.

Source: motional/nuplan-devkit `nuplan/planning/metrics/evaluation_metrics/common/
ego_is_comfortable.py`, `ego_lon_acceleration.py`, `ego_lat_acceleration.py`,
`ego_yaw_rate.py`, `ego_yaw_acceleration.py`, `ego_lon_jerk.py`, `ego_jerk.py`,
`metrics/utils/state_extractors.py`, `evaluation_metrics/base/within_bound_metric_base.py`
and the low-level yaml configs. Signals are computed as nuPlan does (Savitzky-Golay,
`scipy.signal.savgol_filter`, default mode "interp", rounded to 8 decimals):

- longitudinal / lateral acceleration: the ego-frame acceleration of the box centre, smoothed
  with window min(8, T), polynomial order 2;
- yaw rate: first derivative of the unwrapped heading, window min(5, T), order 2 (nuPlan's
  `extract_ego_yaw_rate` takes `window_length=15` but does not pass it on, so its default 5
  applies; we match the behaviour, not the signature);
- yaw acceleration: second derivative of the unwrapped heading, window min(5, T), order 3;
- longitudinal jerk: first derivative (window min(15, T), order 2) of the smoothed
  longitudinal acceleration;
- jerk: the same, of the smoothed acceleration magnitude. nuPlan differentiates the
  magnitude of the rear-axle acceleration; we use the magnitude of the centre's (lon, lat)
  acceleration we are given (identical when the ego does not rotate).

A signal is within bounds iff lower < value < upper at every step (strict, as nuPlan's
`WithinBoundMetricBase`); a bound set to None is ignored (compared with `is None`: nuPlan's
`if not min_within_bound_threshold` ignores a bound of 0.0, we do not). The metric is 1 iff all
six are within bounds.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics import kernels


class ComfortSignal(enum.IntEnum):
    """Indexes axis -2 of `ComfortResult.signals` and axis -1 of `within_bound`."""

    LON_ACCEL = 0
    LAT_ACCEL = 1
    YAW_RATE = 2
    YAW_ACCEL = 3
    LON_JERK = 4
    JERK = 5


@dataclass(frozen=True, slots=True)
class ComfortConfig:
    """Bounds (nuPlan's config values) and the Savitzky-Golay filters (nuPlan's code values)."""

    min_lon_accel_mps2: float | None = -4.05
    max_lon_accel_mps2: float | None = 2.40
    max_abs_lat_accel_mps2: float | None = 4.89
    max_abs_yaw_rate_radps: float | None = 0.95
    max_abs_yaw_accel_radps2: float | None = 1.93
    max_abs_lon_jerk_mps3: float | None = 4.13
    max_abs_jerk_mps3: float | None = 8.37
    accel_window: int = 8
    accel_poly_order: int = 2
    jerk_window: int = 15
    jerk_poly_order: int = 2
    yaw_window: int = 5
    yaw_rate_poly_order: int = 2
    yaw_accel_poly_order: int = 3
    decimals: int = 8

    def bounds(self) -> list[tuple[float | None, float | None]]:
        """(lower, upper) per `ComfortSignal`, None where unbounded."""
        return [
            (self.min_lon_accel_mps2, self.max_lon_accel_mps2),
            _symmetric(self.max_abs_lat_accel_mps2),
            _symmetric(self.max_abs_yaw_rate_radps),
            _symmetric(self.max_abs_yaw_accel_radps2),
            _symmetric(self.max_abs_lon_jerk_mps3),
            _symmetric(self.max_abs_jerk_mps3),
        ]

    @property
    def min_num_steps(self) -> int:
        """Fewest steps the filters accept (polynomial order < window)."""
        return (
            max(
                self.accel_poly_order,
                self.jerk_poly_order,
                self.yaw_rate_poly_order,
                self.yaw_accel_poly_order,
            )
            + 1
        )


def _symmetric(bound: float | None) -> tuple[float | None, float | None]:
    return (None, None) if bound is None else (-bound, bound)


@dataclass(frozen=True, slots=True)
class ComfortResult:
    """is_comfortable: bool[*B]; within_bound: bool[*B, 6]; signals: float64[*B, 6, T] (SI units),
    both indexed by `ComfortSignal`."""

    is_comfortable: NDArrayBool
    within_bound: NDArrayBool
    signals: NDArrayF64

    @property
    def score(self) -> NDArrayF64:
        """float64[*B], 1.0 if comfortable else 0.0."""
        return self.is_comfortable.astype(np.float64)


def ego_is_comfortable(
    heading: NDArrayF64,
    acceleration_mps2: NDArrayF64,
    dt_s: float,
    config: ComfortConfig = ComfortConfig(),
) -> ComfortResult:
    """nuPlan's comfort check (definition: module doc).

    heading: float64[*B, T], radians, global frame. acceleration_mps2: float64[*B, T, 2], the
    box centre's (longitudinal, lateral) acceleration in the ego frame (see
    `body_frame_acceleration`). dt_s: step, seconds. Requires T >= `config.min_num_steps`.
    """
    signals = comfort_signals(heading, acceleration_mps2, dt_s, config)
    within = np.stack(
        [
            within_bound(signals[..., i, :], lower, upper)
            for i, (lower, upper) in enumerate(config.bounds())
        ],
        axis=-1,
    )
    return ComfortResult(np.all(within, axis=-1), within, signals)


def comfort_signals(
    heading: NDArrayF64,
    acceleration_mps2: NDArrayF64,
    dt_s: float,
    config: ComfortConfig = ComfortConfig(),
) -> NDArrayF64:
    """float64[*B, 6, T]: the six signals of `ComfortSignal`, filtered as nuPlan does."""
    num_steps = heading.shape[-1]
    if num_steps < config.min_num_steps:
        raise DataError(f"comfort: need at least {config.min_num_steps} steps, got {num_steps}")
    acceleration_mps2 = np.asarray(acceleration_mps2, np.float64)
    if kernels.enabled():
        return _signals_compiled(np.asarray(heading, np.float64), acceleration_mps2, dt_s, config)
    lon = _smooth(acceleration_mps2[..., 0], config)
    lat = _smooth(acceleration_mps2[..., 1], config)
    magnitude = _smooth(np.linalg.norm(acceleration_mps2, axis=-1), config)
    unwrapped = np.unwrap(np.asarray(heading, np.float64), axis=-1)
    yaw_window = min(config.yaw_window, num_steps)
    yaw_rate = _derivative(unwrapped, yaw_window, config.yaw_rate_poly_order, 1, dt_s)
    yaw_accel = _derivative(unwrapped, yaw_window, config.yaw_accel_poly_order, 2, dt_s)
    jerk_window = min(config.jerk_window, num_steps)
    lon_jerk = _derivative(lon, jerk_window, config.jerk_poly_order, 1, dt_s)
    jerk = _derivative(magnitude, jerk_window, config.jerk_poly_order, 1, dt_s)
    signals = np.stack([lon, lat, yaw_rate, yaw_accel, lon_jerk, jerk], axis=-2)
    return np.round(signals, config.decimals)


def _signals_compiled(
    heading: NDArrayF64, acceleration_mps2: NDArrayF64, dt_s: float, config: ComfortConfig
) -> NDArrayF64:
    """`comfort_signals` by the compiled kernel (`metrics.kernels.comfort_signals_rows`)."""
    num_steps = heading.shape[-1]
    batch = np.broadcast_shapes(heading.shape[:-1], acceleration_mps2.shape[:-2])
    rows = int(np.prod(batch, dtype=np.int64))
    signals = np.empty((rows, len(ComfortSignal), num_steps))
    kernels.comfort_signals_rows(
        np.ascontiguousarray(np.broadcast_to(heading, batch + (num_steps,))).reshape(rows, -1),
        np.ascontiguousarray(np.broadcast_to(acceleration_mps2, batch + (num_steps, 2))).reshape(
            rows, num_steps, 2
        ),
        *_filter_bands(num_steps, dt_s, config),
        float(10**config.decimals),
        signals,
    )
    return signals.reshape(batch + (len(ComfortSignal), num_steps))


def _filter_bands(num_steps: int, dt_s: float, config: ComfortConfig) -> tuple[tuple, ...]:
    """The four filters of `comfort_signals` (smoothing, yaw rate, yaw acceleration, jerk) as
    the kernels take them: (savgol_matrix [T, T], first, stop) each."""
    yaw_window = min(config.yaw_window, num_steps)
    jerk_window = min(config.jerk_window, num_steps)

    def band(window: int, poly_order: int, deriv: int, delta: float) -> tuple[NDArrayF64, ...]:
        key = (num_steps, window, poly_order, deriv, delta)
        return (savgol_matrix(*key), *_savgol_band(*key))

    return (
        band(min(config.accel_window, num_steps), config.accel_poly_order, 0, 1.0),
        band(yaw_window, config.yaw_rate_poly_order, 1, dt_s),
        band(yaw_window, config.yaw_accel_poly_order, 2, dt_s),
        band(jerk_window, config.jerk_poly_order, 1, dt_s),
    )


def comfort_along_heading(
    heading: NDArrayF64,
    speed_mps: NDArrayF64,
    dt_s: float,
    config: ComfortConfig = ComfortConfig(),
) -> ComfortResult:
    """`ego_is_comfortable` of rollouts whose centre moves at speed_mps along its heading
    (velocity speed * (cos, sin) heading, `body_frame_acceleration` of it): heading,
    speed_mps float64[R, T]. The compiled path does it all in one kernel
    (`metrics.kernels.comfort_of_speed_rows`, cos / sin by numpy, `kernels.cos_sin`): the
    same floats."""
    num_rows, num_steps = np.shape(heading)
    if not kernels.enabled() or num_steps < config.min_num_steps:
        velocity = speed_mps[..., None] * np.stack([np.cos(heading), np.sin(heading)], -1)
        acceleration = body_frame_acceleration(velocity, heading, dt_s)
        return ego_is_comfortable(heading, acceleration, dt_s, config)
    nan = float("nan")
    bounds = np.array(
        [[nan if b is None else b for b in pair] for pair in config.bounds()], np.float64
    )  # [6, 2]: (lower, upper), NaN where unbounded
    signals = np.empty((num_rows, len(ComfortSignal), num_steps))
    within = np.empty((num_rows, len(ComfortSignal)), np.bool_)
    cos, sin = kernels.cos_sin(heading)
    kernels.comfort_of_speed_rows(
        np.asarray(heading, np.float64), cos, sin, np.asarray(speed_mps, np.float64), float(dt_s), *_filter_bands(num_steps, dt_s, config),
        float(10**config.decimals), bounds[:, 0].copy(), bounds[:, 1].copy(), signals, within,
    )  # fmt: skip
    return ComfortResult(np.all(within, axis=-1), within, signals)


def _smooth(values: NDArrayF64, config: ComfortConfig) -> NDArrayF64:
    """nuPlan's `extract_ego_acceleration` filter, rounded like it."""
    window = min(config.accel_window, values.shape[-1])
    smoothed = _savgol(values, window, config.accel_poly_order, 0, 1.0)
    return np.round(smoothed, config.decimals)


def _derivative(
    values: NDArrayF64, window: int, poly_order: int, order: int, dt_s: float
) -> NDArrayF64:
    """nuPlan's `approximate_derivatives` along the last axis (equally spaced steps of dt_s)."""
    return _savgol(values, window, poly_order, order, dt_s)


def _savgol(
    values: NDArrayF64, window: int, poly_order: int, deriv: int, delta: float
) -> NDArrayF64:
    """`scipy.signal.savgol_filter` of float64[..., T] along the last axis as `values @
    savgol_matrix(...)`: by the compiled banded product when the kernels are on (one thread;
    BLAS's threads cost more than this small product), else by numpy's matmul."""
    num_steps = values.shape[-1]
    matrix = savgol_matrix(num_steps, window, poly_order, deriv, delta)
    if not kernels.enabled():
        return values @ matrix
    first, stop = _savgol_band(num_steps, window, poly_order, deriv, delta)
    flat = np.ascontiguousarray(values, np.float64).reshape(-1, num_steps)
    return kernels.banded_matmul(flat, matrix, first, stop).reshape(values.shape)


@functools.lru_cache(maxsize=64)
def savgol_matrix(
    num_steps: int, window: int, poly_order: int, deriv: int = 0, delta: float = 1.0
) -> NDArrayF64:
    """float64[T, T] F with `values @ F` == `scipy.signal.savgol_filter(values, window,
    poly_order, deriv, delta, axis=-1, mode="interp")` for any values float64[..., T] (up to
    float rounding): the filter is linear (a fixed convolution inside, a fixed polynomial fit
    at each end), so F's row i is the filter of the i-th unit vector. Cached, read-only."""
    matrix = savgol_filter(
        np.eye(num_steps), window_length=window, polyorder=poly_order, deriv=deriv,
        delta=delta, axis=-1,
    )  # fmt: skip
    matrix.setflags(write=False)
    return matrix


@functools.lru_cache(maxsize=64)
def _savgol_band(
    num_steps: int, window: int, poly_order: int, deriv: int, delta: float
) -> tuple[NDArrayInt, NDArrayInt]:
    """(first, stop) int64[T]: column j of `savgol_matrix(...)` is zero outside rows
    first[j] <= i < stop[j]."""
    nonzero = savgol_matrix(num_steps, window, poly_order, deriv, delta) != 0
    first = np.argmax(nonzero, axis=0)
    stop = np.where(nonzero.any(0), num_steps - np.argmax(nonzero[::-1], axis=0), first)
    return first.astype(np.int64), stop.astype(np.int64)


def within_bound(values: NDArrayF64, lower: float | None, upper: float | None) -> NDArrayBool:
    """bool[...]: lower < values < upper at every index of the last axis; None = unbounded.

    Bounds are compared with `is None`, so 0.0 is a bound (nuPlan's truthiness pitfall).
    """
    ok = np.ones(values.shape, dtype=bool)
    if lower is not None:
        ok &= values > lower
    if upper is not None:
        ok &= values < upper
    return np.all(ok, axis=-1)


def body_frame_acceleration(
    velocity_mps: NDArrayF64, heading: NDArrayF64, dt_s: float
) -> NDArrayF64:
    """float64[*B, T, 2]: (longitudinal, lateral) acceleration in the ego frame.

    velocity_mps: float64[*B, T, 2], global frame; heading: float64[*B, T]. The global
    acceleration is `np.gradient` of the velocity over time (central differences inside,
    one-sided at the ends), then rotated into the frame of the heading at each step.
    """
    acceleration = np.gradient(np.asarray(velocity_mps, np.float64), dt_s, axis=-2)
    cos, sin = np.cos(heading), np.sin(heading)
    lon = cos * acceleration[..., 0] + sin * acceleration[..., 1]
    lat = -sin * acceleration[..., 0] + cos * acceleration[..., 1]
    return np.stack([lon, lat], axis=-1)
