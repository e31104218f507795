"""Speed-scheduled LQR on the lateral error dynamics of the bicycle model.

Error state `[lateral_error_m, heading_error_rad, steering_error_rad]` relative to the reference
pose (lateral error positive when the vehicle is left of the reference; steering error is the
steering angle minus the feed-forward angle atan(wheelbase * reference curvature)); input: the
steering-rate correction. Discretised exactly as `urbandrive.dynamics.step` integrates
(the new steering angle acts over the step, the chord follows the mid-heading), linearised for
small errors at speed v:

    steering'  = steering + dt * u
    heading'   = heading  + v dt / L * steering'
    lateral'   = lateral  + v dt * heading + v^2 dt^2 / (2 L) * steering'

Gains come from the discrete Riccati equation on a grid of speeds, computed once per
(config, wheelbase, dt) and interpolated linearly in speed, so a batch costs three `np.interp`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from urbandrive.core.typing import NDArrayF64


@dataclass(frozen=True, slots=True)
class LateralLqrConfig:
    """LQR weights and the speed grid of the gain table.

    Weights are on (lateral error m, heading error rad, steering error rad) and on the
    steering-rate correction (rad/s); `lateral_accel_error_weight` adds a weight on the
    corrective lateral acceleration v^2 / wheelbase * steering error (m/s^2), which keeps
    corrections gentle at speed. Below `min_speed_mps` the lateral errors barely respond
    to steering, so the gains of that speed are used.
    """

    lateral_error_weight: float = 1.0
    heading_error_weight: float = 2.0
    steering_error_weight: float = 0.0
    lateral_accel_error_weight: float = 0.1
    steering_rate_weight: float = 1.0
    min_speed_mps: float = 0.5
    max_speed_mps: float = 40.0
    speed_grid_step_mps: float = 0.25

    def __post_init__(self) -> None:
        weights = (
            "lateral_error_weight",
            "heading_error_weight",
            "steering_error_weight",
            "lateral_accel_error_weight",
        )
        for name in weights:
            if not getattr(self, name) >= 0:
                raise ValueError(f"LateralLqrConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not self.lateral_error_weight > 0:
            raise ValueError("LateralLqrConfig.lateral_error_weight must be > 0 to track a path")
        if not self.steering_rate_weight > 0:
            raise ValueError(
                f"LateralLqrConfig.steering_rate_weight must be > 0, got {self.steering_rate_weight}"
            )
        if not 0 < self.min_speed_mps < self.max_speed_mps:
            raise ValueError(
                "LateralLqrConfig needs 0 < min_speed_mps < max_speed_mps, got "
                f"{self.min_speed_mps} and {self.max_speed_mps}"
            )
        if not 0 < self.speed_grid_step_mps <= self.max_speed_mps - self.min_speed_mps:
            raise ValueError(
                f"LateralLqrConfig.speed_grid_step_mps out of range: {self.speed_grid_step_mps}"
            )


def error_dynamics(
    speed_mps: float, wheelbase_m: float, dt_s: float
) -> tuple[NDArrayF64, NDArrayF64]:
    """Discrete (A float64[3, 3], B float64[3, 1]) of the lateral error state at `speed_mps`."""
    distance = speed_mps * dt_s
    turn = distance / wheelbase_m
    A = np.array(
        [
            [1.0, distance, 0.5 * distance * turn],
            [0.0, 1.0, turn],
            [0.0, 0.0, 1.0],
        ]
    )
    B = np.array([[0.5 * distance * turn * dt_s], [turn * dt_s], [dt_s]])
    return A, B


@functools.lru_cache(maxsize=16)
def gain_table(
    config: LateralLqrConfig, wheelbase_m: float, dt_s: float
) -> tuple[NDArrayF64, NDArrayF64]:
    """Speeds float64[V] (m/s) and LQR gains float64[V, 3]; u = -gains @ error. Cached."""
    speeds = np.arange(
        config.min_speed_mps,
        config.max_speed_mps + 0.5 * config.speed_grid_step_mps,
        config.speed_grid_step_mps,
    )
    R = np.array([[config.steering_rate_weight]])
    gains = np.empty((speeds.shape[0], 3))
    for index, speed in enumerate(speeds):
        A, B = error_dynamics(float(speed), wheelbase_m, dt_s)
        # Corrective lateral acceleration ~ v^2 / L * steering error: smooth at speed.
        accel_per_rad = float(speed) ** 2 / wheelbase_m
        steering_weight = (
            config.steering_error_weight + config.lateral_accel_error_weight * accel_per_rad**2
        )
        Q = np.diag([config.lateral_error_weight, config.heading_error_weight, steering_weight])
        P = scipy.linalg.solve_discrete_are(A, B, Q, R)
        gains[index] = np.linalg.solve(R + B.T @ P @ B, B.T @ P @ A)[0]
    speeds.setflags(write=False)
    gains.setflags(write=False)
    return speeds, gains


def scheduled_gains(speeds: NDArrayF64, gains: NDArrayF64, speed_mps: NDArrayF64) -> NDArrayF64:
    """float64[..., 3]: gains at |speed_mps: float64[...]|, interpolated, clamped to the grid."""
    magnitude = np.abs(speed_mps)
    return np.stack([np.interp(magnitude, speeds, gains[:, j]) for j in range(3)], axis=-1)
