"""Simple predictors: the baselines every learned model must beat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.observation import Observation
from urbandrive.prediction.interfaces import Prediction


@dataclass(frozen=True, slots=True)
class ConstantVelocityConfig:
    horizon_s: float = 8.0
    dt_s: float = 0.1
    include_ego: bool = False

    def __post_init__(self) -> None:
        if self.horizon_s <= 0 or self.dt_s <= 0 or self.horizon_s < self.dt_s:
            raise ValueError(f"need 0 < dt_s <= horizon_s, got {self.dt_s}, {self.horizon_s}")


class ConstantVelocityPredictor:
    """One mode per scene: every agent keeps its current velocity; heading held.

    Agents not observed now are predicted invalid.
    """

    name = "cv"

    def __init__(self, config: ConstantVelocityConfig | None = None) -> None:
        self.config = config or ConstantVelocityConfig()

    def predict(self, observation: Observation) -> Prediction:
        history = observation.history
        rows = np.arange(history.num_agents)
        if not self.config.include_ego:
            rows = rows[rows != observation.ego_index]
        num_steps = round(self.config.horizon_s / self.config.dt_s)
        times_s = self.config.dt_s * np.arange(1, num_steps + 1)
        xy_now = history.xy[rows, -1]  # [N, 2]
        velocity = history.velocity[rows, -1]
        xy = xy_now[:, None, None, :] + velocity[:, None, None, :] * times_s[None, None, :, None]
        heading = np.broadcast_to(history.heading[rows, -1][:, None, None], xy.shape[:3]).copy()
        seen_now = history.valid[rows, -1]
        return Prediction(
            agent_rows=rows,
            times_s=times_s,
            xy=xy,
            heading=heading,
            probs=np.ones(1),
            marginal_probs=np.ones((rows.size, 1)),
            valid=np.repeat(seen_now[:, None], num_steps, axis=1),
        )
