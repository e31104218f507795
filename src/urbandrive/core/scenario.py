"""One scene over time: tracks, map, lights, ego and route, in one global frame."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.tracks import Tracks
from urbandrive.core.traffic_light import TrafficLightStates
from urbandrive.core.typing import NDArrayF64, NDArrayInt

if TYPE_CHECKING:  # annotation only: maps sits above core in the data flow
    from urbandrive.maps.road_map import RoadMap


@dataclass(frozen=True, slots=True)
class Route:
    """The ego's intended path: consecutive lane ids of the scenario's map, or, where the map's
    lanes cannot express it (a map without a lane graph), an explicit path.

    path_xy: float64[P, 2], metres, global frame, or None when `lane_ids` say it all.
    """

    lane_ids: tuple[int, ...]
    path_xy: NDArrayF64 | None = None


@dataclass(frozen=True, slots=True)
class Goal:
    """Where the ego should end up. xy: float64[2], metres; heading in radians or None."""

    xy: NDArrayF64
    heading: float | None = None
    radius_m: float = 2.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A scene of T steps.

    timestamps_us: int64[T], microseconds, strictly increasing, spaced by `dt_s`.
    current_index: the "now" step; history is `[:current_index + 1]`, the future after it.
    ego_index: row of the ego in `tracks`, or None when the source has no ego.
    metadata: source-specific facts kept verbatim (city, focal track, tracks to predict, ...).
    """

    id: str
    source: str
    timestamps_us: NDArrayInt
    dt_s: float
    current_index: int
    tracks: Tracks
    ego_index: int | None = None
    road_map: RoadMap | None = None
    traffic_lights: TrafficLightStates | None = None
    route: Route | None = None
    goal: Goal | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        return int(self.timestamps_us.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.timestamps_us[-1] - self.timestamps_us[0]) * 1e-6

    @property
    def times_s(self) -> NDArrayF64:
        """float64[T], seconds since the first step."""
        return (self.timestamps_us - self.timestamps_us[0]).astype(np.float64) * 1e-6

    def validate(self) -> None:
        """Raise `DataError` naming the scenario and the field if anything is inconsistent."""
        where = f"scenario {self.id!r}"
        if self.timestamps_us.ndim != 1 or self.num_steps == 0:
            raise DataError(f"{where}: needs at least one timestamp")
        if self.num_steps > 1:
            steps_us = np.diff(self.timestamps_us)
            if np.any(steps_us <= 0):
                raise DataError(f"{where}: timestamps are not strictly increasing")
            if np.max(np.abs(steps_us * 1e-6 - self.dt_s)) > 0.5 * self.dt_s:
                raise DataError(f"{where}: timestamps are not spaced by dt_s={self.dt_s}")
        self.tracks.validate(where)
        if self.tracks.num_steps != self.num_steps:
            raise DataError(
                f"{where}: tracks have {self.tracks.num_steps} steps, timestamps {self.num_steps}"
            )
        if not 0 <= self.current_index < self.num_steps:
            raise DataError(
                f"{where}: current_index {self.current_index} outside [0, {self.num_steps})"
            )
        if self.ego_index is not None and not 0 <= self.ego_index < self.tracks.num_agents:
            raise DataError(
                f"{where}: ego_index {self.ego_index} outside the {self.tracks.num_agents} agents"
            )
        if self.traffic_lights is not None:
            self.traffic_lights.validate(self.num_steps, f"{where} traffic_lights")
