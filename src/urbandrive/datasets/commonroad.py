"""The `commonroad:PATH` loader: CommonRoad scenario XML (2018b and 2020a) -> `Scenario`.

PATH is one `.xml` file or a folder (searched recursively) of them. The file's own frame is the
global frame; step k of the scenario is CommonRoad time step k (`timestamps_us = k * dt`), with
dt from the root's `timeStepSize`.

- Agents: row 0 is the ego when the file has a planning problem (`EGO_ID`, valid only at its
  initial time step, `CommonRoadConfig.ego_size_m`), then every obstacle in file order, id =
  the obstacle id. Dynamic obstacles (2020a `dynamicObstacle`, 2018b `obstacle` with role
  dynamic) are valid at their initial state and trajectory states; an obstacle described by an
  `occupancySet` (set-based prediction) has only its initial state, and its id is listed in
  `metadata["occupancy_set_obstacles"]`. Static obstacles are STATIC agents valid at every step.
  Environment and phantom obstacles are not agents; `metadata` counts them.
- A state's velocity is the scalar speed along its orientation. Uncertain values (intervals;
  positions given as a rectangle, circle, polygon or lanelet) become their mid-point / the
  region's centre; `metadata["num_uncertain_states"]` counts such states.
- Ego and goal: the first planning problem's initial state; `Scenario.goal` is the region of
  its first goal state (centre of the shapes' outline bounding box, radius covering every shape;
  heading = mid of the orientation interval) or None when that state has no position. The full
  problem (all goal states: shapes, time, velocity and orientation intervals) is kept as plain
  data in `metadata["planning_problem"]` (other problems in `"other_planning_problems"`).
  `current_index` is the ego's initial time step (0 without a planning problem).
- Duration: up to the later of the last obstacle state and the goal's time-interval end, but
  the goal extends the obstacles' horizon by at most `max_goal_extension_s` (SinD files put
  the source's absolute frame number, e.g. 1127, in the goal interval of a 75-step scene).
- Map and lights: `commonroad_map.read_lanelet_network`; light states over the scenario's steps
  from each light's cycle.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Goal, Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.datasets.commonroad_map import (
    LaneletNetwork,
    float_of,
    int_attribute,
    light_states,
    points_of,
    read_lanelet_network,
)
from urbandrive.datasets.track_grid import index_rows
from urbandrive.geometry.angles import wrap_angle

EGO_ID = "ego"
SOURCE = "commonroad"
OBSTACLE_TYPES: dict[str, AgentType] = {
    "car": AgentType.VEHICLE,
    "taxi": AgentType.VEHICLE,
    "priorityVehicle": AgentType.VEHICLE,
    "parkedVehicle": AgentType.VEHICLE,
    "truck": AgentType.LARGE_VEHICLE,
    "bus": AgentType.LARGE_VEHICLE,
    "train": AgentType.LARGE_VEHICLE,
    "bicycle": AgentType.CYCLIST,
    "motorcycle": AgentType.MOTORCYCLIST,
    "pedestrian": AgentType.PEDESTRIAN,
    "constructionZone": AgentType.STATIC,
    "roadBoundary": AgentType.STATIC,
    "building": AgentType.STATIC,
    "pillar": AgentType.STATIC,
    "median_strip": AgentType.STATIC,
    "unknown": AgentType.UNKNOWN,
}
_FAST_FIELDS = (
    "time/exact",
    "position/point/x",
    "position/point/y",
    "orientation/exact",
    "velocity/exact",
)


@dataclass(frozen=True, slots=True)
class CommonRoadConfig:
    """max_goal_extension_s: how far past the last obstacle state the goal's time interval
    may stretch the scenario; ego_size_m: (length, width) of the ego, which CommonRoad omits."""

    max_goal_extension_s: float = 5.0
    ego_size_m: tuple[float, float] = DEFAULT_SIZE_M[AgentType.VEHICLE]

    def __post_init__(self) -> None:
        if not self.max_goal_extension_s >= 0:
            raise ValueError(f"max_goal_extension_s must be >= 0, got {self.max_goal_extension_s}")
        if not min(self.ego_size_m) > 0:
            raise ValueError(f"ego_size_m must be positive, got {self.ego_size_m}")


@dataclass(frozen=True, slots=True)
class StateRows:
    """S states. steps: int64[S]; xy: float64[S, 2] m; heading: float64[S] rad;
    speed_mps: float64[S], along the heading; num_uncertain: states given as sets."""

    steps: NDArrayInt
    xy: NDArrayF64
    heading: NDArrayF64
    speed_mps: NDArrayF64
    num_uncertain: int = 0


@dataclass(frozen=True, slots=True)
class Obstacle:
    """One obstacle: id, type, size_m (length, width) and its states."""

    id: str
    agent_type: AgentType
    size_m: tuple[float, float]
    states: StateRows
    is_static: bool = False


@dataclass(frozen=True, slots=True)
class PlanningProblem:
    """The ego's start (step, xy: float64[2], heading, speed) and goal; `description` is the
    whole problem as plain JSON-serialisable data."""

    id: int
    step: int
    xy: NDArrayF64
    heading: float
    speed_mps: float
    goal: Goal | None
    description: dict[str, Any] = field(default_factory=dict)


# -- loader ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommonRoadLoader:
    """`ScenarioLoader` for CommonRoad XML: a file, or a folder of `.xml` files."""

    scheme: str = "commonroad"
    config: CommonRoadConfig = field(default_factory=CommonRoadConfig)

    def load(self, location: str) -> Scenario:
        """The scenario in the file at `location` (or the only one in that folder)."""
        files = find_commonroad_files(Path(location).expanduser())
        if len(files) > 1:
            raise DataError(
                f"{location}: holds {len(files)} CommonRoad files (e.g. {files[0]}); "
                "load one of them, or expand the URI"
            )
        return load_commonroad_scenario(files[0], self.config)

    def list_scenarios(self, location: str) -> list[str]:
        """Every `.xml` file at or below `location`, sorted."""
        return [str(path) for path in find_commonroad_files(Path(location).expanduser())]


def find_commonroad_files(path: Path) -> list[Path]:
    """`path` itself if it is a file, else the `.xml` files below it, sorted; `DataError` if none."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*.xml") if p.is_file())
    if not files:
        raise DataError(f"{path}: no CommonRoad .xml files found")
    return files


def read_document(path: Path) -> ET.Element:
    """The `<commonRoad>` root of `path`; `DataError` naming it if unreadable or not CommonRoad."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise DataError(f"{path}: not valid XML ({error})") from error
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from error
    if root.tag != "commonRoad":
        raise DataError(f"{path}: root element is <{root.tag}>, not <commonRoad>")
    return root


def load_commonroad_scenario(path: Path, config: CommonRoadConfig | None = None) -> Scenario:
    """Read, convert and validate one CommonRoad file (see the module docstring)."""
    config = config or CommonRoadConfig()
    root = read_document(path)
    where = str(path)
    dt_s = _time_step_size(root, where)
    benchmark_id = root.get("benchmarkID") or path.name.split(".")[0]
    network = read_lanelet_network(root, where, country_of(benchmark_id))
    obstacles = read_obstacles(root, network.outlines, where)
    problems = [
        read_planning_problem(e, network.outlines, where) for e in root.findall("planningProblem")
    ]
    ego = problems[0] if problems else None
    num_steps = _num_steps(obstacles, ego, round(config.max_goal_extension_s / dt_s))
    scenario = Scenario(
        id=benchmark_id,
        source=SOURCE,
        timestamps_us=np.round(np.arange(num_steps) * dt_s * 1e6).astype(np.int64),
        dt_s=dt_s,
        current_index=0 if ego is None else ego.step,
        tracks=build_tracks(obstacles, ego, num_steps, config.ego_size_m, where),
        ego_index=None if ego is None else 0,
        road_map=network.road_map,
        traffic_lights=light_states(network.light_cycles, num_steps),
        goal=None if ego is None else ego.goal,
        metadata=_metadata(root, path, network, obstacles, problems),
    )
    scenario.validate()
    return scenario


def _time_step_size(root: ET.Element, where: str) -> float:
    """Seconds per step from the root's `timeStepSize`; `DataError` if absent or not positive."""
    text = root.get("timeStepSize")
    try:
        dt_s = float(text or "")
    except ValueError as error:
        raise DataError(f"{where}: <commonRoad> timeStepSize={text!r} is not a number") from error
    if not dt_s > 0:
        raise DataError(f"{where}: timeStepSize must be positive, got {dt_s}")
    return dt_s


def country_of(benchmark_id: str) -> str:
    """ISO country code of a benchmark id ("USA_US101-1_1_T-1", "C-DEU_..." -> "USA", "DEU")."""
    return benchmark_id[2:5] if benchmark_id.startswith("C-") else benchmark_id[:3]


# -- obstacles --------------------------------------------------------------------------------


def read_obstacles(
    root: ET.Element, outlines: Mapping[int, NDArrayF64], where: str
) -> list[Obstacle]:
    """Dynamic and static obstacles of both format versions, in file order."""
    obstacles = []
    for element in root:
        if element.tag in ("dynamicObstacle", "staticObstacle", "obstacle"):
            obstacles.append(read_obstacle(element, outlines, where))
    return obstacles


def read_obstacle(element: ET.Element, outlines: Mapping[int, NDArrayF64], where: str) -> Obstacle:
    """One obstacle element; `DataError` naming the file and the obstacle if malformed."""
    obstacle_id = int_attribute(element, "id", f"{where}: <{element.tag}>")
    where = f"{where}: obstacle {obstacle_id}"
    role = (element.findtext("role") or "").strip()
    is_static = element.tag == "staticObstacle" or role == "static"
    type_name = (element.findtext("type") or "").strip()
    if type_name not in OBSTACLE_TYPES:
        raise DataError(f"{where}: unknown obstacle type {type_name!r}")
    initial = element.find("initialState")
    if initial is None:
        raise DataError(f"{where}: <initialState> missing")
    states = [initial] if is_static else [initial, *element.findall("trajectory/state")]
    trajectory = element.find("trajectory")
    return Obstacle(
        id=str(obstacle_id),
        agent_type=AgentType.STATIC if is_static else OBSTACLE_TYPES[type_name],
        size_m=shape_size(element.find("shape"), where),
        states=_initial_and_trajectory(initial, trajectory, states, outlines, where, is_static),
        is_static=is_static,
    )


def shape_size(shape: ET.Element | None, where: str) -> tuple[float, float]:
    """(length, width) in metres of a rectangle, circle (its diameter) or polygon (extents)."""
    if shape is None or len(shape) == 0:
        raise DataError(f"{where} has no <shape>")
    extents = []
    for part in shape.iter():
        if part.tag == "rectangle":
            extents.append((float_of(part, "length", where), float_of(part, "width", where)))
        elif part.tag == "circle":
            diameter = 2.0 * float_of(part, "radius", where)
            extents.append((diameter, diameter))
        elif part.tag == "polygon":
            corners = points_of(part, f"{where} shape polygon")
            extents.append(tuple(np.ptp(corners, axis=0)))
    if not extents:
        raise DataError(f"{where}: shape has no rectangle, circle or polygon")
    length, width = np.max(np.asarray(extents, dtype=np.float64), axis=0)
    if not (length > 0 and width > 0):
        raise DataError(f"{where}: shape size {length} x {width} is not positive")
    return float(length), float(width)


def _initial_and_trajectory(
    initial: ET.Element,
    trajectory: ET.Element | None,
    states: list[ET.Element],
    outlines: Mapping[int, NDArrayF64],
    where: str,
    is_static: bool,
) -> StateRows:
    """The initial state then the trajectory's; exact trajectories are read field-wise."""
    first = read_states([initial], outlines, where, is_static)
    if trajectory is None or is_static or len(trajectory) == 0:
        return first
    rest = read_exact_states(trajectory, where)
    if rest is None:
        rest = read_states(states[1:], outlines, where, is_static)
    return StateRows(
        steps=np.concatenate([first.steps, rest.steps]),
        xy=np.concatenate([first.xy, rest.xy]),
        heading=np.concatenate([first.heading, rest.heading]),
        speed_mps=np.concatenate([first.speed_mps, rest.speed_mps]),
        num_uncertain=first.num_uncertain + rest.num_uncertain,
    )


def read_exact_states(trajectory: ET.Element, where: str) -> StateRows | None:
    """All states of a `<trajectory>` at once when every one is exact (None otherwise)."""
    num_states = len(trajectory.findall("state"))
    columns = [trajectory.findall(f"state/{path}") for path in _FAST_FIELDS]
    if any(len(column) != num_states for column in columns):
        return None
    try:
        values = np.array([float(e.text or "") for c in columns for e in c], dtype=np.float64)
    except ValueError as error:
        raise DataError(f"{where}: a trajectory value is not a number ({error})") from error
    time, x, y, orientation, speed = values.reshape(len(_FAST_FIELDS), num_states)
    return StateRows(
        steps=_whole_steps(time, where),
        xy=np.stack([x, y], axis=-1),
        heading=wrap_angle(orientation),
        speed_mps=speed,
    )


def read_states(
    states: list[ET.Element], outlines: Mapping[int, NDArrayF64], where: str, is_static: bool
) -> StateRows:
    """States one at a time, accepting intervals and set-valued positions."""
    rows = [_read_state(state, outlines, where, is_static) for state in states]
    steps, x, y, heading, speed, uncertain = (
        np.array(column) for column in zip(*rows, strict=True)
    )
    return StateRows(
        steps=_whole_steps(steps, where),
        xy=np.stack([x, y], axis=-1).astype(np.float64),
        heading=wrap_angle(heading.astype(np.float64)),
        speed_mps=speed.astype(np.float64),
        num_uncertain=int(uncertain.sum()),
    )


def _read_state(
    state: ET.Element, outlines: Mapping[int, NDArrayF64], where: str, is_static: bool
) -> tuple[float, float, float, float, float, bool]:
    """(time step, x, y, orientation, speed, whether any value was a set)."""
    time, time_set = _value(state, "time", where)
    where = f"{where} state at time {time}"
    orientation, orientation_set = _value(state, "orientation", where)
    speed, speed_set = _value(state, "velocity", where, 0.0 if is_static else None)
    position = state.find("position")
    if position is None:
        raise DataError(f"{where}: <position> missing")
    point = position.find("point")
    if point is not None:
        xy, position_set = points_of(position, where)[0], False
    else:
        xy, _ = region_of(read_shapes(position, outlines, where), outlines)
        position_set = True
    uncertain = time_set or orientation_set or speed_set or position_set
    return time, float(xy[0]), float(xy[1]), orientation, speed, uncertain


def _value(
    state: ET.Element, name: str, where: str, default: float | None = None
) -> tuple[float, bool]:
    """(value, is_interval): `<exact>` or the mid-point of `<intervalStart>..<intervalEnd>`."""
    element = state.find(name)
    if element is None:
        if default is None:
            raise DataError(f"{where}: <{name}> missing")
        return default, False
    if element.find("exact") is not None:
        return float_of(element, "exact", f"{where} {name}"), False
    low = float_of(element, "intervalStart", f"{where} {name}")
    high = float_of(element, "intervalEnd", f"{where} {name}")
    return 0.5 * (low + high), True


def _whole_steps(times: np.ndarray, where: str) -> NDArrayInt:
    times = np.asarray(times, dtype=np.float64)
    if not np.all(np.isfinite(times)) or np.any(times != np.round(times)):
        raise DataError(f"{where}: time steps must be whole numbers, got {times[:5]}")
    return times.astype(np.int64)


# -- shapes and goal regions ------------------------------------------------------------------


def read_shapes(
    position: ET.Element, outlines: Mapping[int, NDArrayF64], where: str
) -> list[dict[str, Any]]:
    """The shapes of a set-valued `<position>` as plain dicts (kind, geometry in metres)."""
    shapes: list[dict[str, Any]] = []
    for part in position:
        if part.tag == "rectangle":
            shapes.append(
                {
                    "kind": "rectangle",
                    "center": _center(part, where),
                    "length": float_of(part, "length", where),
                    "width": float_of(part, "width", where),
                    "orientation": float(part.findtext("orientation") or 0.0),
                }
            )
        elif part.tag == "circle":
            radius = float_of(part, "radius", where)
            shapes.append({"kind": "circle", "center": _center(part, where), "radius": radius})
        elif part.tag == "polygon":
            shapes.append({"kind": "polygon", "points": points_of(part, where).tolist()})
        elif part.tag == "lanelet":
            lanelet_id = int_attribute(part, "ref", where)
            if lanelet_id not in outlines:
                raise DataError(
                    f"{where} references lanelet {lanelet_id} which is not in the network"
                )
            shapes.append({"kind": "lanelet", "lanelet_id": lanelet_id})
    if not shapes:
        raise DataError(f"{where}: <position> has no point, rectangle, circle, polygon or lanelet")
    return shapes


def _center(part: ET.Element, where: str) -> list[float]:
    if part.find("center") is None:
        return [0.0, 0.0]
    return [float_of(part, "center/x", where), float_of(part, "center/y", where)]


def region_of(
    shapes: list[dict[str, Any]], outlines: Mapping[int, NDArrayF64]
) -> tuple[NDArrayF64, float]:
    """(centre float64[2], radius m): the outlines' bounding-box centre, radius covering all."""
    outline = np.concatenate([_outline(shape, outlines) for shape in shapes], axis=0)
    center = 0.5 * (outline.min(axis=0) + outline.max(axis=0))
    return center, float(np.max(np.linalg.norm(outline - center, axis=-1)))


def _outline(shape: dict[str, Any], outlines: Mapping[int, NDArrayF64]) -> NDArrayF64:
    """float64[P, 2] points whose hull is the shape (a circle by its 4 extreme points)."""
    kind = shape["kind"]
    if kind == "lanelet":
        return outlines[shape["lanelet_id"]]
    if kind == "polygon":
        return np.asarray(shape["points"], dtype=np.float64)
    center = np.asarray(shape["center"], dtype=np.float64)
    if kind == "circle":
        return center + shape["radius"] * np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], float)
    half = 0.5 * np.array([shape["length"], shape["width"]])
    corners = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], dtype=np.float64) * half
    cos, sin = np.cos(shape["orientation"]), np.sin(shape["orientation"])
    return center + corners @ np.array([[cos, sin], [-sin, cos]])


def read_planning_problem(
    element: ET.Element, outlines: Mapping[int, NDArrayF64], where: str
) -> PlanningProblem:
    """The ego's initial state and its goal (see the module docstring)."""
    problem_id = int_attribute(element, "id", f"{where}: <planningProblem>")
    where = f"{where}: planning problem {problem_id}"
    initial = element.find("initialState")
    if initial is None:
        raise DataError(f"{where}: <initialState> missing")
    start = read_states([initial], outlines, f"{where} initialState", is_static=False)
    goals = [_goal_state(e, outlines, f"{where} goalState") for e in element.findall("goalState")]
    if not goals:
        raise DataError(f"{where}: has no <goalState>")
    return PlanningProblem(
        id=problem_id,
        step=int(start.steps[0]),
        xy=start.xy[0],
        heading=float(start.heading[0]),
        speed_mps=float(start.speed_mps[0]),
        goal=_goal(goals[0], outlines),
        description={
            "id": problem_id,
            "initial_state": {
                "time_step": int(start.steps[0]),
                "position": start.xy[0].tolist(),
                "orientation": float(start.heading[0]),
                "velocity_mps": float(start.speed_mps[0]),
            },
            "goal_states": goals,
        },
    )


def _goal_state(
    element: ET.Element, outlines: Mapping[int, NDArrayF64], where: str
) -> dict[str, Any]:
    """One goal state: intervals as [low, high] (None when absent) and the position's shapes."""
    position = element.find("position")
    state: dict[str, Any] = {
        "position": [] if position is None else read_shapes(position, outlines, where)
    }
    for name, key in (
        ("time", "time_step"),
        ("velocity", "velocity_mps"),
        ("orientation", "orientation"),
    ):
        part = element.find(name)
        if part is None:
            state[key] = None
        elif part.find("exact") is not None:
            value = float_of(part, "exact", f"{where} {name}")
            state[key] = [value, value]
        else:
            state[key] = [
                float_of(part, "intervalStart", f"{where} {name}"),
                float_of(part, "intervalEnd", f"{where} {name}"),
            ]
    if state["time_step"] is None:
        raise DataError(f"{where}: <time> missing")
    state["time_step"] = [round(value) for value in state["time_step"]]
    return state


def _goal(state: dict[str, Any], outlines: Mapping[int, NDArrayF64]) -> Goal | None:
    if not state["position"]:
        return None
    center, radius = region_of(state["position"], outlines)
    heading = None
    if state["orientation"] is not None:
        low, high = state["orientation"]
        heading = float(wrap_angle(np.float64(low + 0.5 * (high - low))))
    return Goal(xy=center, heading=heading, radius_m=max(radius, 0.1))


# -- the scenario -----------------------------------------------------------------------------


def _num_steps(
    obstacles: list[Obstacle], ego: PlanningProblem | None, max_extension_steps: int
) -> int:
    """Steps up to the last obstacle / ego state, stretched towards the goal's time end."""
    last = max((int(o.states.steps.max()) for o in obstacles), default=0)
    if ego is None:
        return last + 1
    last = max(last, ego.step)
    goal_end = max(state["time_step"][1] for state in ego.description["goal_states"])
    return max(last, min(goal_end, last + max_extension_steps)) + 1


def build_tracks(
    obstacles: list[Obstacle],
    ego: PlanningProblem | None,
    num_steps: int,
    ego_size_m: tuple[float, float],
    where: str,
) -> Tracks:
    """Padded `(A, T)` tracks: the ego first (if any), then the obstacles in file order."""
    rows = [
        StateRows(np.arange(num_steps), *_repeat(o.states, num_steps)) if o.is_static else o.states
        for o in obstacles
    ]
    ids = [o.id for o in obstacles]
    types = [int(o.agent_type) for o in obstacles]
    sizes = [o.size_m for o in obstacles]
    if ego is not None:
        ego_rows = StateRows(
            np.array([ego.step]), ego.xy[None], np.array([ego.heading]), np.array([ego.speed_mps])
        )
        rows, ids = [ego_rows, *rows], [EGO_ID, *ids]
        types, sizes = [int(AgentType.VEHICLE), *types], [ego_size_m, *sizes]
    if not rows:
        empty = np.zeros((0, num_steps))
        return Tracks.from_arrays([], [], np.zeros((0, 2)), empty[..., None].repeat(2, -1), empty)
    track_ids = np.repeat(np.array(ids, dtype=str), [r.steps.size for r in rows])
    steps = np.concatenate([r.steps for r in rows])
    grid = index_rows(Path(where), track_ids, steps, num_steps)
    heading = np.concatenate([r.heading for r in rows])
    speed = np.concatenate([r.speed_mps for r in rows])
    velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
    return Tracks.from_arrays(
        ids=ids,
        types=types,
        size_m=np.asarray(sizes, dtype=np.float64),
        xy=grid.scatter(np.concatenate([r.xy for r in rows])),
        heading=grid.scatter(heading),
        velocity=grid.scatter(velocity),
        valid=grid.valid,
    )


def _repeat(states: StateRows, num_steps: int) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """A static obstacle's first state at every step (xy, heading, zero speed)."""
    return (
        np.repeat(states.xy[:1], num_steps, axis=0),
        np.repeat(states.heading[:1], num_steps),
        np.zeros(num_steps),
    )


def _metadata(
    root: ET.Element,
    path: Path,
    network: LaneletNetwork,
    obstacles: list[Obstacle],
    problems: list[PlanningProblem],
) -> dict[str, Any]:
    """Plain facts about the file that the core types do not hold."""
    benchmark_id = root.get("benchmarkID") or path.name.split(".")[0]
    return {
        "file": str(path),
        "benchmark_id": benchmark_id,
        "commonroad_version": root.get("commonRoadVersion"),
        "country": country_of(benchmark_id),
        "city": "_".join(benchmark_id.split("_")[:2]),
        "data_source": root.get("source"),
        "tags": sorted(tag.tag for tag in root.findall("scenarioTags/*"))
        or (root.get("tags") or "").split(),
        "planning_problem": problems[0].description if problems else None,
        "other_planning_problems": [problem.description for problem in problems[1:]],
        "num_uncertain_states": sum(o.states.num_uncertain for o in obstacles),
        "occupancy_set_obstacles": [
            element.get("id") for element in root if element.find("occupancySet") is not None
        ],
        "num_environment_obstacles": len(root.findall("environmentObstacle")),
        "num_phantom_obstacles": len(root.findall("phantomObstacle")),
        "traffic_light_directions": {c.signal_id: c.direction for c in network.light_cycles},
        "skipped_lanelets": dict(network.skipped_lanelets),
        "unassigned_stop_lines": list(network.unassigned_stop_lines),
    }


#: The instance the registry adds under `commonroad:`.
LOADER = CommonRoadLoader()
