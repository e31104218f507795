"""`step(world, lights_now, walk_now, dt_s)`: advance every agent by one tick, per kind, with
array operations (lane changes rebuild the mover's route: an event, not a per-step loop)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from urbandrive.agents.traffic.lane_change import lateral_offsets, mobil_choices, start_lane_changes
from urbandrive.agents.traffic.paths import sample_paths
from urbandrive.agents.traffic.vehicles import EventDecisions, accelerations
from urbandrive.agents.traffic.walkers import dart_offsets, step_dogs, step_pedestrians
from urbandrive.agents.traffic.world import DRIVING_KINDS, AgentKind, TrafficWorld
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayInt

#: The tick the town is simulated at, seconds.
DT_S = 0.1
#: Drivers reconsider their lane every this many ticks (2 Hz).
LANE_CHANGE_EVERY_STEPS = 5


def step(
    world: TrafficWorld, lights_now: NDArrayInt, walk_now: NDArrayInt, dt_s: float = DT_S
) -> TrafficWorld:
    """The world `dt_s` later.

    lights_now: int8[S], `TrafficLightState` of `world.traffic_map.signal_ids`; walk_now:
    int8[C], `CrossingSignal` of `world.traffic_map.crosswalk_ids`. Random draws (dogs) come
    from `default_rng((world.seed, world.step_index))`, so a run is reproducible.
    """
    _check_inputs(world, lights_now, walk_now, dt_s)
    rng = np.random.default_rng((world.seed, world.step_index))
    driving = world.rows_of(*DRIVING_KINDS)
    walking, dogs = world.rows_of(AgentKind.PEDESTRIAN), world.rows_of(AgentKind.DOG)
    # 1. Lane-following agents: IDM against leaders and events, then MOBIL.
    accel, desired, decisions = accelerations(world, driving, np.asarray(lights_now), dt_s)
    desired_all = np.zeros(world.num_agents)
    desired_all[driving] = desired
    movers, targets = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if world.step_index % LANE_CHANGE_EVERY_STEPS == 0:
        movers, targets = mobil_choices(world, driving, accel, desired_all)
    speed_old = world.speed_mps[driving]
    speed_new = np.maximum(speed_old + accel * dt_s, 0.0)
    s_m, speed, accel_all = world.s_m.copy(), world.speed_mps.copy(), np.zeros(world.num_agents)
    s_m[driving] += 0.5 * (speed_old + speed_new) * dt_s
    speed[driving], accel_all[driving] = speed_new, (speed_new - speed_old) / dt_s
    # 2. Pedestrians and dogs.
    s_m[walking], speed[walking], busy = step_pedestrians(
        world, walking, np.asarray(walk_now), dt_s
    )
    offset = world.offset_m.copy()
    dart_left = world.dart_left_s.copy()
    s_m[dogs], speed[dogs], offset[dogs], dart_left[dogs] = step_dogs(world, dogs, rng, dt_s)
    world = _with_events(world, driving, decisions)
    world = replace(
        world,
        s_m=s_m,
        speed_mps=speed,
        accel_mps2=accel_all,
        offset_m=offset,
        dart_left_s=dart_left,
        crosswalk_busy=busy,
    )
    # 3. Poses; agents past their path's end leave the map; lane changes start.
    world = _poses(world, dt_s)
    return start_lane_changes(world, movers, targets)


def _with_events(world: TrafficWorld, rows: NDArrayInt, decisions: EventDecisions) -> TrafficWorld:
    """The world with the driving rows' event decisions written back."""
    updates = {}
    for name in (
        "yellow_decided",
        "yellow_go",
        "granted",
        "served",
        "stop_wait_s",
        "arrival_s",
        "dwell_elapsed_s",
    ):
        values = getattr(world, name).copy()
        values[rows] = getattr(decisions, name)
        updates[name] = values
    return replace(world, **updates)


def _poses(world: TrafficWorld, dt_s: float) -> TrafficWorld:
    """Positions and headings from (s, offset); lane-change offsets; time advanced."""
    everyone = np.arange(world.num_agents)
    offset, slope, change_length = lateral_offsets(world, world.s_m)
    dogs = world.kinds == AgentKind.DOG
    lateral = np.where(dogs, world.offset_m, offset)
    lateral[dogs] += dart_offsets(world, np.flatnonzero(dogs))
    xy, heading, _ = sample_paths(world.paths, everyone, world.s_m)
    normal = np.stack([-np.sin(heading), np.cos(heading)], -1)
    xy = xy + lateral[:, None] * normal
    heading = heading + np.arctan(slope)
    moved = xy - world.xy
    dog_heading = np.where(
        np.hypot(moved[:, 0], moved[:, 1]) > 1e-3,
        np.arctan2(moved[:, 1], moved[:, 0]),
        world.heading,
    )
    heading = np.where(dogs, dog_heading, heading)
    heading = np.mod(heading + np.pi, 2 * np.pi) - np.pi
    static = world.kinds == AgentKind.PARKED
    active = world.active & (static | (world.s_m < world.paths.length_m))
    return replace(
        world,
        xy=np.where(static[:, None], world.xy, xy),
        heading=np.where(static, world.heading, heading),
        offset_m=np.where(dogs, world.offset_m, offset),
        change_length_m=change_length,
        active=active,
        time_s=world.time_s + dt_s,
        step_index=world.step_index + 1,
    )


def _check_inputs(
    world: TrafficWorld, lights_now: NDArrayInt, walk_now: NDArrayInt, dt_s: float
) -> None:
    signals, crosswalks = (
        world.traffic_map.signal_ids.shape[0],
        world.traffic_map.crosswalk_ids.shape[0],
    )
    if np.shape(lights_now) != (signals,):
        raise DataError(
            f"traffic step: lights_now has shape {np.shape(lights_now)}, want ({signals},)"
        )
    if np.shape(walk_now) != (crosswalks,):
        raise DataError(
            f"traffic step: walk_now has shape {np.shape(walk_now)}, want ({crosswalks},)"
        )
    if not dt_s > 0:
        raise DataError(f"traffic step: dt_s must be > 0, got {dt_s}")
