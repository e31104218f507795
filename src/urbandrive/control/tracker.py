"""Trajectory tracker: LQR lateral + PID longitudinal, closed with the bicycle model, batched.

The reference is indexed by time: at time t the vehicle is compared with the reference pose at
t (errors in the reference pose's frame). Both the tracker and the model use the rear axle.
`track` runs the closed loop for a whole batch at once (a Python loop over time steps only):
the planner tracks its ~100 proposals in one call, the simulator its one ego.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from urbandrive.control.lateral import LateralLqrConfig, gain_table, scheduled_gains
from urbandrive.control.longitudinal import LongitudinalPidConfig, acceleration_command
from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import Trajectory
from urbandrive.core.typing import NDArrayF64
from urbandrive.dynamics.bicycle import (
    COMMAND_SIZE,
    STATE_SIZE,
    BicycleConfig,
    CommandIndex,
    StateIndex,
    check_state,
    step,
    trajectory_from_states,
)
from urbandrive.geometry.angles import wrap_angle


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """vehicle: the model being controlled (its limits clip the commands).
    control_period_s: the step the LQR gains and the steering feed-forward assume; `command`
    uses it, `track` uses its own dt.
    standstill_speed_mps: while both the vehicle and the reference are slower than this, the
    steering is held (steering at rest only winds the wheel up against the errors).
    """

    vehicle: BicycleConfig = field(default_factory=BicycleConfig)
    lateral: LateralLqrConfig = field(default_factory=LateralLqrConfig)
    longitudinal: LongitudinalPidConfig = field(default_factory=LongitudinalPidConfig)
    control_period_s: float = 0.1
    standstill_speed_mps: float = 0.2

    def __post_init__(self) -> None:
        if not self.standstill_speed_mps >= 0:
            raise ValueError(
                f"TrackerConfig.standstill_speed_mps must be >= 0, got {self.standstill_speed_mps}"
            )
        if not self.control_period_s > 0:
            raise ValueError(
                f"TrackerConfig.control_period_s must be > 0, got {self.control_period_s}"
            )
        if self.lateral.max_speed_mps < 1.0:
            raise ValueError("TrackerConfig.lateral.max_speed_mps must cover driving speeds")


@dataclass(frozen=True, slots=True)
class TrackedRollout:
    """A closed-loop rollout.

    times_s: float64[N + 1], seconds on the reference's time axis.
    states: float64[..., N + 1, S], `StateIndex` columns, rear axle; states[..., 0, :] initial.
    commands: float64[..., N, C], `CommandIndex` columns, the controller's (clipped) commands.
    """

    times_s: NDArrayF64
    states: NDArrayF64
    commands: NDArrayF64

    def trajectory(self) -> Trajectory:
        """The executed rear-axle trajectory."""
        return trajectory_from_states(self.states, self.times_s)


class TrajectoryTracker:
    """LQR lateral + PID longitudinal tracker; implements `Controller`."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config if config is not None else TrackerConfig()
        # Build (and cache) the gain table now so the first command is not slow.
        gain_table(
            self.config.lateral, self.config.vehicle.wheelbase_m, self.config.control_period_s
        )

    def command(self, state: NDArrayF64, reference: Trajectory, time_s: float) -> NDArrayF64:
        """float64[..., C] for `state: float64[..., S]` tracking `reference` at `time_s`.

        The batch shapes of state and reference broadcast (e.g. one state, M references).
        """
        check_state(state, "TrajectoryTracker.command: state")
        reference.validate("TrajectoryTracker.command: reference")
        dt_s = self.config.control_period_s
        now, ahead = _sample(reference.with_derivatives(), np.array([time_s, time_s + dt_s]))
        return self._command(state, now, ahead, dt_s)

    def track(
        self,
        initial_state: NDArrayF64,
        reference: Trajectory,
        dt_s: float,
        num_steps: int,
        start_time_s: float = 0.0,
    ) -> TrackedRollout:
        """Close the loop for `num_steps` steps of `dt_s` from `initial_state: float64[..., S]`.

        Returns states float64[B..., num_steps + 1, S] and commands float64[B..., num_steps, C],
        B the broadcast of the state's and the reference's batch shapes.
        """
        check_state(initial_state, "TrajectoryTracker.track: initial_state")
        reference.validate("TrajectoryTracker.track: reference")
        if not dt_s > 0 or num_steps < 0:
            raise ValueError(f"track: need dt_s > 0 and num_steps >= 0, got {dt_s}, {num_steps}")
        reference = reference.with_derivatives()
        batch = np.broadcast_shapes(initial_state.shape[:-1], reference.batch_shape)
        states = np.empty((*batch, num_steps + 1, STATE_SIZE))
        commands = np.empty((*batch, num_steps, COMMAND_SIZE))
        states[..., 0, :] = initial_state
        times_s = start_time_s + dt_s * np.arange(num_steps + 1)
        # Sample the reference at every step's time and one step ahead, in one call.
        samples = _sample(reference, np.concatenate([times_s[:-1], times_s[:-1] + dt_s]))
        for index in range(num_steps):
            commands[..., index, :] = self._command(
                states[..., index, :], samples[index], samples[num_steps + index], dt_s
            )
            states[..., index + 1, :] = step(
                states[..., index, :], commands[..., index, :], dt_s, self.config.vehicle
            )
        return TrackedRollout(times_s=times_s, states=states, commands=commands)

    def _command(
        self, state: NDArrayF64, now: _ReferencePoint, ahead: _ReferencePoint, dt_s: float
    ) -> NDArrayF64:
        """Unchecked command from the reference now and one step of `dt_s` ahead."""
        vehicle = self.config.vehicle
        errors = _tracking_errors(state, now)
        speed = state[..., StateIndex.SPEED]
        feed_forward_now = np.arctan(vehicle.wheelbase_m * now.curvature_1pm)
        feed_forward_ahead = np.arctan(vehicle.wheelbase_m * ahead.curvature_1pm)
        speeds, gains = gain_table(self.config.lateral, vehicle.wheelbase_m, dt_s)
        lateral_state = np.stack(
            [
                errors.lateral_m,
                errors.heading_rad,
                state[..., StateIndex.STEERING] - feed_forward_now,
            ],
            axis=-1,
        )
        feedback = np.einsum("...j,...j->...", scheduled_gains(speeds, gains, speed), lateral_state)
        steering_rate = (feed_forward_ahead - feed_forward_now) / dt_s - feedback
        standstill = self.config.standstill_speed_mps
        moving = (np.abs(speed) > standstill) | (np.abs(now.speed_mps) > standstill)
        steering_rate = np.where(moving, steering_rate, 0.0)
        accel = acceleration_command(
            self.config.longitudinal,
            speed_error_mps=now.speed_mps - speed,
            along_track_error_m=errors.along_track_m,
            accel_error_mps2=now.accel_mps2 - state[..., StateIndex.ACCEL],
            reference_accel_mps2=now.accel_mps2,
        )
        return _pack_command(accel, steering_rate, vehicle)


@dataclass(frozen=True, slots=True)
class _ReferencePoint:
    """The reference at one time; every field float64[...]."""

    xy: NDArrayF64
    heading: NDArrayF64
    speed_mps: NDArrayF64
    accel_mps2: NDArrayF64
    curvature_1pm: NDArrayF64


@dataclass(frozen=True, slots=True)
class _TrackingErrors:
    """Reference minus vehicle along the reference heading, vehicle minus reference across it;
    every field float64[...]."""

    along_track_m: NDArrayF64
    lateral_m: NDArrayF64
    heading_rad: NDArrayF64


def _sample(reference: Trajectory, times_s: NDArrayF64) -> list[_ReferencePoint]:
    """The reference at each of `times_s: float64[N]`, one `_ReferencePoint` per time."""
    sampled = reference.at(times_s)
    assert sampled.accel_mps2 is not None and sampled.curvature_1pm is not None
    return [
        _ReferencePoint(
            xy=sampled.xy[..., index, :],
            heading=sampled.heading[..., index],
            speed_mps=sampled.speed_mps[..., index],
            accel_mps2=sampled.accel_mps2[..., index],
            curvature_1pm=sampled.curvature_1pm[..., index],
        )
        for index in range(times_s.shape[0])
    ]


def _tracking_errors(state: NDArrayF64, reference: _ReferencePoint) -> _TrackingErrors:
    offset_x = state[..., StateIndex.X] - reference.xy[..., 0]
    offset_y = state[..., StateIndex.Y] - reference.xy[..., 1]
    cos, sin = np.cos(reference.heading), np.sin(reference.heading)
    return _TrackingErrors(
        along_track_m=-(offset_x * cos + offset_y * sin),
        lateral_m=-offset_x * sin + offset_y * cos,
        heading_rad=wrap_angle(state[..., StateIndex.HEADING] - reference.heading),
    )


def _pack_command(
    accel_mps2: NDArrayF64, steering_rate_radps: NDArrayF64, vehicle: BicycleConfig
) -> NDArrayF64:
    accel, steering_rate = np.broadcast_arrays(accel_mps2, steering_rate_radps)
    command = np.empty((*accel.shape, COMMAND_SIZE))
    command[..., CommandIndex.ACCEL] = np.clip(
        accel, -vehicle.max_decel_mps2, vehicle.max_accel_mps2
    )
    command[..., CommandIndex.STEERING_RATE] = np.clip(
        steering_rate, -vehicle.max_steering_rate_radps, vehicle.max_steering_rate_radps
    )
    if not np.all(np.isfinite(command)):
        raise DataError("TrajectoryTracker: non-finite command (check the reference)")
    return command
