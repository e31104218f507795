"""Longitudinal control of lane-following agents (cars, buses, cyclists), vectorised.

Each gets a leader (the nearest body of any kind on its path ahead: a broad phase on
distance and direction, then a projection onto a window of its path) and virtual stopped
leaders from the events ahead: red / yellow lights, all-way stops (stop, wait, go in arrival
order when the box is clear), unprotected lefts (gap acceptance), busy crosswalks, bus
stops, and a stop line when the space past the box is full. IDM with per-driver parameters
gives the acceleration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.agents.traffic.drivers import idm_accelerations
from urbandrive.agents.traffic.network import EventKind, gather_where, sorted_contains
from urbandrive.agents.traffic.paths import project_on_windows
from urbandrive.agents.traffic.world import AgentKind, TrafficWorld
from urbandrive.core.traffic_light import TrafficLightState as Light
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt

#: Leaders and events are looked for this far ahead, metres.
LOOKAHEAD_M = 60.0
#: Extra lateral clearance for a body to count as on the path, metres.
LATERAL_MARGIN_M = 0.3
#: Comfortable lateral acceleration in curves, m/s².
LATERAL_ACCEL_MPS2 = 2.0
#: A light turning yellow is run only if the line is reached within this time, seconds.
YELLOW_GO_TIME_S = 2.5
#: At an all-way stop: stopped this close to the line, for this long, before going.
STOP_LINE_REACH_M = 3.5
STOP_WAIT_S = 1.0
#: Leaders of these kinds fill the space past a box (others cross or ride through it).
VEHICLE_KINDS = (int(AgentKind.CAR), int(AgentKind.BUS), int(AgentKind.PARKED))
#: Speeds below this count as stopped, m/s.
STOPPED_MPS = 0.3


@dataclass(frozen=True, slots=True)
class EventDecisions:
    """Updated per-event state of the driving rows: bool[R, E] each, and float64[R]."""

    yellow_decided: NDArrayBool
    yellow_go: NDArrayBool
    granted: NDArrayBool
    served: NDArrayBool
    stop_wait_s: NDArrayF64
    arrival_s: NDArrayF64
    dwell_elapsed_s: NDArrayF64


def leader_gaps(
    world: TrafficWorld, rows: NDArrayInt
) -> tuple[NDArrayF64, NDArrayF64, NDArrayBool]:
    """Bumper gap (m, inf if none) to the nearest body on each row's path ahead, that body's
    speed along the path (m/s, >= 0), float64[R] each, and whether it is a car, bus or
    parked car (bool[R]; pedestrians, cyclists and dogs do not fill a box)."""
    others = np.flatnonzero(world.active)
    delta = world.xy[others][None] - world.xy[rows][:, None]  # [R, O, 2]
    direction = np.stack([np.cos(world.heading[rows]), np.sin(world.heading[rows])], -1)
    along = np.einsum("rod,rd->ro", delta, direction)
    reach = LOOKAHEAD_M + 0.5 * (world.length_m[rows][:, None] + world.length_m[others][None])
    candidate = (np.einsum("rod,rod->ro", delta, delta) < reach**2) & (along > -3.0)
    candidate &= others[None] != rows[:, None]
    pair_row, pair_other = np.nonzero(candidate)
    gap = np.full(rows.shape[0], np.inf)
    lead_speed = np.zeros(rows.shape[0])
    is_vehicle = np.zeros(rows.shape[0], dtype=bool)
    if pair_row.size == 0:
        return gap, lead_speed, is_vehicle
    agent, other = rows[pair_row], others[pair_other]
    s_foot, d_foot, path_heading, inside = project_on_windows(
        world.paths,
        agent,
        world.s_m[agent],
        world.xy[other],
        int(LOOKAHEAD_M / (2 * world.paths.spacing_m)) + 4,
    )
    relative = world.heading[other] - path_heading
    cos, sin = np.abs(np.cos(relative)), np.abs(np.sin(relative))
    long_extent = 0.5 * (world.length_m[other] * cos + world.width_m[other] * sin)
    lat_extent = 0.5 * (world.length_m[other] * sin + world.width_m[other] * cos)
    offset = world.offset_m[agent]
    half_width = 0.5 * world.width_m[agent] + lat_extent + LATERAL_MARGIN_M
    on_path = inside & (d_foot < np.maximum(offset, 0.0) + half_width)
    on_path &= d_foot > np.minimum(offset, 0.0) - half_width
    on_path &= s_foot > world.s_m[agent]
    pair_gap = np.where(
        on_path, s_foot - world.s_m[agent] - 0.5 * world.length_m[agent] - long_extent, np.inf
    )
    pair_speed = np.maximum(world.speed_mps[other] * np.cos(relative), 0.0)
    order = np.lexsort((pair_gap, pair_row))
    first = order[np.r_[True, np.diff(pair_row[order]) != 0]]
    gap[pair_row[first]] = pair_gap[first]
    lead_speed[pair_row[first]] = pair_speed[first]
    is_vehicle[pair_row[first]] = np.isin(world.kinds[other[first]], VEHICLE_KINDS)
    return gap, lead_speed, is_vehicle


def desired_speeds(world: TrafficWorld, rows: NDArrayInt, lookahead_points: int = 40) -> NDArrayF64:
    """float64[R]: the limit times each driver's factor, capped so every curve ahead within
    `lookahead_points` is reached at a comfortable lateral acceleration."""
    paths = world.paths
    index = np.clip((world.s_m[rows] / paths.spacing_m).astype(np.int64), 0, paths.num_points - 1)
    ahead = np.minimum(index[:, None] + np.arange(lookahead_points), paths.num_points - 1)
    curvature = np.abs(paths.curvature[rows[:, None], ahead])
    curve_speed_sq = LATERAL_ACCEL_MPS2 / np.maximum(curvature, 1e-4)
    distance = np.arange(lookahead_points) * paths.spacing_m
    decel = world.drivers.comfortable_decel_mps2[rows][:, None]
    reachable = np.sqrt(np.min(curve_speed_sq + 2.0 * decel * distance, axis=1))
    limit = paths.speed_limit_mps[rows, index] * world.drivers.speed_factor[rows]
    return np.minimum(limit, reachable)


def event_gaps(
    world: TrafficWorld,
    rows: NDArrayInt,
    lights_now: NDArrayInt,
    leader_gap_m: NDArrayF64,
    leader_speed_mps: NDArrayF64,
    dt_s: float,
) -> tuple[NDArrayF64, EventDecisions]:
    """Gap (m, inf if none) from each row's front bumper to the first event ahead it must
    stop at, and the updated per-event decisions. lights_now: int8[S], `TrafficLightState`;
    leader_speed_mps: inf where the leader cannot fill a box (not a vehicle)."""
    events = world.events
    front = world.s_m[rows] + 0.5 * world.length_m[rows]
    speed = world.speed_mps[rows]
    kind, start = events.kind[rows], events.start_s[rows]
    to_start = start - front[:, None]
    ahead = (to_start > -0.5) & (kind != EventKind.NONE)
    is_signal = kind == EventKind.SIGNAL
    light = gather_where(lights_now, events.ref[rows], is_signal, Light.GREEN)
    decided, go = _yellow_decisions(world, rows, light, to_start)
    stop_state = _all_way_stops(world, rows, to_start, ahead, dt_s)
    granted, stop_wait_s, arrival_s = stop_state
    served, dwell_s = _bus_stops(world, rows, to_start, ahead, dt_s)
    busy = gather_where(world.crosswalk_busy, events.ref[rows], kind == EventKind.CROSSWALK, False)
    blocking = is_signal & (
        (light == Light.RED) | (light == Light.FLASHING_RED) | ((light == Light.YELLOW) & ~go)
    )
    permissive = is_signal & (light == Light.FLASHING_YELLOW)
    if permissive.any():
        waiting = np.flatnonzero(permissive.any(1))
        permissive[waiting] &= ~_left_gap_accepted(world, rows[waiting])
    blocking |= permissive
    blocking |= (kind == EventKind.STOP_SIGN) & ~granted
    blocking |= (kind == EventKind.CROSSWALK) & busy
    blocking |= (kind == EventKind.BUS_STOP) & ~served
    blocking |= _box_blocked(world, rows, to_start, ahead, leader_gap_m, leader_speed_mps)
    stopping_distance = speed**2 / (2.0 * world.drivers.max_decel_mps2[rows])
    can_stop = to_start > stopping_distance[:, None] - 0.5
    gap = np.where(blocking & ahead & can_stop & (to_start < LOOKAHEAD_M), to_start, np.inf).min(1)
    decisions = EventDecisions(decided, go, granted, served, stop_wait_s, arrival_s, dwell_s)
    return gap, decisions


def _yellow_decisions(
    world: TrafficWorld, rows: NDArrayInt, light: NDArrayInt, to_start: NDArrayF64
) -> tuple[NDArrayBool, NDArrayBool]:
    """Go or stop, decided once when a light turns yellow and kept until it changes."""
    speed = world.speed_mps[rows][:, None]
    is_yellow = light == Light.YELLOW
    newly = is_yellow & ~world.yellow_decided[rows]
    distance = np.maximum(to_start, 0.1)
    can_clear = distance <= speed * YELLOW_GO_TIME_S
    hard_stop = speed**2 / (2.0 * distance) > world.drivers.comfortable_decel_mps2[rows][:, None]
    go = np.where(newly, can_clear & hard_stop, world.yellow_go[rows]) & is_yellow
    return is_yellow, go


def _first_of_kind(
    kind: NDArrayInt, ahead: NDArrayBool, wanted: EventKind
) -> tuple[NDArrayInt, NDArrayBool]:
    """Column of the first event of `wanted` kind still ahead per row, and whether there is one."""
    hits = ahead & (kind == wanted)
    return np.argmax(hits, axis=1), hits.any(axis=1)


def _all_way_stops(
    world: TrafficWorld, rows: NDArrayInt, to_start: NDArrayF64, ahead: NDArrayBool, dt_s: float
) -> tuple[NDArrayBool, NDArrayF64, NDArrayF64]:
    """Stop at the line, wait `STOP_WAIT_S`, then go in arrival order when the box is clear."""
    events, picked = world.events, np.arange(rows.shape[0])
    column, has_stop = _first_of_kind(events.kind[rows], ahead, EventKind.STOP_SIGN)
    at_line = has_stop & (to_start[picked, column] < STOP_LINE_REACH_M)
    waiting = at_line & (world.speed_mps[rows] < STOPPED_MPS) & ~world.granted[rows, column]
    stop_wait_s = np.where(waiting, world.stop_wait_s[rows] + dt_s, 0.0)
    arrival_s = np.where(waiting, np.minimum(world.arrival_s[rows], world.time_s), np.inf)
    intersection = events.intersection[rows, column]
    num = world.traffic_map.num_intersections
    key = np.where(waiting, arrival_s * 1e3 + rows * 1e-6, np.inf)
    slot = np.where(waiting, intersection, num)  # num: a spare slot for rows not waiting
    first_key = np.full(num + 1, np.inf)
    np.minimum.at(first_key, slot, key)
    winner = waiting & (stop_wait_s >= STOP_WAIT_S) & (key == first_key[slot])
    if winner.any():
        chosen = np.flatnonzero(winner)
        connector = events.connector[rows[chosen], column[chosen]]
        winner[chosen] &= ~_box_conflict(world, intersection[chosen], connector)
    winner &= _one_per_intersection(winner, intersection, num)
    granted = world.granted[rows].copy()
    granted[picked[winner], column[winner]] = True
    return granted, stop_wait_s, arrival_s


def _one_per_intersection(winner: NDArrayBool, intersection: NDArrayInt, num: int) -> NDArrayBool:
    """bool[R]: keep only the first winner of each intersection (ties of arrival time)."""
    keep = np.zeros_like(winner)
    candidates = np.flatnonzero(winner)
    _, first = np.unique(intersection[candidates], return_index=True)
    keep[candidates[first]] = True
    return keep


def _box_occupants(world: TrafficWorld) -> tuple[NDArrayInt, NDArrayInt]:
    """Intersection and connector int64[M] of every driving agent inside a box, or granted
    and not yet in it."""
    events = world.events
    front = (world.s_m + 0.5 * world.length_m)[:, None]
    rear = (world.s_m - 0.5 * world.length_m)[:, None]
    guarded = (events.kind == EventKind.STOP_SIGN) | (events.kind == EventKind.SIGNAL)
    inside = guarded & (front > events.start_s) & (rear < events.end_s)
    inside |= world.granted & (front <= events.start_s)
    inside &= world.active[:, None]
    return events.intersection[inside], events.connector[inside]


def _box_conflict(
    world: TrafficWorld, intersection: NDArrayInt, connector: NDArrayInt
) -> NDArrayBool:
    """bool[R]: whether an occupant of the row's intersection box drives a connector that
    crosses or merges with the row's (connectors outside the conflict table conflict with
    every other connector)."""
    occupied_at, occupied_connector = _box_occupants(world)
    same_box = intersection[:, None] == occupied_at[None]
    other = connector[:, None] != occupied_connector[None]
    keys = connector[:, None] * 2**32 + occupied_connector[None]
    traffic_map = world.traffic_map
    crossing = sorted_contains(traffic_map.conflict_keys, keys)
    covered = traffic_map.conflict_connectors
    unknown = ~sorted_contains(covered, connector)[:, None]
    unknown = unknown | ~sorted_contains(covered, occupied_connector)[None]
    return np.any(same_box & other & (crossing | unknown), axis=1)


def _bus_stops(
    world: TrafficWorld, rows: NDArrayInt, to_start: NDArrayF64, ahead: NDArrayBool, dt_s: float
) -> tuple[NDArrayBool, NDArrayF64]:
    """Dwell at the next bus stop once stopped at it; served after its dwell time."""
    events, picked = world.events, np.arange(rows.shape[0])
    column, has_stop = _first_of_kind(
        events.kind[rows], ahead | world.served[rows], EventKind.BUS_STOP
    )
    has_stop &= ~world.served[rows, column]
    dwelling = (
        has_stop
        & (to_start[picked, column] < STOP_LINE_REACH_M)
        & (world.speed_mps[rows] < STOPPED_MPS)
    )
    dwell_s = np.where(dwelling, world.dwell_elapsed_s[rows] + dt_s, 0.0)
    done = dwelling & (dwell_s >= events.dwell_s[rows, column])
    served = world.served[rows].copy()
    served[picked[done], column[done]] = True
    return served, np.where(done, 0.0, dwell_s)


def _left_gap_accepted(world: TrafficWorld, rows: NDArrayInt) -> NDArrayBool:
    """bool[R, 1]: whether no vehicle the row's next connector yields to arrives within the
    driver's critical gap (or is in the box). Rows without a yield rule are always accepted."""
    keys = world.traffic_map.yield_keys
    if keys.size == 0:
        return np.ones((rows.shape[0], 1), dtype=bool)
    own = _next_guarded(world, rows)
    others = np.flatnonzero(world.active)
    theirs = _next_guarded(world, others)
    pair_keys = own[0][:, None] * 2**32 + theirs[0][None]
    conflict = sorted_contains(keys, pair_keys) & (own[0][:, None] >= 0) & (theirs[0][None] >= 0)
    arrival_s = theirs[1] / np.maximum(world.speed_mps[others], 0.1)
    arrival_s = np.where(theirs[1] <= 0.0, 0.0, arrival_s)
    too_close = arrival_s[None] < world.drivers.critical_gap_s[rows][:, None]
    return ~np.any(conflict & too_close, axis=1, keepdims=True)


def _next_guarded(world: TrafficWorld, rows: NDArrayInt) -> tuple[NDArrayInt, NDArrayF64]:
    """Connector (-1 none) of each row's first signal / stop event not yet cleared, and the
    distance from its front bumper to that event's line (<= 0 inside the box)."""
    events = world.events
    guarded = (events.kind[rows] == EventKind.SIGNAL) | (events.kind[rows] == EventKind.STOP_SIGN)
    rear = world.s_m[rows] - 0.5 * world.length_m[rows]
    pending = guarded & (events.end_s[rows] > rear[:, None])
    column = np.argmax(pending, axis=1)
    np.arange(rows.shape[0])
    connector = np.where(pending.any(1), events.connector[rows, column], -1)
    front = world.s_m[rows] + 0.5 * world.length_m[rows]
    return connector, events.start_s[rows, column] - front


def _box_blocked(
    world: TrafficWorld,
    rows: NDArrayInt,
    to_start: NDArrayF64,
    ahead: NDArrayBool,
    leader_gap_m: NDArrayF64,
    leader_speed_mps: NDArrayF64,
) -> NDArrayBool:
    """bool[R, E]: the row's next box entry, where the slow leader past it leaves no room for
    the row beyond the box's far end (don't block the box)."""
    events, picked = world.events, np.arange(rows.shape[0])
    guarded = (events.kind[rows] == EventKind.SIGNAL) | (events.kind[rows] == EventKind.STOP_SIGN)
    hits = guarded & ahead
    column = np.argmax(hits, axis=1)
    found = hits.any(1)
    line_m = np.where(found, to_start[picked, column], 0.0)
    box_end = np.where(found, events.end_s[rows, column], 0.0)
    box_length = box_end - np.where(found, events.start_s[rows, column], 0.0)
    room = leader_gap_m - line_m - box_length
    full = found & (leader_gap_m > to_start[picked, column]) & (leader_speed_mps < 3.0)
    full &= room < world.length_m[rows] + 2.0
    blocked = np.zeros(hits.shape, dtype=bool)
    blocked[picked[full], column[full]] = True
    return blocked


def accelerations(
    world: TrafficWorld, rows: NDArrayInt, lights_now: NDArrayInt, dt_s: float
) -> tuple[NDArrayF64, NDArrayF64, EventDecisions]:
    """IDM acceleration and desired speed float64[R] of the driving rows against leaders and
    events, and their updated event decisions."""
    gap, lead_speed, lead_is_vehicle = leader_gaps(world, rows)
    box_leader_speed = np.where(lead_is_vehicle, lead_speed, np.inf)
    stop_gap, decisions = event_gaps(world, rows, lights_now, gap, box_leader_speed, dt_s)
    use_stop = stop_gap < gap
    gap = np.where(use_stop, stop_gap, gap)
    lead_speed = np.where(use_stop, 0.0, lead_speed)
    desired = desired_speeds(world, rows)
    accel = idm_accelerations(
        world.speed_mps[rows], desired, gap, lead_speed, world.drivers.select(rows)
    )
    return accel, desired, decisions
