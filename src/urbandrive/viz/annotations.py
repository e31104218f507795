"""Overlays in figure or axes coordinates: a scale bar and a title with scenario id and time."""

from __future__ import annotations

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.text import Text

from urbandrive.core.scenario import Scenario

#: Scale bar lengths to choose from, metres.
SCALE_BAR_LENGTHS_M = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)


def scale_bar_length_m(view_width_m: float, max_fraction: float = 0.25) -> float:
    """The longest of `SCALE_BAR_LENGTHS_M` at most `max_fraction` of the view's width."""
    fitting = [length for length in SCALE_BAR_LENGTHS_M if length <= max_fraction * view_width_m]
    return fitting[-1] if fitting else SCALE_BAR_LENGTHS_M[0]


class ScaleBarLayer:
    """A bar of 10 / 20 / 50 m (chosen from the view's width) in the lower-left corner.

    Drawn in axes coordinates: it stays put while the view follows the ego (the view's width
    in metres does not change between frames).
    """

    def draw_static(self, axes: Axes, scenario: Scenario) -> None:
        x_min, x_max = axes.get_xlim()
        length_m = scale_bar_length_m(x_max - x_min)
        fraction = length_m / (x_max - x_min)
        left, bottom = 0.03, 0.03
        for width, color in ((4.5, "white"), (2.5, "black")):
            axes.add_line(
                Line2D(
                    [left, left + fraction],
                    [bottom, bottom],
                    transform=axes.transAxes,
                    color=color,
                    linewidth=width,
                    solid_capstyle="butt",
                    zorder=6.0,
                )
            )
        axes.text(
            left + fraction / 2,
            bottom + 0.012,
            f"{length_m:g} m",
            transform=axes.transAxes,
            ha="center",
            va="bottom",
            fontsize=8,
            zorder=6.0,
            bbox={
                "boxstyle": "round,pad=0.15",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.8,
            },
        )

    def update(self, step: int) -> list[Artist]:
        return []


class TitleLayer:
    """`<scenario id>  t = 3.40 s  (step 34 / 150)` above the map, updated per frame."""

    def draw_static(self, axes: Axes, scenario: Scenario) -> None:
        self._scenario_id = scenario.id
        self._times_s = scenario.times_s
        top = axes.get_position().y1
        self._text: Text = axes.figure.text(
            0.5, (1.0 + top) / 2, "", ha="center", va="center", fontsize=10, family="monospace"
        )

    def update(self, step: int) -> list[Artist]:
        num_steps = self._times_s.shape[0]
        self._text.set_text(
            f"{self._scenario_id}   t = {self._times_s[step]:5.2f} s   (step {step} / {num_steps - 1})"
        )
        return [self._text]
