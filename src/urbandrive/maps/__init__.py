"""HD maps: lanes and their graph, crosswalks, stop lines, signals, drivable area; queries."""

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

__all__ = [
    "DEFAULT_SPEED_LIMIT_MPS",
    "Crosswalk",
    "Lane",
    "LaneType",
    "RoadMap",
    "StopKind",
    "StopLine",
    "TrafficSignal",
]
