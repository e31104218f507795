"""TrajectoryTracker on standard manoeuvres, batching, limits and its LQR gains."""

from __future__ import annotations

import numpy as np
import pytest

from urbandrive.control import (
    Controller,
    LateralLqrConfig,
    LongitudinalPidConfig,
    TrackedRollout,
    TrackerConfig,
    TrajectoryTracker,
    error_dynamics,
    gain_table,
)
from urbandrive.control.manoeuvres import (
    initial_state_on,
    lane_change,
    right_angle_turn,
    stop_at_line,
)
from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import Trajectory
from urbandrive.dynamics import COMMAND_SIZE, STATE_SIZE, CommandIndex, StateIndex, make_state

DT_S = 0.1
TRACKER = TrajectoryTracker()
VEHICLE = TRACKER.config.vehicle


def _track_whole(reference: Trajectory, initial_state: np.ndarray | None = None) -> TrackedRollout:
    if initial_state is None:
        initial_state = initial_state_on(reference, VEHICLE.wheelbase_m)
    return TRACKER.track(initial_state, reference, DT_S, reference.num_steps - 1)


def _lateral_errors_m(reference: Trajectory, rollout: TrackedRollout) -> np.ndarray:
    """Signed distance of the rollout from the reference pose at each time, across its heading."""
    at = reference.at(rollout.times_s)
    offset = rollout.states[..., [StateIndex.X, StateIndex.Y]] - at.xy
    return -offset[..., 0] * np.sin(at.heading) + offset[..., 1] * np.cos(at.heading)


def _assert_within_limits(rollout: TrackedRollout) -> None:
    commands, states = rollout.commands, rollout.states
    assert np.all(np.abs(states[..., StateIndex.STEERING]) <= VEHICLE.max_steering_rad)
    assert np.all(
        np.abs(commands[..., CommandIndex.STEERING_RATE]) <= VEHICLE.max_steering_rate_radps
    )
    assert np.all(commands[..., CommandIndex.ACCEL] <= VEHICLE.max_accel_mps2)
    assert np.all(commands[..., CommandIndex.ACCEL] >= -VEHICLE.max_decel_mps2)


def test_lane_change_of_3_5_m_at_15_mps_is_tracked_within_20_cm_rms() -> None:
    reference = lane_change(speed_mps=15.0, offset_m=3.5)
    rollout = _track_whole(reference)
    errors = _lateral_errors_m(reference, rollout)
    assert np.sqrt(np.mean(errors**2)) < 0.2
    assert rollout.states[-1, StateIndex.Y] == pytest.approx(3.5, abs=0.1)
    _assert_within_limits(rollout)


def test_right_angle_turn_of_18_m_radius_at_8_mps_is_tracked_within_20_cm_rms() -> None:
    reference = right_angle_turn(speed_mps=8.0, radius_m=18.0)
    rollout = _track_whole(reference)
    errors = _lateral_errors_m(reference, rollout)
    assert np.sqrt(np.mean(errors**2)) < 0.2
    assert abs(rollout.states[-1, StateIndex.HEADING] - np.pi / 2) < 0.05
    _assert_within_limits(rollout)


def test_stop_at_a_line_from_12_mps_stops_within_half_a_metre_comfortably() -> None:
    reference, stop_x_m = stop_at_line(speed_mps=12.0)
    rollout = _track_whole(reference)
    final = rollout.states[-1]
    assert abs(final[StateIndex.X] - stop_x_m) < 0.5
    assert final[StateIndex.SPEED] < 0.1
    assert rollout.states[:, StateIndex.ACCEL].min() > -3.0  # the reference peaks at 2.4 m/s^2
    assert np.all(rollout.states[:, StateIndex.SPEED] >= 0.0)


def test_straight_line_from_its_start_is_tracked_with_zero_error() -> None:
    times = DT_S * np.arange(41)
    reference = Trajectory(
        times, np.stack([10.0 * times, np.zeros(41)], -1), np.zeros(41), np.full(41, 10.0)
    )
    rollout = _track_whole(reference)
    np.testing.assert_allclose(rollout.commands, 0.0, atol=1e-12)
    np.testing.assert_allclose(rollout.states[:, StateIndex.Y], 0.0, atol=1e-12)
    np.testing.assert_allclose(rollout.states[:, StateIndex.X], 10.0 * times, atol=1e-9)


@pytest.mark.parametrize("speed_mps", [3.0, 10.0, 25.0])
def test_a_lateral_offset_of_one_metre_decays_without_limit_violations(speed_mps: float) -> None:
    times = DT_S * np.arange(101)
    xy = np.stack([speed_mps * times, np.zeros(101)], -1)
    reference = Trajectory(times, xy, np.zeros(101), np.full(101, speed_mps))
    rollout = _track_whole(reference, make_state(np.array([0.0, 1.0]), 0.0, speed_mps))
    errors = _lateral_errors_m(reference, rollout)
    assert abs(errors[-1]) < 0.02
    assert np.abs(errors).max() <= 1.0 + 1e-9
    _assert_within_limits(rollout)


def _mixed_references() -> Trajectory:
    """Five different 4 s references stacked into a batch (5,)."""
    items = [
        lane_change(15.0, 3.5, duration_s=4.0),
        lane_change(10.0, -3.5, length_m=30.0, duration_s=4.0),
        right_angle_turn(8.0, 15.0, duration_s=4.0),
        right_angle_turn(6.0, 20.0, duration_s=4.0),
        stop_at_line(12.0, braking_s=3.0, duration_s=4.0)[0],
    ]
    return Trajectory(
        times_s=items[0].times_s,
        **{
            name: np.stack([getattr(item, name) for item in items])
            for name in ("xy", "heading", "speed_mps", "accel_mps2", "curvature_1pm")
        },
    )


def test_batched_tracking_equals_tracking_each_item() -> None:
    references = _mixed_references()
    initial = initial_state_on(references, VEHICLE.wheelbase_m)
    initial[:, StateIndex.Y] += np.linspace(-0.5, 0.5, 5)  # start off the reference
    batched = TRACKER.track(initial, references, DT_S, 40)
    assert batched.states.shape == (5, 41, STATE_SIZE)
    assert batched.commands.shape == (5, 40, COMMAND_SIZE)
    for item in range(5):
        single_reference = Trajectory(
            references.times_s,
            references.xy[item],
            references.heading[item],
            references.speed_mps[item],
            references.accel_mps2[item],  # type: ignore[index]
            references.curvature_1pm[item],  # type: ignore[index]
        )
        single = TRACKER.track(initial[item], single_reference, DT_S, 40)
        np.testing.assert_allclose(batched.states[item], single.states, rtol=0, atol=1e-12)


def test_one_state_tracks_many_references_by_broadcasting() -> None:
    references = _mixed_references()
    start = make_state(np.zeros(2), 0.0, 10.0)
    rollout = TRACKER.track(start, references, DT_S, 10)
    assert rollout.states.shape == (5, 11, STATE_SIZE)
    assert rollout.trajectory().xy.shape == (5, 11, 2)


def test_command_is_a_controller_and_checks_its_inputs() -> None:
    controller: Controller = TRACKER
    reference = lane_change()
    state = initial_state_on(reference, VEHICLE.wheelbase_m)
    assert controller.command(state, reference, 0.0).shape == (COMMAND_SIZE,)
    with pytest.raises(DataError, match="state"):
        controller.command(state[:3], reference, 0.0)
    with pytest.raises(DataError, match="reference"):
        bad = Trajectory(
            reference.times_s, reference.xy, reference.heading, reference.speed_mps[:5]
        )
        controller.command(state, bad, 0.0)


@pytest.mark.parametrize("speed_mps", [0.5, 5.0, 15.0, 40.0])
def test_lqr_gains_stabilise_the_error_dynamics(speed_mps: float) -> None:
    config = LateralLqrConfig()
    speeds, gains = gain_table(config, VEHICLE.wheelbase_m, DT_S)
    gain = np.array([np.interp(speed_mps, speeds, gains[:, j]) for j in range(3)])
    A, B = error_dynamics(speed_mps, VEHICLE.wheelbase_m, DT_S)
    assert np.abs(np.linalg.eigvals(A - B @ gain[None, :])).max() < 1.0


def test_configs_reject_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="min_speed_mps"):
        LateralLqrConfig(min_speed_mps=0.0)
    with pytest.raises(ValueError, match="steering_rate_weight"):
        LateralLqrConfig(steering_rate_weight=0.0)
    with pytest.raises(ValueError, match="speed_gain_per_s"):
        LongitudinalPidConfig(speed_gain_per_s=0.0, station_gain_per_s2=0.3)
    with pytest.raises(ValueError, match="control_period_s"):
        TrackerConfig(control_period_s=0.0)


def test_steering_is_held_at_standstill() -> None:
    times = DT_S * np.arange(21)
    reference = Trajectory(times, np.zeros((21, 2)), np.zeros(21), np.zeros(21))
    start = make_state(np.array([0.0, 0.5]), 0.2, 0.0, steering_rad=0.1)
    rollout = TRACKER.track(start, reference, DT_S, 20)
    np.testing.assert_array_equal(rollout.states[:, StateIndex.STEERING], 0.1)
    np.testing.assert_array_equal(rollout.states[:, StateIndex.SPEED], 0.0)
