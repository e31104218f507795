"""A time-parameterised trajectory shared by planning, control and simulation.

Times are relative to "now" (seconds, `times_s[0]` usually 0). Every per-step field is batched
over leading axes: one ego plan has batch shape `()`, a planner's M candidates `(M,)`. Which
point of the vehicle the poses describe is the producer's choice and must be stated: the
control and dynamics stages use the rear-axle centre (see `urbandrive.dynamics`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64

# Below this speed, curvature is not estimated from heading changes (it is noise); it is held.
CURVATURE_MIN_SPEED_MPS = 0.5


@dataclass(frozen=True, slots=True)
class Trajectory:
    """Poses and speeds at H times, batched over leading axes `...`.

    times_s: float64[H], strictly increasing, seconds relative to now.
    xy: float64[..., H, 2], metres, global frame.
    heading: float64[..., H], radians CCW from +x, wrapped to (-pi, pi].
    speed_mps: float64[..., H], signed speed along the heading, metres per second.
    accel_mps2: float64[..., H] or None, longitudinal acceleration, metres per second squared.
    curvature_1pm: float64[..., H] or None, path curvature (1 / metres), positive to the left.

    `with_derivatives()` fills the optional fields by finite differences when they are None.
    """

    times_s: NDArrayF64
    xy: NDArrayF64
    heading: NDArrayF64
    speed_mps: NDArrayF64
    accel_mps2: NDArrayF64 | None = None
    curvature_1pm: NDArrayF64 | None = None

    @property
    def num_steps(self) -> int:
        return int(self.times_s.shape[0])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.heading.shape[:-1])

    def validate(self, where: str = "trajectory") -> None:
        """Raise `DataError` naming `where` and the field if shapes, order or values are wrong."""
        if self.times_s.ndim != 1 or self.times_s.shape[0] < 1:
            raise DataError(
                f"{where}: 'times_s' must be 1-D and non-empty, got {self.times_s.shape}"
            )
        if not np.all(np.isfinite(self.times_s)) or np.any(np.diff(self.times_s) <= 0):
            raise DataError(f"{where}: 'times_s' must be finite and strictly increasing")
        num_steps, batch = self.num_steps, self.batch_shape
        expected = {
            "xy": (*batch, num_steps, 2),
            "heading": (*batch, num_steps),
            "speed_mps": (*batch, num_steps),
            "accel_mps2": (*batch, num_steps),
            "curvature_1pm": (*batch, num_steps),
        }
        for name, shape in expected.items():
            values = getattr(self, name)
            if values is None:
                continue
            if values.shape != shape:
                raise DataError(f"{where}: {name!r} has shape {values.shape}, expected {shape}")
            if values.dtype != np.float64:
                raise DataError(f"{where}: {name!r} must be float64, got {values.dtype}")
            if not np.all(np.isfinite(values)):
                raise DataError(f"{where}: {name!r} has non-finite values")

    def with_derivatives(self) -> Trajectory:
        """This trajectory with `accel_mps2` and `curvature_1pm` filled in where None.

        accel: gradient of speed over time. curvature: heading rate / speed where
        |speed| >= 0.5 m/s, held from the nearest such step elsewhere (0 if none).
        """
        if self.accel_mps2 is not None and self.curvature_1pm is not None:
            return self
        accel, curvature = self.accel_mps2, self.curvature_1pm
        if accel is None:
            accel = _time_gradient(self.speed_mps, self.times_s)
        if curvature is None:
            curvature = _curvature_from_headings(self.heading, self.speed_mps, self.times_s)
        return replace(self, accel_mps2=accel, curvature_1pm=curvature)

    def at(self, time_s: float | NDArrayF64) -> Trajectory:
        """Linear interpolation at `time_s: float or float64[N]` (clamped to the ends: held).

        Returns a `Trajectory` with `times_s: float64[N]` (N = 1 for a scalar) and the same batch
        shape; heading is interpolated along the shorter arc of the circle.
        """
        query = np.atleast_1d(np.asarray(time_s, dtype=np.float64))
        if query.ndim != 1:
            raise ValueError(f"time_s must be a scalar or 1-D, got shape {query.shape}")
        lower, upper, ratio = bracket(self.times_s, query)
        heading_delta = _wrap(self.heading[..., upper] - self.heading[..., lower])
        return Trajectory(
            times_s=query,
            xy=_lerp(self.xy, lower, upper, ratio[:, None], axis=-2),
            heading=_wrap(self.heading[..., lower] + ratio * heading_delta),
            speed_mps=_lerp(self.speed_mps, lower, upper, ratio, axis=-1),
            accel_mps2=_lerp_optional(self.accel_mps2, lower, upper, ratio),
            curvature_1pm=_lerp_optional(self.curvature_1pm, lower, upper, ratio),
        )


def _wrap(angle_rad: NDArrayF64) -> NDArrayF64:
    wrapped = np.mod(angle_rad + np.pi, 2.0 * np.pi) - np.pi
    return np.where(wrapped == -np.pi, np.pi, wrapped)


def bracket(times_s: NDArrayF64, query_s: NDArrayF64) -> tuple[np.ndarray, np.ndarray, NDArrayF64]:
    """(lower int64[Q], upper int64[Q], ratio float64[Q]): the samples of `times_s[H]` around
    each of `query_s[Q]` (clamped to the ends) and the weight of the upper one (`at`'s)."""
    if times_s.shape[0] == 1:
        zeros = np.zeros(query_s.shape, dtype=np.int64)
        return zeros, zeros, np.zeros_like(query_s)
    clamped = np.clip(query_s, times_s[0], times_s[-1])
    lower = np.clip(np.searchsorted(times_s, clamped, side="right") - 1, 0, times_s.shape[0] - 2)
    upper = lower + 1
    ratio = (clamped - times_s[lower]) / (times_s[upper] - times_s[lower])
    return lower, upper, ratio


def _lerp(
    values: NDArrayF64, lower: np.ndarray, upper: np.ndarray, ratio: NDArrayF64, axis: int
) -> NDArrayF64:
    start = np.take(values, lower, axis=axis)
    return start + ratio * (np.take(values, upper, axis=axis) - start)


def _lerp_optional(
    values: NDArrayF64 | None, lower: np.ndarray, upper: np.ndarray, ratio: NDArrayF64
) -> NDArrayF64 | None:
    return None if values is None else _lerp(values, lower, upper, ratio, axis=-1)


def _time_gradient(values: NDArrayF64, times_s: NDArrayF64) -> NDArrayF64:
    if times_s.shape[0] < 2:
        return np.zeros_like(values)
    return np.gradient(values, times_s, axis=-1)


def _curvature_from_headings(
    heading: NDArrayF64, speed_mps: NDArrayF64, times_s: NDArrayF64
) -> NDArrayF64:
    """float64[..., H]: heading rate / speed, held from the nearest fast step where slow."""
    if times_s.shape[0] < 2:
        return np.zeros_like(heading)
    unwrapped = np.unwrap(heading, axis=-1)
    yaw_rate = np.gradient(unwrapped, times_s, axis=-1)
    fast = np.abs(speed_mps) >= CURVATURE_MIN_SPEED_MPS
    safe_speed = np.where(fast, speed_mps, 1.0)
    curvature = np.where(fast, yaw_rate / safe_speed, 0.0)
    return fill_from_nearest(curvature, fast)


def fill_from_nearest(values: NDArrayF64, known: np.ndarray) -> NDArrayF64:
    """`values: float64[..., H]` with each step where `known: bool[..., H]` is False replaced by
    the last known step before it, or (leading steps) the first known one after; 0 in rows
    where nothing is known."""
    num_steps = values.shape[-1]
    steps = np.arange(num_steps)
    last_known = np.maximum.accumulate(np.where(known, steps, -1), axis=-1)
    first_known = np.flip(
        np.minimum.accumulate(np.flip(np.where(known, steps, num_steps), -1), axis=-1), -1
    )
    source = np.where(last_known >= 0, last_known, np.minimum(first_known, num_steps - 1))
    filled = np.take_along_axis(values, source, axis=-1)
    return np.where(known.any(-1, keepdims=True), filled, 0.0)
