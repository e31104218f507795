"""The built-in suite `town:empty-roads`: a small procedural town and a handful of agents.

Each scenario is a 2 x 2 town (one of `NUM_TOWNS` seeds, so maps repeat and are stored
once) with the ego and a few vehicles (and cyclists where there are bike lanes) driving lane
centerlines at constant speed, choosing random successors at intersections, for 9.1 s at
10 Hz. Agents ignore each other and the lights (the lights are recorded): it is a scene for
exercising pipelines, not a traffic model. An agent that drives off the map's edge becomes
invalid from then on.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.scenario import Goal, Route, Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.road_map import RoadMap
from urbandrive.scenarios.town import LaneRole, Town, TownConfig, generate_town, light_states

SUITE_NAME = "town:empty-roads"
DESCRIPTION = "small towns; the ego and a few agents driving lane centerlines at constant speed"
NUM_TOWNS = 4
NUM_STEPS = 91
CURRENT_INDEX = 10
DT_S = 0.1
NUM_VEHICLES = (4, 10)  # inclusive range, besides the ego
NUM_CYCLISTS = (0, 2)
SPEED_FRACTION = (0.5, 1.0)  # of the lane's speed limit


@lru_cache(maxsize=NUM_TOWNS)
def _town(town_seed: int) -> Town:
    return generate_town(TownConfig.small(), seed=town_seed)


def build_empty_roads(seed: int) -> Scenario:
    """One `town:empty-roads` scenario; the same seed gives the same scenario."""
    rng = np.random.default_rng(seed)
    town_seed = int(rng.integers(NUM_TOWNS))
    town = _town(town_seed)
    through = town.lane_table.select(role=LaneRole.THROUGH)
    bike = town.lane_table.select(role=LaneRole.BIKE)
    num_vehicles = int(rng.integers(NUM_VEHICLES[0], NUM_VEHICLES[1] + 1))
    num_cyclists = int(rng.integers(NUM_CYCLISTS[0], NUM_CYCLISTS[1] + 1)) if bike.size else 0
    starts = rng.choice(through, size=min(num_vehicles + 1, through.size), replace=False)
    types = [AgentType.VEHICLE] * starts.size
    if num_cyclists:
        starts = np.concatenate([starts, rng.choice(bike, size=min(num_cyclists, bike.size))])
        types += [AgentType.CYCLIST] * (starts.size - len(types))
    times_s = np.arange(NUM_STEPS) * DT_S
    drives = [_drive(town.road_map, int(lane), times_s, rng) for lane in starts]
    tracks = Tracks.from_arrays(
        ids=["ego"] + [f"{AgentType(t).name.lower()}_{i}" for i, t in enumerate(types[1:], 1)],
        types=[int(t) for t in types],
        size_m=np.array([DEFAULT_SIZE_M[t] for t in types]),
        xy=np.stack([d.xy for d in drives]),
        heading=np.stack([d.heading for d in drives]),
        velocity=np.stack([d.velocity for d in drives]),
        valid=np.stack([d.valid for d in drives]),
    )
    ego = drives[0]
    return Scenario(
        id=f"{SUITE_NAME}/{seed}",
        source=SUITE_NAME,
        timestamps_us=np.arange(NUM_STEPS, dtype=np.int64) * round(DT_S * 1e6),
        dt_s=DT_S,
        current_index=CURRENT_INDEX,
        tracks=tracks,
        ego_index=0,
        road_map=town.road_map,
        traffic_lights=light_states(town, times_s),
        route=Route(ego.lane_ids),
        goal=Goal(xy=ego.xy[np.flatnonzero(ego.valid)[-1]].copy(), heading=None),
        metadata={"suite": SUITE_NAME, "seed": int(seed), "town_seed": town_seed, "town": "small"},
    )


class _Drive:
    """One agent's constant-speed drive: xy float64[T, 2], heading/velocity, valid bool[T]."""

    __slots__ = ("heading", "lane_ids", "valid", "velocity", "xy")

    def __init__(self, path: NDArrayF64, lane_ids: tuple[int, ...], arc_m: NDArrayF64) -> None:
        lengths = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
        self.valid = arc_m <= lengths[-1]
        segment = np.clip(np.searchsorted(lengths, arc_m, side="right") - 1, 0, len(path) - 2)
        direction = path[segment + 1] - path[segment]
        self.heading = np.arctan2(direction[:, 1], direction[:, 0])
        self.xy = np.stack(
            [np.interp(arc_m, lengths, path[:, 0]), np.interp(arc_m, lengths, path[:, 1])], -1
        )
        speed_mps = np.gradient(arc_m, DT_S) if arc_m.size > 1 else np.zeros_like(arc_m)
        self.velocity = speed_mps[:, None] * np.stack(
            [np.cos(self.heading), np.sin(self.heading)], -1
        )
        self.lane_ids = lane_ids


def _drive(
    road_map: RoadMap, start_lane: int, times_s: NDArrayF64, rng: np.random.Generator
) -> _Drive:
    """Constant speed from a random point of `start_lane`, random successors onwards."""
    lane = road_map.lanes[start_lane]
    speed_mps = lane.speed_limit_mps * rng.uniform(*SPEED_FRACTION)
    start_m = rng.uniform(0.0, 0.5 * lane.length_m)
    needed_m = start_m + speed_mps * float(times_s[-1])
    lane_ids, pieces, length_m = [start_lane], [lane.centerline], lane.length_m
    while length_m < needed_m:
        successors = [i for i in road_map.lanes[lane_ids[-1]].successors if i in road_map.lanes]
        if not successors:
            break
        lane_ids.append(int(rng.choice(successors)))
        pieces.append(road_map.lanes[lane_ids[-1]].centerline[1:])
        length_m += road_map.lanes[lane_ids[-1]].length_m
    path = _without_repeats(np.concatenate(pieces))
    return _Drive(path, tuple(lane_ids), start_m + speed_mps * times_s)


def _without_repeats(path: NDArrayF64) -> NDArrayF64:
    """The polyline without consecutive duplicate points (zero-length segments)."""
    keep = np.concatenate([[True], np.linalg.norm(np.diff(path, axis=0), axis=1) > 1e-9])
    return path[keep]
