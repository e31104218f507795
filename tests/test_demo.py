"""The demo end to end on the real data (what `make demo` runs)."""

import pytest

from urbandrive.demo import run_demo


@pytest.mark.real_data
@pytest.mark.slow
def test_demo_summarises_renders_and_simulates(data_dir, tmp_path):
    lines = []
    run_dir = run_demo(data_dir, tmp_path, lines.append, planners=("log",))
    assert any(line.strip().startswith("num_agents:") for line in lines)
    assert len(list(run_dir.glob("*.png"))) == 1 and len(list(run_dir.glob("*.gif"))) == 1
    assert (run_dir / "log" / "report.html").exists()
    assert any("log planner" in line and "score 100.0" in line for line in lines)
