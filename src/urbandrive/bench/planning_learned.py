"""Benchmarks of the urban planner with the learned predictor: the `planner_cycle` scene (60
agents, >= 100 candidates, 80 steps) predicted by the shipped joint model (K = 6 scene modes,
3 s extended to the planner's 8 s) instead of the synthetic six-mode constant-velocity
stand-in, on one torch thread. `planner_cycle_learned`: the model on every agent, against the
same planner with the `cv` predictor (the ratio is the learned model's share of a closed-loop
cycle); `planner_cycle_learned_near`: the model on the 32 agents nearest the ego, the others
at constant velocity (`learned_near`), against `learned`."""

from __future__ import annotations

import torch

from urbandrive.bench.planning import busy_scene, warmed_up
from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.observation import Observation, observe
from urbandrive.planning.planner import URBAN_DEFAULT, UrbanPlanner, with_config


def _planners(*predictors: str) -> tuple[Observation, list[UrbanPlanner]]:
    """The busy scene's observation now and one warmed-up planner per predictor name."""
    torch.set_num_threads(1)
    scenario = busy_scene()
    observation = observe(scenario, scenario.current_index)
    planners = [
        warmed_up(UrbanPlanner(scenario, with_config(URBAN_DEFAULT, predictor=name)), observation)
        for name in predictors
    ]
    return observation, planners


@benchmark("planner_cycle_learned")
def planner_cycle_learned() -> Case:
    observation, (planner, with_cv) = _planners("learned", "cv")
    return Case(
        run=lambda: planner.cycle(observation),
        baseline=lambda: with_cv.cycle(observation),
        baseline_name="the same planner with the cv predictor",
        unit="cycle",
        repeats=40,  # as planner_cycle: a p50 of ten samples moves with the machine
        baseline_repeats=10,
    )


@benchmark("planner_cycle_learned_near")
def planner_cycle_learned_near() -> Case:
    observation, (near, learned) = _planners("learned_near", "learned")
    return Case(
        run=lambda: near.cycle(observation),
        baseline=lambda: learned.cycle(observation),
        baseline_name="the same planner with the model on every agent (learned)",
        unit="cycle",
        repeats=40,  # as planner_cycle: a p50 of ten samples moves with the machine
        baseline_repeats=10,
    )
