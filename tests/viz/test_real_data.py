"""Rendering a real Argoverse 2 log, through the API and the `urbandrive render` command."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from urbandrive.cli import app
from urbandrive.viz import BirdsEyeRenderer, RenderConfig, default_layers, render_scenario, style

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def av2_log(av2_dir):
    logs = sorted((av2_dir / "logs").glob("*"))
    if not logs:
        pytest.skip(f"no AV2 logs under {av2_dir / 'logs'}")
    return logs[0]


def test_av2_png_shows_the_ego_in_its_colour(av2_log, tmp_path):
    from urbandrive.datasets import load_scenario

    scenario = load_scenario(f"av2:{av2_log}")
    config = RenderConfig(dpi=40)
    path = render_scenario(scenario, tmp_path / "av2.png", config=config)
    image = np.asarray(Image.open(path).convert("RGB"))
    renderer = BirdsEyeRenderer(scenario, default_layers(config), config)
    renderer.show(scenario.current_index)
    renderer.frame_rgb()
    ego = scenario.ego_index
    column, row = renderer.pixel_of(scenario.tracks.xy[ego, scenario.current_index])[0].astype(int)
    patch = image[row - 1 : row + 2, column - 1 : column + 2].reshape(-1, 3)
    ego_rgb = np.round(np.array(Image.new("RGB", (1, 1), style.EGO_FACE).getpixel((0, 0))))
    assert np.any(np.all(patch == ego_rgb, axis=-1))


def test_render_command_writes_the_file_and_reports_bad_suffixes(av2_log, tmp_path):
    runner = CliRunner()
    out = tmp_path / "pictures" / "av2.png"
    args = ["render", f"av2:{av2_log}", "--out", str(out), "--time", "1.0", "--dpi", "30"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (240, 262)
    result = runner.invoke(app, ["render", f"av2:{av2_log}", "--out", str(tmp_path / "x.bmp")])
    assert "unknown picture format" in str(result.exception)
