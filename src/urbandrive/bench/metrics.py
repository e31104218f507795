"""Benchmarks of the metrics stage: batched at-fault collisions + TTC over planner candidates."""

from __future__ import annotations

import dataclasses

import numpy as np

from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.metrics.collisions import CollisionConfig, no_ego_at_fault_collisions
from urbandrive.metrics.states import AgentStates, EgoStates
from urbandrive.metrics.time_to_collision import (
    TimeToCollisionConfig,
    time_to_collision_within_bound,
)

NUM_CANDIDATES, NUM_STEPS, NUM_AGENTS, DT_S = 100, 80, 60, 0.1


def busy_scene(seed: int = 0) -> tuple[EgoStates, AgentStates]:
    """100 candidate ego trajectories (speed x lateral offset) and 60 agents on a 4-lane road."""
    rng = np.random.default_rng(seed)
    time = DT_S * np.arange(NUM_STEPS)
    speed = np.repeat(np.linspace(0.0, 15.0, 10), 10)
    lateral = np.tile(np.linspace(-2.0, 2.0, 10), 10)
    ego_xy = np.stack([speed[:, None] * time, np.repeat(lateral[:, None], NUM_STEPS, 1)], -1)
    ego = EgoStates(
        ego_xy,
        np.zeros((NUM_CANDIDATES, NUM_STEPS)),
        np.repeat(speed[:, None], NUM_STEPS, 1),
        np.array(DEFAULT_SIZE_M[AgentType.VEHICLE]),
    )
    types = rng.choice(
        [AgentType.VEHICLE, AgentType.PEDESTRIAN, AgentType.CYCLIST, AgentType.STATIC],
        NUM_AGENTS,
        p=[0.6, 0.2, 0.1, 0.1],
    )
    start = np.stack(
        [rng.uniform(-20, 120, NUM_AGENTS), rng.choice([-3.5, 0.0, 3.5, 7.0], NUM_AGENTS)], -1
    )
    agent_speed = np.where(types == AgentType.STATIC, 0.0, rng.uniform(0.0, 12.0, NUM_AGENTS))
    heading = rng.choice([0.0, np.pi], NUM_AGENTS) + rng.normal(0, 0.05, NUM_AGENTS)
    velocity = agent_speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], -1)
    agents = AgentStates(
        xy=start[:, None, :] + time[None, :, None] * velocity[:, None, :],
        heading=np.repeat(heading[:, None], NUM_STEPS, 1),
        velocity=np.repeat(velocity[:, None, :], NUM_STEPS, 1),
        size_m=np.array([DEFAULT_SIZE_M[AgentType(t)] for t in types]),
        types=types.astype(np.int64),
        valid=rng.random((NUM_AGENTS, NUM_STEPS)) < 0.95,
    )
    return ego, agents


def collision_and_ttc(ego: EgoStates, agents: AgentStates, broad_phase: bool = True) -> np.ndarray:
    """The two safety metrics of the scorer for every candidate: float64[M, 2]."""
    lateral = np.zeros(ego.num_steps, dtype=bool)
    collisions = no_ego_at_fault_collisions(
        ego, agents, lateral, CollisionConfig(use_broad_phase=broad_phase)
    )
    ttc = time_to_collision_within_bound(
        ego, agents, collisions, lateral, config=TimeToCollisionConfig(use_broad_phase=broad_phase)
    )
    return np.stack([collisions.multiplier, ttc.score], -1)


def _one_by_one(ego: EgoStates, agents: AgentStates) -> np.ndarray:
    rows = []
    for candidate in range(ego.xy.shape[0]):
        single = dataclasses.replace(
            ego,
            xy=ego.xy[candidate : candidate + 1],
            heading=ego.heading[candidate : candidate + 1],
            speed_mps=ego.speed_mps[candidate : candidate + 1],
        )
        rows.append(collision_and_ttc(single, agents))
    return np.concatenate(rows)


@benchmark("metrics_collision_batch")
def metrics_collision_batch() -> Case:
    """At-fault collisions + TTC, 100 candidates x 80 steps x 60 agents in one call, vs a
    Python loop over candidates calling the same functions."""
    ego, agents = busy_scene()
    return Case(
        run=lambda: collision_and_ttc(ego, agents),
        baseline=lambda: _one_by_one(ego, agents),
        baseline_name="loop over candidates",
        unit_count=NUM_CANDIDATES,
        unit="candidate",
        repeats=5,
    )


@benchmark("metrics_collision_broad_phase")
def metrics_collision_broad_phase() -> Case:
    """The batched call with the bounding-circle broad phase vs the exact test on every pair."""
    ego, agents = busy_scene()
    return Case(
        run=lambda: collision_and_ttc(ego, agents, broad_phase=True),
        baseline=lambda: collision_and_ttc(ego, agents, broad_phase=False),
        baseline_name="no broad phase",
        unit_count=NUM_CANDIDATES,
        unit="candidate",
        repeats=3,
    )
