"""`explain`: the score breakdown table and the picture of one planning cycle."""

from __future__ import annotations

from pathlib import Path

from tests.planning.scenes import scene
from typer.testing import CliRunner

from urbandrive.cli import app
from urbandrive.core.agent_type import AgentType
from urbandrive.planning.baselines import IdmPlanner
from urbandrive.planning.explain import explain_step
from urbandrive.planning.planner import UrbanPlanner
from urbandrive.viz.explanation import render_explanation


def test_explain_lists_the_best_candidates_and_draws_them(tmp_path: Path) -> None:
    scenario = scene(others=[(40.0, 0.0, 3.0, 0.0, AgentType.VEHICLE)])
    explanation = explain_step(UrbanPlanner(scenario), scenario, time_s=1.0)
    lines = explanation.table(top=5).splitlines()
    assert len(lines) == 1 + 5 + 1 and "total" in lines[0] and "*" in lines[1]
    path = render_explanation(scenario, explanation, tmp_path / "explain.png")
    assert path.stat().st_size > 10_000


def test_explain_works_for_a_planner_without_candidates() -> None:
    scenario = scene()
    explanation = explain_step(IdmPlanner(scenario), scenario, time_s=1.0)
    assert explanation.labels == ("#0",)


def test_explain_command_on_a_real_log(av2_dir: Path, tmp_path: Path) -> None:
    log = sorted((av2_dir / "logs").glob("*"))[0]
    out = tmp_path / "explain.png"
    result = CliRunner().invoke(app, ["explain", f"av2:{log}", "--time", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "selected:" in result.output and out.exists()
