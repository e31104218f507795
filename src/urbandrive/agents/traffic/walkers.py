"""Pedestrians and dogs, vectorised.

Pedestrians walk their path (sidewalks joined by crossings). Before a crossing they wait at
the curb until they may go: WALK on a signalised crosswalk; on an unsignalised one, when no
vehicle is too close to stop for them; designated jaywalkers cross mid-block when no vehicle
is near. Once on the road they finish the crossing, hurrying on flashing don't-walk.
Dogs amble along a sidewalk path with a wandering lateral offset and now and then dart a few
metres into the road and back.
"""

from __future__ import annotations

import enum

import numpy as np

from urbandrive.agents.traffic.network import EventKind, gather_where
from urbandrive.agents.traffic.world import DRIVING_KINDS, TrafficWorld
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt


class CrossingSignal(enum.IntEnum):
    """Pedestrian signal of a crosswalk (values as the town's `WalkSignalState`)."""

    UNCONTROLLED = 0
    DONT_WALK = 1
    WALK = 2
    FLASHING_DONT_WALK = 3


#: Pedestrians wait this far before the road edge, metres.
CURB_WAIT_M = 1.45
PEDESTRIAN_DECEL_MPS2 = 1.5
HURRY_FACTOR = 1.3
#: A vehicle closer than its comfortable stopping distance plus this keeps pedestrians waiting.
VEHICLE_MARGIN_M = 4.0
#: Jaywalkers wait while a moving vehicle is this close, or any vehicle this close, metres.
JAYWALK_CLEAR_M = (45.0, 12.0)
DOG_DART_INTERVAL_S = 25.0
DOG_DART_S = 2.4
DOG_DART_DEPTH_M = 4.0


def step_pedestrians(
    world: TrafficWorld, rows: NDArrayInt, walk_now: NDArrayInt, dt_s: float
) -> tuple[NDArrayF64, NDArrayF64, NDArrayBool]:
    """New s and speed float64[R] of the pedestrian rows, and which crosswalks are busy
    (bool[C]: someone on it or stepping onto it)."""
    events, _picked = world.events, np.arange(rows.shape[0])
    s_m = world.s_m[rows]
    crossing_kind = (events.kind[rows] == EventKind.CROSSWALK) | (
        events.kind[rows] == EventKind.JAYWALK
    )
    pending = crossing_kind & (events.end_s[rows] > s_m[:, None])
    column = np.argmax(pending, axis=1)
    has_next = pending.any(1)
    start, kind = events.start_s[rows, column], events.kind[rows, column]
    crosswalk = np.where(kind == EventKind.CROSSWALK, events.ref[rows, column], -1)
    signal = gather_where(walk_now, crosswalk, crosswalk >= 0, CrossingSignal.UNCONTROLLED)
    on_road = has_next & (s_m > start - CURB_WAIT_M + 1e-6)
    allowed = _may_cross(world, rows, kind, crosswalk, signal, start)
    wait_point = start - CURB_WAIT_M
    gated = has_next & ~on_road & ~allowed
    hurry = on_road & (
        (signal == CrossingSignal.FLASHING_DONT_WALK) | (signal == CrossingSignal.DONT_WALK)
    )
    desired = world.drivers.speed_factor[rows] * np.where(hurry, HURRY_FACTOR, 1.0)
    room = np.where(gated, np.maximum(wait_point - s_m, 0.0), np.inf)
    speed = np.minimum(desired, np.sqrt(2.0 * PEDESTRIAN_DECEL_MPS2 * room))
    new_s = np.where(
        gated, np.minimum(s_m + speed * dt_s, np.maximum(wait_point, s_m)), s_m + speed * dt_s
    )
    busy = np.zeros(world.crosswalk_busy.shape[0], dtype=bool)
    stepping = has_next & (crosswalk >= 0) & (on_road | (allowed & (start - s_m < 2.0)))
    busy[crosswalk[stepping]] = True
    return new_s, speed, busy


def _may_cross(
    world: TrafficWorld,
    rows: NDArrayInt,
    kind: NDArrayInt,
    crosswalk: NDArrayInt,
    signal: NDArrayInt,
    start: NDArrayF64,
) -> NDArrayBool:
    """bool[R]: whether each pedestrian may step onto its next crossing now."""
    threatened = _threatened_crosswalks(world)
    threatened_here = gather_where(threatened, crosswalk, crosswalk >= 0, False)
    uncontrolled = (signal == CrossingSignal.UNCONTROLLED) & ~threatened_here
    allowed = (kind == EventKind.CROSSWALK) & ((signal == CrossingSignal.WALK) | uncontrolled)
    jaywalk = (kind == EventKind.JAYWALK) & world.is_jaywalker[rows]
    if jaywalk.any():
        allowed[jaywalk] = _road_clear(world, rows[jaywalk])
    return allowed


def _threatened_crosswalks(world: TrafficWorld) -> NDArrayBool:
    """bool[C]: crosswalks a vehicle approaches too fast to stop comfortably before."""
    drivers = world.rows_of(*DRIVING_KINDS)
    events = world.events
    front = world.s_m[drivers] + 0.5 * world.length_m[drivers]
    to_start = events.start_s[drivers] - front[:, None]
    speed = world.speed_mps[drivers][:, None]
    stopping = speed**2 / (2.0 * world.drivers.comfortable_decel_mps2[drivers][:, None])
    inside = events.end_s[drivers] > front[:, None] - world.length_m[drivers][:, None]
    close = (to_start < stopping + VEHICLE_MARGIN_M) & inside
    threat = (events.kind[drivers] == EventKind.CROSSWALK) & close
    result = np.zeros(world.crosswalk_busy.shape[0], dtype=bool)
    result[events.ref[drivers][threat]] = True
    return result


def _road_clear(world: TrafficWorld, rows: NDArrayInt) -> NDArrayBool:
    """bool[R]: no moving vehicle within the far radius and none within the near one."""
    drivers = world.rows_of(*DRIVING_KINDS)
    distance = np.linalg.norm(world.xy[drivers][None] - world.xy[rows][:, None], axis=-1)
    moving = world.speed_mps[drivers][None] > 1.0
    far_m, near_m = JAYWALK_CLEAR_M
    return ~np.any((moving & (distance < far_m)) | (distance < near_m), axis=1)


def step_dogs(
    world: TrafficWorld, rows: NDArrayInt, rng: np.random.Generator, dt_s: float
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64]:
    """New s, speed, wander offset and dart time left (float64[R] each) of the dog rows; the
    dart's own offset is `dart_offsets`."""
    count = rows.shape[0]
    noise, dart_draw = rng.standard_normal(count), rng.random(count)
    speed = world.drivers.speed_factor[rows]
    wander = world.offset_m[rows]
    wander = np.clip(wander - 0.4 * wander * dt_s + 0.35 * np.sqrt(dt_s) * noise, -0.8, 0.8)
    dart_left = np.maximum(world.dart_left_s[rows] - dt_s, 0.0)
    starts = (dart_left == 0.0) & (dart_draw < dt_s / DOG_DART_INTERVAL_S)
    dart_left = np.where(starts, DOG_DART_S, dart_left)
    return world.s_m[rows] + speed * dt_s, speed, wander, dart_left


def dart_offsets(world: TrafficWorld, rows: NDArrayInt) -> NDArrayF64:
    """float64[R]: lateral excursion toward the road of darting dogs (out and back)."""
    phase = 1.0 - world.dart_left_s[rows] / DOG_DART_S
    out = np.where(world.dart_left_s[rows] > 0, np.sin(np.pi * phase), 0.0)
    return world.road_side[rows] * DOG_DART_DEPTH_M * out
