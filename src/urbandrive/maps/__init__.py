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
from urbandrive.maps.vectorize import (
    NUM_MAP_FEATURES,
    MapFeature,
    MapPolylines,
    PolylinePieces,
    polyline_pieces,
    vectorize_map,
)

__all__ = [
    "DEFAULT_SPEED_LIMIT_MPS",
    "NUM_MAP_FEATURES",
    "Crosswalk",
    "Lane",
    "LaneGraph",
    "LaneIndex",
    "LaneType",
    "MapFeature",
    "MapMatchConfig",
    "MapPolylines",
    "NoRouteError",
    "PolylinePieces",
    "PoseMatchConfig",
    "ReferencePath",
    "ReferencePathConfig",
    "RoadMap",
    "RoutingConfig",
    "StopKind",
    "StopLine",
    "TrafficSignal",
    "polyline_pieces",
    "vectorize_map",
]
