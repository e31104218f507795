"""Kinematic bicycle model: motion, limits, batching and the inverse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import Trajectory
from urbandrive.dynamics import (
    COMMAND_SIZE,
    STATE_SIZE,
    BicycleConfig,
    CommandIndex,
    StateIndex,
    center_to_rear_axle,
    inverse,
    make_state,
    rear_axle_to_center,
    rollout,
    step,
    trajectory_from_states,
)

CONFIG = BicycleConfig()
DT_S = 0.1


def test_config_rejects_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="wheelbase_m"):
        BicycleConfig(wheelbase_m=0.0)
    with pytest.raises(ValueError, match="max_steering_rad"):
        BicycleConfig(max_steering_rad=2.0)
    with pytest.raises(ValueError, match="rear_axle_to_center_m"):
        BicycleConfig(wheelbase_m=2.0, rear_axle_to_center_m=2.5)


def test_constant_speed_straight_line_moves_speed_times_time() -> None:
    state = make_state(np.array([1.0, 2.0]), math.pi / 2, 10.0)
    states = rollout(state, np.zeros((30, COMMAND_SIZE)), DT_S, CONFIG)
    np.testing.assert_allclose(states[-1, [StateIndex.X, StateIndex.Y]], [1.0, 32.0], atol=1e-9)
    np.testing.assert_allclose(states[:, StateIndex.SPEED], 10.0)


def test_constant_steering_drives_on_the_circle_of_its_radius() -> None:
    steering = 0.3
    radius = CONFIG.wheelbase_m / math.tan(steering)
    state = make_state(np.zeros(2), 0.0, 5.0, steering_rad=steering)
    states = rollout(state, np.zeros((200, COMMAND_SIZE)), DT_S, CONFIG)
    centre = np.array([0.0, radius])
    distances = np.linalg.norm(states[:, :2] - centre, axis=-1)
    np.testing.assert_allclose(distances, radius, atol=1e-9)  # the arc is integrated exactly


def test_braking_stops_at_zero_speed_without_reversing() -> None:
    state = make_state(np.zeros(2), 0.0, 3.0)
    commands = np.tile([-CONFIG.max_decel_mps2, 0.0], (40, 1))
    states = rollout(state, commands, DT_S, CONFIG)
    assert states[:, StateIndex.SPEED].min() == 0.0
    assert states[-1, StateIndex.ACCEL] == 0.0
    assert np.all(np.diff(states[:, StateIndex.X]) >= 0.0)


def test_reverse_is_limited_to_the_reverse_speed_when_enabled() -> None:
    config = BicycleConfig(allow_reverse=True, max_reverse_speed_mps=2.0)
    state = make_state(np.zeros(2), 0.0, 1.0)
    states = rollout(state, np.tile([-3.0, 0.0], (30, 1)), DT_S, config)
    assert states[:, StateIndex.SPEED].min() == pytest.approx(-2.0)
    assert states[-1, StateIndex.X] < 0.0


def test_jerk_limit_ramps_the_acceleration() -> None:
    state = make_state(np.zeros(2), 0.0, 10.0)
    states = rollout(state, np.tile([-8.0, 0.0], (5, 1)), DT_S, CONFIG)
    ramp = -CONFIG.max_jerk_mps3 * DT_S * np.arange(1, 6)
    np.testing.assert_allclose(states[1:, StateIndex.ACCEL], np.maximum(ramp, -8.0))


finite = {"allow_nan": False, "allow_infinity": False}


@settings(max_examples=60, deadline=None)
@given(
    speeds=hnp.arrays(np.float64, 8, elements=st.floats(0.0, 30.0, **finite)),
    steering=hnp.arrays(np.float64, 8, elements=st.floats(-0.6, 0.6, **finite)),
    accel=hnp.arrays(np.float64, 8, elements=st.floats(-8.0, 3.0, **finite)),
    commands=hnp.arrays(np.float64, (8, 12, 2), elements=st.floats(-50.0, 50.0, **finite)),
)
def test_random_commands_never_exceed_the_limits(
    speeds: np.ndarray, steering: np.ndarray, accel: np.ndarray, commands: np.ndarray
) -> None:
    state = make_state(np.zeros((8, 2)), 0.0, speeds, steering_rad=steering, accel_mps2=accel)
    states = rollout(state, commands, DT_S, CONFIG)
    applied_accel = states[:, 1:, StateIndex.ACCEL]
    steering_path = states[..., StateIndex.STEERING]
    tolerance = 1e-9
    assert np.all(np.abs(steering_path) <= CONFIG.max_steering_rad + tolerance)
    steering_rate = np.diff(steering_path, axis=-1) / DT_S
    assert np.all(np.abs(steering_rate) <= CONFIG.max_steering_rate_radps + tolerance)
    assert np.all(applied_accel <= CONFIG.max_accel_mps2 + tolerance)
    assert np.all(applied_accel >= -CONFIG.max_decel_mps2 - tolerance)
    assert np.all(states[..., StateIndex.SPEED] >= 0.0)
    # The jerk limit holds except on the step the vehicle comes to rest (braking ends at once).
    jerk = np.diff(states[..., StateIndex.ACCEL], axis=-1) / DT_S
    resting = states[:, 1:, StateIndex.SPEED] == 0.0
    assert np.all((np.abs(jerk) <= CONFIG.max_jerk_mps3 + 1e-6) | resting)


@pytest.mark.parametrize(
    ("state_batch", "command_batch", "expected"),
    [((), (), ()), ((2, 3), (2, 3), (2, 3)), ((), (4,), (4,)), ((4,), (), (4,))],
)
def test_rollout_broadcasts_batch_shapes(
    state_batch: tuple[int, ...], command_batch: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    state = make_state(np.zeros((*state_batch, 2)), 0.0, 5.0)
    commands = np.full((*command_batch, 7, COMMAND_SIZE), 0.1)
    assert rollout(state, commands, DT_S, CONFIG).shape == (*expected, 8, STATE_SIZE)


def test_batched_rollout_equals_rollout_of_each_item() -> None:
    rng = np.random.default_rng(0)
    state = make_state(rng.normal(size=(5, 2)), rng.uniform(-3, 3, 5), rng.uniform(0, 15, 5))
    commands = rng.normal(size=(5, 20, COMMAND_SIZE))
    batched = rollout(state, commands, DT_S, CONFIG)
    for item in range(5):
        np.testing.assert_array_equal(
            batched[item], rollout(state[item], commands[item], DT_S, CONFIG)
        )


def test_rollout_rejects_bad_inputs_with_clear_messages() -> None:
    state = make_state(np.zeros(2), 0.0, 5.0)
    with pytest.raises(DataError, match="commands"):
        rollout(state, np.zeros((5, 3)), DT_S, CONFIG)
    with pytest.raises(DataError, match="non-finite"):
        rollout(state, np.full((5, 2), np.nan), DT_S, CONFIG)
    with pytest.raises(DataError, match="initial_state"):
        rollout(state[:4], np.zeros((5, 2)), DT_S, CONFIG)


def test_center_and_rear_axle_conversions_are_inverse() -> None:
    centre = np.array([[10.0, 5.0], [0.0, 0.0]])
    heading = np.array([0.0, math.pi / 2])
    rear = center_to_rear_axle(centre, heading, CONFIG)
    np.testing.assert_allclose(rear[0], [10.0 - CONFIG.rear_axle_to_center_m, 5.0])
    np.testing.assert_allclose(rear[1], [0.0, -CONFIG.rear_axle_to_center_m], atol=1e-12)
    np.testing.assert_allclose(rear_axle_to_center(rear, heading, CONFIG), centre)


def _smooth_log(batch_shape: tuple[int, ...], num_steps: int = 50) -> np.ndarray:
    """States float64[*batch, num_steps + 1, S] driven by smooth commands within the limits."""
    rng = np.random.default_rng(7)
    time = DT_S * np.arange(num_steps)
    frequency = rng.uniform(0.2, 0.6, (*batch_shape, 1))
    commands = np.stack(
        [1.5 * np.sin(frequency * time), 0.3 * np.cos(2 * frequency * time)], axis=-1
    )
    state = make_state(
        rng.normal(size=(*batch_shape, 2)) * 50, rng.uniform(-3, 3, batch_shape), 8.0
    )
    return rollout(state, commands, DT_S, CONFIG)


@pytest.mark.parametrize("batch_shape", [(), (2, 3)])
def test_inverse_then_forward_recovers_the_log(batch_shape: tuple[int, ...]) -> None:
    states = _smooth_log(batch_shape)
    log = trajectory_from_states(states, DT_S * np.arange(states.shape[-2]))
    initial_state, commands = inverse(log, CONFIG)
    assert commands.shape == (*batch_shape, states.shape[-2] - 1, COMMAND_SIZE)
    replayed = rollout(initial_state, commands, DT_S, CONFIG)
    np.testing.assert_allclose(replayed[..., :4], states[..., :4], atol=1e-6)
    np.testing.assert_allclose(replayed[..., 1:, :], states[..., 1:, :], atol=1e-6)


def test_inverse_of_a_hand_made_circle_replays_within_a_centimetre() -> None:
    radius, speed = 20.0, 6.0
    times = DT_S * np.arange(51)
    angle = speed * times / radius
    log = Trajectory(
        times_s=times,
        xy=np.stack([radius * np.sin(angle), radius * (1 - np.cos(angle))], -1),
        heading=angle,
        speed_mps=np.full(51, speed),
    )
    initial_state, commands = inverse(log, CONFIG)
    np.testing.assert_allclose(commands[..., CommandIndex.STEERING_RATE], 0.0, atol=1e-9)
    replayed = rollout(initial_state, commands, DT_S, CONFIG)
    assert np.abs(replayed[:, :2] - log.xy).max() < 0.01


def test_inverse_holds_steering_while_standing_still() -> None:
    times = DT_S * np.arange(5)
    log = Trajectory(times, np.zeros((5, 2)), np.array([0.0, 0.1, -0.1, 0.2, 0.0]), np.zeros(5))
    _, commands = inverse(log, CONFIG)
    np.testing.assert_array_equal(commands, 0.0)


def test_inverse_needs_uniform_times() -> None:
    log = Trajectory(np.array([0.0, 0.1, 0.3]), np.zeros((3, 2)), np.zeros(3), np.ones(3))
    with pytest.raises(DataError, match="uniformly spaced"):
        inverse(log, CONFIG)


def test_step_is_batched_over_commands_for_one_state() -> None:
    state = make_state(np.zeros(2), 0.0, 10.0)
    commands = np.array([[0.0, 0.5], [0.0, -0.5]])
    after = step(state, commands, DT_S, CONFIG)
    assert after.shape == (2, STATE_SIZE)
    assert after[0, StateIndex.Y] == pytest.approx(-after[1, StateIndex.Y])
