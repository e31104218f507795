"""The prediction contract: `Predictor.predict(observation) -> Prediction`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.observation import Observation
from urbandrive.core.typing import NDArrayBool, NDArrayF64


@dataclass(frozen=True, slots=True)
class Prediction:
    """K joint futures of N agents over H steps, global frame, float64.

    agent_rows: int64[N], rows of the observation's `history` the predictions are for.
    times_s: float64[H], seconds after now (first entry dt, not 0).
    xy: float64[N, K, H, 2], box centres, metres; heading: float64[N, K, H], radians.
    probs: float64[K], joint scene-mode probabilities (mode k is one consistent future of
        the whole scene), summing to 1.
    marginal_probs: float64[N, K], per-agent mode probabilities, each row summing to 1.
    valid: bool[N, H], False where the predictor has nothing to say (e.g. a lost track).
    """

    agent_rows: np.ndarray
    times_s: NDArrayF64
    xy: NDArrayF64
    heading: NDArrayF64
    probs: NDArrayF64
    marginal_probs: NDArrayF64
    valid: NDArrayBool

    @property
    def num_modes(self) -> int:
        return int(self.probs.shape[0])

    def validate(self, where: str = "prediction") -> None:
        """Raise `DataError` naming the field when shapes or probabilities are inconsistent."""
        num_agents, num_modes, num_steps = self.xy.shape[:3]
        expected = {
            "agent_rows": (num_agents,),
            "times_s": (num_steps,),
            "xy": (num_agents, num_modes, num_steps, 2),
            "heading": (num_agents, num_modes, num_steps),
            "probs": (num_modes,),
            "marginal_probs": (num_agents, num_modes),
            "valid": (num_agents, num_steps),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise DataError(
                    f"{where}: {name!r} has shape {getattr(self, name).shape}, expected {shape}"
                )
        if not np.isclose(self.probs.sum(), 1.0, atol=1e-6) or np.any(self.probs < 0):
            raise DataError(f"{where}: joint mode probabilities {self.probs} do not sum to 1")
        if num_agents and not np.allclose(self.marginal_probs.sum(-1), 1.0, atol=1e-6):
            raise DataError(f"{where}: marginal probabilities do not sum to 1 per agent")


class Predictor(Protocol):
    """Anything that forecasts the agents of an observation."""

    name: str

    def predict(self, observation: Observation) -> Prediction: ...
