"""The simulation runner: routes from logged paths, aggregation, outputs, resume, real logs."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from urbandrive.core import DataError, Goal, Route, UrbandriveError
from urbandrive.datasets import registry
from urbandrive.simulation.batch import BatchConfig
from urbandrive.simulation.engine import SimulationConfig
from urbandrive.simulation.runner import SimulationJob, aggregate, run_simulations, with_route
from urbandrive.testing.loaders import RoadLoader, two_car_road


@pytest.fixture
def road_scheme(monkeypatch):
    monkeypatch.setitem(registry.LOADERS, "testroad", RoadLoader())


def test_route_comes_from_the_logged_path():
    routed = with_route(two_car_road(200.0))
    assert routed.route.lane_ids == (0,)  # x = 15 .. 84 m lies in the first 100 m segment
    np.testing.assert_allclose(routed.goal.xy, [5 + 79 * 1.0, 0.0])


def test_outputs_are_written_and_aggregated(road_scheme, tmp_path):
    uris = ["testroad:a/200", "testroad:a/40"]
    job = SimulationJob(planner="idm", simulation=SimulationConfig(keep_plans=False))
    summary = run_simulations(uris, job, tmp_path, BatchConfig(progress=False))
    assert {p.name for p in tmp_path.iterdir()} >= {
        "metrics.json",
        "metrics.parquet",
        "config.json",
        "timings.json",
        "scenarios",
    }
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == summary
    assert [r["id"] for r in written["scenarios"]] == ["road-200", "road-40"]
    assert written["aggregate"]["num_scenarios"] == 2
    assert written["aggregate"]["collision_rate"] == 0.0
    table = pq.read_table(tmp_path / "metrics.parquet")
    assert table.num_rows == 2 and "score" in table.column_names
    assert json.loads((tmp_path / "config.json").read_text())["planner"] == "idm"


def test_resume_with_other_settings_is_refused(road_scheme, tmp_path):
    uris = ["testroad:a/200"]
    run_simulations(uris, SimulationJob(planner="idm"), tmp_path, BatchConfig(progress=False))
    with pytest.raises(UrbandriveError, match="different planner"):
        run_simulations(
            uris, SimulationJob(planner="log"), tmp_path, BatchConfig(resume=True, progress=False)
        )


def test_aggregate_is_the_nuplan_suite_mean():
    results = [
        {
            "score": 100.0,
            "at_fault_collision": False,
            "open_loop_ade_m": 1.0,
            "open_loop_fde_m": 2.0,
        },
        {
            "score": 50.0,
            "at_fault_collision": True,
            "open_loop_ade_m": None,
            "open_loop_fde_m": None,
        },
    ]
    for result in results:
        result.update({name: 1.0 for name in _metric_names()})
    summary = aggregate(results)
    assert summary["score"] == pytest.approx(75.0)
    assert summary["collision_rate"] == pytest.approx(0.5)
    assert summary["open_loop_ade_m"] == pytest.approx(1.0)


def _metric_names():
    from urbandrive.simulation.runner import AGGREGATED_METRICS

    return AGGREGATED_METRICS


@pytest.mark.real_data
def test_log_planner_scores_high_on_real_logs(av2_dir, tmp_path):
    uris = [f"av2:{path}" for path in sorted((av2_dir / "logs").iterdir())]
    summary = run_simulations(
        uris, SimulationJob(planner="log"), tmp_path, BatchConfig(progress=False)
    )
    assert summary["aggregate"]["collision_rate"] == 0.0
    assert summary["aggregate"]["score"] > 90.0


@pytest.mark.real_data
@pytest.mark.slow
def test_a_killed_run_resumes_without_recomputing(av2_dir, tmp_path):
    logs = sorted((av2_dir / "logs").iterdir())
    command = [
        sys.executable,
        "-m",
        "urbandrive.cli",
        "simulate",
        *[f"av2:{log}" for log in logs],
        "--planner",
        "idm",
        "--out",
        str(tmp_path),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    results = tmp_path / "scenarios"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (results.is_dir() and any(results.glob("*.json"))):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {path.name: path.stat().st_mtime_ns for path in results.glob("*.json")}
    assert finished, "no scenario finished before the kill"
    for path in results.glob("*.json"):
        json.loads(path.read_text())  # every visible result is whole
    subprocess.run(
        [*command, "--resume"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for name, mtime in finished.items():
        assert (results / name).stat().st_mtime_ns == mtime  # not recomputed
    summary = json.loads((tmp_path / "metrics.json").read_text())
    assert summary["aggregate"]["num_scenarios"] == len(logs)


def test_without_a_logged_future_the_route_goes_to_the_goal():
    scenario = two_car_road(200.0)
    valid = scenario.tracks.valid.copy()
    valid[0, scenario.current_index + 1 :] = False  # a planning problem: the ego has no future
    tracks = dataclasses.replace(scenario.tracks, valid=valid)
    goal = Goal(xy=np.array([250.0, 0.0]), heading=0.0)
    routed = with_route(dataclasses.replace(scenario, tracks=tracks, goal=goal))
    assert routed.route.lane_ids == (0, 1, 2)


def test_a_path_off_the_lane_graph_becomes_an_explicit_route():
    scenario = two_car_road(200.0)
    xy = scenario.tracks.xy.copy()
    xy[0, :, 1] = 40.0  # the ego drives far from every lane
    routed = with_route(
        dataclasses.replace(scenario, tracks=dataclasses.replace(scenario.tracks, xy=xy))
    )
    assert routed.route.lane_ids == () and routed.route.path_xy.shape[1] == 2


class _BrokenLoader:
    scheme = "broken"

    def load(self, location):
        raise DataError(f"{location}: this file is broken")

    def list_scenarios(self, location):
        return [location]


def test_a_broken_scenario_is_reported_and_the_batch_goes_on(road_scheme, monkeypatch, tmp_path):
    monkeypatch.setitem(registry.LOADERS, "broken", _BrokenLoader())
    uris = ["testroad:a/200", "broken:x.bin"]
    summary = run_simulations(
        uris, SimulationJob(planner="idm"), tmp_path, BatchConfig(progress=False)
    )
    assert [r["id"] for r in summary["scenarios"]] == ["road-200"]
    assert summary["failed"] == [{"uri": "broken:x.bin", "error": "x.bin: this file is broken"}]
    assert summary["aggregate"]["num_scenarios"] == 1


def test_pass_rates_over_families():
    results = [
        {"score": 90.0, "at_fault_collision": False, "family": "cut_in", "passed": True},
        {"score": 40.0, "at_fault_collision": True, "family": "cut_in", "passed": False},
        {"score": 80.0, "at_fault_collision": False, "family": "jaywalker", "passed": True},
        {"score": 70.0, "at_fault_collision": False},  # a logged scenario: no family
    ]
    for result in results:
        result.update({name: 1.0 for name in _metric_names()})
        result.update(open_loop_ade_m=None, open_loop_fde_m=None)
    summary = aggregate(results)
    assert summary["pass_rate"] == pytest.approx(2 / 3)
    assert summary["pass_rate_by_family"] == {"cut_in": 0.5, "jaywalker": 1.0}


def test_every_planner_drives_an_explicit_path_route():
    scenario = two_car_road(200.0)
    path = scenario.tracks.xy[0, scenario.current_index :]
    scenario = dataclasses.replace(scenario, route=Route(lane_ids=(), path_xy=path.copy()))
    for planner in ("idm", "urban"):
        rollout = SimulationJob(
            planner=planner, simulation=SimulationConfig(max_steps=20)
        ).rollout_of(scenario)
        assert rollout.end_index - rollout.start_index == 20
