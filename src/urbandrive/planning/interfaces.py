"""The planning contract: `Planner.plan(observation) -> Plan`, and a registry of planners by name.

Planners are built per scenario by a factory (`PlannerFactory(scenario) -> Planner`): the
`log` baseline needs the expert's recorded future, which no observation carries; every other
planner sees only observations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from urbandrive.core.errors import UrbandriveError
from urbandrive.core.observation import Observation
from urbandrive.core.scenario import Scenario
from urbandrive.core.trajectory import Trajectory
from urbandrive.prediction.interfaces import Prediction


@dataclass(frozen=True, slots=True)
class Plan:
    """What a planner decided at one step.

    trajectory: the chosen future of the ego's box centre, global frame, batch shape ().
    candidates: every trajectory considered, batch shape (M,), or None.
    scores: term name -> float64[M] per candidate (a `ScoreTable`'s columns), may be empty.
    selected: index of `trajectory` among `candidates`, or None.
    prediction: the forecast the plan was made against, or None.
    """

    trajectory: Trajectory
    candidates: Trajectory | None = None
    scores: Mapping[str, np.ndarray] = field(default_factory=dict)
    selected: int | None = None
    prediction: Prediction | None = None


class Planner(Protocol):
    name: str

    def plan(self, observation: Observation) -> Plan: ...


@dataclass(frozen=True, slots=True)
class PlannerOptions:
    """Run-time choices a planner factory may honour. predictor: a name of the prediction
    registry, or None for the planner's own default."""

    predictor: str | None = None


PlannerFactory = Callable[[Scenario, PlannerOptions], Planner]


class PlannerRegistry:
    """Planner factories by name; `register` refuses duplicates."""

    def __init__(self) -> None:
        self._factories: dict[str, PlannerFactory] = {}

    def register(self, name: str, factory: PlannerFactory) -> None:
        if name in self._factories:
            raise ValueError(f"planner {name!r} is already registered")
        self._factories[name] = factory

    def create(
        self, name: str, scenario: Scenario, options: PlannerOptions | None = None
    ) -> Planner:
        if name not in self._factories:
            raise UrbandriveError(f"unknown planner {name!r}; known: {sorted(self._factories)}")
        return self._factories[name](scenario, options if options is not None else PlannerOptions())

    @property
    def names(self) -> list[str]:
        return sorted(self._factories)
