"""Simulate town traffic into a `Scenario`: spawn (`population`), warm up, step at 10 Hz
with the town's signal and walk states, record every agent's track."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from urbandrive.agents.traffic import DT_S, AgentKind, TrafficWorld, step
from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Route, Scenario
from urbandrive.core.tracks import AgentInfo, Tracks
from urbandrive.core.traffic_light import TrafficLightStates
from urbandrive.core.typing import NDArrayBool, NDArrayF64
from urbandrive.scenarios.town.population import Population, PopulationConfig, populate
from urbandrive.scenarios.town.records import Town
from urbandrive.scenarios.town.signals import light_states, walk_signals

#: The fastest any driver goes, m/s (sizes the paths: speed x simulated time).
_MAX_SPEED_MPS = 25.0


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    """population: what to spawn. warmup_s: simulated before the first recorded step, so
    queues and speeds settle. ego_vehicle: index among the cars of the one to mark as the
    scenario's ego (its route becomes `Scenario.route`), or None."""

    population: PopulationConfig = field(default_factory=PopulationConfig)
    warmup_s: float = 10.0
    ego_vehicle: int | None = None

    def __post_init__(self) -> None:
        if self.warmup_s < 0:
            raise ValueError(f"TrafficConfig.warmup_s must be >= 0, got {self.warmup_s}")
        if (
            self.ego_vehicle is not None
            and not 0 <= self.ego_vehicle < self.population.num_vehicles
        ):
            raise ValueError(
                f"TrafficConfig.ego_vehicle {self.ego_vehicle} outside the "
                f"{self.population.num_vehicles} vehicles"
            )


@dataclass(frozen=True, slots=True)
class TrafficRun:
    """A simulated run: the scenario, plus per step what the world knew (for checks):
    s_m float64[A, T] (arc length along each agent's path), changing_lane bool[A, T], and the
    world after the last step."""

    scenario: Scenario
    s_m: NDArrayF64
    changing_lane: NDArrayBool
    final_world: TrafficWorld


def simulate_town_traffic(
    town: Town, config: TrafficConfig, seed: int, duration_s: float
) -> Scenario:
    """A validated scenario of `duration_s` seconds of town traffic (source "town", dt 0.1 s)."""
    return run_town_traffic(town, config, seed, duration_s).scenario


def run_town_traffic(town: Town, config: TrafficConfig, seed: int, duration_s: float) -> TrafficRun:
    """`simulate_town_traffic` keeping the per-step arc lengths and lane-change flags."""
    if not duration_s > 0:
        raise DataError(f"town traffic: duration_s must be > 0, got {duration_s}")
    num_steps = round(duration_s / DT_S) + 1
    warmup_steps = round(config.warmup_s / DT_S)
    route_length_m = _MAX_SPEED_MPS * (config.warmup_s + duration_s) + 100.0
    population = populate(town, config.population, seed, route_length_m)
    times_s = (warmup_steps + np.arange(num_steps)) * DT_S
    world = population.world
    all_times = np.arange(warmup_steps + num_steps) * DT_S
    lights = light_states(town, all_times).states
    walks = walk_signals(town, all_times).states
    for index in range(warmup_steps):
        world = step(world, lights[:, index], walks[:, index], DT_S)
    record = _Recorder(world.num_agents, num_steps)
    record.write(world, 0)
    for index in range(1, num_steps):
        world = step(
            world, lights[:, warmup_steps + index - 1], walks[:, warmup_steps + index - 1], DT_S
        )
        record.write(world, index)
    scenario = _scenario(town, config, seed, population, record, times_s, lights[:, warmup_steps:])
    return TrafficRun(scenario, record.s_m, record.changing, world)


class _Recorder:
    """Per-step arrays of every agent, filled as the world is stepped."""

    def __init__(self, num_agents: int, num_steps: int) -> None:
        self.xy = np.zeros((num_agents, num_steps, 2))
        self.heading = np.zeros((num_agents, num_steps))
        self.valid = np.zeros((num_agents, num_steps), dtype=bool)
        self.s_m = np.zeros((num_agents, num_steps))
        self.changing = np.zeros((num_agents, num_steps), dtype=bool)

    def write(self, world: TrafficWorld, index: int) -> None:
        self.xy[:, index], self.heading[:, index] = world.xy, world.heading
        self.valid[:, index], self.s_m[:, index] = world.active, world.s_m
        self.changing[:, index] = world.is_changing_lane


def _velocities(xy: NDArrayF64, valid: NDArrayBool) -> NDArrayF64:
    """float64[A, T, 2]: backward differences of positions (forward at each track's start)."""
    velocity = np.zeros_like(xy)
    if xy.shape[1] < 2:
        return velocity
    step_velocity = np.diff(xy, axis=1) / DT_S
    both = valid[:, 1:] & valid[:, :-1]
    velocity[:, 1:] = np.where(both[..., None], step_velocity, 0.0)
    velocity[:, 0] = np.where(both[:, :1], step_velocity[:, 0], 0.0)
    return velocity


def _scenario(
    town: Town,
    config: TrafficConfig,
    seed: int,
    population: Population,
    record: _Recorder,
    times_s: NDArrayF64,
    lights: np.ndarray,
) -> Scenario:
    world = population.world
    info = AgentInfo(
        ids=np.array(population.names, dtype=str),
        types=world.agent_types,
        size_m=np.stack([world.length_m, world.width_m], -1),
        attributes=population.attributes,
    )
    tracks = Tracks(
        info, record.xy, record.heading, _velocities(record.xy, record.valid), record.valid
    )
    ego_index, route = None, None
    if config.ego_vehicle is not None:
        cars = np.flatnonzero(world.kinds == AgentKind.CAR)
        if config.ego_vehicle >= cars.size:
            raise DataError(
                f"town traffic: ego_vehicle {config.ego_vehicle} but only {cars.size} cars spawned"
            )
        ego_index = int(cars[config.ego_vehicle])
        route = Route(population.routes[ego_index])
    timestamps_us = np.round(times_s * 1e6).astype(np.int64)
    scenario = Scenario(
        id=f"town_traffic_seed{seed}_town{town.seed}",
        source="town",
        timestamps_us=timestamps_us,
        dt_s=DT_S,
        current_index=0,
        tracks=tracks,
        ego_index=ego_index,
        road_map=town.road_map,
        traffic_lights=TrafficLightStates(world.traffic_map.signal_ids, lights.astype(np.int8)),
        route=route,
        metadata={
            "town_config": f"{town.config.num_blocks_x}x{town.config.num_blocks_y}",
            "town_seed": town.seed,
            "seed": seed,
            "population": asdict(config.population),
            "warmup_s": config.warmup_s,
            "town_clock_offset_s": float(times_s[0]),
            "counts_by_type": {t.name: int(np.sum(world.agent_types == t)) for t in AgentType},
        },
    )
    scenario.validate()
    return scenario
