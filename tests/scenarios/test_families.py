"""Scenario families: every family builds a valid scenario whose key actor does what the
family says, deterministically; the registry refuses duplicates; pass criteria read results."""

from __future__ import annotations

import numpy as np
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.geometry.polyline import project_points
from urbandrive.scenarios.families import FAMILIES, FamilySpec, register_family, scenario_passed
from urbandrive.scenarios.families.plan import CURRENT_INDEX

ALL_FAMILIES = sorted(FAMILIES)


@pytest.fixture(scope="module")
def built() -> dict[str, Scenario]:
    return {name: FAMILIES[name].build(3, None) for name in ALL_FAMILIES}


def _row(scenario: Scenario, name: str) -> int:
    return scenario.tracks.index_of(name)


def test_fourteen_families_are_registered() -> None:
    assert len(FAMILIES) == 14
    for spec in FAMILIES.values():
        assert spec.description and spec.pass_criterion_text


def test_registry_refuses_a_duplicate_name() -> None:
    spec = FAMILIES["cut_in"]
    with pytest.raises(ValueError, match="already registered"):
        register_family(FamilySpec(spec.name, "x", "y", spec.build, spec.passed))


@pytest.mark.parametrize("name", ALL_FAMILIES)
def test_family_builds_a_valid_scenario_with_ego_route_and_key_actors(
    built: dict[str, Scenario], name: str
) -> None:
    scenario = built[name]
    scenario.validate()
    assert scenario.ego_index is not None and scenario.route is not None
    assert scenario.tracks.valid[scenario.ego_index].all()
    assert scenario.current_index == CURRENT_INDEX
    assert 8.0 <= scenario.duration_s <= 15.0
    meta = scenario.metadata
    assert meta["family"] == name and meta["seed"] == 3
    assert set(meta["family_params"]) == set(FAMILIES[name].build.ranges)
    for actor in meta["key_actors"]:
        assert scenario.tracks.valid[_row(scenario, actor)].any(), actor


@pytest.mark.parametrize("name", ["lead_brakes", "jaywalker", "cut_in"])
def test_same_seed_gives_identical_arrays(built: dict[str, Scenario], name: str) -> None:
    again = FAMILIES[name].build(3, None)
    first = built[name]
    assert np.array_equal(first.tracks.xy, again.tracks.xy)
    assert np.array_equal(first.tracks.valid, again.tracks.valid)
    assert first.tracks.ids.tolist() == again.tracks.ids.tolist()
    assert first.metadata == again.metadata


def test_params_override_the_draws_and_unknown_ones_are_refused() -> None:
    scenario = FAMILIES["lead_brakes"].build(5, {"decel_mps2": 7.0})
    assert scenario.metadata["family_params"]["decel_mps2"] == 7.0
    with pytest.raises(DataError, match="unknown parameters"):
        FAMILIES["lead_brakes"].build(5, {"bogus": 1.0})


def test_lead_brakes_at_least_5_mps2(built: dict[str, Scenario]) -> None:
    scenario = built["lead_brakes"]
    speed = scenario.tracks.speed_mps[_row(scenario, "lead")]
    decel = -np.diff(speed) / scenario.dt_s
    assert decel.max() >= 5.0
    assert speed[-1] < 0.1


def test_cut_in_enters_the_ego_lane_ahead_within_seconds(built: dict[str, Scenario]) -> None:
    scenario = built["cut_in"]
    ego, actor = scenario.ego_index, _row(scenario, "cut_in")
    assert ego is not None
    checks = scenario.metadata["checks"]
    lane_xy = scenario.road_map.reference_path(scenario.route.lane_ids[:3]).xy
    _, lateral, _ = project_points(lane_xy, scenario.tracks.xy[actor])
    start = int(checks["start_step"])
    assert abs(lateral[start - 1]) > 2.5
    inside = np.flatnonzero(np.abs(lateral) < 1.0)
    assert inside.size and inside[0] < CURRENT_INDEX + 50
    ego_s, _, _ = project_points(lane_xy, scenario.tracks.xy[ego, inside[:1]])
    actor_s, _, _ = project_points(lane_xy, scenario.tracks.xy[actor, inside[:1]])
    assert actor_s[0] > ego_s[0]


def test_jaywalker_steps_out_between_two_parked_cars(built: dict[str, Scenario]) -> None:
    scenario = built["jaywalker"]
    walker = _row(scenario, "jaywalker")
    cars = [_row(scenario, "gap_car_0"), _row(scenario, "gap_car_1")]
    assert scenario.tracks.types[walker] == AgentType.PEDESTRIAN
    middle = scenario.tracks.xy[cars, 0].mean(axis=0)
    distance = np.linalg.norm(scenario.tracks.xy[walker] - middle, axis=1)
    assert distance.min() < 0.5  # walks through the gap
    assert np.all(np.linalg.norm(np.diff(scenario.tracks.xy[cars], axis=1), axis=-1) == 0.0)
    assert scenario.tracks.info.attributes["is_scripted"][walker]


def test_animal_darts_and_bus_pulls_out(built: dict[str, Scenario]) -> None:
    dog_scene, bus_scene = built["animal_crossing"], built["bus_pull_out"]
    dog = _row(dog_scene, "dog")
    assert dog_scene.tracks.types[dog] == AgentType.ANIMAL
    assert dog_scene.tracks.speed_mps[dog].max() >= 2.5
    bus = _row(bus_scene, "bus")
    assert bus_scene.tracks.types[bus] == AgentType.LARGE_VEHICLE
    speed = bus_scene.tracks.speed_mps[bus]
    assert speed[0] < 0.1 and speed[-1] > 3.0


def test_double_parked_expert_gets_past(built: dict[str, Scenario]) -> None:
    scenario = built["double_parked"]
    attributes = scenario.tracks.info.attributes
    row = _row(scenario, "double_parked")
    assert attributes["is_double_parked"][row] and attributes["hazard_lights"][row]
    assert FAMILIES["double_parked"].build.check(scenario) is None


def test_red_light_expert_stops_then_goes(built: dict[str, Scenario]) -> None:
    scenario = built["red_light"]
    assert FAMILIES["red_light"].build.check(scenario) is None
    green = scenario.metadata["checks"]["green_step"]
    assert scenario.traffic_lights is not None and green < scenario.num_steps


def _result(**changes: object) -> dict:
    result = {
        "at_fault_collision": False,
        "collisions": [],
        "time_to_collision_within_bound": 1.0,
        "red_light_compliance": 1.0,
    }
    result.update(changes)
    return result


def test_scenario_passed_reads_the_result(built: dict[str, Scenario]) -> None:
    scenario = built["lead_brakes"]
    assert scenario_passed(scenario, _result()) is True
    assert scenario_passed(scenario, _result(at_fault_collision=True)) is False
    assert scenario_passed(scenario, _result(time_to_collision_within_bound=0.0)) is False
    assert scenario_passed(scenario, {"error": "x"}) is False
    from dataclasses import replace

    assert scenario_passed(replace(scenario, metadata={}), _result()) is None


def test_vru_criterion_needs_one_metre_of_clearance(built: dict[str, Scenario]) -> None:
    scenario = built["jaywalker"]
    assert scenario_passed(scenario, _result()) is True  # the logged expert keeps clear
    assert scenario_passed(scenario, _result(collisions=[{"step": 30}])) is False
