"""`urbandrive evaluate-prediction` end to end (in process), synthetic and real AV2."""

import json
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

import urbandrive.datasets.registry as registry
from urbandrive.cli import app
from urbandrive.core import UrbandriveError

from .scenes import mixed_scene


@dataclass(frozen=True)
class _SyntheticLoader:
    scheme: str = "synthetic_prediction"

    def load(self, location: str):
        return mixed_scene(int(location))

    def list_scenarios(self, location: str) -> list[str]:
        return [location]


@pytest.fixture
def synthetic_scheme(monkeypatch):
    monkeypatch.setitem(registry.LOADERS, "synthetic_prediction", _SyntheticLoader())
    return "synthetic_prediction"


def test_evaluate_prediction_writes_metrics_and_prints_a_table(tmp_path, synthetic_scheme):
    out = tmp_path / "run"
    args = [
        "evaluate-prediction",
        f"{synthetic_scheme}:0",
        f"{synthetic_scheme}:1",
        "--predictor",
        "lane",
        "--out",
        str(out),
        "--stride-s",
        "2",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"aggregate", "by_type", "config"}
    assert metrics["config"]["predictor"] == "lane" and metrics["config"]["num_scenarios"] == 2
    assert metrics["aggregate"]["count"] > 0
    assert "VEHICLE" in result.output and "minFDE6" in result.output


def test_an_existing_metrics_file_needs_force(tmp_path, synthetic_scheme):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    args = ["evaluate-prediction", f"{synthetic_scheme}:0", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, UrbandriveError) and "--force" in str(result.exception)
    assert (out / "metrics.json").read_text() == "{}"
    assert CliRunner().invoke(app, [*args, "--force"]).exit_code == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["predictor"] == "learned"


def test_an_unknown_predictor_is_named(tmp_path, synthetic_scheme):
    args = [
        "evaluate-prediction",
        f"{synthetic_scheme}:0",
        "--out",
        str(tmp_path),
        "--predictor",
        "oracle",
    ]
    result = CliRunner().invoke(app, args)
    assert "unknown predictor 'oracle'" in str(result.exception)


@pytest.mark.real_data
def test_evaluate_prediction_on_the_av2_forecasting_scenario(tmp_path, av2_dir):
    args = [
        "evaluate-prediction",
        f"av2:{av2_dir / 'forecasting'}",
        "--predictor",
        "ctra",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["aggregate"]["count"] > 0 and "VEHICLE" in metrics["by_type"]
