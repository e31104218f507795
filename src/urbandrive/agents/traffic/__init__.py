"""Map-level town traffic: cars (IDM + MOBIL, lights, all-way stops, gap acceptance), buses,
cyclists, pedestrians, dogs and parked cars as one struct-of-arrays world stepped at 10 Hz."""

from urbandrive.agents.traffic.drivers import (
    DriverParams,
    DriverSampling,
    idm_accelerations,
    sample_drivers,
)
from urbandrive.agents.traffic.network import EventKind, PathEvents, TrafficMap, pack_events
from urbandrive.agents.traffic.paths import PATH_SPACING_M, PathRow, PathTable, stack_paths
from urbandrive.agents.traffic.routes import lane_route_path, route_events
from urbandrive.agents.traffic.step import DT_S, step
from urbandrive.agents.traffic.walkers import CrossingSignal
from urbandrive.agents.traffic.world import AgentKind, TrafficWorld, initial_world

__all__ = [
    "DT_S",
    "PATH_SPACING_M",
    "AgentKind",
    "CrossingSignal",
    "DriverParams",
    "DriverSampling",
    "EventKind",
    "PathEvents",
    "PathRow",
    "PathTable",
    "TrafficMap",
    "TrafficWorld",
    "idm_accelerations",
    "initial_world",
    "lane_route_path",
    "pack_events",
    "route_events",
    "sample_drivers",
    "stack_paths",
    "step",
]
