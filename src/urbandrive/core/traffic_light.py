"""Traffic-light states over time, per signal head; the map says which lanes each one controls."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayInt


class TrafficLightState(enum.IntEnum):
    """State of one signal head; arrows are separate heads controlling their turn lanes."""

    UNKNOWN = 0
    RED = 1
    YELLOW = 2
    GREEN = 3
    FLASHING_RED = 4  # treat as a stop sign
    FLASHING_YELLOW = 5  # proceed with caution (permissive)

    @property
    def must_stop(self) -> bool:
        return self in (TrafficLightState.RED, TrafficLightState.FLASHING_RED)


@dataclass(frozen=True, slots=True)
class TrafficLightStates:
    """signal_ids: int64[S], ids of `RoadMap.signals`; states: int8[S, T], `TrafficLightState`."""

    signal_ids: NDArrayInt
    states: NDArrayInt

    def at(self, step: int) -> dict[int, TrafficLightState]:
        """Signal id -> state at `step`."""
        return {
            int(i): TrafficLightState(int(s))
            for i, s in zip(self.signal_ids, self.states[:, step], strict=True)
        }

    def validate(self, num_steps: int, where: str = "traffic_lights") -> None:
        if self.states.shape != (self.signal_ids.shape[0], num_steps):
            raise DataError(
                f"{where}: states have shape {self.states.shape}, "
                f"expected ({self.signal_ids.shape[0]}, {num_steps})"
            )
        known = np.array([int(s) for s in TrafficLightState])
        if not np.isin(self.states, known).all():
            raise DataError(
                f"{where}: unknown light state values {np.setdiff1d(self.states, known)}"
            )
