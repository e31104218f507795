"""A bird's-eye figure that stacks layers: static artists drawn once, per frame only updates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.typing import NDArrayF64
from urbandrive.viz import style
from urbandrive.viz.config import RenderConfig, ViewMode
from urbandrive.viz.layer import Layer
from urbandrive.viz.view import ego_centers, fit_limits, scene_extent

#: Heights of the strips above (title) and below (legend) the map, inches.
TITLE_STRIP_IN = 0.3
LEGEND_STRIP_IN = 0.45


class BirdsEyeRenderer:
    """Draws `layers` (bottom first) for `scenario` on one Agg figure, frame by frame.

    The figure is `config.size_px` pixels; the map axes fill it between a title strip and a
    legend strip, with equal aspect and no ticks. Call `show(step)` then read `frame_rgb()`,
    or iterate `frames(steps)`.
    """

    def __init__(self, scenario: Scenario, layers: Sequence[Layer], config: RenderConfig) -> None:
        self.scenario = scenario
        self.config = config
        self.layers = list(layers)
        self.figure = Figure(
            figsize=config.figure_size_in, dpi=config.dpi, facecolor=style.BACKGROUND
        )
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes = self._make_axes()
        self._centers = ego_centers(scenario) if config.view is ViewMode.FOLLOW_EGO else None
        self._set_view(scenario.current_index)
        for layer in self.layers:
            layer.draw_static(self.axes, scenario)

    def _make_axes(self) -> Axes:
        width_in, height_in = self.config.figure_size_in
        bottom = min(LEGEND_STRIP_IN / height_in, 0.3)
        height = max(1.0 - bottom - TITLE_STRIP_IN / height_in, 0.1)
        axes = self.figure.add_axes((0.0, bottom, 1.0, height))
        axes.set_axis_off()
        axes.set_aspect("equal", adjustable="datalim")
        self._box_aspect = height * height_in / width_in
        return axes

    def _set_view(self, step: int) -> None:
        """Point the window at `step`: on the ego (FOLLOW_EGO) or on the whole scene."""
        if self._centers is not None:
            radius = self.config.view_radius_m
            limits = fit_limits(self._centers[step], (radius, radius), self._box_aspect)
        else:
            x_min, y_min, x_max, y_max = scene_extent(self.scenario)
            margin = self.config.map_margin_m
            center = np.array([(x_min + x_max) / 2, (y_min + y_max) / 2])
            half = ((x_max - x_min) / 2 + margin, (y_max - y_min) / 2 + margin)
            limits = fit_limits(center, half, self._box_aspect)
        self.axes.set_xlim(*limits[0])
        self.axes.set_ylim(*limits[1])

    def show(self, step: int) -> list[Artist]:
        """Move the view and every layer to `step`; return the artists that changed."""
        if not 0 <= step < self.scenario.num_steps:
            raise DataError(
                f"scenario {self.scenario.id!r}: step {step} outside [0, {self.scenario.num_steps})"
            )
        self._set_view(step)
        changed: list[Artist] = []
        for layer in self.layers:
            changed.extend(layer.update(step))
        return changed

    def frame_rgb(self) -> np.ndarray:
        """uint8[H, W, 3]: the whole figure drawn now (H, W = `config.size_px` reversed)."""
        self.canvas.draw()
        return self._buffer_rgb()

    def frames(self, steps: Iterable[int]) -> Iterator[np.ndarray]:
        """uint8[H, W, 3] per step of `steps`, the same pixels as `show` + `frame_rgb`.

        Faster: what lies outside the map axes (legend, strips) is drawn once and pasted back;
        per frame only the axes and the figure-level artists that `update` returned are drawn.
        """
        background = None
        for step in steps:
            changed = self.show(step)
            outside_axes = [artist for artist in changed if artist.axes is None]
            if background is None:
                background = self._background_without(outside_axes)
            self.canvas.restore_region(background)
            self.figure.draw_artist(self.axes)
            for artist in outside_axes:
                self.figure.draw_artist(artist)
            yield self._buffer_rgb()

    def _background_without(self, outside_axes: list[Artist]) -> object:
        """The figure drawn without the axes and `outside_axes`: the static chrome."""
        hidden = [self.axes, *outside_axes]
        for artist in hidden:
            artist.set_visible(False)
        self.canvas.draw()
        for artist in hidden:
            artist.set_visible(True)
        return self.canvas.copy_from_bbox(self.figure.bbox)

    def _buffer_rgb(self) -> np.ndarray:
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()

    def pixel_of(self, xy: NDArrayF64) -> NDArrayF64:
        """float64[N, 2] (column, row) image pixels of `xy: float64[N, 2]` metres, at the
        current view (row 0 is the top of the picture)."""
        display = self.axes.transData.transform(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
        height_px = self.figure.bbox.height
        return np.stack([display[:, 0], height_px - display[:, 1]], axis=-1)
