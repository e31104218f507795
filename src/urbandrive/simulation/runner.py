"""Simulate many scenarios with one planner: prepare routes, run in batch, aggregate, write.

`OUT/metrics.json` = {"aggregate": {...}, "scenarios": [...]}, `OUT/metrics.parquet` (one row
per scenario, scalar metrics), `OUT/config.json` (the resolved run configuration),
`OUT/timings.json` (planner wall-clock times, the only output that differs between two runs of
the same configuration) and `OUT/scenarios/*.json` (one finished result each, for `--resume`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from urbandrive.core.errors import DataError, UrbandriveError
from urbandrive.core.scenario import Goal, Route, Scenario
from urbandrive.datasets.registry import load_scenario
from urbandrive.maps.frenet import route_reference_path
from urbandrive.metrics.score import NUPLAN_MULTIPLIERS, NUPLAN_WEIGHTS, suite_score
from urbandrive.planning.interfaces import PlannerOptions
from urbandrive.planning.registry import DEFAULT_PLANNER, PLANNERS
from urbandrive.scenarios.families import scenario_passed
from urbandrive.simulation.batch import BatchConfig, result_path, run_batch, write_json_atomic
from urbandrive.simulation.engine import Rollout, SimulationConfig, simulate
from urbandrive.simulation.evaluation import evaluate_rollout

#: A logged path farther than this from its map-matched lanes (m) is routed as the path itself.
MAX_ROUTE_OFFSET_M = 4.0
#: Metrics averaged into the aggregate (besides score and collision rate).
AGGREGATED_METRICS = (
    *NUPLAN_MULTIPLIERS,
    *(name for name, _ in NUPLAN_WEIGHTS),
    "red_light_compliance",
    "pedestrian_yield_compliance",
)


@dataclass(frozen=True, slots=True)
class SimulationJob:
    """Everything one worker needs to simulate one URI (picklable: sent to processes / Ray)."""

    planner: str = DEFAULT_PLANNER
    predictor: str | None = None
    simulation: SimulationConfig = field(default_factory=SimulationConfig)

    def __call__(self, uri: str) -> dict[str, Any]:
        """The scenario's metrics, or {"uri", "error"} when its input cannot be simulated (one
        bad scenario does not end a batch; the run reports it and exits non-zero)."""
        try:
            rollout = self.rollout(uri)
            result = evaluate_rollout(rollout)
        except UrbandriveError as error:
            return {"uri": uri, "error": str(error)}
        result["uri"] = uri
        family = rollout.scenario.metadata.get("family")
        if family is not None:
            result["family"] = str(family)
            result["passed"] = scenario_passed(rollout.scenario, result)
        return result

    def rollout(self, uri: str) -> Rollout:
        return self.rollout_of(load_scenario(uri))

    def rollout_of(self, scenario: Scenario) -> Rollout:
        """Simulate an already loaded scenario (its route made if missing)."""
        scenario = with_route(scenario)
        options = PlannerOptions(predictor=self.predictor)
        return simulate(scenario, PLANNERS.create(self.planner, scenario, options), self.simulation)


def with_route(scenario: Scenario) -> Scenario:
    """The scenario with a route and goal, kept when given. Otherwise the route follows the
    ego's logged path from the current step (map-matched onto lanes; the path itself where the
    lanes cannot express it), or, with no logged future, goes from the start to the goal; the
    goal defaults to the logged final pose."""
    if scenario.route is not None or scenario.road_map is None or scenario.ego_index is None:
        return scenario
    ego, now = scenario.ego_index, scenario.current_index
    valid = scenario.tracks.valid[ego, now:]
    xy, heading = scenario.tracks.xy[ego, now:][valid], scenario.tracks.heading[ego, now:][valid]
    if xy.shape[0] >= 2:
        route = _route_along(scenario, xy, heading)
        goal = scenario.goal or Goal(xy=xy[-1].copy(), heading=float(heading[-1]))
        return dataclasses.replace(scenario, route=route, goal=goal)
    if scenario.goal is None:
        raise DataError(f"scenario {scenario.id!r}: the ego has neither a logged future nor a goal")
    goal = scenario.goal
    try:
        lanes = scenario.road_map.route_between_poses(
            xy[0], float(heading[0]), goal.xy, goal.heading
        )
    except DataError as error:
        raise DataError(
            f"scenario {scenario.id!r}: no route from the ego to its goal: {error}"
        ) from error
    return dataclasses.replace(scenario, route=Route(tuple(lanes)))


def _route_along(scenario: Scenario, xy: np.ndarray, heading: np.ndarray) -> Route:
    """Lanes matching the logged path, or the path itself when it leaves the lane graph or
    strays more than `MAX_ROUTE_OFFSET_M` from the matched lanes."""
    road_map = scenario.road_map
    assert road_map is not None
    try:
        lanes = Route(tuple(road_map.match_path_to_lanes(xy, heading)))
        _, offset = route_reference_path(road_map, lanes).to_frenet(xy)
    except DataError:
        return Route(lane_ids=(), path_xy=xy.copy())
    if np.max(np.abs(offset)) > MAX_ROUTE_OFFSET_M:
        return Route(lane_ids=(), path_xy=xy.copy())
    return lanes


def run_simulations(
    uris: Sequence[str], job: SimulationJob, out_dir: Path, batch: BatchConfig
) -> dict[str, Any]:
    """Simulate every URI, write the result files, return {"aggregate", "scenarios"}."""
    if not uris:
        raise UrbandriveError("no scenarios to simulate")
    config = resolved_config(uris, job, batch)
    _check_config(out_dir, config, batch.resume)
    write_json_atomic(out_dir / "config.json", config)
    if batch.resume:
        _forget_failures(uris, out_dir)
    everything = run_batch(list(uris), job, out_dir, batch)
    results = [result for result in everything if "error" not in result]
    failed = [result for result in everything if "error" in result]
    timings = {result["id"]: result.pop("timing") for result in results}
    summary = {
        "aggregate": aggregate(results) if results else None,
        "scenarios": results,
        "failed": failed,
    }
    write_json_atomic(out_dir / "metrics.json", summary)
    write_json_atomic(out_dir / "timings.json", timings)
    if results:
        _write_parquet(out_dir / "metrics.parquet", results)
    return summary


def _forget_failures(uris: Sequence[str], out_dir: Path) -> None:
    """On resume, scenarios that failed before are tried again."""
    for uri in uris:
        path = result_path(out_dir, uri)
        if path.exists() and "error" in json.loads(path.read_text()):
            path.unlink()


def aggregate(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Suite score (mean x 100), collision rate (fraction with an at-fault collision), means."""
    scores = np.array([r["score"] for r in results]) / 100.0
    summary: dict[str, Any] = {
        "score": suite_score(scores),
        "collision_rate": float(np.mean([r["at_fault_collision"] for r in results])),
        "num_scenarios": len(results),
    }
    for name in AGGREGATED_METRICS:
        summary[name] = float(np.mean([r[name] for r in results]))
    judged = [r for r in results if r.get("passed") is not None]
    summary["pass_rate"] = float(np.mean([r["passed"] for r in judged])) if judged else None
    summary["pass_rate_by_family"] = _pass_rate_by_family(judged)
    for name in ("open_loop_ade_m", "open_loop_fde_m"):
        values = [r[name] for r in results if r.get(name) is not None]
        summary[name] = float(np.mean(values)) if values else None
    return summary


def _pass_rate_by_family(results: Sequence[dict[str, Any]]) -> dict[str, float]:
    """family -> fraction of its scenarios whose pass criterion held."""
    families = sorted({r["family"] for r in results})
    return {f: float(np.mean([r["passed"] for r in results if r["family"] == f])) for f in families}


def resolved_config(uris: Sequence[str], job: SimulationJob, batch: BatchConfig) -> dict[str, Any]:
    """The run's configuration as JSON-ready data (what `config.json` holds)."""
    return {
        "uris": list(uris),
        "planner": job.planner,
        "predictor": job.predictor,
        "simulation": _jsonable(dataclasses.asdict(job.simulation)),
        "workers": batch.workers,
        "ray_address": batch.ray_address,
    }


def _check_config(out_dir: Path, config: dict[str, Any], resume: bool) -> None:
    """Resuming a run with another configuration would mix results: refuse."""
    path = out_dir / "config.json"
    if not resume or not path.exists():
        return
    previous = json.loads(path.read_text())
    keys = ("uris", "planner", "predictor", "simulation")
    if any(previous.get(key) != config[key] for key in keys):
        raise UrbandriveError(f"{path}: --resume with a different planner, scenarios or settings")


def _write_parquet(path: Path, results: Sequence[dict[str, Any]]) -> None:
    columns = [
        k for k, v in results[0].items() if isinstance(v, (int, float, str, bool)) or v is None
    ]
    table = pa.table({name: [r.get(name) for r in results] for name in columns})
    temporary = path.with_suffix(".parquet.tmp")
    pq.write_table(table, temporary)
    temporary.replace(path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value
