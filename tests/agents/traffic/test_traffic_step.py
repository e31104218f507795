"""The generic traffic policies on small synthetic roads with known answers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from urbandrive.agents.idm import IdmConfig, idm_acceleration
from urbandrive.agents.traffic import (
    AgentKind,
    CrossingSignal,
    DriverSampling,
    EventKind,
    TrafficMap,
    TrafficWorld,
    idm_accelerations,
    initial_world,
    lane_route_path,
    pack_events,
    route_events,
    sample_drivers,
    stack_paths,
    step,
)
from urbandrive.agents.traffic.paths import project_on_windows, resample_path, static_path
from urbandrive.core.errors import DataError
from urbandrive.core.traffic_light import TrafficLightState as Light
from urbandrive.maps.road_map import RoadMap, TrafficSignal
from urbandrive.testing.builders import straight_road

NUM_POINTS = 400
SIGNAL_ID = 900


def _signalised_road() -> TrafficMap:
    """One lane along +x in three 100 m pieces; the middle one is a box behind signal 900."""
    road = straight_road(num_lanes=1, length_m=300.0, num_segments=3, crosswalk_at_m=250.0)
    lanes = dict(road.lanes)
    lanes[1] = replace(lanes[1], is_intersection=True)
    signal = TrafficSignal(id=SIGNAL_ID, xy=np.array([100.0, 0.0]), lane_ids=(1,))
    road_map = RoadMap(lanes, road.crosswalks, {}, {SIGNAL_ID: signal}, road.drivable_areas, "test")
    return TrafficMap(road_map, np.array([SIGNAL_ID]), np.array([1]), {1: 0}, 1)


def _world(traffic_map: TrafficMap, kinds: list[AgentKind], starts: list[float]) -> TrafficWorld:
    """Cars on the lane route 0-1-2 (PARKED rows stand still at their start)."""
    route = lane_route_path(traffic_map, [0, 1, 2], NUM_POINTS)
    rows, events, start_s = [], [], []
    for kind, start in zip(kinds, starts, strict=True):
        if kind == AgentKind.PARKED:
            rows.append(static_path(np.array([start, 0.0]), 0.0, NUM_POINTS))
            events.append([])
            start_s.append(0.0)
        else:
            rows.append(route)
            events.append(route_events(traffic_map, route))
            start_s.append(start)
    drivers = sample_drivers(len(kinds), DriverSampling(), np.random.default_rng(0))
    sizes = np.tile([4.7, 1.9], (len(kinds), 1))
    return initial_world(
        np.array(kinds),
        sizes,
        drivers,
        stack_paths(rows),
        pack_events(events),
        np.array(start_s),
        traffic_map,
        seed=0,
    )


def _run(world: TrafficWorld, light: Light, steps: int, walk: int = 0) -> TrafficWorld:
    for _ in range(steps):
        world = step(world, np.array([int(light)], np.int8), np.array([walk], np.int8))
    return world


def test_events_along_the_route_are_the_signal_and_the_crosswalk() -> None:
    traffic_map = _signalised_road()
    events = _world(traffic_map, [AgentKind.CAR], [10.0]).events
    kinds = events.kind[0][events.kind[0] != EventKind.NONE].tolist()
    assert kinds == [EventKind.SIGNAL, EventKind.CROSSWALK]
    assert events.start_s[0, 0] == pytest.approx(100.0, abs=1.0)
    assert events.start_s[0, 1] == pytest.approx(248.0, abs=1.0)


def test_car_stops_before_a_red_light_then_goes_on_green() -> None:
    world = _run(_world(_signalised_road(), [AgentKind.CAR], [10.0]), Light.RED, 300)
    front = world.s_m[0] + 0.5 * world.length_m[0]
    assert 95.0 < front < 100.0 and world.speed_mps[0] < 0.1
    world = _run(world, Light.GREEN, 150)
    assert world.s_m[0] > 150.0


def test_follower_stops_behind_a_double_parked_car() -> None:
    world = _world(_signalised_road(), [AgentKind.PARKED, AgentKind.CAR], [60.0, 5.0])
    world = _run(world, Light.GREEN, 300)
    gap = 60.0 - world.s_m[1] - world.length_m[1]
    assert 0.5 < gap < 5.0 and world.speed_mps[1] < 0.1


def test_car_yields_to_a_busy_crosswalk() -> None:
    world = _world(_signalised_road(), [AgentKind.CAR], [150.0])
    world = replace(world, crosswalk_busy=np.array([True]))
    for _ in range(300):
        world = replace(_run(world, Light.GREEN, 1), crosswalk_busy=np.array([True]))
    assert world.s_m[0] + 0.5 * world.length_m[0] < 248.0


def _pedestrian_world(traffic_map: TrafficMap) -> TrafficWorld:
    """A pedestrian walking north across the crosswalk at x = 250 (road from y -1.75 to 1.75)."""
    xy = np.array([[250.0, -8.0], [250.0, 8.0]])
    row = resample_path(
        xy, np.array([0.0, 16.0]), np.full(2, -1), np.full(2, 2.0), NUM_POINTS, smooth=False
    )
    events = pack_events([[(EventKind.CROSSWALK, 6.25, 9.75, 0, -1, -1, 0.0)]])
    drivers = sample_drivers(1, DriverSampling(speed_factor=(1.3, 1.3)), np.random.default_rng(0))
    return initial_world(
        np.array([AgentKind.PEDESTRIAN]),
        np.array([[0.6, 0.6]]),
        drivers,
        stack_paths([row]),
        events,
        np.array([0.0]),
        traffic_map,
        seed=0,
    )


def test_pedestrian_waits_for_walk_then_crosses_and_marks_the_crosswalk_busy() -> None:
    world = _run(_pedestrian_world(_signalised_road()), Light.GREEN, 100, CrossingSignal.DONT_WALK)
    assert world.s_m[0] < 6.25 and world.speed_mps[0] < 0.05
    world = _run(world, Light.GREEN, 30, CrossingSignal.WALK)
    assert world.s_m[0] > 6.25 and world.crosswalk_busy[0]


def test_same_seed_same_world_arrays() -> None:
    first = _run(_world(_signalised_road(), [AgentKind.CAR] * 2, [5.0, 40.0]), Light.GREEN, 50)
    second = _run(_world(_signalised_road(), [AgentKind.CAR] * 2, [5.0, 40.0]), Light.GREEN, 50)
    assert np.array_equal(first.xy, second.xy) and np.array_equal(first.speed_mps, second.speed_mps)


def test_idm_with_per_agent_parameters_matches_the_scalar_law() -> None:
    drivers = sample_drivers(3, DriverSampling(), np.random.default_rng(1))
    config = IdmConfig(headway_s=1.3, min_gap_m=2.0, max_accel_mps2=1.5, comfortable_decel_mps2=3.0)
    drivers = replace(
        drivers,
        headway_s=np.full(3, 1.3),
        min_gap_m=np.full(3, 2.0),
        max_accel_mps2=np.full(3, 1.5),
        comfortable_decel_mps2=np.full(3, 3.0),
    )
    speed, desired = np.array([5.0, 10.0, 0.0]), np.array([12.0, 12.0, 12.0])
    gap, lead = np.array([20.0, np.inf, 3.0]), np.array([3.0, 0.0, 0.0])
    expected = idm_acceleration(speed, desired, gap, lead, config)
    assert np.allclose(idm_accelerations(speed, desired, gap, lead, drivers), expected)


def test_driver_sampling_is_seeded_and_checked() -> None:
    first = sample_drivers(5, DriverSampling(), np.random.default_rng(4))
    second = sample_drivers(5, DriverSampling(), np.random.default_rng(4))
    assert np.array_equal(first.critical_gap_s, second.critical_gap_s)
    assert np.all((first.critical_gap_s >= 4.0) & (first.critical_gap_s <= 6.0))
    with pytest.raises(ValueError, match="headway_s"):
        DriverSampling(headway_s=(2.0, 1.0))


def test_window_projection_on_a_straight_path_is_exact() -> None:
    xy = np.array([[0.0, 0.0], [200.0, 0.0]])
    row = resample_path(xy, np.array([0.0, 200.0]), np.zeros(2, int), np.ones(2), 201, smooth=False)
    table = stack_paths([row, row])
    points = np.array([[30.3, 1.2], [55.0, -0.7]])
    s_m, d_m, heading, inside = project_on_windows(
        table, np.array([0, 1]), np.array([20.0, 20.0]), points, 30
    )
    assert np.allclose(s_m, [30.3, 55.0]) and np.allclose(d_m, [1.2, -0.7])
    assert np.allclose(heading, 0.0) and inside.all()


def test_bad_inputs_name_the_field() -> None:
    world = _world(_signalised_road(), [AgentKind.CAR], [10.0])
    with pytest.raises(DataError, match="lights_now"):
        step(world, np.zeros(3, np.int8), np.zeros(1, np.int8))
    with pytest.raises(DataError, match="past its path"):
        _world(_signalised_road(), [AgentKind.CAR], [1e6])


def test_a_road_without_signals_crosswalks_or_intersections_steps() -> None:
    """A map with no signal heads, crosswalks or intersection boxes (S = C = 0, no
    intersections) gives empty state arrays; cars still follow each other on it."""
    road = straight_road(num_lanes=1, length_m=300.0, num_segments=3)
    traffic_map = TrafficMap(road, np.zeros(0, np.int64), np.zeros(0, np.int64), {}, 0)
    world = _world(traffic_map, [AgentKind.CAR, AgentKind.CAR], [30.0, 10.0])
    assert not (world.events.kind != EventKind.NONE).any()
    for _ in range(50):
        world = step(world, np.zeros(0, np.int8), np.zeros(0, np.int8))
    assert (world.speed_mps > 0.0).all()
    assert world.s_m[0] - world.s_m[1] > 4.7
