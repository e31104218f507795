"""Training augmentations of logged windows (`SceneTensors`), for `training.fit(augment=...)`.

Pure functions; each returns a new scene and leaves padded (invalid) entries at 0:

- `scale_scene`: every scene-frame length times `factor` (positions, velocities, future,
  map points); headings unchanged. A scaled scene is a scene of faster / slower walkers in a
  larger / smaller place (ETH/UCY: the eth test file walks faster than the training files).
- `mirror_scene`: the reflection y -> -y (headings negated). With the rotation invariance of
  the query-centric model, this stands for every mirror.
- `jitter_history`: Gaussian noise on the valid history positions (now included), velocities
  re-derived as backward differences of the noisy positions where both steps are valid.
- `reverse_scene`: the window played backwards (pedestrians walk either way).

`make_augment(AugmentConfig)` draws them per window from the epoch's generator. The scene
frame's origin pose is left unchanged, so a scaled / mirrored scene no longer maps to the
logged global positions (training windows only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from urbandrive.prediction.features import SceneTensors
from urbandrive.prediction.training import Augment

#: Below this speed (m/s) a re-derived heading keeps the previous step's (as the loader).
_HEADING_MIN_SPEED_MPS = 0.05


@dataclass(frozen=True, slots=True)
class AugmentConfig:
    """Per window: scale factor log-uniform in `scale_range`; mirrored with
    `mirror_probability`; reversed with `reverse_probability`; history noise of standard
    deviation `history_noise_m` (m). The defaults change nothing."""

    scale_range: tuple[float, float] = (1.0, 1.0)
    mirror_probability: float = 0.0
    reverse_probability: float = 0.0
    history_noise_m: float = 0.0

    def __post_init__(self) -> None:
        low, high = self.scale_range
        if not 0 < low <= high:
            raise ValueError(f"scale_range must be 0 < low <= high, got {self.scale_range}")
        for name in ("mirror_probability", "reverse_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.history_noise_m < 0:
            raise ValueError(f"history_noise_m must be >= 0, got {self.history_noise_m}")

    @property
    def is_identity(self) -> bool:
        return self == AugmentConfig()


def _masked(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """float32 values, 0 where not valid (valid broadcasts over trailing axes)."""
    while valid.ndim < values.ndim:
        valid = valid[..., None]
    return np.where(valid, values, 0.0).astype(np.float32)


def scale_scene(scene: SceneTensors, factor: float) -> SceneTensors:
    """Every scene-frame length times `factor` (> 0); headings unchanged."""
    if not factor > 0:
        raise ValueError(f"scale factor must be > 0, got {factor}")
    future = None if scene.future_xy is None else (scene.future_xy * factor).astype(np.float32)
    return replace(
        scene,
        xy=(scene.xy * factor).astype(np.float32),
        velocity=(scene.velocity * factor).astype(np.float32),
        map_points=(scene.map_points * factor).astype(np.float32),
        future_xy=future,
    )


def mirror_scene(scene: SceneTensors) -> SceneTensors:
    """The reflection y -> -y of every scene-frame array (headings negated)."""
    flip = np.array([1.0, -1.0], np.float32)
    future = None if scene.future_xy is None else (scene.future_xy * flip).astype(np.float32)
    return replace(
        scene,
        xy=(scene.xy * flip).astype(np.float32),
        heading=(-scene.heading).astype(np.float32),
        velocity=(scene.velocity * flip).astype(np.float32),
        map_points=(scene.map_points * flip).astype(np.float32),
        future_xy=future,
    )


def derive_motion(
    xy: np.ndarray, valid: np.ndarray, heading: np.ndarray, dt_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Velocity [A, T, 2] (backward difference where the previous step is valid, forward at a
    run's start, else 0) and heading [A, T] (velocity direction; held below 0.05 m/s, the
    given `heading` at the first step) of positions xy [A, T, 2] valid bool [A, T]."""
    both = valid[:, 1:] & valid[:, :-1]
    step = np.where(both[..., None], np.diff(xy, axis=1) / dt_s, 0.0)
    velocity = np.zeros_like(xy, dtype=np.float64)
    velocity[:, 1:] = step
    start = valid[:, :-1] & ~np.concatenate([np.zeros_like(valid[:, :1]), both[:, :-1]], 1)
    velocity[:, :-1] = np.where((start & both)[..., None], step, velocity[:, :-1])
    speed = np.linalg.norm(velocity, axis=-1)
    direction = np.arctan2(velocity[..., 1], velocity[..., 0])
    out = heading.astype(np.float64).copy()
    for t in range(xy.shape[1]):
        moving = valid[:, t] & (speed[:, t] >= _HEADING_MIN_SPEED_MPS)
        held = out[:, t - 1] if t > 0 else out[:, 0]
        out[:, t] = np.where(moving, direction[:, t], held)
    return _masked(velocity, valid), _masked(out, valid)


def jitter_history(
    scene: SceneTensors, noise_m: float, rng: np.random.Generator, dt_s: float
) -> SceneTensors:
    """Gaussian noise (std `noise_m`) on the valid history positions; velocities and
    headings re-derived from the noisy positions (`derive_motion`); the future untouched."""
    noisy = scene.xy + rng.normal(0.0, noise_m, scene.xy.shape)
    velocity, heading = derive_motion(noisy, scene.valid, scene.heading, dt_s)
    return replace(scene, xy=_masked(noisy, scene.valid), velocity=velocity, heading=heading)


def reverse_scene(scene: SceneTensors, dt_s: float) -> SceneTensors | None:
    """The window played backwards: its T + H positions s_0..s_{T+H-1} (history then
    future) become s_{T+H-1}..s_0, cut again into T history and H future steps (the new now
    is s_H). Kept: agents valid at the new now with a valid new future step; velocities and
    headings re-derived (`derive_motion`, heading 0 until the first move). None when no
    agent is kept or the scene has no future."""
    if scene.future_xy is None or scene.future_valid is None:
        return None
    steps = scene.xy.shape[1]
    xy = np.concatenate([scene.xy, scene.future_xy], axis=1)[:, ::-1]
    valid = np.concatenate([scene.valid, scene.future_valid], axis=1)[:, ::-1]
    keep = valid[:, steps - 1] & valid[:, steps:].any(-1)
    if not keep.any():
        return None
    xy, valid = xy[keep].astype(np.float64), valid[keep]
    history = xy[:, :steps], valid[:, :steps]
    velocity, heading = derive_motion(*history, np.zeros(history[1].shape), dt_s)
    return replace(
        scene,
        agent_rows=scene.agent_rows[keep],
        xy=_masked(xy[:, :steps], valid[:, :steps]),
        heading=heading,
        velocity=velocity,
        valid=valid[:, :steps].copy(),
        types=scene.types[keep],
        confidence=scene.confidence[keep],
        future_xy=_masked(xy[:, steps:], valid[:, steps:]),
        future_valid=valid[:, steps:].copy(),
    )


def make_augment(config: AugmentConfig, dt_s: float) -> Augment | None:
    """The `training.fit` augmentation of `config` (None when it changes nothing)."""
    if config.is_identity:
        return None
    low, high = (math.log(v) for v in config.scale_range)

    def augment(scene: SceneTensors, rng: np.random.Generator) -> SceneTensors:
        if config.reverse_probability and rng.random() < config.reverse_probability:
            scene = reverse_scene(scene, dt_s) or scene
        if config.history_noise_m:
            scene = jitter_history(scene, config.history_noise_m, rng, dt_s)
        if high > low:
            scene = scale_scene(scene, math.exp(rng.uniform(low, high)))
        if config.mirror_probability and rng.random() < config.mirror_probability:
            scene = mirror_scene(scene)
        return scene

    return augment
