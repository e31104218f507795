"""Discretionary lane changes (MOBIL: incentive, safety, politeness), vectorised over cars.

A car on a straight multi-lane stretch, away from intersections, compares its IDM
acceleration now with the one it would have behind the leader of a neighbouring lane; the
change happens when the gain plus politeness times the new follower's change of acceleration
beats a threshold (a small bias keeps right) and the new follower need not brake harder than
`SAFE_DECEL_MPS2`. A car that changes gets a new route from the neighbour lane to its goal;
its lateral offset from that path then shrinks to zero smoothly over 3-4 s of driving.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from urbandrive.agents.traffic.drivers import idm_accelerations
from urbandrive.agents.traffic.network import EventKind
from urbandrive.agents.traffic.paths import PATH_SPACING_M
from urbandrive.agents.traffic.routes import lane_route_path, replace_event_row, route_events
from urbandrive.agents.traffic.world import AgentKind, TrafficWorld
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.geometry.polyline import project_points

LANE_WIDTH_M = 3.5
THRESHOLD_MPS2 = 0.3
KEEP_RIGHT_BIAS_MPS2 = 0.1
SAFE_DECEL_MPS2 = 3.0
COOLDOWN_S = 8.0
#: No discretionary change this close to the next stop line or a change built into the route.
CLEAR_AHEAD_M = 45.0
#: A lane change takes this long at the current speed, within the length bounds below.
CHANGE_TIME_S = 3.5
CHANGE_LENGTH_BOUNDS_M = (15.0, 60.0)


def mobil_choices(
    world: TrafficWorld, rows: NDArrayInt, accel: NDArrayF64, desired_all: NDArrayF64
) -> tuple[NDArrayInt, NDArrayInt]:
    """Rows that change lane now and the lane each changes into (neighbour lane id)."""
    eligible, left, right = _eligible(world, rows)
    if not eligible.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    movers, own_accel = rows[eligible], accel[eligible]
    best_gain = np.full(movers.shape[0], -np.inf)
    best_lane = np.full(movers.shape[0], -1, np.int64)
    for side, targets in ((1.0, left[eligible]), (-1.0, right[eligible])):
        gain = _side_gain(world, movers, own_accel, desired_all, side)
        gain = np.where(targets >= 0, gain, -np.inf)
        better = gain > best_gain
        best_gain, best_lane = (
            np.where(better, gain, best_gain),
            np.where(better, targets, best_lane),
        )
    chosen = best_gain > THRESHOLD_MPS2
    return movers[chosen], best_lane[chosen]


def _eligible(world: TrafficWorld, rows: NDArrayInt) -> tuple[np.ndarray, NDArrayInt, NDArrayInt]:
    """Cars free to change, and their left / right target lanes (-1 none), [R] each."""
    paths, events = world.paths, world.events
    index = np.clip((world.s_m[rows] / PATH_SPACING_M).astype(np.int64), 0, paths.num_points - 1)
    ahead = np.minimum(index[:, None] + np.arange(int(CLEAR_AHEAD_M)), paths.num_points - 1)
    lane = paths.lane_ids[rows, index]
    same_lane = np.all(paths.lane_ids[rows[:, None], ahead] == lane[:, None], axis=1)
    same_lane &= ~np.any(paths.changing[rows[:, None], ahead], axis=1)
    guarded = (events.kind[rows] == EventKind.SIGNAL) | (events.kind[rows] == EventKind.STOP_SIGN)
    to_line = events.start_s[rows] - world.s_m[rows][:, None]
    near_line = np.any(guarded & (to_line > -5.0) & (to_line < CLEAR_AHEAD_M + 10.0), axis=1)
    eligible = (world.kinds[rows] == AgentKind.CAR) & (world.change_length_m[rows] == 0.0)
    eligible &= world.time_s - world.last_change_time_s[rows] > COOLDOWN_S
    eligible &= same_lane & ~near_line & (lane >= 0) & (world.goal_lane[rows] >= 0)
    left_table, right_table = world.traffic_map.neighbour_tables
    safe_lane = np.clip(lane, 0, left_table.shape[0] - 1)
    return (
        eligible,
        np.where(lane >= 0, left_table[safe_lane], -1),
        np.where(lane >= 0, right_table[safe_lane], -1),
    )


def _side_gain(
    world: TrafficWorld,
    movers: NDArrayInt,
    own_accel: NDArrayF64,
    desired_all: NDArrayF64,
    side: float,
) -> NDArrayF64:
    """MOBIL gain float64[M] of moving one lane to `side` (+1 left, -1 right); -inf if unsafe."""
    others = np.flatnonzero(world.active)
    delta = world.xy[others][None] - world.xy[movers][:, None]
    heading = world.heading[movers]
    tangent = np.stack([np.cos(heading), np.sin(heading)], -1)
    along = np.einsum("mod,md->mo", delta, tangent)
    lateral = tangent[:, None, 0] * delta[..., 1] - tangent[:, None, 1] * delta[..., 0]
    in_target = (np.abs(lateral - side * LANE_WIDTH_M) < 0.5 * LANE_WIDTH_M) & (
        others[None] != movers[:, None]
    )
    half = 0.5 * (world.length_m[movers][:, None] + world.length_m[others][None])
    overlap = np.any(in_target & (np.abs(along) < half + 2.0), axis=1)
    lead_gap = np.where(in_target & (along > 0), along - half, np.inf)
    follow_gap = np.where(in_target & (along <= 0), -along - half, np.inf)
    picked = np.arange(movers.shape[0])
    leader, follower = np.argmin(lead_gap, axis=1), np.argmin(follow_gap, axis=1)
    has_follower = np.isfinite(follow_gap[picked, follower])
    speed = world.speed_mps[movers]
    new_accel = idm_accelerations(
        speed,
        desired_all[movers],
        lead_gap[picked, leader],
        world.speed_mps[others[leader]],
        world.drivers.select(movers),
    )
    follower_rows = others[follower]
    follower_new = idm_accelerations(
        world.speed_mps[follower_rows],
        np.maximum(desired_all[follower_rows], 0.1),
        follow_gap[picked, follower],
        speed,
        world.drivers.select(follower_rows),
    )
    follower_change = np.where(has_follower, follower_new - world.accel_mps2[follower_rows], 0.0)
    safe = ~overlap & (~has_follower | (follower_new > -SAFE_DECEL_MPS2))
    gain = new_accel - own_accel + world.drivers.politeness[movers] * follower_change
    gain += KEEP_RIGHT_BIAS_MPS2 * (-side)
    return np.where(safe, gain, -np.inf)


def start_lane_changes(
    world: TrafficWorld, movers: NDArrayInt, target_lanes: NDArrayInt
) -> TrafficWorld:
    """Give each mover a new route from its target lane to its goal and start the lateral
    motion; movers whose goal cannot be reached from there keep their lane."""
    for agent, lane in zip(movers.tolist(), target_lanes.tolist(), strict=True):
        world = _reroute(world, agent, lane)
    return world


def _reroute(world: TrafficWorld, agent: int, lane: int) -> TrafficWorld:
    """The world with `agent` moved onto a route starting at `lane` (an event, not per step)."""
    traffic_map = world.traffic_map
    try:
        lanes = traffic_map.road_map.route_lanes(lane, int(world.goal_lane[agent]))
        row = lane_route_path(traffic_map, lanes, world.paths.num_points)
    except DataError:
        return world
    usable = int(row.length_m / PATH_SPACING_M) + 1
    s_new, d_new, _ = project_points(row.xy[:usable], world.xy[agent][None])
    if row.length_m - s_new[0] < 50.0 or abs(abs(d_new[0]) - LANE_WIDTH_M) > 1.0:
        return world
    speed = float(world.speed_mps[agent])
    length = float(np.clip(speed * CHANGE_TIME_S, *CHANGE_LENGTH_BOUNDS_M))
    updates = {
        name: getattr(world, name).copy()
        for name in (
            "s_m",
            "offset_m",
            "change_from_m",
            "change_start_s",
            "change_length_m",
            "change_slope",
            "last_change_time_s",
            "yellow_decided",
            "yellow_go",
            "granted",
            "served",
        )
    }
    updates["s_m"][agent], updates["offset_m"][agent] = s_new[0], d_new[0]
    updates["change_from_m"][agent], updates["change_start_s"][agent] = d_new[0], s_new[0]
    updates["change_length_m"][agent], updates["last_change_time_s"][agent] = length, world.time_s
    updates["change_slope"][agent] = 0.0
    for name in ("yellow_decided", "yellow_go", "granted", "served"):
        updates[name][agent] = False
    return replace(
        world,
        paths=world.paths.with_row(agent, row),
        events=replace_event_row(world.events, agent, route_events(traffic_map, row)),
        **updates,
    )


def lateral_offsets(
    world: TrafficWorld, s_m: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """Offset float64[A] at the new arc lengths, its slope d(offset)/ds, and the remaining
    change length (0 once a change completes). A change is the cubic from (change_from_m,
    change_slope) at its start to (0, 0) at its end (a smoothstep when change_slope is 0)."""
    changing = world.change_length_m > 0
    length = np.where(changing, world.change_length_m, 1.0)
    progress = np.clip((s_m - world.change_start_s) / length, 0.0, 1.0)
    smooth = progress**2 * (3.0 - 2.0 * progress)
    slope_smooth = 6.0 * progress * (1.0 - progress) / length
    tangent = progress * (1.0 - progress) ** 2  # Hermite basis of the start slope (per length)
    slope_tangent = (1.0 - progress) * (1.0 - 3.0 * progress)
    start_slope = world.change_slope
    offset = world.change_from_m * (1.0 - smooth) + start_slope * length * tangent
    slope = -world.change_from_m * slope_smooth + start_slope * slope_tangent
    offset = np.where(changing, offset, world.offset_m)
    slope = np.where(changing, slope, 0.0)
    done = changing & (progress >= 1.0)
    return np.where(done, 0.0, offset), slope, np.where(done, 0.0, world.change_length_m)
