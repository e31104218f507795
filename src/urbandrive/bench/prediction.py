"""Prediction benchmarks: the `lane` baseline on a busy scene, `cv` timed in the same run."""

from __future__ import annotations

import numpy as np

from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.agent_type import AgentType
from urbandrive.core.observation import Observation, observe
from urbandrive.core.scenario import Scenario
from urbandrive.prediction.registry import PREDICTORS, PredictorSettings
from urbandrive.testing import scenario_from_states, straight_road

NUM_AGENTS, NUM_STEPS, HORIZON_S = 64, 30, 8.0


def busy_road_scene(seed: int = 0) -> Scenario:
    """64 agents (ego, 47 vehicles, 12 pedestrians, 4 static) on a 4-lane, 400 m road of
    8 segments per lane, 3 s of constant-velocity history at 10 Hz."""
    rng = np.random.default_rng(seed)
    road_map = straight_road(num_lanes=4, length_m=400.0, num_segments=8)
    types = np.array(
        [AgentType.VEHICLE] * 48 + [AgentType.PEDESTRIAN] * 12 + [AgentType.STATIC] * 4
    )
    lane_y = rng.choice([0.0, 3.5, 7.0, 10.5], NUM_AGENTS) + rng.normal(0.0, 0.3, NUM_AGENTS)
    start = np.stack([rng.uniform(10.0, 250.0, NUM_AGENTS), lane_y], axis=1)
    walker = types == AgentType.PEDESTRIAN
    heading = np.where(walker, rng.uniform(-np.pi, np.pi, NUM_AGENTS), 0.0)
    speed = np.where(walker, rng.uniform(0.5, 1.8, NUM_AGENTS), rng.uniform(0.0, 14.0, NUM_AGENTS))
    speed = np.where(types == AgentType.STATIC, 0.0, speed)
    velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    times = 0.1 * np.arange(NUM_STEPS)
    xy = start[:, None, :] + velocity[:, None, :] * times[None, :, None]
    return scenario_from_states(
        xy,
        np.repeat(heading[:, None], NUM_STEPS, axis=1),
        [AgentType(t) for t in types],
        velocity=np.repeat(velocity[:, None, :], NUM_STEPS, axis=1),
        road_map=road_map,
    )


def _predict_once(name: str, observation: Observation) -> object:
    """A fresh predictor each call: the map's path cache stays warm, as in a running stack."""
    return PREDICTORS.create(name, PredictorSettings(horizon_s=HORIZON_S)).predict(observation)


@benchmark("prediction_lane_64_agents")
def prediction_lane_64_agents() -> Case:
    """`lane` (K = 6, 8 s at 10 Hz) for 63 agents around the ego vs `cv` on the same scene."""
    observation = observe(busy_road_scene(), step=NUM_STEPS - 1, history_steps=20)
    return Case(
        run=lambda: _predict_once("lane", observation),
        baseline=lambda: _predict_once("cv", observation),
        baseline_name="cv",
        unit_count=NUM_AGENTS - 1,
        unit="agent",
        repeats=10,
    )
