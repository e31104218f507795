"""Inverse of the bicycle model: the commands that reproduce a logged pose and speed sequence."""

from __future__ import annotations

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import Trajectory, fill_from_nearest
from urbandrive.core.typing import NDArrayF64
from urbandrive.dynamics.bicycle import BicycleConfig, CommandIndex, make_state
from urbandrive.geometry.angles import wrap_angle

# Below this mean speed over a step, the heading change is noise: the steering angle is held.
STEERING_MIN_SPEED_MPS = 0.5


def uniform_step_s(times_s: NDArrayF64, where: str) -> float:
    """The constant spacing of `times_s: float64[H]`, H >= 2; `DataError` if it is not uniform."""
    if times_s.ndim != 1 or times_s.shape[0] < 2:
        raise DataError(f"{where}: need at least 2 times, got shape {times_s.shape}")
    steps = np.diff(times_s)
    dt_s = float(steps.mean())
    if dt_s <= 0 or not np.allclose(steps, dt_s, rtol=1e-6, atol=1e-9):
        raise DataError(f"{where}: times must be uniformly spaced, got steps {steps[:5]} ...")
    return dt_s


def inverse(log: Trajectory, config: BicycleConfig) -> tuple[NDArrayF64, NDArrayF64]:
    """Commands that drive the bicycle model along `log` (rear-axle poses, uniform times).

    log: xy float64[..., H, 2], heading float64[..., H], speed_mps float64[..., H]; H >= 2.
    Returns initial_state: float64[..., S] (the first pose and speed, the steering angle of the
    first step and its acceleration, so neither jumps) and commands: float64[..., H - 1, C],
    clipped to the actuator limits. Per step: accel = dv / dt; the steering angle is the one
    whose arc turns the heading by the logged change over the distance (v + v') / 2 * dt,
    held where the mean speed is below 0.5 m/s; steering rate = its change / dt.
    """
    log.validate("inverse: log")
    dt_s = uniform_step_s(log.times_s, "inverse: log.times_s")
    speed = log.speed_mps
    accel = np.diff(speed, axis=-1) / dt_s
    mean_speed = 0.5 * (speed[..., 1:] + speed[..., :-1])
    moving = np.abs(mean_speed) >= STEERING_MIN_SPEED_MPS
    heading_change = wrap_angle(np.diff(log.heading, axis=-1))
    distance = np.where(moving, mean_speed * dt_s, 1.0)
    curvature = fill_from_nearest(np.where(moving, heading_change / distance, 0.0), moving)
    steering = np.clip(
        np.arctan(curvature * config.wheelbase_m), -config.max_steering_rad, config.max_steering_rad
    )
    steering_rate = np.diff(steering, axis=-1, prepend=steering[..., :1]) / dt_s
    commands = np.empty((*accel.shape, len(CommandIndex)), dtype=np.float64)
    commands[..., CommandIndex.ACCEL] = np.clip(
        accel, -config.max_decel_mps2, config.max_accel_mps2
    )
    commands[..., CommandIndex.STEERING_RATE] = np.clip(
        steering_rate, -config.max_steering_rate_radps, config.max_steering_rate_radps
    )
    initial_state = make_state(
        log.xy[..., 0, :],
        log.heading[..., 0],
        speed[..., 0],
        steering_rad=steering[..., 0],
        accel_mps2=commands[..., 0, CommandIndex.ACCEL],
    )
    return initial_state, commands
