"""Arbitrary polylines with per-line colour and alpha: predicted modes, ego candidates, routes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, to_rgba_array

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.typing import NDArrayF64


class TrajectoriesLayer:
    """N polylines of H points, fixed or one set per scenario step.

    xy: float64[N, H, 2] (drawn at every frame) or float64[T, N, H, 2] (set `step` drawn at
        frame `step`; T = the scenario's steps), metres, global frame.
    valid: bool, same shape without the last axis; invalid points break the line.
    colors: one colour or N colours (any matplotlib colour spec); ignored when `values` given.
    values: float64[N], mapped through `cmap` over `value_range` (default: min..max); with
        `colorbar_label`, a colour bar is drawn inside the map, near its right edge.
    alpha: float or float64[N] in [0, 1], e.g. mode probabilities.
    """

    def __init__(
        self,
        xy: NDArrayF64,
        *,
        valid: np.ndarray | None = None,
        colors: str | Sequence[str] | np.ndarray = "#E31A1C",
        values: NDArrayF64 | None = None,
        cmap: str = "viridis",
        value_range: tuple[float, float] | None = None,
        colorbar_label: str | None = None,
        alpha: float | NDArrayF64 = 1.0,
        linewidth_pt: float = 1.5,
        zorder: float = 2.5,
    ) -> None:
        xy = np.asarray(xy, dtype=np.float64)
        if xy.ndim not in (3, 4) or xy.shape[-1] != 2:
            raise DataError(
                f"TrajectoriesLayer: xy must be float[N, H, 2] or [T, N, H, 2], got {xy.shape}"
            )
        if valid is not None:
            valid = np.asarray(valid, dtype=bool)
            if valid.shape != xy.shape[:-1]:
                raise DataError(
                    f"TrajectoriesLayer: valid has shape {valid.shape}, want {xy.shape[:-1]}"
                )
            xy = np.where(valid[..., None], xy, np.nan)
        self._xy = xy
        self._rgba = _line_colors(xy.shape[-3], colors, values, cmap, value_range, alpha)
        self._mappable = _mappable(values, cmap, value_range) if colorbar_label else None
        self._colorbar_label = colorbar_label
        self._linewidth_pt = linewidth_pt
        self._zorder = zorder

    @property
    def per_step(self) -> bool:
        return self._xy.ndim == 4

    def draw_static(self, axes: Axes, scenario: Scenario) -> None:
        if self.per_step and self._xy.shape[0] != scenario.num_steps:
            raise DataError(
                f"TrajectoriesLayer: {self._xy.shape[0]} sets of lines for scenario "
                f"{scenario.id!r} of {scenario.num_steps} steps"
            )
        first = self._xy[scenario.current_index] if self.per_step else self._xy
        self._lines = LineCollection(
            list(first),
            colors=self._rgba,
            linewidths=self._linewidth_pt,
            capstyle="round",
            joinstyle="round",
            zorder=self._zorder,
        )
        axes.add_collection(self._lines, autolim=False)
        if self._mappable is not None:
            colorbar_axes = axes.inset_axes((0.9, 0.55, 0.02, 0.4))
            colorbar = axes.figure.colorbar(self._mappable, cax=colorbar_axes)
            colorbar.set_label(self._colorbar_label or "", fontsize=8)
            colorbar.ax.tick_params(labelsize=7)

    def update(self, step: int) -> list[Artist]:
        if not self.per_step:
            return []
        self._lines.set_segments(list(self._xy[step]))
        return [self._lines]


def _line_colors(
    num_lines: int,
    colors: str | Sequence[str] | np.ndarray,
    values: NDArrayF64 | None,
    cmap: str,
    value_range: tuple[float, float] | None,
    alpha: float | NDArrayF64,
) -> np.ndarray:
    """float64[N, 4] RGBA per line."""
    if values is not None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (num_lines,):
            raise DataError(
                f"TrajectoriesLayer: values has shape {values.shape}, want ({num_lines},)"
            )
        rgba = _mappable(values, cmap, value_range).to_rgba(values)
    else:
        rgba = to_rgba_array(colors)
        if rgba.shape[0] == 1:
            rgba = np.repeat(rgba, num_lines, axis=0)
        if rgba.shape[0] != num_lines:
            raise DataError(f"TrajectoriesLayer: {rgba.shape[0]} colours for {num_lines} lines")
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (num_lines,))
    if np.any((alpha < 0) | (alpha > 1)):
        raise DataError(
            f"TrajectoriesLayer: alpha must lie in [0, 1], got {alpha.min()}..{alpha.max()}"
        )
    rgba = np.array(rgba, dtype=np.float64)
    rgba[:, 3] *= alpha
    return rgba


def _mappable(
    values: NDArrayF64 | None, cmap: str, value_range: tuple[float, float] | None
) -> ScalarMappable:
    """Maps values to colours over `value_range` (default: the values' min..max)."""
    if value_range is None:
        if values is None or np.asarray(values).size == 0:
            raise DataError("TrajectoriesLayer: a colour bar needs `values` or `value_range`")
        value_range = (float(np.min(values)), float(np.max(values)))
    return ScalarMappable(norm=Normalize(*value_range), cmap=cmap)
