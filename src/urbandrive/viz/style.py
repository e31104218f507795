"""Colours and line styles of the bird's-eye view: agent types, lane marks, light states."""

from __future__ import annotations

from dataclasses import dataclass

from urbandrive.core.agent_type import AgentType
from urbandrive.core.traffic_light import TrafficLightState

BACKGROUND = "#FFFFFF"
DRIVABLE_AREA = "#CFCFCF"
CENTERLINE = "#8A8A8A"
UNPAINTED_BOUNDARY = "#A8A8A8"
CROSSWALK = "#FAFAFA"
CROSSWALK_EDGE = "#7A7A7A"
STOP_LINE = "#FFFFFF"
EGO_FACE = "#E31A1C"
EGO_EDGE = "#000000"
HEADING_TICK = "#202020"

#: Face colour per agent type (Paired palette, legible on the grey road).
AGENT_COLORS: dict[AgentType, str] = {
    AgentType.UNKNOWN: "#7F7F7F",
    AgentType.VEHICLE: "#1F78B4",
    AgentType.LARGE_VEHICLE: "#6A3D9A",
    AgentType.CYCLIST: "#FF7F00",
    AgentType.MOTORCYCLIST: "#B15928",
    AgentType.PEDESTRIAN: "#33A02C",
    AgentType.ANIMAL: "#FB9A99",
    AgentType.STATIC: "#B3B3B3",
}

#: Legend labels per agent type.
AGENT_LABELS: dict[AgentType, str] = {
    AgentType.UNKNOWN: "unknown",
    AgentType.VEHICLE: "vehicle",
    AgentType.LARGE_VEHICLE: "bus / truck",
    AgentType.CYCLIST: "cyclist",
    AgentType.MOTORCYCLIST: "motorcyclist",
    AgentType.PEDESTRIAN: "pedestrian",
    AgentType.ANIMAL: "animal",
    AgentType.STATIC: "static object",
}

#: Drawing order within the agents layer: later types are drawn on top.
AGENT_DRAW_ORDER: dict[AgentType, int] = {
    AgentType.STATIC: 0,
    AgentType.UNKNOWN: 1,
    AgentType.LARGE_VEHICLE: 2,
    AgentType.VEHICLE: 3,
    AgentType.MOTORCYCLIST: 4,
    AgentType.CYCLIST: 5,
    AgentType.ANIMAL: 6,
    AgentType.PEDESTRIAN: 7,
}

LIGHT_COLORS: dict[TrafficLightState, str] = {
    TrafficLightState.UNKNOWN: "#9E9E9E",
    TrafficLightState.RED: "#E00000",
    TrafficLightState.YELLOW: "#FFC000",
    TrafficLightState.GREEN: "#00B050",
    TrafficLightState.FLASHING_RED: "#8B0000",
    TrafficLightState.FLASHING_YELLOW: "#B8860B",
}

_PAINT_COLORS = {"WHITE": "#FFFFFF", "YELLOW": "#E8B800", "BLUE": "#3A6FD8"}


@dataclass(frozen=True, slots=True)
class MarkStyle:
    """How one painted lane boundary is drawn: colour, dashed or solid, line width in points."""

    color: str
    dashed: bool
    linewidth_pt: float


def mark_style(mark_type: str, is_intersection: bool) -> MarkStyle:
    """Style of a boundary named like AV2 (`DASHED_WHITE`, `DOUBLE_SOLID_YELLOW`, `NONE`, ...).

    Unknown or unpainted marks are thin grey; intersection lanes are thin and light.
    """
    name = mark_type.upper()
    color_name = name.rsplit("_", 1)[-1]
    if is_intersection or color_name not in _PAINT_COLORS:
        return MarkStyle(UNPAINTED_BOUNDARY, dashed=is_intersection, linewidth_pt=0.5)
    dashed = name.startswith("DASHED") or name.startswith("DOUBLE_DASH")
    linewidth_pt = 2.0 if name.startswith("DOUBLE") else 1.2
    return MarkStyle(_PAINT_COLORS[color_name], dashed=dashed, linewidth_pt=linewidth_pt)
