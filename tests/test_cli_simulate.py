"""`urbandrive simulate` end to end: table, files, report, refusal to overwrite."""

import json

import pytest
from typer.testing import CliRunner

from urbandrive.cli import app
from urbandrive.datasets import registry
from urbandrive.testing.loaders import RoadLoader


@pytest.fixture
def road_scheme(monkeypatch):
    monkeypatch.setitem(registry.LOADERS, "testroad", RoadLoader())


def test_simulate_writes_metrics_and_a_report(road_scheme, tmp_path):
    out = tmp_path / "run"
    arguments = [
        "simulate",
        "testroad:x/200",
        "testroad:x/40",
        "--planner",
        "idm",
        "--out",
        str(out),
        "--worst",
        "1",
    ]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "aggregate (2 scenarios)" in result.output
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["aggregate"]["num_scenarios"] == 2
    html = (out / "report.html").read_text()
    assert 'id="aggregate"' in html and "road-40" in html
    assert len(list((out / "animations").glob("*.gif"))) == 1


def test_unknown_planner_is_one_clear_error(road_scheme, tmp_path):
    result = CliRunner().invoke(
        app, ["simulate", "testroad:x/200", "--planner", "nope", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0
    assert "unknown planner 'nope'" in str(result.exception)


def test_the_predictor_option_reaches_the_planner(road_scheme, tmp_path):
    out = tmp_path / "run"
    arguments = ["simulate", "testroad:x/200", "--planner", "urban", "--predictor", "lane"]
    result = CliRunner().invoke(
        app, [*arguments, "--out", str(out), "--no-report", "--max-steps", "5"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["predictor"] == "lane"


def test_a_planner_without_prediction_refuses_a_predictor(road_scheme, tmp_path):
    arguments = ["simulate", "testroad:x/200", "--planner", "idm", "--predictor", "lane"]
    result = CliRunner().invoke(app, [*arguments, "--out", str(tmp_path), "--no-report"])
    assert result.exit_code == 1
    summary = json.loads((tmp_path / "metrics.json").read_text())
    assert "uses no predictor" in summary["failed"][0]["error"]
