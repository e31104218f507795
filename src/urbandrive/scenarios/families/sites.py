"""Where situations happen: straight routes from a lane, mid-block stretches, approaches to
an intersection with a given movement, and points beside a path (lanes, curb, sidewalk).

Offsets are metres to the LEFT of travel (positive left), as the traffic model's `offset_m`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from urbandrive.agents.traffic import PathRow, lane_route_path
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64
from urbandrive.scenarios.families.background import small_town
from urbandrive.scenarios.town import Direction, LaneRole, Movement, Street, StreetClass, Town

#: Routes are extended to at least this length so nobody drives off its path's end, m.
ROUTE_LENGTH_M = 300.0


class SiteUnavailableError(DataError):
    """This town has no place for the family's situation (the builder tries another town)."""


@dataclass(frozen=True, slots=True)
class LaneFacts:
    """Where a lane sits: its street, direction, role, movement and index (0 = innermost)."""

    street: Street
    direction: Direction
    role: LaneRole
    movement: Movement
    lane_index: int
    is_boundary: bool


def lane_facts(town: Town, lane_id: int) -> LaneFacts:
    table = town.lane_table
    row = int(np.flatnonzero(table.lane_ids == lane_id)[0])
    streets = {s.id: s for s in town.streets}
    street_id = int(table.street_ids[row])
    return LaneFacts(
        street=streets[street_id] if street_id >= 0 else town.streets[0],
        direction=Direction(int(table.directions[row]) or 1),
        role=LaneRole(int(table.roles[row])),
        movement=Movement(int(table.movements[row])),
        lane_index=int(table.lane_indices[row]),
        is_boundary=bool(table.is_boundary[row]),
    )


def straight_on(town: Town, lanes: list[int], length_m: float) -> tuple[int, ...]:
    """`lanes` extended by successors to `length_m` or the map's edge: straight on where
    that stays inside the town, else turning."""
    road_map, table = town.road_map, town.lane_table
    movement = dict(zip(table.lane_ids.tolist(), table.movements.tolist(), strict=True))
    boundary = dict(zip(table.lane_ids.tolist(), table.is_boundary.tolist(), strict=True))
    route = list(lanes)
    total = sum(road_map.lanes[lane].length_m for lane in route)
    while total < length_m:
        options = [s for s in road_map.lanes[route[-1]].successors if s in road_map.lanes]
        if not options:
            break
        inner = [s for s in options if not boundary[s]] or options
        straight = [s for s in inner if movement[s] in (Movement.STRAIGHT, Movement.NONE)]
        route.append(int(sorted(straight or inner)[0]))
        total += road_map.lanes[route[-1]].length_m
    return tuple(route)


def route_length_m(town: Town, lanes: tuple[int, ...]) -> float:
    return float(sum(town.road_map.lanes[lane].length_m for lane in lanes))


@dataclass(frozen=True, slots=True)
class Stretch:
    """A route starting on a through lane: free_m metres of it before the first intersection
    box; `facts` of its first lane."""

    lanes: tuple[int, ...]
    free_m: float
    facts: LaneFacts


@lru_cache(maxsize=16)
def stretches(town_seed: int) -> tuple[Stretch, ...]:
    """Every inner through lane that starts right after an intersection, as a stretch whose
    route goes straight on for `ROUTE_LENGTH_M` (shorter ones, at the map's edge, dropped)."""
    town = small_town(town_seed)
    road_map, table = town.road_map, town.lane_table
    found = []
    for lane_id in table.select(role=LaneRole.THROUGH).tolist():
        facts = lane_facts(town, lane_id)
        lane = road_map.lanes[lane_id]
        if facts.is_boundary or not all(
            road_map.lanes[p].is_intersection for p in lane.predecessors if p in road_map.lanes
        ):
            continue
        route = straight_on(town, [lane_id], ROUTE_LENGTH_M)
        if route_length_m(town, route) < ROUTE_LENGTH_M:
            continue
        free = 0.0
        for lane_in_route in route:
            if road_map.lanes[lane_in_route].is_intersection:
                break
            free += road_map.lanes[lane_in_route].length_m
        found.append(Stretch(route, free, facts))
    return tuple(found)


def pick_stretch(
    town_seed: int,
    rng: np.random.Generator,
    min_free_m: float,
    arterial: bool | None = None,
    min_lanes: int = 1,
    curb: int | None = None,
) -> Stretch:
    """A random stretch with at least `min_free_m` before its first box, on an arterial (or
    not, or either: None), on a street with `min_lanes` lanes its way and curb use `curb`."""
    options = [
        s
        for s in stretches(town_seed)
        if s.free_m >= min_free_m
        and (arterial is None or (s.facts.street.street_class == StreetClass.ARTERIAL) == arterial)
        and s.facts.street.num_lanes(s.facts.direction) >= min_lanes
        and (curb is None or int(s.facts.street.curb_use) == curb)
    ]
    if not options:
        raise SiteUnavailableError(f"town {town_seed}: no stretch of {min_free_m:.0f} m as asked")
    return options[int(rng.integers(len(options)))]


def route_path(town: Town, traffic_map, lanes: tuple[int, ...], num_points: int) -> PathRow:
    """The traffic model's path along `lanes` (`SiteUnavailableError` if it folds)."""
    try:
        return lane_route_path(traffic_map, list(lanes), num_points)
    except DataError as error:
        raise SiteUnavailableError(str(error)) from error


def path_point(
    path: PathRow, s_m: float | NDArrayF64, offset_m: float | NDArrayF64 = 0.0
) -> tuple[NDArrayF64, NDArrayF64]:
    """Points float64[..., 2] at arc lengths `s_m` along `path`, `offset_m` to the left, and
    the path's heading there float64[...]."""
    s = np.clip(np.asarray(s_m, np.float64), 0.0, path.length_m)
    grid = np.arange(path.xy.shape[0], dtype=np.float64)
    x, y = np.interp(s, grid, path.xy[:, 0]), np.interp(s, grid, path.xy[:, 1])
    heading = np.interp(s, grid, np.unwrap(path.heading))
    normal = np.stack([-np.sin(heading), np.cos(heading)], -1)
    xy = np.stack([x, y], -1) + np.asarray(offset_m, np.float64)[..., None] * normal
    return xy, np.arctan2(np.sin(heading), np.cos(heading))


def box_starts_m(town: Town, path: PathRow) -> NDArrayF64:
    """float64[N]: arc lengths where `path` enters an intersection box."""
    lanes = town.road_map.lanes
    usable = int(path.length_m) + 1
    inside = np.array(
        [lanes[int(i)].is_intersection if i >= 0 else False for i in path.lane_ids[:usable]]
    )
    return np.flatnonzero(np.diff(inside.astype(np.int8)) == 1).astype(np.float64) + 1.0


def first_s_on_lane(path: PathRow, lane_id: int) -> float:
    """Arc length where `path` first reaches `lane_id` (`SiteUnavailableError` if never)."""
    hits = np.flatnonzero(path.lane_ids[: int(path.length_m) + 1] == lane_id)
    if hits.size == 0:
        raise SiteUnavailableError(f"path never reaches lane {lane_id}")
    return float(hits[0])


def curb_offset_m(facts: LaneFacts) -> float:
    """Left offset (negative: to the right) from the lane's centre to its street's right curb."""
    street = facts.street
    return street.lane_offset_m(facts.direction, facts.lane_index) - street.half_width_m


def curb_strip_offset_m(facts: LaneFacts) -> float:
    """Left offset from the lane's centre to the centre of the curb strip (bike / parking)."""
    street = facts.street
    return street.lane_offset_m(facts.direction, facts.lane_index) - street.curb_offset_m(
        facts.direction
    )


def far_curb_offset_m(facts: LaneFacts) -> float:
    """Left offset from the lane's centre to the opposite curb (across the street)."""
    street = facts.street
    return street.lane_offset_m(facts.direction, facts.lane_index) + street.half_width_m


def lane_offset_m(facts: LaneFacts, lane_index: int) -> float:
    """Left offset from the lane's centre to lane `lane_index` of the same direction."""
    street = facts.street
    return street.lane_offset_m(facts.direction, facts.lane_index) - street.lane_offset_m(
        facts.direction, lane_index
    )
