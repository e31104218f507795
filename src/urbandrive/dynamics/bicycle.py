"""Kinematic bicycle model, referenced at the rear-axle centre, batched over leading axes.

State `float64[..., S]` indexed by `StateIndex`: rear-axle position (m, global frame), heading
(rad, wrapped), signed speed (m/s), front-wheel steering angle (rad, positive turns left) and the
acceleration applied over the last step (m/s^2, used for the jerk limit). Command
`float64[..., C]` indexed by `CommandIndex`: acceleration (m/s^2) and steering rate (rad/s).

One step of length dt, with the limits of `BicycleConfig` enforced in this order:
1. acceleration clipped to [-max_decel, max_accel], then to within max_jerk * dt of the
   previous acceleration, then so the speed does not cross zero (or the reverse limit);
2. steering rate clipped to +-max_steering_rate, then the new angle to +-max_steering;
3. the rear axle moves the distance d = (v + v') / 2 * dt along an arc of curvature
   tan(steering') / wheelbase (exact arc: heading turns by d * curvature, the chord points along
   the mid-heading with length d * sinc).

So a state's steering and speed are those used during the step that produced it; `inverse`
recovers the commands of a logged pose sequence analytically (see `urbandrive.dynamics.inverse`).

Agent boxes are centred: `center_to_rear_axle` and `rear_axle_to_center` convert poses.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import Trajectory
from urbandrive.core.typing import NDArrayF64
from urbandrive.geometry.angles import wrap_angle


class StateIndex(enum.IntEnum):
    """Columns of a bicycle state `float64[..., S]`."""

    X = 0
    Y = 1
    HEADING = 2
    SPEED = 3
    STEERING = 4
    ACCEL = 5


class CommandIndex(enum.IntEnum):
    """Columns of a bicycle command `float64[..., C]`."""

    ACCEL = 0
    STEERING_RATE = 1


STATE_SIZE = len(StateIndex)
COMMAND_SIZE = len(CommandIndex)


@dataclass(frozen=True, slots=True)
class BicycleConfig:
    """Vehicle geometry and actuator limits (defaults: a mid-size passenger car).

    rear_axle_to_center_m: distance from the rear-axle centre forward to the box centre.
    max_decel_mps2: braking limit, positive. max_jerk_mps3: limit on the change of applied
    acceleration per second. allow_reverse: if False the speed never goes below zero, else
    never below -max_reverse_speed_mps.
    """

    wheelbase_m: float = 2.9
    rear_axle_to_center_m: float = 1.45
    max_steering_rad: float = 0.6
    max_steering_rate_radps: float = 0.8
    max_accel_mps2: float = 3.0
    max_decel_mps2: float = 8.0
    max_jerk_mps3: float = 15.0
    allow_reverse: bool = False
    max_reverse_speed_mps: float = 3.0

    def __post_init__(self) -> None:
        positive = (
            "wheelbase_m",
            "max_steering_rad",
            "max_steering_rate_radps",
            "max_accel_mps2",
            "max_decel_mps2",
            "max_jerk_mps3",
        )
        for name in positive:
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"BicycleConfig.{name} must be > 0, got {value}")
        if not self.max_steering_rad < math.pi / 2:
            raise ValueError(
                f"BicycleConfig.max_steering_rad must be < pi/2, got {self.max_steering_rad}"
            )
        if not 0 <= self.rear_axle_to_center_m <= self.wheelbase_m:
            raise ValueError(
                "BicycleConfig.rear_axle_to_center_m must be in [0, wheelbase_m], got "
                f"{self.rear_axle_to_center_m} with wheelbase_m={self.wheelbase_m}"
            )
        if not self.max_reverse_speed_mps >= 0:
            raise ValueError(
                f"BicycleConfig.max_reverse_speed_mps must be >= 0, got {self.max_reverse_speed_mps}"
            )

    @property
    def min_speed_mps(self) -> float:
        """The lowest speed the model allows: 0, or minus the reverse limit."""
        return -self.max_reverse_speed_mps if self.allow_reverse else 0.0


def make_state(
    xy: NDArrayF64,
    heading: NDArrayF64 | float,
    speed_mps: NDArrayF64 | float,
    steering_rad: NDArrayF64 | float = 0.0,
    accel_mps2: NDArrayF64 | float = 0.0,
) -> NDArrayF64:
    """Pack a state `float64[..., S]` from rear-axle `xy: float64[..., 2]` and broadcastable
    per-item values (heading rad, speed m/s, steering rad, acceleration m/s^2)."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.shape[-1:] != (2,):
        raise DataError(f"make_state: 'xy' must end with 2, got shape {xy.shape}")
    columns = np.broadcast_arrays(
        xy[..., 0], xy[..., 1], heading, speed_mps, steering_rad, accel_mps2
    )
    return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=-1)


def step(state: NDArrayF64, command: NDArrayF64, dt_s: float, config: BicycleConfig) -> NDArrayF64:
    """The state after `dt_s` seconds under `command`, limits enforced (see the module doc).

    state: float64[..., S]; command: float64[..., C], broadcastable against the state's batch.
    Returns float64[..., S] (the broadcast batch shape).
    """
    speed = state[..., StateIndex.SPEED]
    accel, next_speed = _limited_accel(state, command[..., CommandIndex.ACCEL], dt_s, config)
    steering_rate = np.clip(
        command[..., CommandIndex.STEERING_RATE],
        -config.max_steering_rate_radps,
        config.max_steering_rate_radps,
    )
    next_steering = np.clip(
        state[..., StateIndex.STEERING] + steering_rate * dt_s,
        -config.max_steering_rad,
        config.max_steering_rad,
    )
    distance = 0.5 * (speed + next_speed) * dt_s
    heading = state[..., StateIndex.HEADING]
    heading_change = distance * np.tan(next_steering) / config.wheelbase_m
    chord = distance * np.sinc(heading_change / (2.0 * np.pi))
    mid_heading = heading + 0.5 * heading_change
    columns = (
        state[..., StateIndex.X] + chord * np.cos(mid_heading),
        state[..., StateIndex.Y] + chord * np.sin(mid_heading),
        wrap_angle(heading + heading_change),
        next_speed,
        next_steering,
        accel,
    )
    return np.stack(np.broadcast_arrays(*columns), axis=-1)


def rollout(
    initial_state: NDArrayF64, commands: NDArrayF64, dt_s: float, config: BicycleConfig
) -> NDArrayF64:
    """Apply `commands: float64[..., H, C]` one step each from `initial_state: float64[..., S]`.

    Returns float64[..., H + 1, S]: the initial state (broadcast) then the state after each step.
    """
    check_state(initial_state, "rollout: initial_state")
    commands = np.asarray(commands, dtype=np.float64)
    if commands.ndim < 2 or commands.shape[-1] != COMMAND_SIZE:
        raise DataError(
            f"rollout: 'commands' must be [..., H, {COMMAND_SIZE}], got {commands.shape}"
        )
    if not np.all(np.isfinite(commands)):
        raise DataError("rollout: 'commands' has non-finite values")
    states = [initial_state]
    for index in range(commands.shape[-2]):
        states.append(step(states[-1], commands[..., index, :], dt_s, config))
    batch = np.broadcast_shapes(initial_state.shape[:-1], commands.shape[:-2])
    return np.stack([np.broadcast_to(s, (*batch, STATE_SIZE)) for s in states], axis=-2)


def check_state(state: NDArrayF64, where: str) -> None:
    """Raise `DataError` naming `where` unless `state` is a finite float64[..., S]."""
    if not isinstance(state, np.ndarray) or state.dtype != np.float64:
        raise DataError(f"{where}: must be a float64 array, got {type(state).__name__}")
    if state.shape[-1:] != (STATE_SIZE,):
        raise DataError(f"{where}: last axis must be {STATE_SIZE} (StateIndex), got {state.shape}")
    if not np.all(np.isfinite(state)):
        raise DataError(f"{where}: has non-finite values")


def trajectory_from_states(states: NDArrayF64, times_s: NDArrayF64) -> Trajectory:
    """The rear-axle `Trajectory` of `states: float64[..., H, S]` at `times_s: float64[H]`.

    accel_mps2 is each state's applied acceleration, curvature_1pm tan(steering) / wheelbase is
    left to `with_derivatives()` (None) since the wheelbase is not known here.
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    if states.ndim < 2 or states.shape[-2:] != (times_s.shape[0], STATE_SIZE):
        raise DataError(
            f"trajectory_from_states: states {states.shape} do not match {times_s.shape[0]} times"
        )
    return Trajectory(
        times_s=times_s,
        xy=np.ascontiguousarray(states[..., [StateIndex.X, StateIndex.Y]]),
        heading=np.ascontiguousarray(states[..., StateIndex.HEADING]),
        speed_mps=np.ascontiguousarray(states[..., StateIndex.SPEED]),
        accel_mps2=np.ascontiguousarray(states[..., StateIndex.ACCEL]),
    )


def center_to_rear_axle(
    center_xy: NDArrayF64, heading: NDArrayF64, config: BicycleConfig
) -> NDArrayF64:
    """float64[..., 2]: rear-axle position of boxes centred at `center_xy` with `heading`."""
    return _shift_along(center_xy, heading, -config.rear_axle_to_center_m)


def rear_axle_to_center(
    rear_axle_xy: NDArrayF64, heading: NDArrayF64, config: BicycleConfig
) -> NDArrayF64:
    """float64[..., 2]: box centre of vehicles whose rear axle is at `rear_axle_xy`."""
    return _shift_along(rear_axle_xy, heading, config.rear_axle_to_center_m)


def _shift_along(xy: NDArrayF64, heading: NDArrayF64, distance_m: float) -> NDArrayF64:
    heading = np.asarray(heading, dtype=np.float64)
    offset = distance_m * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
    return np.asarray(xy, dtype=np.float64) + offset


def _limited_accel(
    state: NDArrayF64, commanded: NDArrayF64, dt_s: float, config: BicycleConfig
) -> tuple[NDArrayF64, NDArrayF64]:
    """Acceleration applied over the step (actuator, jerk, then speed-sign limits) and the
    speed at its end, float64[...] each."""
    accel = np.clip(commanded, -config.max_decel_mps2, config.max_accel_mps2)
    previous = state[..., StateIndex.ACCEL]
    max_change = config.max_jerk_mps3 * dt_s
    accel = np.clip(accel, previous - max_change, previous + max_change)
    speed = state[..., StateIndex.SPEED]
    # Coming to rest (or to the reverse limit) ends the braking within the step.
    lowest = np.minimum((config.min_speed_mps - speed) / dt_s, 0.0)
    stopping = accel <= lowest
    next_speed = np.where(stopping, np.minimum(speed, config.min_speed_mps), speed + accel * dt_s)
    return np.where(stopping, lowest, accel), next_speed
