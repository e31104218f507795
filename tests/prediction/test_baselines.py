"""Baseline predictors on scenes with known futures."""

import numpy as np
import pytest

from urbandrive.core import AgentType, DataError, observe
from urbandrive.prediction import ConstantVelocityPredictor
from urbandrive.prediction.baselines import ConstantVelocityConfig
from urbandrive.testing import scenario_from_states


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
