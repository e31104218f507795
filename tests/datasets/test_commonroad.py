"""The CommonRoad XML adapter: real SinD / NGSIM files (skipped when absent) and small
hand-written documents for the conversion rules and the error messages."""

from __future__ import annotations

import json
import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.traffic_light import TrafficLightState
from urbandrive.datasets import summarize_scenario
from urbandrive.datasets.commonroad import (
    EGO_ID,
    LOADER,
    CommonRoadConfig,
    load_commonroad_scenario,
)
from urbandrive.maps.road_map import LaneType, StopKind

SIND_FILE = "sind/CHN_SIND-7281_1_T-75.cr.xml"
NGSIM_FILE = "ngsim/USA_Lanker-1_1_T-1.xml"
#: Loaded in the default run: one per kind of file (the full sweep is marked slow).
SAMPLE_FILES = (
    SIND_FILE,
    NGSIM_FILE,
    "ngsim/USA_US101-10_1_T-1.xml",  # 2018b freeway
    "ngsim/DEU_A9-3_1_T-1.xml",  # dt 0.2 s, set-valued (rectangle) states
    "ngsim/USA_US101-1_1_S-1.xml",  # occupancy-set obstacles
    "ngsim/DEU_Starnberg-1_1_T-1.xml",  # no obstacles, no planning problem
    "ngsim/test_reading_complex_tl.xml",  # lights with offsets and inactive phases
    "ngsim/test_reading_intersection_traffic_sign.xml",  # crosswalk, yield signs
)


# -- real data ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def commonroad_dir(data_dir: Path) -> Path:
    path = data_dir / "commonroad"
    if not path.is_dir():
        pytest.skip(f"CommonRoad data not found at {path}")
    return path


@pytest.fixture(scope="module")
def sind(commonroad_dir: Path) -> Scenario:
    return LOADER.load(str(commonroad_dir / SIND_FILE))


@pytest.fixture(scope="module")
def ngsim(commonroad_dir: Path) -> Scenario:
    return LOADER.load(str(commonroad_dir / NGSIM_FILE))


def _xml(commonroad_dir: Path, name: str) -> ET.Element:
    return ET.parse(commonroad_dir / name).getroot()


@pytest.mark.real_data
def test_sind_counts_types_and_steps(commonroad_dir: Path, sind: Scenario) -> None:
    root = _xml(commonroad_dir, SIND_FILE)
    obstacles = root.findall("dynamicObstacle")
    expected = {"vehicle": 1}  # the ego
    names = {
        "car": "vehicle",
        "bus": "large_vehicle",
        "truck": "large_vehicle",
        "bicycle": "cyclist",
        "motorcycle": "motorcyclist",
        "pedestrian": "pedestrian",
    }
    for obstacle in obstacles:
        name = names[obstacle.findtext("type")]
        expected[name] = expected.get(name, 0) + 1
    summary = summarize_scenario(sind)
    assert summary["agents_by_type"] == expected
    assert sind.tracks.num_agents == len(obstacles) + 1
    assert sind.dt_s == 0.1 and sind.num_steps == 76  # steps 0..75, the goal's interval end
    num_states = sum(1 + len(o.findall("trajectory/state")) for o in obstacles)
    assert int(sind.tracks.valid[1:].sum()) == num_states  # no state dropped
    assert sind.tracks.ids[0] == EGO_ID and sind.ego_index == 0
    json.dumps(summary)


@pytest.mark.real_data
def test_one_sind_state_converted_by_hand(commonroad_dir: Path, sind: Scenario) -> None:
    obstacle = _xml(commonroad_dir, SIND_FILE).findall("dynamicObstacle")[3]
    state = obstacle.findall("trajectory/state")[5]
    step = int(state.findtext("time/exact"))
    orientation = float(state.findtext("orientation/exact"))
    speed = float(state.findtext("velocity/exact"))
    agent = sind.tracks.index_of(obstacle.get("id"))
    xy = [float(state.findtext("position/point/x")), float(state.findtext("position/point/y"))]
    np.testing.assert_allclose(sind.tracks.xy[agent, step], xy)
    assert math.isclose(sind.tracks.heading[agent, step], math.remainder(orientation, math.tau))
    np.testing.assert_allclose(
        sind.tracks.velocity[agent, step],
        [speed * math.cos(orientation), speed * math.sin(orientation)],
    )


@pytest.mark.real_data
def test_ngsim_counts_speed_limits_and_goal(commonroad_dir: Path, ngsim: Scenario) -> None:
    root = _xml(commonroad_dir, NGSIM_FILE)
    assert root.get("commonRoadVersion") == "2018b"
    assert summarize_scenario(ngsim)["agents_by_type"] == {
        "vehicle": len(root.findall("obstacle")) + 1
    }
    assert ngsim.num_steps == 41
    lanes = ngsim.road_map.lanes
    assert len(lanes) == len(root.findall("lanelet")) == 91
    limits = {float(e.findtext("speedLimit")) for e in root.findall("lanelet")}
    assert {lane.speed_limit_mps for lane in lanes.values()} == limits
    assert not any(lane.speed_limit_is_default for lane in lanes.values())
    # the goal is one rectangle: its centre, a radius of half its diagonal, the mid heading
    goal = root.find("planningProblem/goalState")
    rectangle = goal.find("position/rectangle")
    assert ngsim.goal is not None
    np.testing.assert_allclose(
        ngsim.goal.xy,
        [float(rectangle.findtext("center/x")), float(rectangle.findtext("center/y"))],
    )
    half_diagonal = 0.5 * math.hypot(
        float(rectangle.findtext("length")), float(rectangle.findtext("width"))
    )
    assert math.isclose(ngsim.goal.radius_m, half_diagonal)
    low, high = (float(goal.findtext(f"orientation/{k}")) for k in ("intervalStart", "intervalEnd"))
    assert math.isclose(ngsim.goal.heading, 0.5 * (low + high))
    problem = ngsim.metadata["planning_problem"]
    assert problem["goal_states"][0]["time_step"] == [30, 40]
    assert problem["goal_states"][0]["position"][0]["kind"] == "rectangle"
    json.dumps(problem)


@pytest.mark.real_data
def test_ego_initial_state(commonroad_dir: Path, sind: Scenario) -> None:
    initial = _xml(commonroad_dir, SIND_FILE).find("planningProblem/initialState")
    ego, step = sind.ego_index, sind.current_index
    assert step == int(initial.findtext("time/exact")) == 0
    assert np.flatnonzero(sind.tracks.valid[ego]).tolist() == [step]
    xy = [float(initial.findtext("position/point/x")), float(initial.findtext("position/point/y"))]
    np.testing.assert_allclose(sind.tracks.xy[ego, step], xy)
    assert math.isclose(
        sind.tracks.heading[ego, step], float(initial.findtext("orientation/exact"))
    )
    assert math.isclose(sind.tracks.speed_mps[ego, step], float(initial.findtext("velocity/exact")))
    assert sind.goal is not None and sind.goal.heading is not None


@pytest.mark.real_data
def test_sind_map_sizes(commonroad_dir: Path, sind: Scenario) -> None:
    root = _xml(commonroad_dir, SIND_FILE)
    road_map = sind.road_map
    assert road_map is not None
    assert len(road_map.lanes) == len(root.findall("lanelet")) == 46
    assert road_map.crosswalks == {}
    assert sorted(road_map.signals) == sorted(
        int(e.get("id")) for e in root.findall("trafficLight")
    )
    referencing = {
        int(e.get("id")) for e in root.findall("lanelet") if e.find("trafficLightRef") is not None
    }
    assert {i for s in road_map.signals.values() for i in s.lane_ids} == referencing
    assert set(road_map.stop_lines) == referencing
    assert {line.kind for line in road_map.stop_lines.values()} == {StopKind.TRAFFIC_LIGHT}
    assert len(road_map.drivable_areas) == len(road_map.lanes)


@pytest.mark.real_data
def test_only_same_direction_adjacency_makes_neighbours(
    commonroad_dir: Path, sind: Scenario
) -> None:
    lanelet = next(
        e for e in _xml(commonroad_dir, SIND_FILE).findall("lanelet") if e.get("id") == "1"
    )
    assert lanelet.find("adjacentLeft").get("drivingDir") == "opposite"
    assert lanelet.find("adjacentRight").get("drivingDir") == "same"
    lane = sind.road_map.lanes[1]
    assert lane.left_neighbor is None and lane.right_neighbor == 17
    assert lane.predecessors == (44, 37, 23)


@pytest.mark.real_data
def test_light_states_follow_the_xml_cycle(commonroad_dir: Path, sind: Scenario) -> None:
    light = _xml(commonroad_dir, SIND_FILE).find("trafficLight")
    colors, durations = [], []
    for element in light.findall("cycle/cycleElement"):
        colors.append(element.findtext("color"))
        durations.append(int(element.findtext("duration")))
    # by hand: yellow 2, red 2 + 52 + 6 + 2, green 12 (76 steps, no offset)
    assert colors[0] == "yellow" and colors[-1] == "green" and sum(durations) == 76
    states = sind.traffic_lights.states[
        list(sind.traffic_lights.signal_ids).index(int(light.get("id")))
    ]
    assert states[1] == TrafficLightState.YELLOW
    assert states[2] == states[63] == TrafficLightState.RED
    assert states[64] == states[75] == TrafficLightState.GREEN


@pytest.mark.real_data
def test_light_offsets_and_inactive_phases(commonroad_dir: Path) -> None:
    scenario = LOADER.load(str(commonroad_dir / "ngsim/test_reading_complex_tl.xml"))
    lights = scenario.traffic_lights
    at = dict(zip(lights.signal_ids.tolist(), lights.states, strict=True))
    # 11110: green 170, yellow 30, red 800, offset 430: step 0 is 570 into the cycle -> red
    assert set(at[11110].tolist()) == {TrafficLightState.RED}
    # 11112: green 220, yellow 40, inactive 740, offset 1000: step t is t into it -> green
    assert set(at[11112].tolist()) == {TrafficLightState.GREEN}
    assert scenario.metadata["traffic_light_directions"][11110] == "left"


@pytest.mark.real_data
@pytest.mark.parametrize("name", [SIND_FILE, NGSIM_FILE, "ngsim/USA_US101-10_1_T-1.xml"])
def test_moving_vehicles_sit_on_lanes(commonroad_dir: Path, name: str) -> None:
    scenario = LOADER.load(str(commonroad_dir / name))
    tracks, road_map = scenario.tracks, scenario.road_map
    vehicles = np.isin(tracks.types, [AgentType.VEHICLE, AgentType.LARGE_VEHICLE])
    vehicles[scenario.ego_index] = False
    moving = tracks.valid & vehicles[:, None] & (tracks.speed_mps > 2.0)
    xy = tracks.xy[moving]
    assert len(xy) > 50
    _, distance = road_map.nearest_lanes(xy)
    inside = np.zeros(len(xy), dtype=bool)
    inside[road_map.lanes_containing(xy)[0]] = True
    assert np.mean((distance < 2.0) | inside) > 0.95


@pytest.mark.real_data
def test_crosswalks_and_yield_signs(commonroad_dir: Path) -> None:
    scenario = LOADER.load(str(commonroad_dir / "ngsim/test_reading_intersection_traffic_sign.xml"))
    road_map = scenario.road_map
    assert len(road_map.crosswalks) == 1 and len(road_map.lanes) == 20
    kinds = [line.kind for line in road_map.stop_lines.values()]
    assert kinds.count(StopKind.YIELD) > 0 and kinds.count(StopKind.TRAFFIC_LIGHT) > 0
    assert len(scenario.metadata["planning_problem"]["goal_states"]) == 2


@pytest.mark.real_data
def test_folder_lists_every_file(commonroad_dir: Path) -> None:
    found = LOADER.list_scenarios(str(commonroad_dir / "sind"))
    assert len(found) == len(list((commonroad_dir / "sind").glob("*.xml"))) == 36
    with pytest.raises(DataError, match="holds 36 CommonRoad files"):
        LOADER.load(str(commonroad_dir / "sind"))


@pytest.mark.real_data
def test_render_a_sind_intersection(sind: Scenario, tmp_path: Path) -> None:
    from urbandrive.viz import render_scenario

    path = render_scenario(sind, tmp_path / "sind.png", time_s=3.0)
    assert path.stat().st_size > 10_000


def _check_loads(commonroad_dir: Path, name: str) -> None:
    scenario = load_commonroad_scenario(commonroad_dir / name)
    json.dumps(summarize_scenario(scenario))
    assert scenario.road_map is not None and scenario.road_map.lanes


@pytest.mark.real_data
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_files_load(commonroad_dir: Path, name: str) -> None:
    _check_loads(commonroad_dir, name)


def _data_files() -> list[str]:
    """Every CommonRoad file of the shared data, found at collection time (none if absent)."""
    repo = Path(__file__).resolve().parents[2]
    data = Path(os.environ.get("URBANDRIVE_DATA", repo.parent / "shared" / "data"))
    root = data / "commonroad"
    return sorted(str(path.relative_to(root)) for path in root.glob("*/*.xml"))


@pytest.mark.real_data
def test_both_folders_hold_every_file(commonroad_dir: Path) -> None:
    assert len(_data_files()) == 36 + 72


@pytest.mark.real_data
@pytest.mark.slow
@pytest.mark.parametrize("name", _data_files())
def test_every_file_loads(commonroad_dir: Path, name: str) -> None:
    _check_loads(commonroad_dir, name)


# -- hand-written documents ---------------------------------------------------------------------

_LANELET = """
  <lanelet id="{id}">
    <leftBound><point><x>0</x><y>{left}</y></point><point><x>50</x><y>{left}</y></point></leftBound>
    <rightBound><point><x>0</x><y>{right}</y></point><point><x>50</x><y>{right}</y></point></rightBound>
    {extra}
  </lanelet>"""
_OBSTACLE = """
  <dynamicObstacle id="{id}">
    <type>{type}</type>
    {shape}
    <initialState>
      <position>{position}</position>
      <orientation><exact>0.0</exact></orientation>
      <time><exact>0</exact></time>
      <velocity><exact>5.0</exact></velocity>
    </initialState>
    <trajectory>
      <state>
        <position><point><x>1.5</x><y>0</y></point></position>
        <orientation><intervalStart>0.1</intervalStart><intervalEnd>0.3</intervalEnd></orientation>
        <time><exact>1</exact></time>
        <velocity><exact>5.0</exact></velocity>
      </state>
    </trajectory>
  </dynamicObstacle>"""
_RECTANGLE = "<shape><rectangle><length>4.0</length><width>2.0</width></rectangle></shape>"
_POINT = "<point><x>1</x><y>0</y></point>"
_LIGHT = """
  <trafficLight id="7">
    <cycle>
      <cycleElement><duration>3</duration><color>redYellow</color></cycleElement>
      <cycleElement><duration>5</duration><color>green</color></cycleElement>
      <timeOffset>2</timeOffset>
    </cycle>
    <position><point><x>50</x><y>-3</y></point></position>
    <active>true</active>
  </trafficLight>"""
_PROBLEM = """
  <planningProblem id="100">
    <initialState>
      <position><point><x>2</x><y>-1.5</y></point></position>
      <orientation><exact>0.0</exact></orientation>
      <time><exact>0</exact></time>
      <velocity><exact>8.0</exact></velocity>
    </initialState>
    <goalState>
      <position><circle><radius>3.0</radius><center><x>45</x><y>-1.5</y></center></circle></position>
      <time><intervalStart>5</intervalStart><intervalEnd>12</intervalEnd></time>
    </goalState>
  </planningProblem>"""


def _document(
    lanelet_extra: str = "",
    obstacle_shape: str = _RECTANGLE,
    obstacle_position: str = _POINT,
    obstacle_type: str = "car",
    lights: str = _LIGHT,
) -> str:
    lanelets = _LANELET.format(id=1, left=0, right=-3, extra=lanelet_extra)
    lanelets += _LANELET.format(id=2, left=3, right=0, extra="<laneletType>crosswalk</laneletType>")
    obstacle = _OBSTACLE.format(
        id=312, type=obstacle_type, shape=obstacle_shape, position=obstacle_position
    )
    return (
        '<commonRoad timeStepSize="0.1" commonRoadVersion="2020a" benchmarkID="ZAM_Test-1_1_T-1">'
        f"{lanelets}{lights}{obstacle}{_PROBLEM}</commonRoad>"
    )


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scene.xml"
    path.write_text(text)
    return path


def test_a_small_document_converts(tmp_path: Path) -> None:
    extra = '<trafficLightRef ref="7"/><lineMarking>solid</lineMarking>'
    scenario = load_commonroad_scenario(_write(tmp_path, _document(lanelet_extra=extra)))
    # duration: the goal's interval end (12) is within 5 s of the last obstacle state (1)
    assert scenario.num_steps == 13 and scenario.current_index == 0
    tracks = scenario.tracks
    assert tracks.ids.tolist() == [EGO_ID, "312"]
    np.testing.assert_allclose(tracks.size_m[1], [4.0, 2.0])
    assert tracks.valid[1].tolist() == [True, True] + [False] * 11
    assert math.isclose(tracks.heading[1, 1], 0.2)  # the orientation interval's mid-point
    np.testing.assert_allclose(tracks.velocity[1, 0], [5.0, 0.0])
    road_map = scenario.road_map
    assert list(road_map.lanes) == [1] and list(road_map.crosswalks) == [2]
    assert road_map.lanes[1].lane_type == LaneType.VEHICLE
    assert road_map.lanes[1].speed_limit_is_default
    assert road_map.signals[7].lane_ids == (1,)
    np.testing.assert_allclose(road_map.stop_lines[1].xy, [[50, 0], [50, -3]])  # lanelet end
    # redYellow 3, green 5, offset 2: steps 0, 1 are 6, 7 into the cycle
    expected = [3, 3, 1, 1, 1, 3, 3, 3, 3, 3, 1, 1, 1]
    assert scenario.traffic_lights.states[0].tolist() == expected
    assert scenario.goal is not None and scenario.goal.radius_m == 3.0
    np.testing.assert_allclose(scenario.goal.xy, [45, -1.5])


def test_goal_extension_is_capped(tmp_path: Path) -> None:
    path = _write(tmp_path, _document())
    scenario = load_commonroad_scenario(path, CommonRoadConfig(max_goal_extension_s=0.5))
    assert scenario.num_steps == 1 + 1 + 5  # last obstacle step 1, plus 0.5 s


def test_circle_and_set_valued_positions(tmp_path: Path) -> None:
    shape = "<shape><circle><radius>0.35</radius></circle></shape>"
    position = '<lanelet ref="1"/>'
    scenario = load_commonroad_scenario(
        _write(
            tmp_path,
            _document(obstacle_shape=shape, obstacle_position=position, obstacle_type="pedestrian"),
        )
    )
    tracks = scenario.tracks
    np.testing.assert_allclose(tracks.size_m[1], [0.7, 0.7])
    np.testing.assert_allclose(tracks.xy[1, 0], [25.0, -1.5])  # the lanelet's centre
    assert tracks.types[1] == AgentType.PEDESTRIAN
    assert scenario.metadata["num_uncertain_states"] == 2


def test_invalid_xml_is_one_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _document()[:-40])
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}: not valid XML"):
        load_commonroad_scenario(path)


def test_obstacle_naming_a_missing_lanelet(tmp_path: Path) -> None:
    path = _write(tmp_path, _document(obstacle_position='<lanelet ref="99"/>'))
    with pytest.raises(
        DataError,
        match=rf"{re.escape(str(path))}: obstacle 312 .*references lanelet 99 which is not in the network",
    ):
        load_commonroad_scenario(path)


def test_lanelet_naming_a_missing_traffic_light(tmp_path: Path) -> None:
    path = _write(tmp_path, _document(lanelet_extra='<trafficLightRef ref="8"/>'))
    with pytest.raises(
        DataError,
        match=rf"{re.escape(str(path))}: lanelet 1 references traffic light 8 which is not",
    ):
        load_commonroad_scenario(path)


def test_lanelet_naming_a_missing_successor(tmp_path: Path) -> None:
    path = _write(tmp_path, _document(lanelet_extra='<successor ref="5"/>'))
    with pytest.raises(
        DataError, match=rf"{re.escape(str(path))}: lanelet 1 references lanelet 5 which is not"
    ):
        load_commonroad_scenario(path)


def test_obstacle_without_a_shape(tmp_path: Path) -> None:
    path = _write(tmp_path, _document(obstacle_shape=""))
    with pytest.raises(DataError, match=rf"{re.escape(str(path))}: obstacle 312 has no <shape>"):
        load_commonroad_scenario(path)


def test_unknown_obstacle_type(tmp_path: Path) -> None:
    path = _write(tmp_path, _document(obstacle_type="hovercraft"))
    with pytest.raises(DataError, match="obstacle 312: unknown obstacle type 'hovercraft'"):
        load_commonroad_scenario(path)


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        LOADER.load(str(tmp_path / "absent.xml"))
    with pytest.raises(DataError, match=r"no CommonRoad \.xml files"):
        LOADER.list_scenarios(str(tmp_path))
