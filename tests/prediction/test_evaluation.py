"""Sliding-window evaluation: windows, scored agents, metrics by hand, output shape."""

import dataclasses
import json

import numpy as np
import pytest

from urbandrive.core import AgentType, DataError
from urbandrive.prediction.baselines import ConstantVelocityConfig, ConstantVelocityPredictor
from urbandrive.prediction.evaluation import (
    ETH_UCY_PROTOCOL,
    EvaluationConfig,
    evaluate_predictor,
    scored_agents,
    window_steps,
)
from urbandrive.prediction.interfaces import MarginalForecast
from urbandrive.prediction.registry import PREDICTORS, PredictorSettings
from urbandrive.testing import scenario_from_states

from .scenes import mixed_scene


def _validity_scene(num_steps: int = 60):
    """Ego; car A always seen; car B seen until step 49; a static cone; pedestrian P seen
    from step 25. All move at constant velocity (cv is exact)."""
    t = 0.1 * np.arange(num_steps)
    velocity = np.array([[10.0, 0.0], [8.0, 0.0], [6.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    start = np.array([[0.0, 0.0], [20.0, 3.5], [40.0, 0.0], [60.0, 5.0], [30.0, -5.0]])
    xy = start[:, None] + velocity[:, None] * t[None, :, None]
    valid = np.ones((5, num_steps), bool)
    valid[2, 50:] = False
    valid[4, :25] = False
    types = [
        AgentType.VEHICLE,
        AgentType.VEHICLE,
        AgentType.VEHICLE,
        AgentType.STATIC,
        AgentType.PEDESTRIAN,
    ]
    return scenario_from_states(
        xy,
        np.zeros((5, num_steps)),
        types,
        velocity=np.repeat(velocity[:, None], num_steps, 1),
        valid=valid,
    )


def test_windows_slide_by_the_stride_inside_the_log():
    scenario = _validity_scene()
    assert window_steps(scenario, EvaluationConfig()).tolist() == [19, 29]
    stride = EvaluationConfig(stride_s=0.5)
    assert window_steps(scenario, stride).tolist() == [19, 24, 29]


def test_scored_agents_per_window_follow_validity():
    scenario, config = _validity_scene(), EvaluationConfig()
    counts = {
        step: scored_agents(scenario, step, config).nonzero()[0].tolist() for step in (19, 29)
    }
    # step 19: A, B (future ends at 49, seen); P not seen now; no ego, no static.
    # step 29: A; B's future ends at 59 (not seen); P seen now and in the future.
    assert counts == {19: [1, 2], 29: [1, 4]}
    everyone = EvaluationConfig(include_ego=True, include_static=True)
    assert scored_agents(scenario, 29, everyone).nonzero()[0].tolist() == [0, 1, 3, 4]
    strict = EvaluationConfig(min_valid_history_steps=20)
    assert scored_agents(scenario, 29, strict).nonzero()[0].tolist() == [1]


def test_constant_velocity_is_exact_on_constant_velocity_agents():
    predictor = ConstantVelocityPredictor(ConstantVelocityConfig(horizon_s=3.0))
    result = evaluate_predictor([_validity_scene()], predictor, EvaluationConfig())
    aggregate = result["aggregate"]
    assert aggregate["count"] == 4 and aggregate["num_windows"] == 2
    for name in ("minADE6", "minFDE6", "MR6", "minFDE1", "jointMinFDE6", "nll", "ece"):
        assert aggregate[name] == pytest.approx(0.0, abs=1e-9)
    assert result["by_type"]["VEHICLE"]["count"] == 3
    assert result["by_type"]["PEDESTRIAN"]["count"] == 1
    assert result["config"]["num_modes"] == 1 and "1 most probable" in result["config"]["note"]
    json.dumps(result, allow_nan=False)


def test_errors_are_hand_computed_for_a_wrong_speed():
    scenario = _validity_scene()

    class Slow:
        """cv at half speed: after t seconds the error is 0.5 * speed * t."""

        name = "slow"

        def predict(self, observation):
            prediction = ConstantVelocityPredictor(ConstantVelocityConfig(3.0)).predict(observation)
            now = observation.history.xy[prediction.agent_rows, -1][:, None, None]
            return type(prediction)(
                **{
                    **{f: getattr(prediction, f) for f in prediction.__slots__},
                    "xy": now + 0.5 * (prediction.xy - now),
                }
            )

    result = evaluate_predictor([scenario], Slow(), EvaluationConfig(stride_s=10.0))
    fde = 0.5 * np.array([8.0, 6.0]) * 3.0  # window 19 only: agents A and B
    ade = 0.5 * np.array([8.0, 6.0]) * np.mean(0.1 * np.arange(1, 31))
    assert result["aggregate"]["minFDE6"] == pytest.approx(fde.mean())
    assert result["aggregate"]["minADE6"] == pytest.approx(ade.mean())
    assert result["aggregate"]["MR6"] == pytest.approx(1.0)  # 12 m and 9 m > 2 m
    assert result["aggregate"]["brierMinFDE6"] == pytest.approx(fde.mean())  # p = 1


def test_per_agent_metrics_score_the_marginal_forecast_and_joint_ones_the_scene_modes():
    scenario = _validity_scene()

    class SlowJointExactMarginal:
        """Scene modes: cv at half speed; marginal forecast: cv (p 0.75) and a copy 10 m
        sideways (p 0.25)."""

        name = "split"

        def predict(self, observation):
            prediction = ConstantVelocityPredictor(ConstantVelocityConfig(3.0)).predict(observation)
            now = observation.history.xy[prediction.agent_rows, -1][:, None, None]
            aside = prediction.xy + np.array([0.0, 10.0])
            marginal = MarginalForecast(
                np.concatenate([aside, prediction.xy], axis=1),
                np.concatenate([prediction.heading] * 2, axis=1),
                np.tile([0.25, 0.75], (prediction.agent_rows.size, 1)),
            )
            return dataclasses.replace(
                prediction, xy=now + 0.5 * (prediction.xy - now), marginal=marginal
            )

    result = evaluate_predictor(
        [scenario], SlowJointExactMarginal(), EvaluationConfig(stride_s=10.0)
    )
    aggregate = result["aggregate"]
    slow_fde = 0.5 * np.array([8.0, 6.0]) * 3.0  # window 19 only: agents A and B
    assert aggregate["minFDE6"] == pytest.approx(0.0) and aggregate["minFDE1"] == pytest.approx(0.0)
    assert aggregate["brierMinFDE6"] == pytest.approx(0.25**2)  # best mode has p = 0.75
    assert aggregate["jointMinFDE6"] == pytest.approx(slow_fde.mean())
    assert aggregate["jointMinFDE6_marginal"] == pytest.approx(0.0)  # rank 0 = the cv modes
    assert aggregate["overlap_rate"] == aggregate["overlap_rate_marginal"] == 0.0


def test_without_a_marginal_forecast_the_marginal_figures_are_the_joint_ones():
    predictor = PREDICTORS.create("lane", PredictorSettings(horizon_s=3.0))
    aggregate = evaluate_predictor([mixed_scene(3)], predictor, EvaluationConfig(stride_s=2.0))[
        "aggregate"
    ]
    assert aggregate["overlap_rate_marginal"] == aggregate["overlap_rate"]
    assert aggregate["jointMinFDE6_marginal"] == aggregate["jointMinFDE6"]


def test_marginal_forecast_ranks_modes_into_worlds_and_is_validated():
    xy = np.zeros((2, 3, 4, 2))
    xy[..., 0] = np.arange(3)[None, :, None]  # mode k at x = k
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    forecast = MarginalForecast(xy, np.zeros((2, 3, 4)), probs)
    forecast.validate(2, 4)
    ranked, world_probs = forecast.combined_by_rank()
    assert ranked[:, :, 0, 0].tolist() == [[1, 2, 0], [0, 2, 1]]
    np.testing.assert_allclose(world_probs, [0.55, 0.3, 0.15])
    with pytest.raises(DataError, match="'heading' has shape"):
        MarginalForecast(xy, np.zeros((2, 3, 5)), probs).validate(2, 4)
    with pytest.raises(DataError, match="do not sum to 1"):
        MarginalForecast(xy, np.zeros((2, 3, 4)), 2 * probs).validate(2, 4)


def test_a_predictor_with_the_wrong_step_is_refused():
    predictor = ConstantVelocityPredictor(ConstantVelocityConfig(horizon_s=3.0, dt_s=0.2))
    with pytest.raises(DataError, match="predicted times"):
        evaluate_predictor([_validity_scene()], predictor)


def test_multimodal_lane_scores_every_metric_on_a_mixed_scene():
    predictor = PREDICTORS.create("lane", PredictorSettings(horizon_s=3.0))
    result = evaluate_predictor([mixed_scene(3)], predictor, EvaluationConfig(stride_s=2.0))
    aggregate = result["aggregate"]
    assert aggregate["count"] > 0 and result["config"]["modes_scored"] == 6
    assert aggregate["minFDE6"] <= aggregate["minFDE1"] + 1e-9
    assert 0.0 <= aggregate["ece"] <= 1.0 and aggregate["nll"] >= 0.0
    assert set(result["by_type"]) == {"VEHICLE", "PEDESTRIAN"}  # no STATIC, no ego


def test_eth_ucy_protocol_is_8_observed_12_predicted():
    assert ETH_UCY_PROTOCOL.steps(0.4) == (8, 12, 1)
    assert ETH_UCY_PROTOCOL.top_k == 20


@pytest.mark.real_data
def test_lane_beats_constant_velocity_on_av2_vehicles(av2_dir):
    from urbandrive.datasets import expand_uris, load_scenario

    uri = expand_uris([f"av2:{av2_dir / 'forecasting'}"])[0]
    scenario = load_scenario(uri)
    results = {
        name: evaluate_predictor(
            [scenario], PREDICTORS.create(name, PredictorSettings(horizon_s=3.0))
        )["by_type"]["VEHICLE"]
        for name in ("cv", "lane")
    }
    assert results["lane"]["count"] == results["cv"]["count"] > 0
    assert results["lane"]["minFDE6"] < 0.8 * results["cv"]["minFDE6"]


def _overlap_scene():
    """Ego far away; pedestrians P1, P2 walk side by side 0.8 m apart (centres within 1 m,
    0.6 m boxes apart); P3 walks at P4, who stands, but turns away at the window's step 19."""
    num_steps, t = 60, 0.1 * np.arange(60)
    velocity = np.zeros((5, num_steps, 2))
    velocity[0] = [10.0, 0.0]
    velocity[1:3] = [1.0, 0.0]
    velocity[3, :20], velocity[3, 20:] = [1.0, 0.0], [0.0, 1.0]
    start = np.array([[-50.0, -50.0], [0.0, 0.0], [0.0, 0.8], [-3.9, 20.0], [0.0, 20.0]])
    xy = start[:, None] + np.cumsum(np.concatenate([np.zeros((5, 1, 2)), velocity], 1), 1)[
        :, :num_steps
    ] * (t[1] - t[0])
    types = [AgentType.VEHICLE] + [AgentType.PEDESTRIAN] * 4
    return scenario_from_states(xy, np.zeros((5, num_steps)), types, velocity=velocity)


def test_overlap_figures_by_hand():
    predictor = ConstantVelocityPredictor(ConstantVelocityConfig(3.0))
    result = evaluate_predictor([_overlap_scene()], predictor, EvaluationConfig(stride_s=10.0))
    aggregate = result["aggregate"]
    # Boxes between the predicted agents: P3's straight line runs into P4 (P1, P2 never touch).
    assert aggregate["overlap_rate"] == pytest.approx(2 / 4)
    assert aggregate["overlap_rate_centre_1m"] == pytest.approx(4 / 4)
    # Against the true boxes: P3's prediction meets the standing P4, P4's does not meet P3.
    assert aggregate["overlap_rate_womd"] == pytest.approx(1 / 4)
    assert aggregate["overlap_rate_truth"] == 0.0
    assert aggregate["overlap_rate_marginal"] == aggregate["overlap_rate"]  # no marginal
