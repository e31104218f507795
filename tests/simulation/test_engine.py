"""The closed loop on synthetic roads with known answers."""

import dataclasses

import numpy as np
import pytest

from urbandrive.core import AgentType, DataError, Route, TrafficLightState, TrafficLightStates
from urbandrive.geometry import boxes_overlap
from urbandrive.maps import TrafficSignal
from urbandrive.planning.baselines import IdmPlanner, LogPlanner
from urbandrive.planning.interfaces import Plan
from urbandrive.simulation.engine import SimulationConfig, simulate
from urbandrive.testing import scenario_from_states, straight_road

NUM_STEPS = 120
TIMES = np.arange(NUM_STEPS) * 0.1


def _road_scene(agent_xy, ego_xy=None, types=None, current_index=10, road_map=None):
    """Ego cruising at 10 m/s along lane 0 (y = 0) plus the given agents."""
    ego_xy = np.stack([10 + 10 * TIMES, 0 * TIMES], -1) if ego_xy is None else ego_xy
    xy = np.stack([ego_xy, *agent_xy])
    types = types or [AgentType.VEHICLE] * len(xy)
    scenario = scenario_from_states(
        xy,
        np.zeros(xy.shape[:2]),
        types,
        road_map=road_map or straight_road(num_lanes=2, length_m=300.0, num_segments=3),
        current_index=current_index,
    )
    return dataclasses.replace(scenario, route=Route((0, 1, 2)))


def _overlaps(tracks, a, b):
    both = tracks.valid[a] & tracks.valid[b]
    hit = boxes_overlap(
        tracks.xy[a],
        tracks.heading[a],
        tracks.size_m[a],
        tracks.xy[b],
        tracks.heading[b],
        tracks.size_m[b],
    )
    return bool(np.any(hit & both))


def test_log_planner_reproduces_the_expert_through_the_tracker():
    speed = 8 + 4 * np.sin(TIMES / 2)  # speeding up and slowing down
    ego = np.stack([10 + np.cumsum(speed) * 0.1, 0 * TIMES], -1)
    scenario = _road_scene([np.stack([200 + 0 * TIMES, 3.5 + 0 * TIMES], -1)], ego_xy=ego)
    rollout = simulate(scenario, LogPlanner(scenario))
    error = np.linalg.norm(rollout.scenario.tracks.xy[0] - scenario.tracks.xy[0], axis=-1)
    assert error.max() < 0.3
    np.testing.assert_array_equal(rollout.scenario.tracks.xy[1], scenario.tracks.xy[1])  # replay
    assert rollout.end_index == NUM_STEPS - 1 and rollout.ego_states.shape[0] == NUM_STEPS - 10


def test_idm_planner_stops_behind_a_stopped_car():
    stopped = np.stack([80 + 0 * TIMES, 0 * TIMES], -1)
    scenario = _road_scene([stopped])
    rollout = simulate(scenario, IdmPlanner(scenario))
    tracks = rollout.scenario.tracks
    assert not _overlaps(tracks, 0, 1)
    assert tracks.speed_mps[0, -1] < 0.2
    bumper_gap = tracks.xy[1, -1, 0] - tracks.xy[0, -1, 0] - tracks.size_m[0, 0]
    assert 0.8 < bumper_gap < 4.0


def test_reactive_followers_yield_to_a_slower_ego():
    # The logged follower drives 1 s behind the ego at 10 m/s; the idm ego brakes for a
    # stopped car, so a replaying follower rear-ends it and a reactive one must not.
    follower = np.stack([-2 + 10 * TIMES, 0 * TIMES], -1)
    stopped = np.stack([90 + 0 * TIMES, 0 * TIMES], -1)
    scenario = _road_scene([follower, stopped])
    replayed = simulate(scenario, IdmPlanner(scenario), SimulationConfig(reactive=False))
    reactive = simulate(scenario, IdmPlanner(scenario), SimulationConfig(reactive=True))
    assert _overlaps(replayed.scenario.tracks, 0, 1)
    assert not _overlaps(reactive.scenario.tracks, 0, 1)
    assert reactive.reactive_from[1] > 10 and reactive.reactive_from[2] == -1


def test_idm_planner_stops_at_a_red_light():
    road = straight_road(num_lanes=1, length_m=300.0, num_segments=3)
    signal = TrafficSignal(
        id=9, xy=np.array([100.0, -2.0]), lane_ids=(1,)
    )  # lane 1 starts at x=100
    road = dataclasses.replace(road, signals={9: signal})
    scenario = _road_scene([np.stack([250 + 0 * TIMES, 0 * TIMES], -1)], road_map=road)
    lights = TrafficLightStates(
        np.array([9]), np.full((1, NUM_STEPS), TrafficLightState.RED, np.int8)
    )
    scenario = dataclasses.replace(scenario, traffic_lights=lights)
    tracks = simulate(scenario, IdmPlanner(scenario)).scenario.tracks
    front = tracks.xy[0, :, 0] + 0.5 * tracks.size_m[0, 0]
    assert front.max() < 100.0 and front[-1] > 90.0


def test_the_planner_never_sees_the_future():
    scenario = _road_scene([np.stack([200 + 0 * TIMES, 3.5 + 0 * TIMES], -1)])

    seen = []

    class Recorder(LogPlanner):
        def plan(self, observation):
            seen.append((observation.step, observation.history.num_steps, observation.time_s))
            return super().plan(observation)

    simulate(scenario, Recorder(scenario), SimulationConfig(history_steps=5, max_steps=3))
    assert seen == [
        (10, 5, pytest.approx(1.0)),
        (11, 5, pytest.approx(1.1)),
        (12, 5, pytest.approx(1.2)),
    ]


def test_a_scenario_without_an_ego_or_map_is_refused():
    scenario = _road_scene([np.stack([200 + 0 * TIMES, 3.5 + 0 * TIMES], -1)])
    planner = LogPlanner(scenario)
    with pytest.raises(DataError, match="has no map"):
        simulate(dataclasses.replace(scenario, road_map=None), planner)
    with pytest.raises(DataError, match="nothing to simulate"):
        simulate(dataclasses.replace(scenario, current_index=NUM_STEPS - 1), planner)
    assert isinstance(
        planner.plan(__import__("urbandrive.core", fromlist=["observe"]).observe(scenario, 10)),
        Plan,
    )


def test_scripted_actors_replay_even_in_reactive_mode():
    follower = np.stack([-2 + 10 * TIMES, 0 * TIMES], -1)
    stopped = np.stack([90 + 0 * TIMES, 0 * TIMES], -1)
    scenario = _road_scene([follower, stopped])
    info = dataclasses.replace(
        scenario.tracks.info, attributes={"is_scripted": np.array([False, True, False])}
    )
    scenario = dataclasses.replace(scenario, tracks=dataclasses.replace(scenario.tracks, info=info))
    rollout = simulate(scenario, IdmPlanner(scenario), SimulationConfig(reactive=True))
    assert rollout.reactive_from[1] == -1
    np.testing.assert_array_equal(rollout.scenario.tracks.xy[1], scenario.tracks.xy[1])
