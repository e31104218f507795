"""The HTML simulation report: tables, worst first, inline pictures, offline, in a browser."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from urbandrive.core import AgentType
from urbandrive.core.errors import UrbandriveError
from urbandrive.core.scenario import Route
from urbandrive.planning.baselines import LogPlanner
from urbandrive.planning.interfaces import Plan
from urbandrive.simulation.engine import Rollout, simulate
from urbandrive.simulation.evaluation import evaluate_rollout
from urbandrive.testing import scenario_from_states, straight_road
from urbandrive.viz import RenderConfig
from urbandrive.viz.histograms import level_fractions
from urbandrive.viz.report import plan_layers, render_worst, write_report
from urbandrive.viz.report_tables import METRIC_NAMES, format_fraction

#: (id, family, score, at-fault collision, metric overrides, passed)
FAKE_SCENARIOS = (
    ("cut_in_001", "cut_in", 0.0, True, {"no_ego_at_fault_collisions": 0.0}, False),
    ("cut_in_002", "cut_in", 91.5, False, {"ego_is_comfortable": 0.0}, True),
    (
        "ped_cross_001",
        "pedestrian_crossing",
        43.2,
        False,
        {"time_to_collision_within_bound": 0.0},
        False,
    ),
    ("ped_cross_002", "pedestrian_crossing", 100.0, False, {}, True),
    (
        "unprotected_left_001",
        "unprotected_left",
        72.8,
        False,
        {"ego_is_making_progress": 0.5},
        True,
    ),
    (
        "<odd & id>",
        "unprotected_left",
        64.0,
        False,
        {"ego_progress_along_expert_route": 0.64},
        True,
    ),
)


def fake_result(
    scenario_id: str,
    family: str,
    score: float,
    collided: bool,
    overrides: dict[str, float],
    passed: bool,
) -> dict[str, Any]:
    """A result shaped like `evaluate_rollout`'s, with a family and a pass verdict."""
    result: dict[str, Any] = {name: 1.0 for name in METRIC_NAMES}
    result.update(overrides)
    collisions = [{"step": 31, "agent_id": "car_7", "agent_type": "vehicle", "at_fault": True}]
    result.update(
        id=scenario_id,
        source="town",
        planner="pdm",
        score=score,
        family=family,
        passed=passed,
        at_fault_collision=collided,
        collisions=collisions if collided else [],
        min_time_to_collision_s=0.4 if collided else None,
        min_vru_clearance_m=3.25,
        num_steps=80,
        duration_s=8.0,
        planner_ms_mean=12.3,
        planner_ms_p99=30.1,
        open_loop_ade_m=0.8,
        open_loop_fde_m=None,
    )
    return result


def aggregate_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run summary the report expects (as `simulation.runner.aggregate` computes it)."""
    summary: dict[str, Any] = {
        "score": float(np.mean([r["score"] for r in results])),
        "collision_rate": float(np.mean([r["at_fault_collision"] for r in results])),
        "num_scenarios": len(results),
    }
    summary.update({name: float(np.mean([r[name] for r in results])) for name in METRIC_NAMES})
    summary.update(open_loop_ade_m=0.8, open_loop_fde_m=None, planner_ms_mean=12.3)
    return summary


@pytest.fixture
def results() -> list[dict[str, Any]]:
    return [fake_result(*scenario) for scenario in FAKE_SCENARIOS]


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the fake scenarios, written once for the tests that only read it."""
    results = [fake_result(*scenario) for scenario in FAKE_SCENARIOS]
    out_dir = tmp_path_factory.mktemp("report")
    return write_report(out_dir, results, aggregate_of(results), config={"planner": "pdm"})


@pytest.fixture
def tiny_gif(tmp_path: Path) -> Path:
    """A two-frame GIF standing in for a rendered animation."""
    path = tmp_path / "animations" / "cut_in_001.gif"
    path.parent.mkdir()
    frames = [Image.new("RGB", (16, 16), color) for color in ("red", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    return path


def scenario_rows(html: str) -> list[str]:
    """Scenario ids in the order of the per-scenario table's rows."""
    body = html.split('<table id="scenarios"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr><th scope="row">(?:<a href="#[^"]+">)?([^<]+)<', body)


def test_report_has_every_table_and_opens_offline(report_path: Path) -> None:
    html = report_path.read_text()
    assert report_path.name == "report.html"
    for table_id in ("aggregate", "families", "scenarios"):
        assert f'<table id="{table_id}"' in html
    assert html.count("data:image/png;base64,") == 2
    assert not re.search(r"https?://", html)
    assert "<link" not in html and "<script src" not in html
    assert "<details><summary>Resolved configuration" in html and "&quot;planner&quot;" in html


def test_scenarios_are_listed_worst_first_and_escaped(report_path: Path) -> None:
    html = report_path.read_text()
    rows = scenario_rows(html)
    assert rows[0] == "cut_in_001" and rows[-1] == "ped_cross_002"
    assert "&lt;odd &amp; id&gt;" in rows and "<odd & id>" not in html


def test_metric_cells_are_colour_coded(report_path: Path) -> None:
    html = report_path.read_text()
    assert '<td class="poor" data-sort="0.0">0</td>' in html
    assert '<td class="fair" data-sort="0.5">0.5</td>' in html
    assert '<td class="good" data-sort="1.0">1</td>' in html


def test_families_table_counts_scores_collisions_and_passes(report_path: Path) -> None:
    html = report_path.read_text()
    families = html.split('<table id="families"', 1)[1].split("</table>", 1)[0]
    cut_in = families.split('<th scope="row">cut_in</th>', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r">([^<]+)</td>", cut_in) == ["2", "45.8", "0.0", "50.0 %", "50.0 %"]
    assert families.index("cut_in") < families.index("unprotected_left")  # worst mean first


def test_without_families_the_report_groups_by_source(tmp_path: Path, results: list) -> None:
    for result in results:
        del result["family"], result["passed"]
    html = write_report(tmp_path, results, aggregate_of(results)).read_text()
    assert '<h2 id="groups">Per source</h2>' in html
    assert '<th scope="row">town</th>' in html


def test_worst_scenarios_embed_their_animation(
    tmp_path: Path, results: list, tiny_gif: Path
) -> None:
    html = write_report(
        tmp_path, results, aggregate_of(results), {"cut_in_001": tiny_gif}
    ).read_text()
    worst = html.split('<h2 id="worst">', 1)[1]
    assert 'id="worst-1"' in worst and "data:image/gif;base64," in worst
    assert "car_7" in worst and '<td class="poor">yes</td>' in worst
    assert '<a href="#worst-1">cut_in_001</a>' in html


def test_existing_report_is_kept_unless_overwrite(tmp_path: Path, results: list) -> None:
    (tmp_path / "report.html").write_text("mine")
    with pytest.raises(UrbandriveError, match="already exists"):
        write_report(tmp_path, results, aggregate_of(results))
    assert (tmp_path / "report.html").read_text() == "mine"
    write_report(tmp_path, results, aggregate_of(results), overwrite=True)
    assert 'id="aggregate"' in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda results: results.clear(), "non-empty"),
        (lambda results: results[1].update(score=float("nan")), "cut_in_002.*'score'"),
        (
            lambda results: results[2].update(ego_is_comfortable="high"),
            "ped_cross_001.*comfortable",
        ),
    ],
)
def test_bad_results_are_refused_with_the_scenario_named(
    tmp_path: Path, results: list, change: Any, message: str
) -> None:
    change(results)
    with pytest.raises(UrbandriveError, match=message):
        write_report(tmp_path, results, {})
    assert not (tmp_path / "report.html").exists()


def test_animations_must_name_known_scenarios_and_exist(tmp_path: Path, results: list) -> None:
    with pytest.raises(UrbandriveError, match="not in the results"):
        write_report(tmp_path, results, {}, {"nope": tmp_path / "nope.gif"})
    with pytest.raises(UrbandriveError, match="not found"):
        write_report(tmp_path, results, {}, {"cut_in_001": tmp_path / "missing.gif"})


def test_level_fractions_and_fraction_format() -> None:
    assert level_fractions([1.0, 1.0, 0.5, 0.0]) == (0.5, 0.25, 0.25)
    assert [format_fraction(v) for v in (1.0, 0.5, 0.0, 0.873, None)] == [
        "1",
        "0.5",
        "0",
        "0.87",
        "—",
    ]


def tiny_rollout() -> Rollout:
    """The log planner driving 1.5 s along a straight road behind a slower car."""
    num_steps = 20
    time_s = np.arange(num_steps) * 0.1
    ego = np.stack([20 + 8 * time_s, np.zeros(num_steps)], -1)
    car = np.stack([40 + 5 * time_s, np.zeros(num_steps)], -1)
    scenario = scenario_from_states(
        np.stack([ego, car]),
        np.zeros((2, num_steps)),
        [AgentType.VEHICLE] * 2,
        road_map=straight_road(num_lanes=1, length_m=100.0),
        current_index=5,
        scenario_id="tiny",
    )
    scenario = dataclasses.replace(scenario, route=Route((0, 1)))
    return simulate(scenario, LogPlanner(scenario))


@pytest.fixture(scope="module")
def rollout() -> Rollout:
    return tiny_rollout()


def test_real_rollout_renders_and_reports(tmp_path: Path, rollout: Rollout) -> None:
    result = evaluate_rollout(rollout)
    config = RenderConfig(figure_size_in=(3.0, 3.3), dpi=40, view_radius_m=25.0, frame_stride=3)
    animations = render_worst([rollout], tmp_path / "gifs", 1, [result["score"]], config)
    assert list(animations) == ["tiny"] and animations["tiny"].name == "worst_01_tiny.gif"
    with pytest.raises(UrbandriveError, match="already exists"):
        render_worst([rollout], tmp_path / "gifs", 1, [result["score"]], config)
    html = write_report(tmp_path, [result], {"score": result["score"]}, animations).read_text()
    assert "data:image/gif;base64," in html and scenario_rows(html) == ["tiny"]


def test_animations_show_each_plan_and_the_last_candidates(
    tmp_path: Path, rollout: Rollout
) -> None:
    last = rollout.plans[-1].trajectory
    candidates = dataclasses.replace(
        last,
        xy=last.xy[None] + np.array([[[0.0, -1.0]], [[0.0, 0.0]], [[0.0, 1.0]]]),
        heading=np.repeat(last.heading[None], 3, 0),
        speed_mps=np.repeat(last.speed_mps[None], 3, 0),
    )
    plans = (*rollout.plans[:-1], Plan(trajectory=last, candidates=candidates, selected=1))
    with_candidates = dataclasses.replace(rollout, plans=plans)
    assert [layer.per_step for layer in plan_layers(with_candidates)] == [False, True]
    assert [layer.per_step for layer in plan_layers(rollout)] == [True]
    config = RenderConfig(figure_size_in=(3.0, 3.3), dpi=40, frame_stride=4)
    gif = render_worst([with_candidates], tmp_path, 1, [50.0], config)["tiny"]
    assert Image.open(gif).n_frames == 5


def test_nested_timing_is_shown(tmp_path: Path, results: list) -> None:
    for result in results:
        result["timing"] = {"planner_ms_mean": 7.25, "planner_ms_p99": 9.5}
        del result["planner_ms_mean"], result["planner_ms_p99"]
    html = write_report(tmp_path, results, aggregate_of(results)).read_text()
    assert '<td data-sort="7.25">7.2</td>' in html and '<td data-sort="9.5">9.5</td>' in html


def chromium_dom(page: Path, timeout_s: float = 60.0) -> str:
    """The DOM of `page` after its scripts ran, from headless Chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    with tempfile.TemporaryDirectory() as profile:
        completed = subprocess.run(
            [browser, *flags, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=True,
        )
    return completed.stdout


def test_browser_loads_the_report_and_runs_its_script(report_path: Path) -> None:
    dom = chromium_dom(report_path)
    assert 'id="aggregate"' in dom and 'id="families"' in dom
    assert all(f">{scenario_id}<" in dom for scenario_id, *_ in FAKE_SCENARIOS[:5])
    assert dom.count('data-sort-ready="true"') == 2  # the families and scenarios tables


def test_clicking_a_heading_sorts_the_scenarios(tmp_path: Path, report_path: Path) -> None:
    clicked = tmp_path / "clicked.html"  # the same page, then a click on the "scenario" heading
    click = "<script>document.querySelector('#scenarios thead th').click()</script>"
    clicked.write_text(report_path.read_text().replace("</body>", click + "</body>"))
    rows = scenario_rows(chromium_dom(clicked))
    assert rows == sorted(rows, key=lambda name: name.replace("&lt;", "<").lower())
    assert rows[:2] == ["&lt;odd &amp; id&gt;", "cut_in_001"]
