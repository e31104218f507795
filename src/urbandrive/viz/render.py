"""`render_scenario`: one call from a scenario to a PNG, GIF or MP4 file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from urbandrive.core.errors import DataError, UrbandriveError
from urbandrive.core.scenario import Scenario
from urbandrive.viz.agents_layer import AgentsLayer
from urbandrive.viz.annotations import ScaleBarLayer, TitleLayer
from urbandrive.viz.config import RenderConfig
from urbandrive.viz.layer import Layer
from urbandrive.viz.map_layer import MapLayer
from urbandrive.viz.output import write_gif, write_mp4, write_png
from urbandrive.viz.renderer import BirdsEyeRenderer

SUFFIXES = (".png", ".gif", ".mp4")
#: Steps closer than this to the scenario's ends still count as inside it, seconds.
TIME_TOLERANCE_S = 1e-6


def default_layers(config: RenderConfig) -> list[Layer]:
    """Map, agents, scale bar and title, bottom first."""
    return [
        MapLayer(show_centerlines=config.show_centerlines),
        AgentsLayer(history_s=config.history_s, show_legend=config.show_legend),
        ScaleBarLayer(),
        TitleLayer(),
    ]


def step_at_time(scenario: Scenario, time_s: float) -> int:
    """The step nearest to `time_s` seconds after the first timestamp; `DataError` outside."""
    times_s = scenario.times_s
    if not (np.isfinite(time_s) and -TIME_TOLERANCE_S <= time_s <= times_s[-1] + TIME_TOLERANCE_S):
        raise DataError(
            f"scenario {scenario.id!r}: time {time_s} s is outside its range "
            f"[0, {times_s[-1]:.2f}] s"
        )
    return int(np.argmin(np.abs(times_s - time_s)))


def render_scenario(
    scenario: Scenario,
    out: str | Path,
    time_s: float | None = None,
    config: RenderConfig | None = None,
    extra_layers: Sequence[Layer] = (),
) -> Path:
    """Draw `scenario` from above into `out` and return its path.

    `.png`: the frame at `time_s` seconds since the first step (default: the current step).
    `.gif` / `.mp4`: every `config.frame_stride`-th step, each shown for stride * dt seconds.
    `extra_layers` are stacked on the default ones (map, agents, scale bar, title).
    The parent folder is created; only `out` is written.
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UrbandriveError(
            f"{path}: unknown picture format {suffix or '(none)'!r}; use {', '.join(SUFFIXES)}"
        )
    config = config or RenderConfig()
    if suffix == ".png":
        step = scenario.current_index if time_s is None else step_at_time(scenario, time_s)
    elif time_s is not None:
        raise UrbandriveError(
            f"{path}: time_s picks one frame of a .png; {suffix} animates every step"
        )
    scenario.validate()
    renderer = BirdsEyeRenderer(scenario, [*default_layers(config), *extra_layers], config)
    if suffix == ".png":
        renderer.show(step)
        write_png(renderer.frame_rgb(), path)
        return path
    steps = range(0, scenario.num_steps, config.frame_stride)
    frame_duration_s = scenario.dt_s * config.frame_stride
    if suffix == ".gif":
        write_gif(renderer.frames(steps), path, frame_duration_s)
    else:
        write_mp4(renderer.frames(steps), path, 1.0 / frame_duration_s)
    return path
