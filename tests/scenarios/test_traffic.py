"""Realism of generated town traffic (the issue's acceptance tests) on the small town."""

from __future__ import annotations

import numpy as np
import pytest

from urbandrive.core.agent_type import AgentType
from urbandrive.core.traffic_light import TrafficLightState
from urbandrive.geometry import boxes_overlap
from urbandrive.geometry.polyline import project_points
from urbandrive.maps.road_map import LaneType
from urbandrive.scenarios.town import Town, TownConfig, WalkSignalState, generate_town, walk_signals
from urbandrive.scenarios.town.population import PopulationConfig
from urbandrive.scenarios.town.traffic import (
    TrafficConfig,
    TrafficRun,
    run_town_traffic,
    simulate_town_traffic,
)

VEHICLE_TYPES = (AgentType.VEHICLE, AgentType.LARGE_VEHICLE)
BUSY = TrafficConfig(population=PopulationConfig(num_vehicles=40, num_pedestrians=20))
SMALL = TrafficConfig(
    population=PopulationConfig(num_vehicles=10, num_pedestrians=5, num_parked=5, num_cyclists=2),
    warmup_s=2.0,
)


@pytest.fixture(scope="module")
def town() -> Town:
    return generate_town(TownConfig.small(), seed=0)


@pytest.fixture(scope="module")
def busy_run(town: Town) -> TrafficRun:
    return run_town_traffic(town, BUSY, seed=0, duration_s=60.0)


def _moving_vehicles(run: TrafficRun) -> np.ndarray:
    tracks = run.scenario.tracks
    is_parked = tracks.info.attributes["is_parked"] | tracks.info.attributes["is_double_parked"]
    return np.flatnonzero(np.isin(tracks.types, VEHICLE_TYPES) & ~is_parked)


@pytest.mark.slow
def test_scenario_is_valid_town_traffic_with_every_kind(busy_run: TrafficRun) -> None:
    scenario = busy_run.scenario
    scenario.validate()
    assert scenario.source == "town" and scenario.dt_s == 0.1 and scenario.num_steps == 601
    types = set(scenario.tracks.types.tolist())
    assert {
        int(t) for t in (*VEHICLE_TYPES, AgentType.CYCLIST, AgentType.PEDESTRIAN, AgentType.ANIMAL)
    } <= types
    attributes = scenario.tracks.info.attributes
    assert attributes["is_parked"].sum() > 0 and attributes["is_jaywalker"].sum() > 0
    assert scenario.metadata["population"]["num_vehicles"] == 40
    assert scenario.traffic_lights is not None and scenario.road_map is not None


@pytest.mark.slow
def test_vehicles_never_overlap(busy_run: TrafficRun) -> None:
    tracks = busy_run.scenario.tracks
    rows = np.flatnonzero(np.isin(tracks.types, VEHICLE_TYPES))
    xy, heading, size = tracks.xy[rows], tracks.heading[rows], tracks.size_m[rows]
    overlap = boxes_overlap(
        xy[:, None],
        heading[:, None],
        size[:, None, None],
        xy[None],
        heading[None],
        size[None, :, None],
    )
    valid = tracks.valid[rows]
    overlap &= valid[:, None] & valid[None]
    overlap[np.arange(rows.size), np.arange(rows.size)] = False
    assert not overlap.any(), [tracks.ids[rows[i]] for i in np.argwhere(overlap)[0][:2]]


@pytest.mark.slow
def test_vehicles_stay_in_a_lane_except_while_changing(busy_run: TrafficRun) -> None:
    tracks, road_map = busy_run.scenario.tracks, busy_run.scenario.road_map
    rows = _moving_vehicles(busy_run)
    keep = tracks.valid[rows] & ~busy_run.changing_lane[rows]
    points = tracks.xy[rows][keep]
    point_index, lane_ids, _ = road_map.lanes_within_radius(points, 0.5)
    vehicle_lane = np.array([road_map.lanes[int(i)].lane_type != LaneType.BIKE for i in lane_ids])
    covered = np.zeros(points.shape[0], dtype=bool)
    covered[point_index[vehicle_lane]] = True
    assert covered.mean() > 0.995, (
        f"{(~covered).sum()} of {covered.size} poses off every lane centre"
    )


@pytest.mark.slow
def test_speed_acceleration_and_yaw_rate_are_physical(busy_run: TrafficRun) -> None:
    tracks = busy_run.scenario.tracks
    rows = _moving_vehicles(busy_run)
    valid = tracks.valid[rows]
    speed = tracks.speed_mps[rows]
    both = valid[:, 1:] & valid[:, :-1]
    accel = np.diff(speed, axis=1) / 0.1
    yaw_rate = np.diff(np.unwrap(tracks.heading[rows], axis=1), axis=1) / 0.1
    assert speed[valid].max() < 22.0
    assert np.abs(accel[both]).max() < 9.0
    assert np.abs(yaw_rate[both]).max() < 1.2
    lateral_accel = np.abs(yaw_rate * speed[:, 1:])[both]
    assert np.percentile(lateral_accel, 99.9) < 4.0


@pytest.mark.slow
def test_no_vehicle_enters_an_intersection_on_red(busy_run: TrafficRun) -> None:
    scenario = busy_run.scenario
    tracks, road_map, lights = scenario.tracks, scenario.road_map, scenario.traffic_lights
    signal_row = {int(s): row for row, s in enumerate(lights.signal_ids)}
    entries = 0
    for signal in road_map.signals.values():
        for connector_id in signal.lane_ids:
            connector = road_map.lanes[connector_id]
            start, after = connector.centerline[0], connector.centerline[1]
            tangent = (after - start) / np.linalg.norm(after - start)
            for agent, step in _line_crossings(tracks, _moving_vehicles(busy_run), start, tangent):
                if not _takes(tracks, agent, step, connector.centerline, road_map, connector_id):
                    continue
                entries += 1
                state = lights.states[signal_row[signal.id], step - 1]  # seen when moving
                assert state != TrafficLightState.RED, (
                    f"{tracks.ids[agent]} entered on red at step {step}"
                )
    assert entries > 20


def _line_crossings(tracks, rows, start, tangent):
    """(agent, step) where the front bumper crosses the line through `start` normal to `tangent`."""
    heading = tracks.heading[rows]
    front = tracks.xy[rows] + 0.5 * tracks.size_m[rows, 0, None, None] * np.stack(
        [np.cos(heading), np.sin(heading)], -1
    )
    along = (front - start) @ tangent
    lateral = np.abs((front - start) @ np.array([-tangent[1], tangent[0]]))
    valid = tracks.valid[rows]
    crossed = (along[:, :-1] < 0) & (along[:, 1:] >= 0) & (lateral[:, 1:] < 1.5)
    crossed &= valid[:, 1:] & valid[:, :-1]
    return [(int(rows[a]), int(s) + 1) for a, s in np.argwhere(crossed)]


def _takes(tracks, agent, step, centerline, road_map, connector_id) -> bool:
    """Whether the agent's next 3 s follow this connector better than its siblings."""
    later = tracks.xy[agent, step : step + 30][tracks.valid[agent, step : step + 30]]
    siblings = {
        c for p in road_map.lanes[connector_id].predecessors for c in road_map.lanes[p].successors
    }
    cost = {
        c: np.abs(project_points(road_map.lanes[c].centerline, later)[1]).mean() for c in siblings
    }
    return min(cost, key=cost.get) == connector_id


@pytest.mark.slow
def test_pedestrians_step_onto_crosswalks_only_on_walk_unless_jaywalking(
    busy_run: TrafficRun, town: Town
) -> None:
    scenario = busy_run.scenario
    tracks = scenario.tracks
    rows = np.flatnonzero(tracks.types == AgentType.PEDESTRIAN)
    jaywalker = tracks.info.attributes["is_jaywalker"]
    clock = scenario.times_s + scenario.metadata["town_clock_offset_s"]
    walks = walk_signals(town, clock)
    starts = 0
    for row, crosswalk_id in enumerate(walks.crosswalk_ids.tolist()):
        polygon = scenario.road_map.crosswalks[crosswalk_id].polygon
        low, high = polygon.min(0), polygon.max(0)
        inside = np.all((tracks.xy[rows] >= low) & (tracks.xy[rows] <= high), axis=-1)
        inside &= tracks.valid[rows]
        for agent, step in np.argwhere(inside[:, 1:] & ~inside[:, :-1]):
            starts += 1
            state = walks.states[row, step]  # the state the pedestrian decided on
            allowed = state in (WalkSignalState.WALK, WalkSignalState.UNCONTROLLED)
            assert allowed or jaywalker[rows[agent]], f"{tracks.ids[rows[agent]]} at step {step}"
    assert starts > 5


@pytest.mark.slow
def test_only_jaywalkers_enter_the_road_off_crosswalks(busy_run: TrafficRun) -> None:
    scenario = busy_run.scenario
    tracks, road_map = scenario.tracks, scenario.road_map
    rows = np.flatnonzero(
        (tracks.types == AgentType.PEDESTRIAN) & ~tracks.info.attributes["is_jaywalker"]
    )
    on_road = road_map.in_drivable_area(tracks.xy[rows]) & tracks.valid[rows]
    on_crosswalk = np.zeros_like(on_road)
    for crosswalk in road_map.crosswalks.values():
        low, high = crosswalk.polygon.min(0) - 0.8, crosswalk.polygon.max(0) + 0.8
        on_crosswalk |= np.all((tracks.xy[rows] >= low) & (tracks.xy[rows] <= high), axis=-1)
    assert not np.any(on_road & ~on_crosswalk)


def test_same_seed_gives_bit_identical_scenarios(town: Town) -> None:
    first = simulate_town_traffic(town, SMALL, seed=3, duration_s=4.0)
    second = simulate_town_traffic(town, SMALL, seed=3, duration_s=4.0)
    for name in ("xy", "heading", "velocity", "valid"):
        assert np.array_equal(getattr(first.tracks, name), getattr(second.tracks, name))
    assert np.array_equal(first.tracks.ids, second.tracks.ids)


def test_different_seeds_differ(town: Town) -> None:
    first = simulate_town_traffic(town, SMALL, seed=3, duration_s=2.0)
    second = simulate_town_traffic(town, SMALL, seed=4, duration_s=2.0)
    assert not np.array_equal(first.tracks.xy, second.tracks.xy)


def test_ego_hook_marks_a_car_with_its_route(town: Town) -> None:
    config = TrafficConfig(population=SMALL.population, warmup_s=0.0, ego_vehicle=2)
    scenario = simulate_town_traffic(town, config, seed=1, duration_s=1.0)
    assert scenario.ego_index is not None and scenario.route is not None
    assert scenario.tracks.ids[scenario.ego_index] == "car_2"
    lanes = scenario.route.lane_ids[:3]
    ego_xy = scenario.tracks.xy[scenario.ego_index, :1]
    offsets = [
        abs(project_points(scenario.road_map.lanes[i].centerline, ego_xy)[1][0]) for i in lanes
    ]
    assert min(offsets) < 2.0


def test_bad_duration_and_config_are_refused(town: Town) -> None:
    with pytest.raises(ValueError, match="ego_vehicle"):
        TrafficConfig(ego_vehicle=99)
    with pytest.raises(ValueError, match="jaywalker_fraction"):
        PopulationConfig(jaywalker_fraction=2.0)
    from urbandrive.core.errors import DataError

    with pytest.raises(DataError, match="duration_s"):
        simulate_town_traffic(town, SMALL, seed=0, duration_s=0.0)
