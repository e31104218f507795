"""A scripted puppet handed to the traffic model goes on from where and how it was and settles
onto its path smoothly (no sideways snap onto the centreline)."""

from __future__ import annotations

import numpy as np

from urbandrive.agents.traffic import (
    DT_S,
    AgentKind,
    DriverSampling,
    TrafficMap,
    initial_world,
    lane_route_path,
    pack_events,
    sample_drivers,
    stack_paths,
    step,
)
from urbandrive.agents.traffic.paths import static_path
from urbandrive.core.agent_type import AgentType
from urbandrive.core.traffic_light import TrafficLightState
from urbandrive.scenarios.families.build import _pose_puppets
from urbandrive.scenarios.families.plan import Puppet
from urbandrive.testing.builders import straight_road

NUM_POINTS = 400
GREEN = int(TrafficLightState.GREEN)  # the step wants a signal, crosswalk, intersection: unused
RELEASE_STEP = 10
#: Physically plausible sideways speed of a car settling into its lane, m/s.
MAX_LATERAL_SPEED_MPS = 1.5


def _release_run(offset_m: float, heading_rad: float, speed_mps: float = 8.0) -> np.ndarray:
    """float64[T, 3]: (x, y, heading) of a puppet driving along y = offset_m (scripted, then
    released at RELEASE_STEP onto the lane centred on y = 0), recorded like `record` does."""
    road = straight_road(num_lanes=1, length_m=300.0, crosswalk_at_m=250.0)
    traffic_map = TrafficMap(road, np.array([900]), np.array(list(road.crosswalks)), {}, 1)
    lane = lane_route_path(traffic_map, [0, 1], NUM_POINTS)
    steps = 80
    x = 20.0 + speed_mps * DT_S * np.arange(steps)
    puppet = Puppet(
        "car",
        AgentType.VEHICLE,
        (4.7, 1.9),
        np.stack([x, offset_m + np.tan(heading_rad) * (x - x[RELEASE_STEP])], -1),
        np.full(steps, heading_rad),
        np.full(steps, speed_mps),
        np.ones(steps, dtype=bool),
        release_step=RELEASE_STEP,
        release_path=lane,
    )
    world = initial_world(
        np.array([AgentKind.PARKED]),
        np.array([[4.7, 1.9]]),
        sample_drivers(1, DriverSampling(), np.random.default_rng(0)),
        stack_paths([static_path(puppet.xy[0], 0.0, NUM_POINTS)]),
        pack_events([[]]),
        np.zeros(1),
        traffic_map,
        seed=0,
    )
    puppets = [(0, puppet)]
    world = _pose_puppets(world, puppets, 0)
    poses = [np.r_[world.xy[0], world.heading[0]]]
    for index in range(1, steps):
        world = step(world, np.array([GREEN], np.int8), np.zeros(1, np.int8), DT_S)
        world = _pose_puppets(world, puppets, index)
        poses.append(np.r_[world.xy[0], world.heading[0]])
    return np.array(poses)


def test_released_puppet_keeps_its_pose_and_settles_slowly() -> None:
    poses = _release_run(offset_m=1.2, heading_rad=0.0)
    assert poses[RELEASE_STEP, 1] == 1.2  # exactly where the script left it
    lateral_speed = np.abs(np.diff(poses[:, 1])) / DT_S
    assert lateral_speed.max() <= MAX_LATERAL_SPEED_MPS
    forward_speed = np.diff(poses[:, 0]) / DT_S
    assert np.all(np.abs(forward_speed[RELEASE_STEP - 2 : RELEASE_STEP + 3] - 8.0) < 0.3)
    assert np.abs(np.diff(poses[:, 2])).max() < 0.05  # heading continuous, rad per step
    assert abs(poses[-1, 1]) < 0.05  # on its lane a few seconds later


def test_released_puppet_heading_into_its_lane_keeps_that_heading() -> None:
    poses = _release_run(offset_m=-1.0, heading_rad=0.08)
    assert abs(poses[RELEASE_STEP + 1, 2] - 0.08) < 0.02
    assert np.abs(np.diff(poses[:, 1])).max() / DT_S <= MAX_LATERAL_SPEED_MPS
    assert abs(poses[-1, 1]) < 0.05
