"""A loader of synthetic scenes by URI, so tests can drive URI-based commands without data.

Register it for a test with `monkeypatch.setitem(urbandrive.datasets.registry.LOADERS,
"testroad", RoadLoader())`; `testroad:<anything>/<lead_start_m>` is a two-car straight road.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.testing.builders import scenario_from_states, straight_road

NUM_STEPS = 80


def two_car_road(lead_start_m: float) -> Scenario:
    """Ego at 10 m/s from x = 5 m; a lead car at 6 m/s from `lead_start_m`; 3 lane segments."""
    times = np.arange(NUM_STEPS) * 0.1
    ego = np.stack([5 + 10 * times, 0 * times], -1)
    lead = np.stack([lead_start_m + 6 * times, 0 * times], -1)
    scenario = scenario_from_states(
        np.stack([ego, lead]),
        np.zeros((2, NUM_STEPS)),
        [AgentType.VEHICLE] * 2,
        road_map=straight_road(num_lanes=2, length_m=300.0, num_segments=3),
        current_index=10,
        scenario_id=f"road-{lead_start_m:g}",
    )
    return dataclasses.replace(scenario, source="testroad")


class RoadLoader:
    """`testroad:<name>/<lead_start_m>` -> `two_car_road(lead_start_m)`."""

    scheme = "testroad"

    def load(self, location: str) -> Scenario:
        return two_car_road(float(location.rsplit("/", 1)[-1]))

    def list_scenarios(self, location: str) -> list[str]:
        return [location]
