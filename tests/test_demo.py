"""The demo end to end (what `make demo` runs)."""

import pytest

from urbandrive.demo import run_demo


@pytest.mark.slow
def test_demo_runs_on_the_built_in_town_without_real_data(tmp_path):
    lines = []
    run_dir = run_demo(tmp_path / "no-data", tmp_path / "out", lines.append, planners=("idm",))
    assert (run_dir / "town.gif").exists()
    assert (run_dir / "town-smoke" / "idm" / "report.html").exists()
    assert any("not found" in line for line in lines)
    table = [line for line in lines if line.startswith("town:smoke")]
    assert len(table) == 1 and "idm" in table[0]


@pytest.mark.real_data
@pytest.mark.slow
def test_demo_adds_the_real_logs_when_present(data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("urbandrive.demo.closed_loop", lambda uris, planners, out, echo: {})
    lines = []
    run_dir = run_demo(data_dir, tmp_path, lines.append, planners=("log",))
    assert any(line.strip().startswith("num_agents:") for line in lines)
    assert len(list(run_dir.glob("*.png"))) == 1
