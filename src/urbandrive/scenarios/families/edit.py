"""Copy-on-write edits of a `TrafficWorld` row: put an agent on a new path (a driver, a
walker) and let it settle onto it, park it, pose a scripted one, or take it off the map. Arrays of the world passed in
are never written (cached backgrounds stay intact)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from urbandrive.agents.traffic import AgentKind, PathEvents, PathRow, TrafficWorld, pack_events
from urbandrive.agents.traffic.paths import sample_paths, static_path
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt

_EVENT_FIELDS = ("kind", "start_s", "end_s", "ref", "connector", "intersection", "dwell_s")
_EVENT_STATE = ("yellow_decided", "yellow_go", "granted", "served")
_PATH_FIELDS = ("xy", "heading", "curvature", "speed_limit_mps", "lane_ids", "changing")


def widen_events(world: TrafficWorld, width: int) -> TrafficWorld:
    """The world with room for `width` events per row (padding columns added as needed)."""
    extra = width - world.events.num_events
    if extra <= 0:
        return world
    padding = pack_events([[]] * world.num_agents, extra)
    events = PathEvents(
        **{
            name: np.concatenate([getattr(world.events, name), getattr(padding, name)], axis=1)
            for name in _EVENT_FIELDS
        }
    )
    pad = np.zeros((world.num_agents, extra), dtype=bool)
    states = {name: np.concatenate([getattr(world, name), pad], axis=1) for name in _EVENT_STATE}
    return replace(world, events=events, **states)


def place(
    world: TrafficWorld,
    row: int,
    kind: AgentKind,
    size_m: tuple[float, float],
    path: PathRow,
    events: list,
    s_m: float,
    speed_mps: float,
    speed_factor: float,
    goal_lane: int = -1,
) -> TrafficWorld:
    """Row `row` becomes a `kind` agent of `size_m` (length, width) at `s_m` along `path`
    moving at `speed_mps`, with `events` (see `pack_events`) and every per-row state reset.
    speed_factor: desired speed / limit for drivers, walking speed (m/s) for walkers.
    goal_lane -1 keeps the agent out of discretionary lane changes."""
    world = widen_events(world, len(events))
    paths = world.paths.with_row(row, path)
    packed = pack_events([events], world.events.num_events)
    event_fields = {}
    for name in _EVENT_FIELDS:
        values = getattr(world.events, name).copy()
        values[row] = getattr(packed, name)[0]
        event_fields[name] = values
    xy, heading, _ = sample_paths(paths, np.array([row]), np.array([s_m]))
    drivers = replace(
        world.drivers, speed_factor=_set(world.drivers.speed_factor, row, speed_factor)
    )
    world = replace(
        world,
        kinds=_set(world.kinds, row, int(kind)),
        length_m=_set(world.length_m, row, size_m[0]),
        width_m=_set(world.width_m, row, size_m[1]),
        drivers=drivers,
        paths=paths,
        events=PathEvents(**event_fields),
        goal_lane=_set(world.goal_lane, row, goal_lane),
        is_jaywalker=_set(world.is_jaywalker, row, False),
        s_m=_set(world.s_m, row, s_m),
        speed_mps=_set(world.speed_mps, row, speed_mps),
        xy=_set(world.xy, row, xy[0]),
        heading=_set(world.heading, row, heading[0]),
    )
    return _reset_row_state(world, row)


def settle(
    world: TrafficWorld,
    row: int,
    xy: NDArrayF64,
    heading_rad: float,
    length_m: float,
    max_angle_rad: float = 0.5,
) -> TrafficWorld:
    """Row `row` (just `place`d on its path) put back at `xy: float64[2]` and `heading_rad`,
    off its path: the offset and heading there blend into the path over the next `length_m`
    of travel (the lane-change cubic; heading off the path clipped to `max_angle_rad`)."""
    s_m = world.s_m[row : row + 1]
    foot, path_heading, _ = sample_paths(world.paths, np.array([row]), s_m)
    normal = np.array([-np.sin(path_heading[0]), np.cos(path_heading[0])])
    offset = float(np.dot(np.asarray(xy, np.float64) - foot[0], normal))
    angle = (heading_rad - float(path_heading[0]) + np.pi) % (2 * np.pi) - np.pi
    slope = float(np.tan(np.clip(angle, -max_angle_rad, max_angle_rad)))
    return replace(
        world,
        xy=_set(world.xy, row, np.asarray(xy, np.float64)),
        heading=_set(world.heading, row, heading_rad),
        offset_m=_set(world.offset_m, row, offset),
        change_from_m=_set(world.change_from_m, row, offset),
        change_start_s=_set(world.change_start_s, row, float(s_m[0])),
        change_length_m=_set(world.change_length_m, row, length_m),
        change_slope=_set(world.change_slope, row, slope),
    )


def park(
    world: TrafficWorld, row: int, xy: NDArrayF64, heading_rad: float, size_m: tuple[float, float]
) -> TrafficWorld:
    """Row `row` becomes a static body (kind PARKED) at `xy: float64[2]`, `heading_rad`."""
    path = static_path(np.asarray(xy, np.float64), heading_rad, world.paths.num_points)
    world = place(world, row, AgentKind.PARKED, size_m, path, [], 0.0, 0.0, 1.0)
    return replace(
        world,
        xy=_set(world.xy, row, np.asarray(xy, np.float64)),
        heading=_set(world.heading, row, heading_rad),
    )


def pose(
    world: TrafficWorld,
    rows: NDArrayInt,
    xy: NDArrayF64,
    heading: NDArrayF64,
    speed_mps: NDArrayF64,
    active: NDArrayBool,
) -> TrafficWorld:
    """Scripted rows (static kind: the step leaves them) put at xy float64[R, 2], heading,
    speed float64[R] and active bool[R] (others see them there)."""
    if rows.size == 0:
        return world
    new_xy, new_heading = world.xy.copy(), world.heading.copy()
    new_speed, new_active = world.speed_mps.copy(), world.active.copy()
    new_xy[rows], new_heading[rows], new_speed[rows], new_active[rows] = (
        xy,
        heading,
        speed_mps,
        active,
    )
    return replace(world, xy=new_xy, heading=new_heading, speed_mps=new_speed, active=new_active)


def remove(world: TrafficWorld, rows: NDArrayInt) -> TrafficWorld:
    """The world with `rows` off the map for good (inactive; their events cleared)."""
    if rows.size == 0:
        return world
    active = world.active.copy()
    active[rows] = False
    kinds = world.kinds.copy()
    kinds[rows] = int(AgentKind.PARKED)
    return replace(world, active=active, kinds=kinds)


def _reset_row_state(world: TrafficWorld, row: int) -> TrafficWorld:
    changes: dict[str, np.ndarray] = {}
    for name, value in (
        ("accel_mps2", 0.0),
        ("offset_m", 0.0),
        ("change_from_m", 0.0),
        ("change_start_s", 0.0),
        ("change_length_m", 0.0),
        ("change_slope", 0.0),
        ("last_change_time_s", -np.inf),
        ("active", True),
        ("stop_wait_s", 0.0),
        ("arrival_s", np.inf),
        ("dwell_elapsed_s", 0.0),
        ("dart_left_s", 0.0),
        ("yellow_decided", False),
        ("yellow_go", False),
        ("granted", False),
        ("served", False),
    ):
        changes[name] = _set(getattr(world, name), row, value)
    return replace(world, **changes)


def _set(values: np.ndarray, row: int, value: object) -> np.ndarray:
    copy = values.copy()
    copy[row] = value
    return copy
