"""Perception noise: what a tracker would have reported instead of the ground truth.

`apply_perception_noise(scenario, config, seed)` returns a noised copy of a scenario:

- position, heading and velocity errors, temporally correlated (AR(1) with correlation time
  `correlation_time_s`, stationary std as configured), scaled per `AgentType`;
- heading flips by pi for slow pedestrians (their orientation is ambiguous when they stand);
- track drop-outs (short runs of `valid = False`) and late track births (the first steps of a
  track are missed);
- box-size noise: one relative error per track (`size_m`), plus small per-step jitter kept as
  the attribute `size_jitter_m: float32[A, T, 2]`;
- type confusion (cyclist <-> pedestrian, vehicle <-> large vehicle, motorcyclist -> cyclist)
  with a per-agent `category_confidence: float32[A]` attribute, lower for confused agents.

The ego is never noised. Each component draws from its own child generator of `seed`, so
switching one component off leaves the draws of the others unchanged, and the same seed gives
the same noised scenario bit for bit. Invalid steps stay zero-filled.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.signal import lfilter

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import AgentInfo, Tracks
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.angles import wrap_angle

METADATA_KEY = "perception_noise"
CONFIDENCE_ATTRIBUTE = "category_confidence"
SIZE_JITTER_ATTRIBUTE = "size_jitter_m"

#: The type a confused detector reports instead of the true one (types not listed stay).
CONFUSED_TYPE: dict[AgentType, AgentType] = {
    AgentType.CYCLIST: AgentType.PEDESTRIAN,
    AgentType.PEDESTRIAN: AgentType.CYCLIST,
    AgentType.VEHICLE: AgentType.LARGE_VEHICLE,
    AgentType.LARGE_VEHICLE: AgentType.VEHICLE,
    AgentType.MOTORCYCLIST: AgentType.CYCLIST,
}

#: Default per-type multipliers of the position / heading / velocity stds, by `AgentType` value.
DEFAULT_TYPE_SCALE = (1.0, 1.0, 1.5, 0.7, 0.8, 0.5, 0.7, 0.3)


@dataclass(frozen=True, slots=True)
class PerceptionNoiseConfig:
    """How noisy the perceived tracks are. Stds are stationary (per axis for xy and velocity).

    type_scale: multiplier of the three stds per `AgentType` value (len(AgentType) entries).
    correlation_time_s: AR(1) time constant of the errors; 0 gives white noise.
    heading_flip_probability: per step, for pedestrians slower than `heading_flip_max_speed_mps`.
    dropout_rate_per_s: rate at which a drop-out run starts, per agent; runs last a geometric
        number of steps with mean `dropout_mean_steps`.
    late_birth_probability: per agent, chance its first 1..`late_birth_max_steps` observed
        steps are missed.
    keep_current_step: drop-outs and late births never hide an agent's `current_index` step.
    size_std_fraction: relative std of each track's (length, width); size_jitter_std_m: per
        step jitter recorded as an attribute (0: no attribute).
    type_confusion_probability: per agent, chance its type is reported as `CONFUSED_TYPE`.
    """

    position_std_m: float = 0.0
    heading_std_rad: float = 0.0
    velocity_std_mps: float = 0.0
    correlation_time_s: float = 0.5
    type_scale: tuple[float, ...] = DEFAULT_TYPE_SCALE
    heading_flip_probability: float = 0.0
    heading_flip_max_speed_mps: float = 0.5
    dropout_rate_per_s: float = 0.0
    dropout_mean_steps: float = 3.0
    late_birth_probability: float = 0.0
    late_birth_max_steps: int = 5
    keep_current_step: bool = True
    size_std_fraction: float = 0.0
    size_jitter_std_m: float = 0.0
    type_confusion_probability: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "position_std_m",
            "heading_std_rad",
            "velocity_std_mps",
            "correlation_time_s",
            "heading_flip_max_speed_mps",
            "dropout_rate_per_s",
            "size_std_fraction",
            "size_jitter_std_m",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        for name in (
            "heading_flip_probability",
            "late_birth_probability",
            "type_confusion_probability",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if len(self.type_scale) != len(AgentType) or min(self.type_scale) < 0:
            raise ValueError(
                f"type_scale needs {len(AgentType)} values >= 0, got {self.type_scale}"
            )
        if self.dropout_mean_steps < 1.0:
            raise ValueError(f"dropout_mean_steps must be >= 1, got {self.dropout_mean_steps}")
        if self.late_birth_max_steps < 1:
            raise ValueError(f"late_birth_max_steps must be >= 1, got {self.late_birth_max_steps}")
        if self.size_std_fraction > 0.3:
            raise ValueError(f"size_std_fraction must be <= 0.3, got {self.size_std_fraction}")

    @classmethod
    def none(cls) -> PerceptionNoiseConfig:
        """No noise at all: the tracks come back unchanged."""
        return cls()

    @classmethod
    def typical(cls) -> PerceptionNoiseConfig:
        """A good production tracker in clear weather."""
        return cls(
            position_std_m=0.15,
            heading_std_rad=0.03,
            velocity_std_mps=0.2,
            correlation_time_s=0.5,
            heading_flip_probability=0.1,
            dropout_rate_per_s=0.05,
            dropout_mean_steps=3.0,
            late_birth_probability=0.2,
            late_birth_max_steps=5,
            size_std_fraction=0.05,
            size_jitter_std_m=0.05,
            type_confusion_probability=0.02,
        )

    @classmethod
    def heavy(cls) -> PerceptionNoiseConfig:
        """Rain, occlusion, a weak tracker: large, slow errors and many missed steps."""
        return cls(
            position_std_m=0.5,
            heading_std_rad=0.1,
            velocity_std_mps=0.6,
            correlation_time_s=1.0,
            heading_flip_probability=0.3,
            dropout_rate_per_s=0.3,
            dropout_mean_steps=5.0,
            late_birth_probability=0.5,
            late_birth_max_steps=10,
            size_std_fraction=0.15,
            size_jitter_std_m=0.15,
            type_confusion_probability=0.1,
        )

    @classmethod
    def preset(cls, name: str) -> PerceptionNoiseConfig:
        """The preset called `name` ("none", "typical" or "heavy")."""
        if name not in PRESETS:
            raise ValueError(f"unknown noise preset {name!r}; known: {sorted(PRESETS)}")
        return getattr(cls, name)()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples become lists)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }


PRESETS = ("none", "typical", "heavy")


def apply_perception_noise(
    scenario: Scenario, config: PerceptionNoiseConfig, seed: int
) -> Scenario:
    """The scenario as a tracker with `config`'s errors would have reported it (see module doc).

    The settings and seed are recorded in `metadata["perception_noise"]`; noising a scenario
    twice raises `DataError`.
    """
    if METADATA_KEY in scenario.metadata:
        raise DataError(f"scenario {scenario.id!r}: metadata already has {METADATA_KEY!r}")
    rngs = np.random.default_rng(seed).spawn(7)
    tracks = scenario.tracks
    noised = _noised_mask(tracks.num_agents, scenario.ego_index)
    scale = np.asarray(config.type_scale, dtype=np.float64)[tracks.types] * noised
    dt_s = scenario.dt_s
    xy = _add_correlated(rngs[0], tracks.xy, config.position_std_m, config, dt_s, scale)
    heading = _noised_heading(rngs[1], tracks, config, dt_s, scale, noised)
    velocity = _add_correlated(
        rngs[2], tracks.velocity, config.velocity_std_mps, config, dt_s, scale
    )
    hidden = _dropouts(rngs[3], tracks.valid, config, dt_s) | _late_births(
        rngs[4], tracks.valid, config
    )
    hidden &= noised[:, None]
    if config.keep_current_step:
        hidden[:, scenario.current_index] = False
    valid = tracks.valid & ~hidden
    info = _noised_info(rngs[5], rngs[6], tracks, config, noised)
    noised_tracks = Tracks(
        info=info,
        xy=np.where(valid[..., None], xy, 0.0),
        heading=np.where(valid, heading, 0.0),
        velocity=np.where(valid[..., None], velocity, 0.0),
        valid=valid,
    )
    metadata = {**scenario.metadata, METADATA_KEY: {"seed": int(seed), **config.to_dict()}}
    return replace(scenario, tracks=noised_tracks, metadata=metadata)


def _noised_mask(num_agents: int, ego_index: int | None) -> NDArrayBool:
    """bool[A]: every agent but the ego."""
    mask = np.ones(num_agents, dtype=bool)
    if ego_index is not None:
        mask[ego_index] = False
    return mask


def ar1_noise(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    std: float,
    correlation_time_s: float,
    dt_s: float,
) -> NDArrayF64:
    """float64[shape] stationary AR(1) noise along axis 1 (time) with std `std` at every step.

    e[0] = std w[0]; e[t] = rho e[t-1] + std sqrt(1 - rho^2) w[t], rho = exp(-dt / tau).
    """
    white = rng.standard_normal(shape)
    if correlation_time_s == 0.0:
        return std * white
    rho = math.exp(-dt_s / correlation_time_s)
    innovation = white * (std * math.sqrt(1.0 - rho * rho))
    innovation[:, 0] = std * white[:, 0]
    return lfilter([1.0], [1.0, -rho], innovation, axis=1)


def _add_correlated(
    rng: np.random.Generator,
    values: NDArrayF64,
    std: float,
    config: PerceptionNoiseConfig,
    dt_s: float,
    scale: NDArrayF64,
) -> NDArrayF64:
    """`values: float64[A, T, ...]` plus AR(1) noise of std `std * scale[A]`; as is if std 0."""
    if std == 0.0:
        return values
    noise = ar1_noise(rng, values.shape, std, config.correlation_time_s, dt_s)
    return values + noise * scale.reshape((-1,) + (1,) * (values.ndim - 1))


def _noised_heading(
    rng: np.random.Generator,
    tracks: Tracks,
    config: PerceptionNoiseConfig,
    dt_s: float,
    scale: NDArrayF64,
    noised: NDArrayBool,
) -> NDArrayF64:
    """float64[A, T]: correlated heading error plus pi flips of slow pedestrians, wrapped."""
    error_rng, flip_rng = rng.spawn(2)
    error = _add_correlated(
        error_rng, np.zeros_like(tracks.heading), config.heading_std_rad, config, dt_s, scale
    )
    slow_pedestrian = (tracks.types == AgentType.PEDESTRIAN)[:, None] & (
        tracks.speed_mps < config.heading_flip_max_speed_mps
    )
    flips = flip_rng.random(tracks.heading.shape) < config.heading_flip_probability
    flips &= slow_pedestrian & noised[:, None]
    changed = (error != 0.0) | flips
    if not changed.any():
        return tracks.heading
    noised_heading = wrap_angle(tracks.heading + error + np.where(flips, np.pi, 0.0))
    return np.where(changed, noised_heading, tracks.heading)


def _dropouts(
    rng: np.random.Generator, valid: NDArrayBool, config: PerceptionNoiseConfig, dt_s: float
) -> NDArrayBool:
    """bool[A, T]: steps hidden by drop-out runs (geometric lengths, mean dropout_mean_steps)."""
    num_agents, num_steps = valid.shape
    start_rng, length_rng = rng.spawn(2)
    starts = start_rng.random(valid.shape) < config.dropout_rate_per_s * dt_s
    lengths = length_rng.geometric(1.0 / config.dropout_mean_steps, size=valid.shape)
    agent, step = np.nonzero(starts)
    change = np.zeros((num_agents, num_steps + 1), dtype=np.int64)
    np.add.at(change, (agent, step), 1)
    np.add.at(change, (agent, np.minimum(step + lengths[agent, step], num_steps)), -1)
    return np.cumsum(change[:, :-1], axis=1) > 0


def _late_births(
    rng: np.random.Generator, valid: NDArrayBool, config: PerceptionNoiseConfig
) -> NDArrayBool:
    """bool[A, T]: the first 1..late_birth_max_steps valid steps of the late-born agents."""
    born_rng, delay_rng = rng.spawn(2)
    late = born_rng.random(valid.shape[0]) < config.late_birth_probability
    delay = delay_rng.integers(1, config.late_birth_max_steps + 1, size=valid.shape[0])
    observed_so_far = np.cumsum(valid, axis=1)
    return valid & late[:, None] & (observed_so_far <= delay[:, None])


def _noised_info(
    size_rng: np.random.Generator,
    type_rng: np.random.Generator,
    tracks: Tracks,
    config: PerceptionNoiseConfig,
    noised: NDArrayBool,
) -> AgentInfo:
    """Sizes with per-track error (and per-step jitter attribute), confused types, confidence."""
    info = tracks.info
    factor = 1.0 + config.size_std_fraction * size_rng.standard_normal(info.size_m.shape)
    factor = np.where(noised[:, None], np.clip(factor, 0.5, 1.5), 1.0)
    attributes = dict(info.attributes)
    jitter = size_rng.standard_normal((tracks.num_agents, tracks.num_steps, 2))
    if config.size_jitter_std_m > 0.0:
        jitter *= config.size_jitter_std_m * (noised[:, None, None] & tracks.valid[..., None])
        attributes[SIZE_JITTER_ATTRIBUTE] = jitter.astype(np.float32)
    types, confidence = confuse_types(type_rng, info.types, config, noised)
    attributes[CONFIDENCE_ATTRIBUTE] = confidence
    return AgentInfo(ids=info.ids, types=types, size_m=info.size_m * factor, attributes=attributes)


def confuse_types(
    rng: np.random.Generator,
    types: NDArrayInt,
    config: PerceptionNoiseConfig,
    noised: NDArrayBool,
) -> tuple[NDArrayInt, np.ndarray]:
    """(reported types, category_confidence: float32[A]) after type confusion.

    Confused agents get confidence in [0.35, 0.65), the others in [0.8, 1.0) (1.0 for agents
    not noised, and for every agent when the confusion probability is 0).
    """
    confusable = np.zeros(len(AgentType), dtype=bool)
    target = np.arange(len(AgentType), dtype=types.dtype)
    for source, confused in CONFUSED_TYPE.items():
        confusable[source], target[source] = True, confused
    draw, low, high = (
        rng.random(types.shape[0]),
        rng.random(types.shape[0]),
        rng.random(types.shape[0]),
    )
    confused_mask = noised & confusable[types] & (draw < config.type_confusion_probability)
    reported = np.where(confused_mask, target[types], types).astype(types.dtype)
    if config.type_confusion_probability == 0.0:
        return reported, np.ones(types.shape[0], dtype=np.float32)
    confidence = np.where(confused_mask, 0.35 + 0.3 * low, 0.8 + 0.2 * high)
    return reported, np.where(noised, confidence, 1.0).astype(np.float32)
