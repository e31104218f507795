"""HD maps: lanes and their graph, crosswalks, stop lines, signals, drivable area; queries."""

from urbandrive.maps.frenet import ReferencePath, ReferencePathConfig
from urbandrive.maps.index import LaneIndex, PoseMatchConfig
from urbandrive.maps.road_map import (
    DEFAULT_SPEED_LIMIT_MPS,
    Crosswalk,
    Lane,
    LaneType,
    RoadMap,
    StopKind,
    StopLine,
    TrafficSignal,
)
from urbandrive.maps.routing import LaneGraph, MapMatchConfig, NoRouteError, RoutingConfig

__all__ = [
    "DEFAULT_SPEED_LIMIT_MPS",
    "Crosswalk",
    "Lane",
    "LaneGraph",
    "LaneIndex",
    "LaneType",
    "MapMatchConfig",
    "NoRouteError",
    "PoseMatchConfig",
    "ReferencePath",
    "ReferencePathConfig",
    "RoadMap",
    "RoutingConfig",
    "StopKind",
    "StopLine",
    "TrafficSignal",
]
