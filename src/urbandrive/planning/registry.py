"""The planners `urbandrive simulate --planner NAME` knows, by name."""

from urbandrive.planning.baselines import IdmPlanner, LogPlanner
from urbandrive.planning.interfaces import PlannerRegistry
from urbandrive.planning.planner import UrbanPlanner

PLANNERS = PlannerRegistry()
PLANNERS.register("log", LogPlanner)
PLANNERS.register("idm", IdmPlanner)
PLANNERS.register("urban", UrbanPlanner)
