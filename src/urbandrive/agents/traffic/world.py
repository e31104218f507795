"""The traffic world: every agent of every kind as one struct of arrays, stepped at 10 Hz.

Static facts (kinds, sizes, drivers, paths, events) and the state that changes (arc length s
along each agent's path, lateral offset d from it, speed, lane-change progress, per-event
decisions) live side by side in one frozen record; `step` returns the next one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from urbandrive.agents.traffic.drivers import DriverParams
from urbandrive.agents.traffic.network import PathEvents, TrafficMap
from urbandrive.agents.traffic.paths import PathTable, sample_paths
from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt


class AgentKind(enum.IntEnum):
    """How an agent moves (its `AgentType` says what it is)."""

    CAR = 0  # IDM + MOBIL along a lane route
    BUS = 1  # IDM along an arterial route, dwells at bus stops
    CYCLIST = 2  # slower IDM along bike lanes
    PEDESTRIAN = 3  # sidewalks and crossings
    DOG = 4  # wanders along a sidewalk, darts into the road
    PARKED = 5  # never moves (parked or double-parked)


AGENT_TYPE_OF_KIND = {
    AgentKind.CAR: AgentType.VEHICLE,
    AgentKind.BUS: AgentType.LARGE_VEHICLE,
    AgentKind.CYCLIST: AgentType.CYCLIST,
    AgentKind.PEDESTRIAN: AgentType.PEDESTRIAN,
    AgentKind.DOG: AgentType.ANIMAL,
    AgentKind.PARKED: AgentType.VEHICLE,
}
#: Kinds that follow lanes with IDM.
DRIVING_KINDS = (AgentKind.CAR, AgentKind.BUS, AgentKind.CYCLIST)


@dataclass(frozen=True, slots=True)
class TrafficWorld:
    """A agents, E events per path, C crosswalks, S signals. Map frame, SI units.

    Static: kinds int8[A] (`AgentKind`); length_m, width_m float64[A]; drivers (per agent);
    paths (row per agent); events (row per agent); goal_lane int64[A] (route's last lane, for
    re-routing after a lane change; -1 none); is_jaywalker bool[A]; road_side float64[A] (+1:
    the road is left of a dog's path, -1 right); traffic_map; seed (draws of step k use
    `default_rng((seed, k))`).
    State: time_s, step_index; s_m, speed_mps, accel_mps2 float64[A]; offset_m float64[A]
    (lateral, left +); change_from_m / change_start_s / change_length_m float64[A] (a lane
    change: offset at its start, where it started along the new path, its length; length 0
    when none); change_slope float64[A] (d(offset)/ds at a change's start: 0 for a lane change,
    a released puppet's heading off its path); last_change_time_s float64[A]; active bool[A] (on the map; False once a
    path ends); xy float64[A, 2], heading float64[A] (pose now); per event bool[A, E]:
    yellow_decided, yellow_go, granted (all-way stop), served (bus stop); stop_wait_s,
    arrival_s, dwell_elapsed_s, dart_left_s float64[A]; crosswalk_busy bool[C].
    """

    kinds: NDArrayInt
    length_m: NDArrayF64
    width_m: NDArrayF64
    drivers: DriverParams
    paths: PathTable
    events: PathEvents
    goal_lane: NDArrayInt
    is_jaywalker: NDArrayBool
    road_side: NDArrayF64
    traffic_map: TrafficMap
    seed: int
    time_s: float
    step_index: int
    s_m: NDArrayF64
    speed_mps: NDArrayF64
    accel_mps2: NDArrayF64
    offset_m: NDArrayF64
    change_from_m: NDArrayF64
    change_start_s: NDArrayF64
    change_length_m: NDArrayF64
    change_slope: NDArrayF64
    last_change_time_s: NDArrayF64
    active: NDArrayBool
    xy: NDArrayF64
    heading: NDArrayF64
    yellow_decided: NDArrayBool
    yellow_go: NDArrayBool
    granted: NDArrayBool
    served: NDArrayBool
    stop_wait_s: NDArrayF64
    arrival_s: NDArrayF64
    dwell_elapsed_s: NDArrayF64
    dart_left_s: NDArrayF64
    crosswalk_busy: NDArrayBool

    @property
    def num_agents(self) -> int:
        return int(self.kinds.shape[0])

    @property
    def agent_types(self) -> NDArrayInt:
        """int8[A], `AgentType` of every agent."""
        lookup = np.array([int(AGENT_TYPE_OF_KIND[k]) for k in AgentKind], dtype=np.int8)
        return lookup[self.kinds]

    @property
    def is_changing_lane(self) -> NDArrayBool:
        """bool[A]: between lanes now (a lateral lane change, or a change built into the path)."""
        index = np.clip(
            (self.s_m / self.paths.spacing_m).astype(np.int64), 0, self.paths.num_points - 1
        )
        on_path = self.paths.changing[np.arange(self.num_agents), index]
        return (self.change_length_m > 0) | on_path

    def rows_of(self, *kinds: AgentKind) -> NDArrayInt:
        """int64[N]: active agents of the given kinds."""
        wanted = np.zeros(len(AgentKind), dtype=bool)
        wanted[[int(k) for k in kinds]] = True
        return np.flatnonzero(wanted[self.kinds] & self.active)


def initial_world(
    kinds: NDArrayInt,
    size_m: NDArrayF64,
    drivers: DriverParams,
    paths: PathTable,
    events: PathEvents,
    start_s_m: NDArrayF64,
    traffic_map: TrafficMap,
    seed: int,
    goal_lane: NDArrayInt | None = None,
    is_jaywalker: NDArrayBool | None = None,
    road_side: NDArrayF64 | None = None,
) -> TrafficWorld:
    """A world at time 0 with every agent at rest at `start_s_m: float64[A]` along its path.

    kinds int[A]; size_m float64[A, 2] (length, width). Raises `DataError` naming the first
    agent whose rows disagree in length or whose start lies past its path's end.
    """
    num_agents = int(np.asarray(kinds).shape[0])
    _check_rows(num_agents, size_m, drivers, paths, events, start_s_m)
    num_events, num_crosswalks = events.num_events, int(traffic_map.crosswalk_ids.shape[0])
    zeros = np.zeros(num_agents)
    s_m = np.asarray(start_s_m, np.float64).copy()
    xy, heading, _ = sample_paths(paths, np.arange(num_agents), s_m)
    return TrafficWorld(
        kinds=np.asarray(kinds, np.int8),
        length_m=np.asarray(size_m, np.float64)[:, 0].copy(),
        width_m=np.asarray(size_m, np.float64)[:, 1].copy(),
        drivers=drivers,
        paths=paths,
        events=events,
        goal_lane=np.full(num_agents, -1, np.int64) if goal_lane is None else goal_lane,
        is_jaywalker=np.zeros(num_agents, bool) if is_jaywalker is None else is_jaywalker,
        road_side=np.ones(num_agents) if road_side is None else road_side,
        traffic_map=traffic_map,
        seed=seed,
        time_s=0.0,
        step_index=0,
        s_m=s_m,
        speed_mps=zeros.copy(),
        accel_mps2=zeros.copy(),
        offset_m=zeros.copy(),
        change_from_m=zeros.copy(),
        change_start_s=zeros.copy(),
        change_length_m=zeros.copy(),
        change_slope=zeros.copy(),
        last_change_time_s=np.full(num_agents, -np.inf),
        active=np.ones(num_agents, dtype=bool),
        xy=xy,
        heading=heading,
        yellow_decided=np.zeros((num_agents, num_events), bool),
        yellow_go=np.zeros((num_agents, num_events), bool),
        granted=np.zeros((num_agents, num_events), bool),
        served=np.zeros((num_agents, num_events), bool),
        stop_wait_s=zeros.copy(),
        arrival_s=np.full(num_agents, np.inf),
        dwell_elapsed_s=zeros.copy(),
        dart_left_s=zeros.copy(),
        crosswalk_busy=np.zeros(num_crosswalks, bool),
    )


def _check_rows(
    num_agents: int,
    size_m: NDArrayF64,
    drivers: DriverParams,
    paths: PathTable,
    events: PathEvents,
    start_s_m: NDArrayF64,
) -> None:
    for name, count in (
        ("size_m", np.asarray(size_m).shape[0]),
        ("drivers", drivers.num_agents),
        ("paths", paths.xy.shape[0]),
        ("events", events.kind.shape[0]),
        ("start_s_m", np.asarray(start_s_m).shape[0]),
    ):
        if count != num_agents:
            raise DataError(f"traffic world: {name} has {count} rows, kinds has {num_agents}")
    beyond = np.flatnonzero(np.asarray(start_s_m) > paths.length_m + 1e-9)
    if beyond.size:
        agent = int(beyond[0])
        raise DataError(
            f"traffic world: agent {agent} starts at s={start_s_m[agent]:.1f} m past its "
            f"path's end ({paths.length_m[agent]:.1f} m)"
        )
