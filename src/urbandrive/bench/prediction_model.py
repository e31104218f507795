"""Benchmarks of the learned predictor: inference on a busy scene (64 agents, 128 map
polylines) against the constant-velocity baseline, the same without scene-mode separation
and the same model without the map, and training throughput in scenes per second. One
thread (`torch.set_num_threads(1)`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.agent_type import AgentType
from urbandrive.core.observation import Observation, observe
from urbandrive.core.scenario import Scenario
from urbandrive.prediction.baselines import ConstantVelocityPredictor
from urbandrive.prediction.features import collate, window_features
from urbandrive.prediction.learned import LearnedConfig, LearnedPredictor, shipped_checkpoint
from urbandrive.prediction.model import JointPredictionModel
from urbandrive.prediction.training import load_train_config, make_optimizer, train_step
from urbandrive.testing import scenario_from_states, straight_road

NUM_AGENTS, NUM_LANES, HISTORY_STEPS = 64, 10, 20


def busy_observation(seed: int = 0) -> Observation:
    """64 agents (vehicles, cyclists, pedestrians) on a 10-lane, 600 m road, 2 s of history;
    the map within 60 m of the ego holds more than the 128 polylines the model keeps."""
    rng = np.random.default_rng(seed)
    times = 0.1 * np.arange(HISTORY_STEPS)
    lanes_y = 3.5 * np.arange(NUM_LANES)
    start = np.stack([rng.uniform(150, 450, NUM_AGENTS), rng.choice(lanes_y, NUM_AGENTS)], 1)
    start[0] = (300.0, 0.0)
    speed = rng.uniform(0, 14, NUM_AGENTS)
    xy = start[:, None] + speed[:, None, None] * np.stack([times, 0 * times], -1)[None]
    types = rng.choice([AgentType.VEHICLE, AgentType.CYCLIST, AgentType.PEDESTRIAN], NUM_AGENTS)
    road = straight_road(num_lanes=NUM_LANES, length_m=600.0, num_segments=12)
    scenario = scenario_from_states(xy, np.zeros(xy.shape[:2]), list(types), road_map=road)
    return observe(scenario, HISTORY_STEPS - 1, HISTORY_STEPS)


def _inference_case(observation: Observation, config: LearnedConfig | None = None) -> Case:
    """`LearnedPredictor.predict` on `observation` (`config`: its settings, None: the
    default), with the cv baseline timed beside it."""
    torch.set_num_threads(1)
    learned = LearnedPredictor(config=config)
    baseline = ConstantVelocityPredictor()
    return Case(
        run=lambda: learned.predict(observation),
        baseline=lambda: baseline.predict(observation),
        baseline_name="cv",
        unit_count=NUM_AGENTS,
        unit="agent",
    )


@benchmark("prediction_inference")
def prediction_inference() -> Case:
    """One `LearnedPredictor.predict` (64 agents, 128 polylines) vs the cv baseline."""
    return _inference_case(busy_observation())


@benchmark("prediction_inference_no_separation")
def prediction_inference_no_separation() -> Case:
    """The same predictor without scene-mode separation (`prediction.scene_modes`): the model
    and its features alone."""
    return _inference_case(busy_observation(), LearnedConfig(separation=None))


@benchmark("prediction_inference_no_map")
def prediction_inference_no_map() -> Case:
    """The same predictor with the map left out (features and attention), vs cv."""
    return _inference_case(dataclasses.replace(busy_observation(), road_map=None))


@benchmark("prediction_training_step")
def prediction_training_step() -> Case:
    """One optimisation step of the shipped recipe's model and losses (`default.toml`) on 16
    scenes of up to 32 agents."""
    torch.set_num_threads(1)
    config = load_train_config(shipped_checkpoint("default.toml"))
    features = dataclasses.replace(config.feature_config(0.1), future_steps=30)
    rng = np.random.default_rng(1)
    scenes = [window_features(_moving_scene(rng), HISTORY_STEPS - 1, features) for _ in range(16)]
    batch = collate(scenes)
    torch.manual_seed(0)
    model = JointPredictionModel(config.model_config(0.1))
    optimizer, scheduler = make_optimizer(model, config, 10_000)
    return Case(
        run=lambda: train_step(model, optimizer, scheduler, batch, config.loss),
        unit_count=len(scenes),
        unit="scene",
        repeats=5,
    )


def _moving_scene(rng: np.random.Generator) -> Scenario:
    """40 agents on the 4-lane road over 5 s (2 s history, 3 s future)."""
    count, steps = 40, HISTORY_STEPS + 30
    times = 0.1 * np.arange(steps)
    start = np.stack([rng.uniform(100, 400, count), rng.choice([0.0, 3.5, 7.0, 10.5], count)], 1)
    speed = rng.uniform(0, 14, count)
    xy = start[:, None] + speed[:, None, None] * np.stack([times, 0 * times], -1)[None]
    road = straight_road(num_lanes=4, length_m=600.0, num_segments=12)
    return scenario_from_states(
        xy, np.zeros(xy.shape[:2]), [AgentType.VEHICLE] * count, road_map=road
    )
