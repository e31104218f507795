"""The prediction contract: `Predictor.predict(observation) -> Prediction`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.observation import Observation
from urbandrive.core.typing import NDArrayBool, NDArrayF64


@dataclass(frozen=True, slots=True)
class MarginalForecast:
    """Km per-agent (marginal) futures of the N agents of a `Prediction`, global frame.

    Unlike the joint modes, mode k of one agent has nothing to do with mode k of another:
    these are scored per agent (as the marginal forecasts of the Waymo / Argoverse challenges).
    xy: float64[N, Km, H, 2] m; heading: float64[N, Km, H] rad; probs: float64[N, Km], each
    row summing to 1. Agents, steps and validity are the prediction's.
    """

    xy: NDArrayF64
    heading: NDArrayF64
    probs: NDArrayF64

    @property
    def num_modes(self) -> int:
        return int(self.probs.shape[1])

    def combined_by_rank(self) -> tuple[NDArrayF64, NDArrayF64]:
        """Joint worlds made of the marginal modes by rank: world r = every agent's r-th most
        probable mode. Returns xy float64[N, Km, H, 2] (world axis second) and the world
        probabilities float64[Km] (mean over agents of the r-th probability, normalised;
        uniform without agents)."""
        order = np.argsort(-self.probs, axis=1, kind="stable")
        xy = np.take_along_axis(self.xy, order[:, :, None, None], axis=1)
        if not self.probs.shape[0]:
            return xy, np.full(self.num_modes, 1.0 / self.num_modes)
        probs = np.take_along_axis(self.probs, order, axis=1).mean(0)
        return xy, probs / probs.sum()

    def validate(self, num_agents: int, num_steps: int, where: str = "marginal forecast") -> None:
        """Raise `DataError` naming the field when shapes or probabilities are inconsistent."""
        num_modes = self.xy.shape[1] if self.xy.ndim == 4 else -1
        expected = {
            "xy": (num_agents, num_modes, num_steps, 2),
            "heading": (num_agents, num_modes, num_steps),
            "probs": (num_agents, num_modes),
        }
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise DataError(
                    f"{where}: {name!r} has shape {getattr(self, name).shape}, expected {shape}"
                )
        if num_agents and (
            not np.allclose(self.probs.sum(-1), 1.0, atol=1e-6) or np.any(self.probs < 0)
        ):
            raise DataError(f"{where}: probabilities do not sum to 1 per agent")


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
    marginal: optional per-agent forecast (`MarginalForecast`, Km modes each) for consumers
        that score or use each agent alone; None when the predictor has none (then the joint
        modes with `marginal_probs` serve as the marginal forecast).
    """

    agent_rows: np.ndarray
    times_s: NDArrayF64
    xy: NDArrayF64
    heading: NDArrayF64
    probs: NDArrayF64
    marginal_probs: NDArrayF64
    valid: NDArrayBool
    marginal: MarginalForecast | None = None

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
        if self.marginal is not None:
            self.marginal.validate(num_agents, num_steps, f"{where}: marginal")


class Predictor(Protocol):
    """Anything that forecasts the agents of an observation."""

    name: str

    def predict(self, observation: Observation) -> Prediction: ...
