"""The `Layer` protocol: what the renderer stacks. A new overlay is a new class, not a renderer edit."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from matplotlib.artist import Artist
from matplotlib.axes import Axes

from urbandrive.core.scenario import Scenario


@runtime_checkable
class Layer(Protocol):
    """One kind of thing on the bird's-eye view (map, agents, trajectories, scale bar, ...).

    Layers get their own data (predictions, candidates, ...) in their constructor. The renderer
    calls `draw_static` once, after the axes' view is set to its first window, then `update`
    for every frame; the axes' limits (data frame: the scenario's global frame, metres) may
    move between frames, their width in metres does not.
    """

    def draw_static(self, axes: Axes, scenario: Scenario) -> None:
        """Create every artist of the layer (empty ones for what changes per frame)."""
        ...

    def update(self, step: int) -> list[Artist]:
        """Show scenario step `step`; return the artists that changed (empty if static)."""
        ...
