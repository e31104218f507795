"""Towns and warmed-up background traffic the families build on, cached in-process per
(town seed, traffic seed): a suite of 200 scenarios generates a handful of towns, not 200."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from urbandrive.agents.traffic import DT_S, TrafficMap, TrafficWorld, step
from urbandrive.scenarios.town import Town, TownConfig, generate_town, light_states, walk_signals
from urbandrive.scenarios.town.population import Population, PopulationConfig, populate

#: Towns (small preset) and background traffic seeds the families draw from.
TOWN_SEEDS = (0, 1, 2, 3)
TRAFFIC_SEEDS = (0, 1, 2)
#: Background traffic is simulated this long before any family stages its situation, s.
WARMUP_S = 4.0
#: A family may let the background run at most this much longer (to meet a light phase), s.
MAX_DELAY_S = 24.0
#: Longest scenario any family records, s.
MAX_DURATION_S = 15.0
#: The fastest any agent drives, m/s (sizes the path tables).
MAX_SPEED_MPS = 22.0
BACKGROUND_POPULATION = PopulationConfig(
    num_vehicles=24,
    num_buses=1,
    num_cyclists=4,
    num_pedestrians=12,
    jaywalker_fraction=0.0,
    num_dogs=1,
    num_parked=24,
    num_double_parked=0,
)


@dataclass(frozen=True)
class Background:
    """A town and its traffic warmed up for `WARMUP_S`: the world (clock at `world.time_s`),
    the population's names and attributes (per row), and the town's traffic map."""

    town: Town
    population: Population
    world: TrafficWorld

    @property
    def traffic_map(self) -> TrafficMap:
        return self.world.traffic_map


@lru_cache(maxsize=len(TOWN_SEEDS))
def small_town(seed: int) -> Town:
    """The small-preset town of `seed` (generated once per process)."""
    return generate_town(TownConfig.small(), seed=seed)


@lru_cache(maxsize=len(TOWN_SEEDS) * len(TRAFFIC_SEEDS))
def background(town_seed: int, traffic_seed: int) -> Background:
    """Background traffic of town `town_seed` spawned with `traffic_seed`, warmed up."""
    town = small_town(town_seed)
    route_length_m = MAX_SPEED_MPS * (WARMUP_S + MAX_DELAY_S + MAX_DURATION_S) + 100.0
    population = populate(town, BACKGROUND_POPULATION, traffic_seed, route_length_m)
    world = advance(town, population.world, WARMUP_S)
    return Background(town, population, world)


def advance(town: Town, world: TrafficWorld, duration_s: float) -> TrafficWorld:
    """The world `duration_s` later (rounded to whole steps), under the town's signals."""
    num_steps = round(duration_s / DT_S)
    if num_steps <= 0:
        return world
    times_s = world.time_s + np.arange(num_steps) * DT_S
    lights, walks = light_states(town, times_s).states, walk_signals(town, times_s).states
    for index in range(num_steps):
        world = step(world, lights[:, index], walks[:, index], DT_S)
    return world


def clear_caches() -> None:
    """Forget every cached town and background (for benchmarks of the uncached path)."""
    small_town.cache_clear()
    background.cache_clear()
