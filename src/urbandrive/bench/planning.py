"""Benchmark of the planning stage: one full cycle (predict + generate + score + select) of the
urban planner on a busy synthetic scene: 60 agents on a 4-lane road, K = 6 predicted modes,
>= 100 candidates, 8 s at 10 Hz. Baselines: `planner_cycle` against the same cycle with no
broad phase, TTC at every step and the metrics' own broad phase off (the naive scorer);
`planner_cycle_vs_previous` against the previous implementation (`BroadPhase.AGENTS`: agents
pruned by a swept box of all candidates, dense [M, K, A, T] metric arrays);
`planner_cycle_numpy` against the same planner with the compiled kernels off (the numpy
reference, `metrics.kernels.numpy_reference`). Each factory runs one cycle first, so the
kernels' JIT compilation (or cache load) never lands in a timed call."""

from __future__ import annotations

import dataclasses

import numpy as np

from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.agent_type import AgentType
from urbandrive.core.observation import Observation, observe
from urbandrive.core.scenario import Route, Scenario
from urbandrive.metrics import kernels
from urbandrive.metrics.collisions import CollisionConfig
from urbandrive.metrics.time_to_collision import TimeToCollisionConfig
from urbandrive.planning.planner import URBAN_DEFAULT, UrbanPlanner, UrbanPlannerConfig
from urbandrive.planning.scoring.scorer import BroadPhase
from urbandrive.prediction.baselines import ConstantVelocityPredictor
from urbandrive.prediction.interfaces import Prediction
from urbandrive.testing import scenario_from_states, straight_road

NUM_AGENTS, NUM_MODES, NUM_STEPS, NOW = 60, 6, 120, 10
#: Mode k scales every agent's speed and turns its velocity (a stand-in for a multi-modal model).
MODE_SPEED_SCALES = np.array([1.0, 0.7, 1.3, 1.0, 1.0, 0.0])
MODE_TURNS_RAD = np.array([0.0, 0.0, 0.0, 0.08, -0.08, 0.0])
MODE_PROBS = np.array([0.4, 0.15, 0.15, 0.1, 0.1, 0.1])


class PerturbedConstantVelocity:
    """Six joint modes from the constant-velocity forecast: slower, faster, turning, stopping."""

    name = "cv6"

    def __init__(self) -> None:
        self.base = ConstantVelocityPredictor()

    def predict(self, observation: Observation) -> Prediction:
        single = self.base.predict(observation)
        now = observation.history.xy[single.agent_rows, -1]  # [N, 2]
        offset = single.xy[:, 0] - now[:, None]  # [N, H, 2]
        cos, sin = np.cos(MODE_TURNS_RAD)[:, None], np.sin(MODE_TURNS_RAD)[:, None]  # [K, 1]
        x, y = offset[:, None, :, 0], offset[:, None, :, 1]  # [N, 1, H]
        turned = np.stack([cos * x + -sin * y, sin * x + cos * y], -1)  # rotated, [N, K, H, 2]
        turned *= MODE_SPEED_SCALES[None, :, None, None]
        heading = single.heading[:, :1] + MODE_TURNS_RAD[None, :, None]
        return dataclasses.replace(
            single,
            xy=now[:, None, None] + turned,
            heading=np.broadcast_to(heading, turned.shape[:3]).copy(),
            probs=MODE_PROBS.copy(),
            marginal_probs=np.tile(MODE_PROBS, (single.agent_rows.size, 1)),
        )


def busy_scene(seed: int = 0) -> Scenario:
    """The ego at 10 m/s in lane 1 of 4, 60 agents (cars, pedestrians, cyclists, parked)."""
    rng = np.random.default_rng(seed)
    road_map = straight_road(num_lanes=4, length_m=300.0, crosswalk_at_m=90.0)
    types = rng.choice(
        [AgentType.VEHICLE, AgentType.PEDESTRIAN, AgentType.CYCLIST, AgentType.STATIC],
        NUM_AGENTS,
        p=[0.6, 0.2, 0.1, 0.1],
    )
    lane_y = rng.choice([0.0, 3.5, 7.0, 10.5], NUM_AGENTS)
    start = np.stack([rng.uniform(0.0, 160.0, NUM_AGENTS), lane_y], -1)
    speed = np.where(types == AgentType.STATIC, 0.0, rng.uniform(0.0, 12.0, NUM_AGENTS))
    speed = np.where(types == AgentType.PEDESTRIAN, rng.uniform(0.0, 1.5, NUM_AGENTS), speed)
    heading = np.where(types == AgentType.PEDESTRIAN, rng.uniform(-np.pi, np.pi, NUM_AGENTS), 0.0)
    start = np.concatenate([[[20.0, 3.5]], start])
    speed, heading = np.r_[10.0, speed], np.r_[0.0, heading]
    start[1:][np.linalg.norm(start[1:] - start[0], axis=-1) < 8.0, 0] += 15.0  # no overlap now
    velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], -1)
    times = 0.1 * (np.arange(NUM_STEPS) - NOW)
    scenario = scenario_from_states(
        start[:, None] + velocity[:, None] * times[None, :, None],
        np.repeat(heading[:, None], NUM_STEPS, 1),
        [AgentType.VEHICLE, *types],
        velocity=np.repeat(velocity[:, None], NUM_STEPS, 1),
        current_index=NOW,
        road_map=road_map,
    )
    return dataclasses.replace(scenario, route=Route((100, 101)))


def with_broad_phase(broad_phase: BroadPhase) -> UrbanPlannerConfig:
    """URBAN_DEFAULT scored with another `BroadPhase`."""
    scoring = dataclasses.replace(URBAN_DEFAULT.scoring, broad_phase=broad_phase)
    return dataclasses.replace(URBAN_DEFAULT, scoring=scoring)


def naive_config() -> UrbanPlannerConfig:
    """URBAN_DEFAULT with every broad phase off and TTC at every step."""
    scoring = dataclasses.replace(
        URBAN_DEFAULT.scoring,
        broad_phase=BroadPhase.NONE,
        ttc_step_stride=1,
        collision=CollisionConfig(use_broad_phase=False),
        time_to_collision=TimeToCollisionConfig(use_broad_phase=False),
    )
    return dataclasses.replace(URBAN_DEFAULT, scoring=scoring)


def warmed_up(planner: UrbanPlanner, observation: Observation) -> UrbanPlanner:
    """`planner` after one cycle: the compiled kernels are built (or loaded from the cache)."""
    planner.cycle(observation)
    return planner


def cycle_with_numpy_reference(planner: UrbanPlanner, observation: Observation) -> object:
    """One cycle of `planner` with the compiled kernels off."""
    with kernels.numpy_reference():
        return planner.cycle(observation)


def _busy_planner() -> tuple[Scenario, Observation, UrbanPlanner]:
    """The busy scene, its observation now, and a default planner warmed up on it."""
    scenario = busy_scene()
    observation = observe(scenario, scenario.current_index)
    planner = warmed_up(UrbanPlanner(scenario, predictor=PerturbedConstantVelocity()), observation)
    return scenario, observation, planner


@benchmark("planner_cycle")
def planner_cycle() -> Case:
    scenario, observation, planner = _busy_planner()
    naive = UrbanPlanner(scenario, naive_config(), predictor=PerturbedConstantVelocity())
    return Case(
        run=lambda: planner.cycle(observation),
        baseline=lambda: naive.cycle(observation),
        baseline_name="no broad phase, TTC every step",
        unit="cycle",
        repeats=40,
        baseline_repeats=2,  # ~40 s a cycle
    )


@benchmark("planner_cycle_vs_previous")
def planner_cycle_vs_previous() -> Case:
    scenario, observation, planner = _busy_planner()
    previous = UrbanPlanner(
        scenario, with_broad_phase(BroadPhase.AGENTS), predictor=PerturbedConstantVelocity()
    )
    return Case(
        run=lambda: planner.cycle(observation),
        baseline=lambda: previous.cycle(observation),
        baseline_name="previous: agent broad phase, dense metric arrays",
        unit="cycle",
        repeats=20,
    )


@benchmark("planner_cycle_numpy")
def planner_cycle_numpy() -> Case:
    _, observation, planner = _busy_planner()
    return Case(
        run=lambda: planner.cycle(observation),
        baseline=lambda: cycle_with_numpy_reference(planner, observation),
        baseline_name="the same planner, numpy reference (compiled kernels off)",
        unit="cycle",
        repeats=20,
    )
