"""The road: drivable area, lane marks by type, centrelines, crosswalks, stop lines, signals."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.colors import to_rgba, to_rgba_array

from urbandrive.core.scenario import Scenario
from urbandrive.core.traffic_light import TrafficLightState
from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.road_map import RoadMap
from urbandrive.viz import style

DASHES = (0, (4.0, 4.0))
CENTERLINE_DASHES = (0, (2.0, 3.0))


class MapLayer:
    """Static map artists; signal heads change colour per step when the scenario has lights.

    A scenario without a map draws nothing here (agents are still drawn by their layer).
    """

    def __init__(self, show_centerlines: bool = True) -> None:
        self.show_centerlines = show_centerlines
        self._signals: PathCollection | None = None
        self._signal_states: np.ndarray | None = None  # int8[S, T], TrafficLightState

    def draw_static(self, axes: Axes, scenario: Scenario) -> None:
        road_map = scenario.road_map
        if road_map is None:
            return
        _draw_road_surface(axes, road_map)
        _draw_crosswalks(axes, road_map)
        _draw_lane_marks(axes, road_map)
        if self.show_centerlines:
            _draw_centerlines(axes, road_map)
        _draw_stop_lines(axes, road_map)
        self._draw_signals(axes, scenario, road_map)

    def update(self, step: int) -> list[Artist]:
        if self._signals is None or self._signal_states is None:
            return []
        colors = _LIGHT_RGBA[self._signal_states[:, step]]
        self._signals.set_facecolors(colors)
        return [self._signals]

    def _draw_signals(self, axes: Axes, scenario: Scenario, road_map: RoadMap) -> None:
        """One marker per signal head; states from `scenario.traffic_lights` (else UNKNOWN)."""
        if not road_map.signals:
            return
        signal_ids = list(road_map.signals)
        xy = np.stack([road_map.signals[i].xy for i in signal_ids])
        states = np.zeros((len(signal_ids), scenario.num_steps), dtype=np.int8)
        lights = scenario.traffic_lights
        if lights is not None:
            row_of = {int(i): row for row, i in enumerate(lights.signal_ids)}
            for index, signal_id in enumerate(signal_ids):
                if signal_id in row_of:
                    states[index] = lights.states[row_of[signal_id]]
            self._signal_states = states
        self._signals = axes.scatter(
            xy[:, 0],
            xy[:, 1],
            s=36.0,
            marker="o",
            c=_LIGHT_RGBA[states[:, scenario.current_index]],
            edgecolors="black",
            linewidths=0.8,
            zorder=4.0,
        )


_LIGHT_RGBA = to_rgba_array([style.LIGHT_COLORS[s] for s in sorted(TrafficLightState)])


def _lane_polygon(left: NDArrayF64, right: NDArrayF64) -> NDArrayF64:
    """float64[P, 2]: the lane's outline, left boundary forward then right boundary back."""
    return np.concatenate([left, right[::-1]], axis=0)


def _draw_road_surface(axes: Axes, road_map: RoadMap) -> None:
    """Drivable areas filled grey, or the lanes' outlines when the map has no drivable area."""
    polygons = list(road_map.drivable_areas) or [
        _lane_polygon(lane.left_boundary, lane.right_boundary) for lane in road_map.lanes.values()
    ]
    surface = PolyCollection(
        polygons,
        facecolors=style.DRIVABLE_AREA,
        edgecolors=style.DRIVABLE_AREA,
        linewidths=0.3,
        zorder=0.1,
    )
    axes.add_collection(surface, autolim=False)


def _draw_crosswalks(axes: Axes, road_map: RoadMap) -> None:
    if not road_map.crosswalks:
        return
    polygons = [crosswalk.polygon for crosswalk in road_map.crosswalks.values()]
    crosswalks = PolyCollection(
        polygons,
        facecolors=style.CROSSWALK,
        edgecolors=style.CROSSWALK_EDGE,
        linewidths=0.6,
        hatch="////",
        zorder=0.3,
    )
    axes.add_collection(crosswalks, autolim=False)


def _draw_lane_marks(axes: Axes, road_map: RoadMap) -> None:
    """Each boundary in its mark's style: one LineCollection per (colour, dash, width)."""
    groups: dict[style.MarkStyle, list[NDArrayF64]] = defaultdict(list)
    for lane in road_map.lanes.values():
        for boundary, mark in (
            (lane.left_boundary, lane.left_mark_type),
            (lane.right_boundary, lane.right_mark_type),
        ):
            groups[style.mark_style(mark, lane.is_intersection)].append(boundary)
    for mark, lines in groups.items():
        painted = mark.color != style.UNPAINTED_BOUNDARY
        collection = LineCollection(
            lines,
            colors=mark.color,
            linewidths=mark.linewidth_pt,
            linestyles=DASHES if mark.dashed else "solid",
            zorder=0.6 if painted else 0.5,
        )
        axes.add_collection(collection, autolim=False)


def _draw_centerlines(axes: Axes, road_map: RoadMap) -> None:
    """Thin dashed centrelines; intersection lanes lighter."""
    lanes = list(road_map.lanes.values())
    colors = np.array(
        [to_rgba(style.CENTERLINE, 0.35 if lane.is_intersection else 0.8) for lane in lanes]
    )
    collection = LineCollection(
        [lane.centerline for lane in lanes],
        colors=colors,
        linewidths=0.5,
        linestyles=CENTERLINE_DASHES,
        zorder=0.55,
    )
    axes.add_collection(collection, autolim=False)


def _draw_stop_lines(axes: Axes, road_map: RoadMap) -> None:
    if not road_map.stop_lines:
        return
    lines = [stop_line.xy for stop_line in road_map.stop_lines.values()]
    collection = LineCollection(lines, colors=style.STOP_LINE, linewidths=2.5, zorder=0.7)
    axes.add_collection(collection, autolim=False)
