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
