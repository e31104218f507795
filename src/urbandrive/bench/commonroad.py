"""CommonRoad loading benchmarks on the shared SinD / NGSIM files.

Registration never touches the disk; a benchmark whose data is absent raises `DataError`
naming the folder (and `URBANDRIVE_DATA`) only when it is run.
"""

from __future__ import annotations

from pathlib import Path

from urbandrive.bench.registry import Case, benchmark, shared_data_dir
from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.datasets.commonroad import (
    OBSTACLE_TYPES,
    Obstacle,
    StateRows,
    build_tracks,
    country_of,
    load_commonroad_scenario,
    read_document,
    read_planning_problem,
    read_states,
    shape_size,
)
from urbandrive.datasets.commonroad_map import read_lanelet_network

SIND_FILE = "sind/CHN_SIND-7281_1_T-75.cr.xml"
NGSIM_FILE = "ngsim/USA_Lanker-2_12_T-1.xml"


def _data_file(name: str) -> Path:
    """`<data>/commonroad/<name>`; data = $URBANDRIVE_DATA or ../shared/data."""
    data = shared_data_dir()
    path = data / "commonroad" / name
    if not path.is_file():
        raise DataError(f"{path}: CommonRoad file not found (set URBANDRIVE_DATA)")
    return path


def _per_state_load(path: Path) -> object:
    """The same conversion with every obstacle state read one element at a time."""
    root = read_document(path)
    where = str(path)
    network = read_lanelet_network(root, where, country_of(root.get("benchmarkID") or ""))
    obstacles = []
    for element in root.findall("dynamicObstacle") + root.findall("obstacle"):
        states = [element.find("initialState"), *element.findall("trajectory/state")]
        rows: StateRows = read_states(states, network.outlines, where, is_static=False)
        obstacles.append(
            Obstacle(
                id=element.get("id") or "",
                agent_type=OBSTACLE_TYPES.get(element.findtext("type") or "", AgentType.UNKNOWN),
                size_m=shape_size(element.find("shape"), where),
                states=rows,
            )
        )
    problem = read_planning_problem(root.find("planningProblem"), network.outlines, where)
    num_steps = max(int(o.states.steps.max()) for o in obstacles) + 1
    return build_tracks(obstacles, problem, num_steps, (4.7, 1.9), where)


def _load_case(name: str) -> Case:
    path = _data_file(name)
    scenario = load_commonroad_scenario(path)
    return Case(
        run=lambda: load_commonroad_scenario(path),
        baseline=lambda: _per_state_load(path),
        baseline_name="per-state obstacle parsing",
        unit_count=scenario.duration_s,
        unit="scenario_second",
        repeats=10,
    )


@benchmark("commonroad_load")
def commonroad_load() -> Case:
    """One SinD file (46 lanelets, 4 lights, ~30 agents, 7.5 s): parse, map, tracks, lights."""
    return _load_case(SIND_FILE)


@benchmark("commonroad_load_ngsim")
def commonroad_load_ngsim() -> Case:
    """The largest NGSIM urban file (112 lanelets, 84 agents, 7 s, 2018b)."""
    return _load_case(NGSIM_FILE)
