"""Layers stack without editing the renderer; static artists are built once; views and styles."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb

from urbandrive.core import DataError, Scenario, TrafficLightState, TrafficLightStates
from urbandrive.maps import RoadMap, TrafficSignal
from urbandrive.viz import (
    BirdsEyeRenderer,
    Layer,
    RenderConfig,
    TrajectoriesLayer,
    ViewMode,
    default_layers,
    scale_bar_length_m,
    style,
)

from .conftest import three_agent_scene


def color_near(image: np.ndarray, pixel: np.ndarray, color: str, tolerance: int = 12) -> bool:
    column, row = (int(v) for v in np.floor(pixel))
    expected = np.array(to_rgb(color)) * 255
    return bool(np.all(np.abs(image[row, column].astype(float) - expected) <= tolerance))


class CountingLayer:
    """A user-defined layer: counts its calls, draws nothing."""

    def __init__(self) -> None:
        self.static_calls = 0
        self.steps: list[int] = []

    def draw_static(self, axes: Axes, scenario: Scenario) -> None:
        self.static_calls += 1

    def update(self, step: int) -> list[Artist]:
        self.steps.append(step)
        return []


def test_a_new_layer_is_stacked_without_touching_the_renderer(scene, small_config):
    counting = CountingLayer()
    assert isinstance(counting, Layer)
    renderer = BirdsEyeRenderer(scene, [*default_layers(small_config), counting], small_config)
    list(renderer.frames(range(3)))
    assert counting.static_calls == 1
    assert counting.steps == [0, 1, 2]


def test_frames_reuse_the_static_artists(scene, small_config):
    renderer = BirdsEyeRenderer(scene, default_layers(small_config), small_config)
    renderer.show(0)
    before = list(renderer.axes.get_children())
    changed = renderer.show(5)
    assert list(renderer.axes.get_children()) == before
    assert 0 < len(changed) <= 5  # agent collections and the title, nothing of the map


def test_trajectories_layer_draws_lines_with_their_colours(scene, small_config):
    ahead = np.linspace([40.0, 10.0], [70.0, 10.0], 20)  # beside the road, 10 m left of it
    lines = TrajectoriesLayer(ahead[None], colors=["#FF00FF"], linewidth_pt=8.0)
    renderer = BirdsEyeRenderer(scene, [*default_layers(small_config), lines], small_config)
    renderer.show(scene.current_index)
    image = renderer.frame_rgb()
    assert color_near(image, renderer.pixel_of(np.array([[55.0, 10.0]]))[0], "#FF00FF")


def test_trajectories_layer_per_step_values_and_alpha(scene, small_config):
    xy = np.zeros((scene.num_steps, 3, 5, 2))
    xy[..., 0] = np.linspace(0, 20, 5)
    xy[..., 1] = np.arange(3)[None, :, None] * 2.0
    lines = TrajectoriesLayer(
        xy,
        values=np.array([0.1, 0.5, 0.9]),
        alpha=np.array([1.0, 0.5, 0.2]),
        colorbar_label="score",
    )
    renderer = BirdsEyeRenderer(scene, [lines], small_config)
    assert renderer.show(1) == [lines._lines]
    with pytest.raises(DataError, match="alpha must lie in"):
        TrajectoriesLayer(xy[0], alpha=1.5)
    with pytest.raises(DataError, match="2 colours for 3 lines"):
        TrajectoriesLayer(xy[0], colors=["red", "blue"])
    with pytest.raises(DataError, match="sets of lines"):
        BirdsEyeRenderer(scene, [TrajectoriesLayer(xy[:4])], small_config)


def test_follow_ego_keeps_the_ego_at_the_centre(scene, small_config):
    renderer = BirdsEyeRenderer(scene, default_layers(small_config), small_config)
    centres = []
    for step in (0, scene.num_steps - 1):
        renderer.show(step)
        x_min, x_max = renderer.axes.get_xlim()
        y_min, y_max = renderer.axes.get_ylim()
        centres.append(((x_min + x_max) / 2, (y_min + y_max) / 2))
        narrow_side_m = min(x_max - x_min, y_max - y_min)
        assert narrow_side_m == pytest.approx(2 * small_config.view_radius_m)
    np.testing.assert_allclose(centres, scene.tracks.xy[0, [0, -1]])


def test_whole_map_view_covers_the_map(scene):
    config = RenderConfig(view=ViewMode.WHOLE_MAP, figure_size_in=(3.0, 3.75), dpi=40)
    renderer = BirdsEyeRenderer(scene, default_layers(config), config)
    x_min, y_min, x_max, y_max = scene.road_map.bounds
    (left, right), (bottom, top) = renderer.axes.get_xlim(), renderer.axes.get_ylim()
    assert left <= x_min and right >= x_max and bottom <= y_min and top >= y_max


def test_signal_heads_take_the_colour_of_their_state(scene, small_config):
    signal_xy = np.array([40.0, -3.0])
    road_map = scene.road_map
    with_signal = RoadMap(
        lanes=road_map.lanes,
        crosswalks=road_map.crosswalks,
        signals={7: TrafficSignal(7, signal_xy, lane_ids=(0,))},
        drivable_areas=road_map.drivable_areas,
    )
    states = np.full((1, scene.num_steps), int(TrafficLightState.RED), dtype=np.int8)
    states[0, 6:] = int(TrafficLightState.GREEN)
    lit = dataclasses.replace(
        scene,
        road_map=with_signal,
        traffic_lights=TrafficLightStates(np.array([7]), states),
    )
    renderer = BirdsEyeRenderer(lit, default_layers(small_config), small_config)
    for step, color in ((0, style.LIGHT_COLORS[TrafficLightState.RED]), (8, "#00B050")):
        renderer.show(step)
        image = renderer.frame_rgb()
        assert color_near(image, renderer.pixel_of(signal_xy[None])[0], color)


@pytest.mark.parametrize(("width_m", "length_m"), [(60.0, 10.0), (120.0, 20.0), (250.0, 50.0)])
def test_scale_bar_length_follows_the_view_width(width_m, length_m):
    assert scale_bar_length_m(width_m) == length_m


@pytest.mark.parametrize(
    ("mark", "dashed", "color"),
    [
        ("DASHED_WHITE", True, "#FFFFFF"),
        ("DOUBLE_SOLID_YELLOW", False, "#E8B800"),
        ("SOLID_WHITE", False, "#FFFFFF"),
        ("NONE", False, style.UNPAINTED_BOUNDARY),
        ("UNKNOWN", False, style.UNPAINTED_BOUNDARY),
    ],
)
def test_lane_marks_are_styled_by_type(mark, dashed, color):
    mark_style = style.mark_style(mark, is_intersection=False)
    assert (mark_style.dashed, mark_style.color) == (dashed, color)
    assert style.mark_style(mark, is_intersection=True).color == style.UNPAINTED_BOUNDARY


def test_config_refuses_bad_values():
    from urbandrive.core import UrbandriveError

    with pytest.raises(UrbandriveError, match="view_radius_m"):
        RenderConfig(view_radius_m=0.0)
    with pytest.raises(UrbandriveError, match="frame_stride"):
        RenderConfig(frame_stride=0)


def test_scene_without_map_or_ego_falls_back_to_the_agents_extent(small_config):
    scene = dataclasses.replace(three_agent_scene(with_map=False), ego_index=None)
    renderer = BirdsEyeRenderer(scene, default_layers(small_config), small_config)
    renderer.show(0)
    left, right = renderer.axes.get_xlim()
    assert left <= scene.tracks.xy[..., 0].min() and right >= scene.tracks.xy[..., 0].max()


def test_animation_frames_match_full_redraws(scene, small_config):
    fast = BirdsEyeRenderer(scene, default_layers(small_config), small_config)
    full = BirdsEyeRenderer(scene, default_layers(small_config), small_config)
    for step, frame in zip((0, 4, 9), fast.frames((0, 4, 9)), strict=True):
        full.show(step)
        assert np.array_equal(frame, full.frame_rgb())
