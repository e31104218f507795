"""Benchmark of the urban planner with the learned predictor: the `planner_cycle` scene (60
agents, >= 100 candidates, 80 steps) predicted by the shipped joint model (K = 6 scene modes,
3 s extended to the planner's 8 s) instead of the synthetic six-mode constant-velocity
stand-in, on one torch thread. Baseline: the same planner with the `cv` predictor, so the
ratio is the learned model's share of a closed-loop cycle."""

from __future__ import annotations

import torch

from urbandrive.bench.planning import busy_scene, warmed_up
from urbandrive.bench.registry import Case, benchmark
from urbandrive.core.observation import observe
from urbandrive.planning.planner import URBAN_DEFAULT, UrbanPlanner, with_config


@benchmark("planner_cycle_learned")
def planner_cycle_learned() -> Case:
    torch.set_num_threads(1)
    scenario = busy_scene()
    observation = observe(scenario, scenario.current_index)
    learned = UrbanPlanner(scenario, with_config(URBAN_DEFAULT, predictor="learned"))
    with_cv = UrbanPlanner(scenario, with_config(URBAN_DEFAULT, predictor="cv"))
    planner, with_cv = warmed_up(learned, observation), warmed_up(with_cv, observation)
    return Case(
        run=lambda: planner.cycle(observation),
        baseline=lambda: with_cv.cycle(observation),
        baseline_name="the same planner with the cv predictor",
        unit="cycle",
        repeats=10,
    )
