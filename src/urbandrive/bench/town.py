"""Town benchmarks: procedural map generation and the vectorised signal states."""

from __future__ import annotations

import numpy as np

from urbandrive.bench.registry import Case, benchmark
from urbandrive.scenarios.town import TownConfig, generate_town, light_states

LIGHT_STEPS = 6000  # 10 minutes at 10 Hz


@benchmark("town_generate_standard")
def town_generate_standard() -> Case:
    """Generate the 4 x 4 standard town (budget: < 1 s); baseline: the 2 x 2 small town."""
    standard, small = TownConfig.standard(), TownConfig.small()
    num_lanes = len(generate_town(standard, seed=0).road_map.lanes)
    return Case(
        run=lambda: generate_town(standard, seed=0),
        baseline=lambda: generate_town(small, seed=0),
        baseline_name="small 2x2 town (scale reference)",
        unit_count=float(num_lanes),
        unit="lane",
        repeats=10,
    )


@benchmark("town_light_states")
def town_light_states() -> Case:
    """States of every signal head of the standard town over 10 min at 10 Hz in one call;
    baseline: one call per step."""
    town = generate_town(TownConfig.standard(), seed=0)
    times_s = np.arange(LIGHT_STEPS) * 0.1

    def per_step() -> object:
        return [light_states(town, times_s[step : step + 1]) for step in range(LIGHT_STEPS)]

    return Case(
        run=lambda: light_states(town, times_s),
        baseline=per_step,
        baseline_name="one light_states call per step",
        unit_count=float(LIGHT_STEPS),
        unit="step",
        repeats=5,
    )
