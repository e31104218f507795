"""`LearnedPredictor`: the joint model behind the `Predictor` protocol.

Inference: `observation_features` (float64 global -> float32 scene frame), the model (each
agent's frame), then back to the scene frame and, in float64, to the global frame. The
default checkpoint ships as package data (`urbandrive/prediction/checkpoints/default.pt`).

Modes. `mode_source="joint"` (default): the K scene modes; `probs` = softmax of the scene
logits; `marginal_probs[n]` = softmax of agent n's own logits over the same K scene modes.
`mode_source="marginal"`: each agent's K marginal modes (best-of-K per agent, as the ETH/UCY
protocol scores); they are not consistent across agents, and `probs` is then only the
normalised mean of the marginal probabilities.

Horizon: the checkpoint's (e.g. 3 s); a longer `horizon_s` continues every mode at its last
predicted velocity, a shorter one truncates. Agents not seen now are predicted invalid.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from urbandrive.core.errors import DataError, UrbandriveError
from urbandrive.core.observation import Observation
from urbandrive.core.typing import NDArrayF64
from urbandrive.prediction.baselines import future_times, predicted_rows
from urbandrive.prediction.features import (
    FeatureConfig,
    agent_to_scene,
    collate,
    observation_features,
    scene_to_global,
)
from urbandrive.prediction.interfaces import Prediction
from urbandrive.prediction.model import JointPredictionModel
from urbandrive.prediction.training import load_model, read_checkpoint

DEFAULT_CHECKPOINT = "default.pt"
#: Below this step length (m) the predicted heading is held.
_MIN_STEP_FOR_HEADING_M = 0.05


def shipped_checkpoint(name: str = DEFAULT_CHECKPOINT) -> Path:
    """Path of a checkpoint shipped in `urbandrive/prediction/checkpoints/`."""
    resource = importlib.resources.files("urbandrive.prediction").joinpath("checkpoints", name)
    path = Path(str(resource))
    if not path.is_file():
        raise DataError(f"{path}: shipped checkpoint {name!r} not found (package data missing?)")
    return path


@dataclass(frozen=True, slots=True)
class LearnedConfig:
    """horizon_s: predicted horizon (None: the checkpoint's); include_ego: predict the ego
    too; mode_source: "joint" or "marginal" (module docstring)."""

    horizon_s: float | None = None
    include_ego: bool = False
    mode_source: Literal["joint", "marginal"] = "joint"

    def __post_init__(self) -> None:
        if self.mode_source not in ("joint", "marginal"):
            raise ValueError(f"mode_source must be 'joint' or 'marginal', got {self.mode_source!r}")
        if self.horizon_s is not None and not self.horizon_s > 0:
            raise ValueError(f"horizon_s must be > 0, got {self.horizon_s}")


def headings_along(xy: NDArrayF64, start_xy: NDArrayF64, start_heading: NDArrayF64) -> NDArrayF64:
    """float64[N, K, H]: direction of each predicted step, held while a step is shorter than
    5 cm (from the heading now). xy: [N, K, H, 2]; start_xy: [N, 2]; start_heading: [N]."""
    previous = np.concatenate(
        [np.broadcast_to(start_xy[:, None, None], xy[:, :, :1].shape), xy[:, :, :-1]], 2
    )
    step = xy - previous
    moving = np.linalg.norm(step, axis=-1) >= _MIN_STEP_FOR_HEADING_M
    angle = np.arctan2(step[..., 1], step[..., 0])
    steps = xy.shape[2]
    index = np.where(moving, np.arange(steps), -1)
    last = np.maximum.accumulate(index, axis=-1)
    held = np.take_along_axis(angle, np.maximum(last, 0), axis=-1)
    return np.where(last >= 0, held, start_heading[:, None, None])


def extend_horizon(xy: NDArrayF64, start_xy: NDArrayF64, steps: int) -> NDArrayF64:
    """float64[N, K, steps, 2]: truncated, or continued at each mode's last step velocity."""
    have = xy.shape[2]
    if steps <= have:
        return xy[:, :, :steps]
    before = xy[:, :, -2] if have > 1 else np.broadcast_to(start_xy[:, None], xy[:, :, -1].shape)
    velocity = xy[:, :, -1] - before
    extra = np.arange(1, steps - have + 1)[:, None] * velocity[:, :, None]
    return np.concatenate([xy, xy[:, :, -1:] + extra], axis=2)


def _softmax(logits: torch.Tensor) -> np.ndarray:
    return torch.softmax(logits.double(), dim=-1).numpy()


class LearnedPredictor:
    """The learned joint predictor (`name = "learned"`); see the module docstring."""

    name = "learned"

    def __init__(
        self, checkpoint: Path | str | None = None, config: LearnedConfig | None = None
    ) -> None:
        self.config = config or LearnedConfig()
        path = shipped_checkpoint() if checkpoint is None else Path(checkpoint)
        self.model: JointPredictionModel = load_model(read_checkpoint(path))
        model = self.model.config
        self.features = FeatureConfig(
            history_steps=model.history_steps,
            future_steps=model.future_steps,
            dt_s=model.dt_s,
            use_map=model.use_map,
        )

    @property
    def num_modes(self) -> int:
        return self.model.config.num_modes

    def _run(
        self, observation: Observation
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Global xy float64[A', K, H, 2], joint probs [K], marginal probs [A', K] of the
        agents seen now, and their rows int64[A']."""
        scene = observation_features(observation, self.features)
        batch = collate([scene])
        with torch.inference_mode():
            output = self.model(batch)
        marginal = self.config.mode_source == "marginal"
        local = output.marginal_xy if marginal else output.joint_xy
        xy = agent_to_scene(local, batch.xy[:, :, -1], batch.heading[:, :, -1])[0].double().numpy()
        xy = scene_to_global(xy, scene.origin_xy, scene.origin_heading)
        if marginal:
            marginal_probs = _softmax(output.marginal_logits[0])
            probs = marginal_probs.mean(0)
        else:
            marginal_probs, probs = (
                _softmax(output.joint_agent_logits[0]),
                _softmax(output.scene_logits[0]),
            )
        return xy, probs / probs.sum(), marginal_probs, scene.agent_rows

    def predict(self, observation: Observation) -> Prediction:
        history = observation.history
        rows = predicted_rows(observation, self.config.include_ego)
        dt_s = self.features.dt_s
        times = future_times(self.config.horizon_s or self.features.future_steps * dt_s, dt_s)
        if not history.valid[:, -1].any():  # nobody seen now: nothing to say
            return _nothing_seen(rows, times, self.num_modes)
        xy_seen, probs, marginal_seen, seen_rows = self._run(observation)
        num_modes = probs.shape[0]
        position = np.full(history.num_agents, -1, dtype=np.int64)
        position[seen_rows] = np.arange(seen_rows.size)
        wanted = position[rows]
        seen = wanted >= 0
        xy = np.zeros((rows.size, num_modes, times.size, 2))
        start_xy = history.xy[rows[seen], -1]
        xy[seen] = extend_horizon(xy_seen[wanted[seen]], start_xy, times.size)
        heading = np.zeros(xy.shape[:3])
        heading[seen] = headings_along(xy[seen], start_xy, history.heading[rows[seen], -1])
        marginal_probs = np.full((rows.size, num_modes), 1.0 / num_modes)
        marginal_probs[seen] = marginal_seen[wanted[seen]]
        return Prediction(
            agent_rows=rows,
            times_s=times,
            xy=xy,
            heading=heading,
            probs=probs,
            marginal_probs=marginal_probs,
            valid=np.repeat(seen[:, None], times.size, axis=1),
        )


def _nothing_seen(rows: np.ndarray, times: NDArrayF64, num_modes: int) -> Prediction:
    """An all-invalid prediction (uniform probabilities) for `rows`."""
    return Prediction(
        agent_rows=rows,
        times_s=times,
        xy=np.zeros((rows.size, num_modes, times.size, 2)),
        heading=np.zeros((rows.size, num_modes, times.size)),
        probs=np.full(num_modes, 1.0 / num_modes),
        marginal_probs=np.full((rows.size, num_modes), 1.0 / num_modes),
        valid=np.zeros((rows.size, times.size), bool),
    )


def learned_from_settings(settings: object) -> LearnedPredictor:
    """Factory for the predictor registry: a `PredictorSettings` (horizon_s, dt_s,
    num_modes) -> the default checkpoint; `UrbandriveError` if its step or modes differ."""
    predictor = LearnedPredictor(
        config=LearnedConfig(horizon_s=getattr(settings, "horizon_s", None))
    )
    dt_s, modes = getattr(settings, "dt_s", None), getattr(settings, "num_modes", None)
    if dt_s is not None and not np.isclose(dt_s, predictor.features.dt_s):
        raise UrbandriveError(
            f"the learned model predicts steps of {predictor.features.dt_s} s, not {dt_s} s"
        )
    if modes not in (None, predictor.num_modes):
        raise UrbandriveError(f"the learned model has {predictor.num_modes} modes, not {modes}")
    return predictor
