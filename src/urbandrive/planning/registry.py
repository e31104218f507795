"""The planners `urbandrive simulate --planner NAME` knows, by name."""

import dataclasses

from urbandrive.core.errors import UrbandriveError
from urbandrive.core.scenario import Scenario
from urbandrive.planning.baselines import IdmPlanner, LogPlanner
from urbandrive.planning.interfaces import Planner, PlannerOptions, PlannerRegistry
from urbandrive.planning.planner import URBAN_DEFAULT, UrbanPlanner

#: What `urbandrive simulate` runs without --planner.
DEFAULT_PLANNER = "urban"


def _without_prediction(name: str, options: PlannerOptions) -> None:
    if options.predictor is not None:
        raise UrbandriveError(
            f"planner {name!r} uses no predictor (got --predictor {options.predictor})"
        )


def _log(scenario: Scenario, options: PlannerOptions) -> Planner:
    _without_prediction("log", options)
    return LogPlanner(scenario)


def _idm(scenario: Scenario, options: PlannerOptions) -> Planner:
    _without_prediction("idm", options)
    return IdmPlanner(scenario)


def _urban(scenario: Scenario, options: PlannerOptions) -> Planner:
    if options.predictor is None:
        return UrbanPlanner(scenario, URBAN_DEFAULT)
    return UrbanPlanner(scenario, dataclasses.replace(URBAN_DEFAULT, predictor=options.predictor))


PLANNERS = PlannerRegistry()
PLANNERS.register("log", _log)
PLANNERS.register("idm", _idm)
PLANNERS.register("urban", _urban)
