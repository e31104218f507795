"""Scenario validation and time helpers."""

import dataclasses

import numpy as np
import pytest

from urbandrive.core import AgentType, DataError, TrafficLightState, TrafficLightStates
from urbandrive.testing import scenario_from_states, straight_road


def _scenario(num_steps=20):
    t = np.arange(num_steps) * 0.1
    xy = np.stack([np.stack([10 * t, 0 * t], -1), np.stack([10 * t + 20, 0 * t], -1)])
    return scenario_from_states(
        xy, np.zeros((2, num_steps)), [AgentType.VEHICLE] * 2, road_map=straight_road()
    )


def test_duration_and_times():
    scenario = _scenario()
    assert scenario.num_steps == 20
    assert scenario.duration_s == pytest.approx(1.9)
    np.testing.assert_allclose(scenario.times_s[:3], [0.0, 0.1, 0.2])
    np.testing.assert_allclose(scenario.tracks.speed_mps[:, 5], 10.0)


def test_inconsistent_fields_are_named():
    scenario = _scenario()
    with pytest.raises(DataError, match="current_index 25"):
        dataclasses.replace(scenario, current_index=25).validate()
    with pytest.raises(DataError, match="ego_index 7"):
        dataclasses.replace(scenario, ego_index=7).validate()
    with pytest.raises(DataError, match="not strictly increasing"):
        dataclasses.replace(scenario, timestamps_us=scenario.timestamps_us[::-1].copy()).validate()
    with pytest.raises(DataError, match="spaced by dt_s"):
        dataclasses.replace(scenario, timestamps_us=scenario.timestamps_us * 3).validate()


def test_traffic_light_states_are_checked_and_read_per_step():
    states = TrafficLightStates(
        signal_ids=np.array([7]), states=np.full((1, 20), TrafficLightState.RED, np.int8)
    )
    scenario = dataclasses.replace(_scenario(), traffic_lights=states)
    scenario.validate()
    assert states.at(3) == {7: TrafficLightState.RED}
    assert states.at(3)[7].must_stop
    bad = TrafficLightStates(signal_ids=np.array([7]), states=np.full((1, 20), 42, np.int8))
    with pytest.raises(DataError, match="unknown light state"):
        dataclasses.replace(scenario, traffic_lights=bad).validate()
