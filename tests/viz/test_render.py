"""render_scenario writes PNG / GIF / MP4 files and refuses bad input with clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from urbandrive.core import DataError, UrbandriveError
from urbandrive.viz import BirdsEyeRenderer, default_layers, render_scenario, step_at_time, style
from urbandrive.viz.config import RenderConfig

from .conftest import NUM_STEPS, three_agent_scene


def rgb_at(image: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    """uint8[3] at float (column, row)."""
    column, row = (int(v) for v in np.floor(pixel))
    return image[row, column, :3]


def as_uint8(color: str) -> np.ndarray:
    return np.round(np.array(to_rgb(color)) * 255).astype(np.uint8)


def test_png_has_the_configured_size_and_the_ego_colour_at_the_ego(tmp_path, scene, small_config):
    path = render_scenario(scene, tmp_path / "scene.png", config=small_config)
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape == (small_config.size_px[1], small_config.size_px[0], 3)
    renderer = BirdsEyeRenderer(scene, default_layers(small_config), small_config)
    renderer.show(scene.current_index)
    renderer.frame_rgb()
    # A point 1 m behind the ego's centre: inside the box, clear of the heading tick.
    ego_xy = scene.tracks.xy[0, scene.current_index] - [1.0, 0.0]
    assert np.array_equal(rgb_at(image, renderer.pixel_of(ego_xy)[0]), as_uint8(style.EGO_FACE))
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # road, marks, agents, text


def test_png_at_a_time_draws_the_nearest_step(tmp_path, scene, small_config):
    assert step_at_time(scene, 0.34) == 3
    assert step_at_time(scene, 0.0) == 0
    late = render_scenario(scene, tmp_path / "late.png", time_s=1.1, config=small_config)
    last = render_scenario(scene, tmp_path / "last.png", time_s=1.06, config=small_config)
    assert np.array_equal(np.asarray(Image.open(late)), np.asarray(Image.open(last)))


@pytest.mark.parametrize("time_s", [-0.5, 1.2, float("nan")])
def test_time_outside_the_scenario_names_the_range(tmp_path, scene, time_s):
    with pytest.raises(DataError, match=r"outside its range \[0, 1.10\] s"):
        render_scenario(scene, tmp_path / "x.png", time_s=time_s)
    assert not (tmp_path / "x.png").exists()


def test_unknown_suffix_is_refused(tmp_path, scene):
    with pytest.raises(UrbandriveError, match=r"unknown picture format '.jpg'"):
        render_scenario(scene, tmp_path / "x.jpg")
    with pytest.raises(UrbandriveError, match="unknown picture format"):
        render_scenario(scene, tmp_path / "no_suffix")


def test_time_for_an_animation_is_refused(tmp_path, scene):
    with pytest.raises(UrbandriveError, match="time_s picks one frame"):
        render_scenario(scene, tmp_path / "x.gif", time_s=0.5)


def test_gif_has_one_frame_per_step_lasting_dt(tmp_path, scene, small_config):
    path = render_scenario(scene, tmp_path / "nested" / "scene.gif", config=small_config)
    with Image.open(path) as gif:
        assert gif.n_frames == NUM_STEPS
        assert gif.info["duration"] == 100
        assert gif.size == small_config.size_px
    assert sorted(p.name for p in path.parent.iterdir()) == ["scene.gif"]  # no leftovers


def test_gif_frame_stride_subsamples(tmp_path, scene):
    config = RenderConfig(figure_size_in=(2.0, 2.5), dpi=40, frame_stride=5)
    with Image.open(render_scenario(scene, tmp_path / "scene.gif", config=config)) as gif:
        assert gif.n_frames == 3  # steps 0, 5, 10
        assert gif.info["duration"] == 500


def test_mp4_is_a_non_empty_iso_media_file(tmp_path, scene):
    config = RenderConfig(figure_size_in=(2.1, 2.5), dpi=50)  # 105 px: odd, padded
    path = render_scenario(scene, tmp_path / "scene.mp4", config=config)
    header = path.read_bytes()[:12]
    assert path.stat().st_size > 1000
    assert header[4:8] == b"ftyp"


def test_a_folder_in_place_of_the_file_is_refused(tmp_path, scene):
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(UrbandriveError, match="is a folder"):
        render_scenario(scene, tmp_path / "taken.png")


def test_a_scene_without_a_map_still_renders(tmp_path, small_config):
    path = render_scenario(
        three_agent_scene(with_map=False), tmp_path / "x.png", config=small_config
    )
    assert Image.open(path).size == small_config.size_px
