"""Agents: oriented boxes coloured by type, heading ticks, fading history tails, the ego."""

from __future__ import annotations

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba, to_rgba_array
from matplotlib.patches import Patch

from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.core.typing import NDArrayF64
from urbandrive.geometry.boxes import box_corners
from urbandrive.viz import style

#: How far the heading tick reaches beyond the box's front, metres.
TICK_BEYOND_FRONT_M = 0.8
#: How far the heading tick starts behind the box's front (at most a quarter length), metres.
TICK_INSIDE_FRONT_M = 1.0
TAIL_MAX_ALPHA = 0.7
#: Steps per fading chunk of the history tail.
TAIL_CHUNK_STEPS = 4


class AgentsLayer:
    """Every valid agent at the frame's step; the ego in its own colour with a thick outline.

    Boxes, ticks and tails are precomputed for all steps in `draw_static` (float64[A, T, ...]);
    `update` only slices them and hands them to reused collections.
    """

    def __init__(self, history_s: float = 2.0, show_legend: bool = True) -> None:
        self.history_s = history_s
        self.show_legend = show_legend

    def draw_static(self, axes: Axes, scenario: Scenario) -> None:
        tracks = scenario.tracks
        types = tracks.types.astype(np.int64)
        ego = -1 if scenario.ego_index is None else scenario.ego_index
        order = np.argsort([style.AGENT_DRAW_ORDER[AgentType(t)] for t in types], kind="stable")
        self._others = order[order != ego]
        self._ego = ego
        self._valid = tracks.valid
        self._corners = box_corners(tracks.xy, tracks.heading, tracks.size_m[:, None, :])
        self._ticks = _heading_ticks(tracks.xy, tracks.heading, tracks.size_m)
        self._face = to_rgba_array([style.AGENT_COLORS[AgentType(t)] for t in types])
        if ego >= 0:
            self._face[ego] = to_rgba(style.EGO_FACE)
        self._tail_steps = round(self.history_s / scenario.dt_s)
        self._xy = tracks.xy
        self._moving = types != int(AgentType.STATIC)
        self._make_artists(axes)
        if self.show_legend:
            _add_legend(axes, types, has_ego=ego >= 0)

    def _make_artists(self, axes: Axes) -> None:
        empty_boxes = np.zeros((0, 4, 2))
        self._tails = LineCollection([], linewidths=1.5, capstyle="round", zorder=2.0)
        self._boxes = PolyCollection(empty_boxes, edgecolors="#303030", linewidths=0.4, zorder=3.0)
        self._ego_box = PolyCollection(
            empty_boxes,
            facecolors=style.EGO_FACE,
            edgecolors=style.EGO_EDGE,
            linewidths=1.6,
            zorder=3.2,
        )
        self._tick_lines = LineCollection([], colors=style.HEADING_TICK, linewidths=0.8, zorder=3.3)
        for artist in (self._tails, self._boxes, self._ego_box, self._tick_lines):
            axes.add_collection(artist, autolim=False)

    def update(self, step: int) -> list[Artist]:
        others = self._others[self._valid[self._others, step]]
        self._boxes.set_verts(self._corners[others, step])
        self._boxes.set_facecolors(self._face[others])
        ego_shown = self._ego >= 0 and bool(self._valid[self._ego, step])
        self._ego_box.set_verts(
            self._corners[[self._ego], step] if ego_shown else np.zeros((0, 4, 2))
        )
        ticked = np.concatenate([others, [self._ego]] if ego_shown else [others])
        ticked = ticked[self._moving[ticked]]
        self._tick_lines.set_segments(self._ticks[ticked, step])
        self._update_tails(step)
        return [self._tails, self._boxes, self._ego_box, self._tick_lines]

    def _update_tails(self, step: int) -> None:
        """The last `history_s` seconds of agents valid now, fading with age.

        Drawn in chunks of `TAIL_CHUNK_STEPS` steps, one alpha per chunk (newest first):
        a few hundred paths per frame instead of one per step. Invalid steps break the line.
        """
        num_chunks = -(-self._tail_steps // TAIL_CHUNK_STEPS)
        ends = step - np.arange(num_chunks) * TAIL_CHUNK_STEPS  # [K]
        steps = ends[:, None] + np.arange(-TAIL_CHUNK_STEPS, 1)  # [K, C + 1]
        clipped = np.clip(steps, 0, None)
        point_ok = self._valid[:, clipped] & (steps >= 0) & self._moving[:, None, None]
        points = np.where(point_ok[..., None], self._xy[:, clipped], np.nan)  # [A, K, C + 1, 2]
        shown = (point_ok.sum(-1) >= 2) & self._valid[:, step, None]  # [A, K]
        colors = np.repeat(self._face[:, None, :], num_chunks, axis=1)
        colors[..., 3] = TAIL_MAX_ALPHA * (1.0 - np.arange(num_chunks) / num_chunks)
        self._tails.set_segments(points[shown])
        self._tails.set_color(colors[shown])


def _heading_ticks(xy: NDArrayF64, heading: NDArrayF64, size_m: NDArrayF64) -> NDArrayF64:
    """float64[A, T, 2, 2]: a short tick across each box's front edge, metres.

    It starts `min(TICK_INSIDE_FRONT_M, length / 4)` behind the front and ends
    `TICK_BEYOND_FRONT_M` beyond it.
    """
    half_length = 0.5 * size_m[:, 0, None, None]  # [A, 1, 1]
    start = half_length - np.minimum(TICK_INSIDE_FRONT_M, 0.5 * half_length)
    direction = np.stack([np.cos(heading), np.sin(heading)], axis=-1)  # [A, T, 2]
    return np.stack(
        [xy + start * direction, xy + (half_length + TICK_BEYOND_FRONT_M) * direction], axis=2
    )


def _add_legend(axes: Axes, types: np.ndarray, has_ego: bool) -> None:
    """A one-row legend of the agent types present (and the ego) under the map."""
    present = [t for t in AgentType if np.any(types == int(t))]
    handles = [
        Patch(facecolor=style.EGO_FACE, edgecolor=style.EGO_EDGE, linewidth=1.2, label="ego")
    ]
    handles = handles if has_ego else []
    handles += [
        Patch(
            facecolor=style.AGENT_COLORS[t],
            edgecolor="#303030",
            linewidth=0.4,
            label=style.AGENT_LABELS[t],
        )
        for t in present
    ]
    if not handles:
        return
    num_columns = len(handles) if len(handles) <= 6 else -(-len(handles) // 2)
    axes.figure.legend(
        handles=handles,
        loc="lower center",
        ncol=num_columns,
        fontsize=8,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
        borderaxespad=0.2,
    )
