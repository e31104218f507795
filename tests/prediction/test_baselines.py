"""Baseline predictors on scenes with known futures."""

import numpy as np
import pytest

from urbandrive.core import AgentType, DataError, observe
from urbandrive.prediction import ConstantVelocityPredictor
from urbandrive.prediction.baselines import (
    ConstantVelocityConfig,
    CtraConfig,
    CtraPredictor,
    LaneConfig,
    LanePredictor,
    SampledConstantVelocityConfig,
    SampledConstantVelocityPredictor,
    theil_sen_slope,
)
from urbandrive.prediction.registry import PREDICTORS, PredictorSettings
from urbandrive.testing import scenario_from_states, straight_road

from .scenes import car_on_road, junction_map, mixed_scene


def _scene():
    t = np.arange(30) * 0.1
    ego = np.stack([5 * t, 0 * t], -1)
    car = np.stack([20 + 10 * t, 3.5 + 0 * t], -1)
    walker = np.stack([40 + 0 * t, -5 + 1.2 * t], -1)
    valid = np.ones((3, 30), bool)
    valid[2, 19] = False  # the pedestrian is not seen at step 19
    return scenario_from_states(
        np.stack([ego, car, walker]),
        np.array([[0.0] * 30, [0.0] * 30, [np.pi / 2] * 30]),
        [AgentType.VEHICLE, AgentType.VEHICLE, AgentType.PEDESTRIAN],
        valid=valid,
    )


def test_constant_velocity_extrapolates_each_agent():
    prediction = ConstantVelocityPredictor(ConstantVelocityConfig(horizon_s=1.0)).predict(
        observe(_scene(), step=10)
    )
    prediction.validate()
    assert prediction.agent_rows.tolist() == [1, 2]  # the ego is not predicted
    assert prediction.xy.shape == (2, 1, 10, 2)
    np.testing.assert_allclose(prediction.xy[0, 0, -1], [20 + 10 * 2.0, 3.5], atol=1e-9)
    np.testing.assert_allclose(prediction.xy[1, 0, 4], [40, -5 + 1.2 * 1.5], atol=1e-9)
    assert prediction.valid.all()


def test_agents_not_seen_now_are_predicted_invalid():
    prediction = ConstantVelocityPredictor().predict(observe(_scene(), step=19))
    assert not prediction.valid[1].any() and prediction.valid[0].all()


def test_inconsistent_probabilities_are_refused():
    prediction = ConstantVelocityPredictor().predict(observe(_scene(), step=10))
    broken = type(prediction)(
        **{**{f: getattr(prediction, f) for f in prediction.__slots__}, "probs": np.array([0.5])}
    )
    with pytest.raises(DataError, match="do not sum to 1"):
        broken.validate()


def _circle_scene(radius_m=20.0, speed_mps=5.0, num_steps=40):
    """One agent (plus a far ego) driving counter-clockwise on a circle, exact velocities."""
    t = 0.1 * np.arange(num_steps)
    angle = speed_mps / radius_m * t
    xy = radius_m * np.stack([np.cos(angle), np.sin(angle)], -1)
    heading = angle + np.pi / 2
    velocity = speed_mps * np.stack([np.cos(heading), np.sin(heading)], -1)
    ego = np.tile([500.0, 500.0], (num_steps, 1))
    return scenario_from_states(
        np.stack([ego, xy]),
        np.stack([np.zeros(num_steps), np.angle(np.exp(1j * heading))]),
        [AgentType.VEHICLE, AgentType.VEHICLE],
        velocity=np.stack([np.zeros_like(ego), velocity]),
    )


def test_ctra_on_a_circle_reproduces_the_circle():
    radius, speed = 20.0, 5.0
    scenario = _circle_scene(radius, speed)
    prediction = CtraPredictor(CtraConfig(horizon_s=3.0)).predict(observe(scenario, 29))
    future_angle = speed / radius * (0.1 * 29 + prediction.times_s)
    expected = radius * np.stack([np.cos(future_angle), np.sin(future_angle)], -1)
    np.testing.assert_allclose(prediction.xy[0, 0], expected, atol=1e-6)


def test_ctra_brakes_to_a_stop_and_never_reverses():
    t = 0.1 * np.arange(20)
    speed = 10.0 - 2.0 * t  # decelerating at 2 m/s^2
    xy = np.stack([10 * t - t**2, 0 * t], -1)
    velocity = np.stack([speed, 0 * t], -1)
    scenario = scenario_from_states(
        np.stack([xy + 100, xy]),
        np.zeros((2, 20)),
        [AgentType.VEHICLE] * 2,
        velocity=np.stack([velocity, velocity]),
    )
    prediction = CtraPredictor(CtraConfig(horizon_s=8.0)).predict(observe(scenario, 19))
    x = prediction.xy[0, 0, :, 0]
    speed_now = speed[-1]  # 6.2 m/s, stops after 3.1 s, 9.61 m further
    np.testing.assert_allclose(x[-1], xy[-1, 0] + speed_now**2 / 4.0, atol=1e-9)
    assert np.all(np.diff(x) >= 0)


def test_theil_sen_ignores_one_outlier():
    times = 0.1 * np.arange(11)
    values = 2.0 * times
    values[5] += 50.0
    slope = theil_sen_slope(values[None], times, np.ones((1, 11), bool))
    np.testing.assert_allclose(slope, [2.0], atol=1e-9)


def test_lane_mode_zero_follows_a_straight_lane():
    scenario = car_on_road(straight_road(num_lanes=2), start_xy=(50.0, 0.3), speed_mps=10.0)
    prediction = LanePredictor(LaneConfig(horizon_s=3.0)).predict(observe(scenario, 29))
    prediction.validate()
    mode_zero = prediction.xy[0, 0]
    np.testing.assert_allclose(mode_zero[-1], [80.0, 0.0], atol=1e-6)  # keeps 10 m/s, centred
    np.testing.assert_allclose(mode_zero[:, 0], 50.0 + 10.0 * prediction.times_s, atol=1e-6)
    assert np.all(np.diff(prediction.marginal_probs[0]) <= 1e-12)  # ranked
    lane_change = prediction.xy[0, :, -1, 1] > 2.5  # 30 m into a change planned over 40 m
    assert lane_change.any()  # a change to the left neighbour is among the modes


def test_lane_offers_both_branches_at_a_junction():
    scenario = car_on_road(junction_map(), start_xy=(35.0, 0.0), speed_mps=10.0)
    prediction = LanePredictor(LaneConfig(horizon_s=4.0)).predict(observe(scenario, 29))
    ends = prediction.xy[0, :, -1]
    straight = (np.abs(ends[:, 1]) < 0.1) & (ends[:, 0] > 70)
    turning = ends[:, 1] > 5.0
    assert straight.any() and turning.any()
    keep_speed = np.isclose(np.linalg.norm(ends - [35.0, 0.0], axis=1), 40.0, atol=0.5)
    assert (straight & keep_speed).any()


def test_lane_keeps_static_objects_and_fans_pedestrians():
    scenario = mixed_scene()
    prediction = LanePredictor(LaneConfig(horizon_s=2.0)).predict(observe(scenario, 30))
    static = prediction.agent_rows == scenario.tracks.types.tolist().index(AgentType.STATIC)
    assert np.allclose(
        prediction.xy[static], scenario.tracks.xy[static.nonzero()[0] + 1, 30][:, None, None]
    )
    walker = np.flatnonzero(scenario.tracks.types[prediction.agent_rows] == AgentType.PEDESTRIAN)[0]
    ends = prediction.xy[walker, :, -1]
    assert len(np.unique(ends.round(3), axis=0)) == 6  # six distinct fan modes


@pytest.mark.parametrize("name", ["cv", "ctra", "lane", "cv_sampled"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_probabilities_sum_to_one_and_joint_matches_marginal_modes(name, seed):
    scenario = mixed_scene(seed)
    predictor = PREDICTORS.create(name, PredictorSettings(horizon_s=3.0))
    prediction = predictor.predict(observe(scenario, 25))
    prediction.validate()
    assert prediction.probs.shape == (prediction.marginal_probs.shape[1],)
    np.testing.assert_allclose(prediction.marginal_probs.sum(1), 1.0, atol=1e-9)
    assert np.all(prediction.marginal_probs >= 0) and np.all(prediction.probs >= 0)


@pytest.mark.parametrize("name", ["cv", "ctra", "cv_sampled"])
def test_kinematic_baselines_are_invariant_to_translating_the_scene(name):
    scenario = _circle_scene()
    shift = np.array([1234.5, -987.25])
    moved = scenario_from_states(
        scenario.tracks.xy + shift,
        scenario.tracks.heading,
        [AgentType(t) for t in scenario.tracks.types],
        velocity=scenario.tracks.velocity,
    )
    predictor = PREDICTORS.create(name, PredictorSettings(horizon_s=3.0))
    before, after = (predictor.predict(observe(s, 29)) for s in (scenario, moved))
    np.testing.assert_allclose(after.xy, before.xy + shift, atol=1e-6)
    np.testing.assert_allclose(after.heading, before.heading, atol=1e-9)


def test_sampled_cv_is_deterministic_and_spreads_directions():
    predictor = SampledConstantVelocityPredictor(SampledConstantVelocityConfig(horizon_s=1.0))
    observation = observe(_scene(), step=10)
    first, second = predictor.predict(observation), predictor.predict(observation)
    np.testing.assert_array_equal(first.xy, second.xy)
    speeds = np.linalg.norm(first.xy[0, :, -1] - [30.0, 3.5], axis=-1)
    np.testing.assert_allclose(speeds, 10.0, atol=1e-9)  # rotated, not scaled
    assert np.ptp(first.xy[0, :, -1, 1]) > 1.0


def test_registry_refuses_duplicates_and_unknown_names():
    with pytest.raises(ValueError, match="already registered"):
        PREDICTORS.register("cv", lambda settings: ConstantVelocityPredictor())
    with pytest.raises(Exception, match="unknown predictor"):
        PREDICTORS.create("nope")
    assert {"cv", "ctra", "lane"} <= set(PREDICTORS.names)
