"""Scenario families: named, parameterised generators of one driving situation each, with a
concrete pass criterion for the ego. An explicit registry refuses duplicate names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario

#: build(seed, params) -> scenario; params override the family's seeded draws (None: all drawn).
BuildFunction = Callable[[int, Mapping[str, float] | None], Scenario]
#: passed(result, scenario) -> bool: the simulation result dict and the simulated scenario.
PassFunction = Callable[[Mapping[str, Any], Scenario], bool]


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """One family: `build(seed, params)` makes a validated scenario (the same seed and params
    give the same arrays); `passed(result, scenario)` judges a closed-loop run of it."""

    name: str
    description: str
    pass_criterion_text: str
    build: BuildFunction
    passed: PassFunction

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"family name {self.name!r} must be non-empty [a-z0-9_]")


FAMILIES: dict[str, FamilySpec] = {}


def register_family(spec: FamilySpec) -> FamilySpec:
    """Add `spec` under its name; `ValueError` if the name is taken."""
    if spec.name in FAMILIES:
        raise ValueError(f"scenario family {spec.name!r} is already registered")
    FAMILIES[spec.name] = spec
    return spec


def family_spec(name: str) -> FamilySpec:
    """The registered family `name`; `DataError` listing the known ones."""
    if name not in FAMILIES:
        raise DataError(f"unknown scenario family {name!r}; known: {sorted(FAMILIES)}")
    return FAMILIES[name]


def scenario_passed(scenario: Scenario, result: Mapping[str, Any]) -> bool | None:
    """Whether the closed-loop `result` (a `SimulationJob` result dict) of the simulated
    `scenario` meets its family's pass criterion; None when the scenario has no family."""
    name = scenario.metadata.get("family") if scenario.metadata else None
    if name is None:
        return None
    if "error" in result:
        return False
    return bool(family_spec(str(name)).passed(result, scenario))
