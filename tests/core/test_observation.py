"""Observations hold the past and now, never the future."""

import numpy as np
import pytest

from urbandrive.core import AgentType, DataError, observe
from urbandrive.testing import scenario_from_states


def test_history_window_ends_now_and_holds_no_future():
    t = np.arange(50) * 0.1
    xy = np.stack([np.stack([10 * t, 0 * t], -1), np.stack([30 + 5 * t, 0 * t], -1)])
    scenario = scenario_from_states(xy, np.zeros((2, 50)), [AgentType.VEHICLE] * 2)
    observation = observe(scenario, step=30, history_steps=20)
    assert observation.history.num_steps == 20
    np.testing.assert_allclose(observation.ego_xy, [30.0, 0.0])
    assert observation.ego_speed_mps == pytest.approx(10.0)
    assert observation.time_s == pytest.approx(3.0)
    assert observe(scenario, step=3).history.num_steps == 4  # clipped at the start
    with pytest.raises(DataError, match="step 50 outside"):
        observe(scenario, step=50)
