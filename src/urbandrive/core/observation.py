"""What the ego may know at one planning step: the past, the map, the lights now, its route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Goal, Route, Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.traffic_light import TrafficLightState

if TYPE_CHECKING:  # annotation only: maps sits above core in the data flow
    from urbandrive.maps.road_map import RoadMap


@dataclass(frozen=True, slots=True)
class Observation:
    """One step's view for the ego's stack; never holds anything from the future.

    history: tracks of every agent (the ego included, row `ego_index`) over the last H steps,
        the last column being now; agents not seen in the window have `valid` all False.
    time_s: seconds since the scenario's first step; step: index of now in the scenario.
    traffic_lights: signal id -> state now, or None when the source has no lights.
    """

    scenario_id: str
    step: int
    time_s: float
    dt_s: float
    history: Tracks
    ego_index: int
    road_map: RoadMap | None
    traffic_lights: dict[int, TrafficLightState] | None = None
    route: Route | None = None
    goal: Goal | None = None

    @property
    def ego_xy(self) -> np.ndarray:
        """float64[2], box centre now, metres."""
        return self.history.xy[self.ego_index, -1]

    @property
    def ego_heading(self) -> float:
        return float(self.history.heading[self.ego_index, -1])

    @property
    def ego_speed_mps(self) -> float:
        return float(np.linalg.norm(self.history.velocity[self.ego_index, -1]))


def observe(scenario: Scenario, step: int, history_steps: int = 20) -> Observation:
    """The logged scenario as the ego would have seen it at `step` (open-loop use).

    history covers steps `max(0, step - history_steps + 1) .. step`.
    """
    if not 0 <= step < scenario.num_steps:
        raise DataError(f"scenario {scenario.id!r}: step {step} outside [0, {scenario.num_steps})")
    start = max(0, step - history_steps + 1)
    return observation_at(scenario, step, scenario.tracks.slice_time(start, step + 1))


def observation_at(scenario: Scenario, step: int, history: Tracks) -> Observation:
    """The observation at `step` of `scenario` given the `history` window ending there (the
    simulator passes its simulated tracks; `observe` the logged ones)."""
    if scenario.ego_index is None:
        raise DataError(f"scenario {scenario.id!r}: has no ego to observe for")
    lights = None if scenario.traffic_lights is None else scenario.traffic_lights.at(step)
    return Observation(
        scenario_id=scenario.id,
        step=step,
        time_s=float(scenario.times_s[step]),
        dt_s=scenario.dt_s,
        history=history,
        ego_index=scenario.ego_index,
        road_map=scenario.road_map,
        traffic_lights=lights,
        route=scenario.route,
        goal=scenario.goal,
    )
