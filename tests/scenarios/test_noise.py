"""Perception noise: identity at zero, statistics as configured, ego untouched, determinism."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.geometry.angles import wrap_angle
from urbandrive.scenarios.noise import (
    CONFIDENCE_ATTRIBUTE,
    DEFAULT_TYPE_SCALE,
    SIZE_JITTER_ATTRIBUTE,
    PerceptionNoiseConfig,
    apply_perception_noise,
    ar1_noise,
)
from urbandrive.testing import scenario_from_states

DT_S = 0.1


def _crowd(
    num_agents: int = 300,
    num_steps: int = 120,
    agent_type: AgentType = AgentType.VEHICLE,
    speed_mps: float = 5.0,
) -> Scenario:
    """Ego (row 0, a vehicle) plus agents of one type driving +x in parallel rows."""
    steps = np.arange(num_steps) * DT_S
    xy = np.zeros((num_agents, num_steps, 2))
    xy[..., 0] = speed_mps * steps + np.arange(num_agents)[:, None] * 0.5
    xy[..., 1] = np.arange(num_agents)[:, None] * 4.0
    types = [AgentType.VEHICLE] + [agent_type] * (num_agents - 1)
    velocity = np.zeros_like(xy)
    velocity[..., 0] = speed_mps
    return scenario_from_states(
        xy,
        np.full((num_agents, num_steps), 0.3),
        types,
        velocity=velocity,
        current_index=min(20, num_steps - 1),
    )


def test_zero_noise_is_the_identity() -> None:
    scenario = _crowd(num_agents=20, num_steps=30)
    noised = apply_perception_noise(scenario, PerceptionNoiseConfig.none(), seed=3)
    for name in ("xy", "heading", "velocity", "valid", "types", "size_m", "ids"):
        original, result = getattr(scenario.tracks, name), getattr(noised.tracks, name)
        assert result.dtype == original.dtype
        np.testing.assert_array_equal(result, original, err_msg=name)
    np.testing.assert_array_equal(noised.tracks.info.attributes[CONFIDENCE_ATTRIBUTE], 1.0)
    assert SIZE_JITTER_ATTRIBUTE not in noised.tracks.info.attributes
    assert noised.metadata["perception_noise"]["seed"] == 3


def test_position_heading_velocity_errors_have_the_configured_std_and_zero_mean() -> None:
    config = PerceptionNoiseConfig(
        position_std_m=0.4, heading_std_rad=0.05, velocity_std_mps=0.3, correlation_time_s=0.5
    )
    scenario = _crowd()
    noised = apply_perception_noise(scenario, config, seed=0)
    scale = DEFAULT_TYPE_SCALE[AgentType.VEHICLE]
    position_error = (noised.tracks.xy - scenario.tracks.xy)[1:]
    heading_error = wrap_angle(noised.tracks.heading - scenario.tracks.heading)[1:]
    velocity_error = (noised.tracks.velocity - scenario.tracks.velocity)[1:]
    for error, std in (
        (position_error, 0.4 * scale),
        (heading_error, 0.05 * scale),
        (velocity_error, 0.3 * scale),
    ):
        assert abs(error.mean()) < 0.05 * std
        assert error.std() == pytest.approx(std, rel=0.05)


def test_errors_are_correlated_in_time_like_an_ar1_process() -> None:
    noise = ar1_noise(np.random.default_rng(1), (2000, 100), 1.0, 0.5, DT_S)
    lag_one = np.mean(noise[:, 1:] * noise[:, :-1])
    assert lag_one == pytest.approx(math.exp(-DT_S / 0.5), abs=0.02)
    assert noise[:, 0].std() == pytest.approx(1.0, rel=0.05)  # stationary from the first step
    assert noise[:, -1].std() == pytest.approx(1.0, rel=0.05)


def test_per_type_scale_changes_the_std() -> None:
    config = PerceptionNoiseConfig(position_std_m=0.4, correlation_time_s=0.0)
    scenario = _crowd(agent_type=AgentType.PEDESTRIAN, speed_mps=1.5)
    error = (apply_perception_noise(scenario, config, 0).tracks.xy - scenario.tracks.xy)[1:]
    assert error.std() == pytest.approx(0.4 * DEFAULT_TYPE_SCALE[AgentType.PEDESTRIAN], rel=0.05)


def test_the_ego_is_never_noised() -> None:
    scenario = _crowd(num_agents=30)
    noised = apply_perception_noise(scenario, PerceptionNoiseConfig.heavy(), seed=5)
    for name in ("xy", "heading", "velocity", "valid"):
        np.testing.assert_array_equal(
            getattr(noised.tracks, name)[0], getattr(scenario.tracks, name)[0]
        )
    assert noised.tracks.types[0] == scenario.tracks.types[0]
    np.testing.assert_array_equal(noised.tracks.size_m[0], scenario.tracks.size_m[0])
    assert noised.tracks.info.attributes[CONFIDENCE_ATTRIBUTE][0] == 1.0
    np.testing.assert_array_equal(noised.tracks.info.attributes[SIZE_JITTER_ATTRIBUTE][0], 0.0)


def test_slow_pedestrians_flip_heading_by_pi_at_the_configured_rate() -> None:
    config = PerceptionNoiseConfig(heading_flip_probability=0.2)
    scenario = _crowd(agent_type=AgentType.PEDESTRIAN, speed_mps=0.3)
    noised = apply_perception_noise(scenario, config, seed=2)
    change = np.abs(wrap_angle(noised.tracks.heading - scenario.tracks.heading))[1:]
    flipped = np.isclose(change, np.pi)
    assert np.all(flipped | (change == 0.0))
    assert flipped.mean() == pytest.approx(0.2, abs=0.01)
    fast = _crowd(agent_type=AgentType.PEDESTRIAN, speed_mps=1.4)
    np.testing.assert_array_equal(
        apply_perception_noise(fast, config, seed=2).tracks.heading, fast.tracks.heading
    )


def test_dropouts_hide_short_runs_but_never_the_current_step() -> None:
    config = PerceptionNoiseConfig(dropout_rate_per_s=0.5, dropout_mean_steps=4.0)
    scenario = _crowd()
    noised = apply_perception_noise(scenario, config, seed=4)
    hidden = scenario.tracks.valid & ~noised.tracks.valid
    assert not hidden[:, scenario.current_index].any()
    assert not hidden[0].any()
    start_probability = 0.5 * DT_S
    expected = start_probability * 4.0 / (1 + start_probability * 4.0)
    assert hidden[1:].mean() == pytest.approx(expected, rel=0.15)
    assert np.all(noised.tracks.xy[hidden] == 0.0) and np.all(noised.tracks.heading[hidden] == 0.0)


def test_late_births_hide_the_first_steps_of_a_track() -> None:
    config = PerceptionNoiseConfig(late_birth_probability=0.5, late_birth_max_steps=6)
    scenario = _crowd()
    valid = apply_perception_noise(scenario, config, seed=6).tracks.valid
    first_seen = np.argmax(valid, axis=1)
    late = first_seen > 0
    assert late[1:].mean() == pytest.approx(0.5, abs=0.1)
    assert first_seen.max() <= 6
    assert all(valid[agent, first_seen[agent] :].all() for agent in range(valid.shape[0]))


def test_type_confusion_swaps_pairs_and_lowers_confidence() -> None:
    config = PerceptionNoiseConfig(type_confusion_probability=0.3)
    scenario = _crowd(agent_type=AgentType.CYCLIST, speed_mps=4.0)
    noised = apply_perception_noise(scenario, config, seed=8)
    confused = noised.tracks.types != scenario.tracks.types
    assert confused[1:].mean() == pytest.approx(0.3, abs=0.07)
    assert np.all(noised.tracks.types[confused] == AgentType.PEDESTRIAN)
    confidence = noised.tracks.info.attributes[CONFIDENCE_ATTRIBUTE]
    assert confidence.dtype == np.float32 and confidence.shape == (scenario.tracks.num_agents,)
    assert confidence[confused].max() < confidence[1:][~confused[1:]].min()


def test_size_noise_is_per_track_with_the_configured_relative_std() -> None:
    config = PerceptionNoiseConfig(size_std_fraction=0.1, size_jitter_std_m=0.05)
    scenario = _crowd()
    noised = apply_perception_noise(scenario, config, seed=9)
    ratio = noised.tracks.size_m[1:] / scenario.tracks.size_m[1:]
    assert ratio.std() == pytest.approx(0.1, rel=0.1) and abs(ratio.mean() - 1) < 0.02
    jitter = noised.tracks.info.attributes[SIZE_JITTER_ATTRIBUTE]
    assert jitter.dtype == np.float32 and jitter.shape == (*scenario.tracks.valid.shape, 2)
    assert jitter[1:].std() == pytest.approx(0.05, rel=0.05)


def test_same_seed_same_scenario_other_seed_other_noise() -> None:
    scenario = _crowd(num_agents=40, num_steps=50)
    config = PerceptionNoiseConfig.typical()
    first, second = (apply_perception_noise(scenario, config, seed=11) for _ in range(2))
    for name in ("xy", "heading", "velocity", "valid", "types", "size_m"):
        assert np.array_equal(getattr(first.tracks, name), getattr(second.tracks, name))
    other = apply_perception_noise(scenario, config, seed=12)
    assert not np.array_equal(first.tracks.xy, other.tracks.xy)
    first.validate()


def test_switching_one_component_off_keeps_the_others_draws() -> None:
    scenario = _crowd(num_agents=40, num_steps=50)
    config = PerceptionNoiseConfig.typical()
    without_dropouts = dataclasses.replace(config, dropout_rate_per_s=0.0)
    a = apply_perception_noise(scenario, config, seed=1)
    b = apply_perception_noise(scenario, without_dropouts, seed=1)
    both = a.tracks.valid & b.tracks.valid
    np.testing.assert_array_equal(a.tracks.xy[both], b.tracks.xy[both])


def test_settings_are_recorded_and_noising_twice_is_refused() -> None:
    noised = apply_perception_noise(_crowd(10, 20), PerceptionNoiseConfig.typical(), seed=7)
    recorded = noised.metadata["perception_noise"]
    assert recorded["position_std_m"] == 0.15 and recorded["seed"] == 7
    assert recorded["type_scale"] == list(DEFAULT_TYPE_SCALE)
    with pytest.raises(DataError, match="perception_noise"):
        apply_perception_noise(noised, PerceptionNoiseConfig.typical(), seed=7)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("position_std_m", -0.1),
        ("heading_flip_probability", 1.5),
        ("type_scale", (1.0, 2.0)),
        ("dropout_mean_steps", 0.5),
        ("size_std_fraction", math.nan),
    ],
)
def test_bad_settings_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        PerceptionNoiseConfig(**{field: value})


def test_presets_by_name() -> None:
    assert PerceptionNoiseConfig.preset("heavy") == PerceptionNoiseConfig.heavy()
    with pytest.raises(ValueError, match="unknown noise preset"):
        PerceptionNoiseConfig.preset("extreme")
