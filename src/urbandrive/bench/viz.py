"""Benchmarks of the bird's-eye renderer on a busy synthetic scene (150 agents, 150 steps).

`viz.render_png`: one PNG end to end (figure, layers, encode) vs a naive renderer with one
matplotlib artist per lane and per agent. `viz.render_gif_frame`: one animation frame (update,
draw, palette) vs rebuilding the whole figure for every frame.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.geometry.boxes import box_corners
from urbandrive.testing.builders import scenario_from_states, straight_road
from urbandrive.viz import BirdsEyeRenderer, RenderConfig, default_layers, render_scenario
from urbandrive.viz.output import to_palette_image
from urbandrive.viz.style import AGENT_COLORS

_OUTPUT_DIR = tempfile.TemporaryDirectory(prefix="urbandrive-bench-viz-")


def busy_scene(num_agents: int = 150, num_steps: int = 150, seed: int = 0) -> Scenario:
    """Vehicles on a 6-lane, 300 m road, pedestrians beside it, a few static objects; ego first."""
    rng = np.random.default_rng(seed)
    num_lanes, lane_width_m = 6, 3.5
    road_map = straight_road(num_lanes, 300.0, lane_width_m, num_segments=6, crosswalk_at_m=150.0)
    types = rng.choice(
        [AgentType.VEHICLE, AgentType.LARGE_VEHICLE, AgentType.PEDESTRIAN, AgentType.STATIC],
        size=num_agents,
        p=[0.6, 0.05, 0.25, 0.1],
    )
    types[0] = AgentType.VEHICLE
    is_vehicle = np.isin(types, [AgentType.VEHICLE, AgentType.LARGE_VEHICLE])
    lane = rng.integers(0, num_lanes, num_agents)
    y = np.where(is_vehicle, lane * lane_width_m, rng.choice([-4.0, 21.0], num_agents))
    speed_mps = np.where(
        is_vehicle, rng.uniform(5, 12, num_agents), rng.uniform(0.5, 1.5, num_agents)
    )
    speed_mps[types == AgentType.STATIC] = 0.0
    x0 = rng.uniform(0, 150, num_agents)
    t_s = np.arange(num_steps) * 0.1
    xy = np.stack([x0[:, None] + speed_mps[:, None] * t_s, np.repeat(y[:, None], num_steps, 1)], -1)
    valid = np.ones((num_agents, num_steps), dtype=bool)
    valid[rng.random(num_agents) < 0.2, : num_steps // 3] = False  # some appear late
    return scenario_from_states(
        xy,
        np.zeros((num_agents, num_steps)),
        list(types),
        valid=valid,
        road_map=road_map,
        current_index=num_steps // 2,
        scenario_id="bench_busy",
    )


def _naive_png(scenario: Scenario, path: Path) -> None:
    """The straightforward way: one Line2D per lane line, one Polygon patch per agent, savefig."""
    figure = Figure(figsize=(8.0, 8.75), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    assert scenario.road_map is not None
    for lane in scenario.road_map.lanes.values():
        for line in (lane.left_boundary, lane.right_boundary, lane.centerline):
            axes.plot(line[:, 0], line[:, 1], color="grey", linewidth=0.8)
    step, tracks = scenario.current_index, scenario.tracks
    corners = box_corners(tracks.xy[:, step], tracks.heading[:, step], tracks.size_m)
    for agent in np.flatnonzero(tracks.valid[:, step]):
        color = AGENT_COLORS[AgentType(int(tracks.types[agent]))]
        axes.add_patch(Polygon(corners[agent], closed=True, facecolor=color, edgecolor="black"))
    centre = tracks.xy[0, step]
    axes.set_xlim(centre[0] - 60, centre[0] + 60)
    axes.set_ylim(centre[1] - 60, centre[1] + 60)
    axes.set_aspect("equal")
    figure.savefig(path)


@benchmark("viz.render_png")
def render_png_case() -> Case:
    scene = busy_scene()
    ours, naive = Path(_OUTPUT_DIR.name) / "ours.png", Path(_OUTPUT_DIR.name) / "naive.png"
    return Case(
        run=lambda: render_scenario(scene, ours),
        baseline=lambda: _naive_png(scene, naive),
        baseline_name="naive: one artist per lane and agent",
        unit="picture",
        repeats=10,
    )


@benchmark("viz.render_gif_frame")
def render_gif_frame_case() -> Case:
    scene, config = busy_scene(), RenderConfig()
    frames = BirdsEyeRenderer(scene, default_layers(config), config).frames(
        itertools.cycle(range(scene.num_steps))
    )
    steps = itertools.cycle(range(scene.num_steps))

    def rebuild_per_frame() -> object:
        renderer = BirdsEyeRenderer(scene, default_layers(config), config)
        renderer.show(next(steps))
        return to_palette_image(renderer.frame_rgb())

    return Case(
        run=lambda: to_palette_image(next(frames)),
        baseline=rebuild_per_frame,
        baseline_name="rebuild the whole figure per frame",
        unit="frame",
        repeats=30,
    )
