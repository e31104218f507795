"""The predictors `urbandrive evaluate-prediction --predictor NAME` knows, by name.

A factory takes `PredictorSettings` (horizon, step, modes, seed) and returns a `Predictor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from urbandrive.core.errors import UrbandriveError
from urbandrive.prediction.baselines import (
    ConstantVelocityConfig,
    ConstantVelocityPredictor,
    CtraConfig,
    CtraPredictor,
    LaneConfig,
    LanePredictor,
    SampledConstantVelocityConfig,
    SampledConstantVelocityPredictor,
)
from urbandrive.prediction.interfaces import Predictor
from urbandrive.prediction.learned import learned_from_settings, learned_near_from_settings


@dataclass(frozen=True, slots=True)
class PredictorSettings:
    """What every predictor is built from: horizon_s and dt_s (seconds) of the predicted
    steps; num_modes (None: the predictor's default); seed for sampling predictors."""

    horizon_s: float = 8.0
    dt_s: float = 0.1
    num_modes: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not (self.horizon_s > 0 and 0 < self.dt_s <= self.horizon_s):
            raise ValueError(f"need 0 < dt_s <= horizon_s, got {self.dt_s}, {self.horizon_s}")
        if self.num_modes is not None and self.num_modes < 1:
            raise ValueError(f"num_modes must be >= 1, got {self.num_modes}")


PredictorFactory = Callable[[PredictorSettings], Predictor]


class PredictorRegistry:
    """Predictor factories by name; `register` refuses duplicates."""

    def __init__(self) -> None:
        self._factories: dict[str, PredictorFactory] = {}

    def register(self, name: str, factory: PredictorFactory) -> None:
        if name in self._factories:
            raise ValueError(f"predictor {name!r} is already registered")
        self._factories[name] = factory

    def create(self, name: str, settings: PredictorSettings | None = None) -> Predictor:
        """A predictor named `name`; `UrbandriveError` listing the known names if unknown."""
        if name not in self._factories:
            raise UrbandriveError(f"unknown predictor {name!r}; known: {self.names}")
        return self._factories[name](settings or PredictorSettings())

    @property
    def names(self) -> list[str]:
        return sorted(self._factories)


def _single_mode_only(name: str, settings: PredictorSettings) -> None:
    if settings.num_modes not in (None, 1):
        raise UrbandriveError(f"predictor {name!r} has one mode, not {settings.num_modes}")


def _cv(settings: PredictorSettings) -> Predictor:
    _single_mode_only("cv", settings)
    return ConstantVelocityPredictor(ConstantVelocityConfig(settings.horizon_s, settings.dt_s))


def _ctra(settings: PredictorSettings) -> Predictor:
    _single_mode_only("ctra", settings)
    return CtraPredictor(CtraConfig(horizon_s=settings.horizon_s, dt_s=settings.dt_s))


def _lane(settings: PredictorSettings) -> Predictor:
    config = LaneConfig(
        horizon_s=settings.horizon_s, dt_s=settings.dt_s, num_modes=settings.num_modes or 6
    )
    return LanePredictor(config)


def _cv_sampled(settings: PredictorSettings) -> Predictor:
    config = SampledConstantVelocityConfig(
        horizon_s=settings.horizon_s,
        dt_s=settings.dt_s,
        num_samples=settings.num_modes or 20,
        seed=settings.seed,
    )
    return SampledConstantVelocityPredictor(config)


PREDICTORS = PredictorRegistry()
PREDICTORS.register("cv", _cv)
PREDICTORS.register("ctra", _ctra)
PREDICTORS.register("lane", _lane)
PREDICTORS.register("cv_sampled", _cv_sampled)
PREDICTORS.register("learned", learned_from_settings)
PREDICTORS.register("learned_near", learned_near_from_settings)
