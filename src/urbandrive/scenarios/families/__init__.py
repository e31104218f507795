"""Scenario families on the built-in town: named, parameterised generators of one driving
situation each (a lead braking hard, a cut-in, a jaywalker, ...) with a pass criterion for
the ego. `FAMILIES[name].build(seed, params)`; `scenario_passed(scenario, result)`."""

from urbandrive.scenarios.families import junctions, obstacles, vehicles, vulnerable  # noqa: F401
from urbandrive.scenarios.families.spec import (
    FAMILIES,
    FamilySpec,
    family_spec,
    register_family,
    scenario_passed,
)

__all__ = ["FAMILIES", "FamilySpec", "family_spec", "register_family", "scenario_passed"]
