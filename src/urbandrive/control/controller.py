"""The interface every trajectory-tracking controller implements."""

from __future__ import annotations

from typing import Protocol

from urbandrive.core.trajectory import Trajectory
from urbandrive.core.typing import NDArrayF64


class Controller(Protocol):
    """Maps the vehicle's state and a reference trajectory to a bicycle-model command."""

    def command(self, state: NDArrayF64, reference: Trajectory, time_s: float) -> NDArrayF64:
        """Command float64[..., C] (`urbandrive.dynamics.CommandIndex`) for `state: float64[..., S]`
        (`urbandrive.dynamics.StateIndex`, rear axle) tracking `reference` (rear-axle poses,
        batch shape broadcastable with the state's) at `time_s`, on the reference's time axis."""
        ...
