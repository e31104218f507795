"""Planning: reference lines, proposals, scoring, risk-aware selection, planners."""

from urbandrive.planning.interfaces import (
    Plan,
    Planner,
    PlannerFactory,
    PlannerOptions,
    PlannerRegistry,
)

__all__ = ["Plan", "Planner", "PlannerFactory", "PlannerOptions", "PlannerRegistry"]
