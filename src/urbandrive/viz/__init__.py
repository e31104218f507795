"""Bird's-eye renderer: stacked layers drawn to PNG, GIF or MP4.

`render_scenario(scenario, "out.png")` is the one call most users need; new overlays are new
`Layer` classes passed as `extra_layers` (see `TrajectoriesLayer`).
"""

from urbandrive.viz import style
from urbandrive.viz.agents_layer import AgentsLayer
from urbandrive.viz.annotations import ScaleBarLayer, TitleLayer, scale_bar_length_m
from urbandrive.viz.config import RenderConfig, ViewMode
from urbandrive.viz.layer import Layer
from urbandrive.viz.map_layer import MapLayer
from urbandrive.viz.render import default_layers, render_scenario, step_at_time
from urbandrive.viz.renderer import BirdsEyeRenderer
from urbandrive.viz.trajectories_layer import TrajectoriesLayer

__all__ = [
    "AgentsLayer",
    "BirdsEyeRenderer",
    "Layer",
    "MapLayer",
    "RenderConfig",
    "ScaleBarLayer",
    "TitleLayer",
    "TrajectoriesLayer",
    "ViewMode",
    "default_layers",
    "render_scenario",
    "scale_bar_length_m",
    "step_at_time",
    "style",
]
