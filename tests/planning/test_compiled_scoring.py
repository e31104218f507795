"""The urban planner with the compiled kernels proposes, scores and selects exactly like the
numpy reference (`urbandrive.metrics.kernels.numpy_reference`) on the broad-phase test scenes."""

from __future__ import annotations

import numpy as np
import pytest
from tests.planning.scenes import observation_now
from tests.planning.test_broad_phase import _scenes

from urbandrive.bench.planning import PerturbedConstantVelocity
from urbandrive.metrics import kernels
from urbandrive.planning.planner import UrbanPlanner
from urbandrive.planning.scoring.pairs import StepBoxes, interacting_pairs

pytestmark = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba is not installed")


@pytest.mark.parametrize("name", list(_scenes()))
def test_compiled_kernels_score_and_select_like_numpy(name: str) -> None:
    scenario = _scenes()[name]
    observation = observation_now(scenario)
    planner = UrbanPlanner(scenario, predictor=PerturbedConstantVelocity())
    compiled = planner.cycle(observation)
    with kernels.numpy_reference():
        reference = planner.cycle(observation)
    np.testing.assert_array_equal(compiled.candidates.states, reference.candidates.states)
    np.testing.assert_array_equal(compiled.scoring.table.values, reference.scoring.table.values)
    for term, values in reference.scoring.per_mode.items():
        np.testing.assert_array_equal(compiled.scoring.per_mode[term], values)
    np.testing.assert_array_equal(
        compiled.scoring.time_to_at_fault_collision_s,
        reference.scoring.time_to_at_fault_collision_s,
    )
    assert compiled.selection == reference.selection


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("block_steps", "group_size"), [(10, 8), (2, 3), (1, 1), (7, 20)])
def test_compiled_pair_finder_gives_the_same_pairs_in_the_same_order(
    seed: int, block_steps: int, group_size: int
) -> None:
    rng = np.random.default_rng(seed)
    ego_xy = rng.uniform(0, 40, (11, 13, 2))
    agent_start = rng.uniform(0, 40, (2, 5, 13, 2))
    agent_end = agent_start + rng.uniform(-5, 5, agent_start.shape)
    valid = rng.random((5, 13)) < 0.8
    margin = rng.uniform(0, 6, 5)
    ego, agents = StepBoxes.of_points(ego_xy), StepBoxes.of_segments(agent_start, agent_end, valid)
    compiled = interacting_pairs(ego, agents, margin, block_steps, group_size)
    with kernels.numpy_reference():
        reference = interacting_pairs(ego, agents, margin, block_steps, group_size)
    for found, expected in zip(compiled, reference, strict=True):
        np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_drivable_grid_equals_numpy(seed: int) -> None:
    scenario = _scenes()["crossing"]
    planner = UrbanPlanner(scenario, predictor=PerturbedConstantVelocity())
    grid = planner.scorer.drivable_area
    rng = np.random.default_rng(seed)
    low = grid.origin_xy
    high = low + grid.resolution_m * (np.array(grid.distance_m.shape[::-1]) - 1)
    inside = rng.uniform(low, high, (50, 4, 2))
    on_nodes = low + grid.resolution_m * rng.integers(0, 20, (50, 4, 2))
    for points in (inside, on_nodes, np.concatenate([inside, high + 3.0 + inside * 0])):
        compiled = grid.distance_outside_drivable_area(points)
        with kernels.numpy_reference():
            np.testing.assert_array_equal(compiled, grid.distance_outside_drivable_area(points))
