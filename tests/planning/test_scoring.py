"""ScoreTable invariants, risk aggregation, and batched scoring equal to one-by-one scoring."""

from __future__ import annotations

import numpy as np
import pytest
from tests.planning.scenes import observation_now, scene

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.planning.planner import UrbanPlanner
from urbandrive.planning.scoring.risk import (
    RiskMeasure,
    aggregate_modes,
    conditional_value_at_risk,
    expected_value,
)
from urbandrive.planning.scoring.table import ScoreTable
from urbandrive.planning.selection import SelectionConfig, SelectionReason, select


def _table(values: np.ndarray) -> ScoreTable:
    return ScoreTable.from_columns(
        {"collision": values[:, 0], "progress": values[:, 1], "comfort": values[:, 2]},
        hard=("collision",),
        weights={"progress": 3.0, "comfort": 1.0},
    )


def test_total_is_hard_product_times_weighted_soft_mean() -> None:
    table = _table(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.5, 0.5, 1.0]]))
    np.testing.assert_allclose(table.total(), [0.75, 0.0, 0.5 * (1.5 + 1.0) / 4.0])
    assert set(table.columns()) == {"collision", "progress", "comfort", "hard", "soft", "total"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (np.array([[1.2, 1.0, 1.0]]), "in \\[0, 1\\]"),
        (np.array([[np.nan, 1.0, 1.0]]), "finite"),
    ],
)
def test_score_table_refuses_values_outside_unit_interval(values: np.ndarray, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _table(values)


def test_score_table_refuses_weighted_hard_terms_and_duplicates() -> None:
    with pytest.raises(DataError, match="0 for hard"):
        ScoreTable(("a", "b"), np.ones((1, 2)), np.array([True, False]), np.array([1.0, 1.0]))
    with pytest.raises(DataError, match="duplicate"):
        ScoreTable(("a", "a"), np.ones((1, 2)), np.array([False, False]), np.ones(2))


def test_cvar_of_costs_is_at_least_the_expectation() -> None:
    rng = np.random.default_rng(0)
    costs = rng.random((50, 6))
    probs = rng.dirichlet(np.ones(6))
    for alpha in (0.05, 0.3, 0.7, 1.0):
        cvar = conditional_value_at_risk(costs, probs, alpha)
        assert np.all(cvar >= expected_value(costs, probs) - 1e-12)
        assert np.all(cvar <= costs.max(-1) + 1e-12)
    np.testing.assert_allclose(
        conditional_value_at_risk(costs, probs, 1.0), expected_value(costs, probs)
    )


def test_cvar_by_hand() -> None:
    costs = np.array([[0.0, 1.0, 0.5]])
    probs = np.array([0.5, 0.2, 0.3])
    # worst 40 %: all of the 0.2 at cost 1, then 0.2 of the 0.3 at cost 0.5
    np.testing.assert_allclose(conditional_value_at_risk(costs, probs, 0.4), [(0.2 + 0.1) / 0.4])
    values = 1.0 - costs
    np.testing.assert_allclose(aggregate_modes(values, probs, RiskMeasure.CVAR, 0.4), [1.0 - 0.75])


def test_emergency_stop_when_every_candidate_breaks_a_hard_constraint() -> None:
    scenario = scene(others=[(40.0, 0.0, 0.0, 0.0, AgentType.VEHICLE)], num_lanes=1)
    cycle = UrbanPlanner(scenario).cycle(observation_now(scenario))
    values = cycle.scoring.table.values.copy()
    values[:, 0] = 0.0  # every candidate collides
    table = ScoreTable(
        cycle.scoring.table.names, values, cycle.scoring.table.is_hard, cycle.scoring.table.weights
    )
    selection = select(
        table,
        cycle.candidates,
        cycle.scoring.time_to_at_fault_collision_s,
        10.0,
        None,
        SelectionConfig(),
    )
    assert selection.reason == SelectionReason.ALL_UNSAFE
    assert cycle.candidates.labels[selection.index].startswith("stop")


def test_hysteresis_keeps_the_previous_choice_within_the_margin() -> None:
    scenario = scene(num_lanes=1)
    cycle = UrbanPlanner(scenario).cycle(observation_now(scenario))
    total = cycle.scoring.table.total()
    order = np.argsort(-total)
    runner_up = int(order[np.argmax(total[order] < total.max() - 1e-3)])
    margin = float(total.max() - total[runner_up]) + 1e-6
    keep = select(
        cycle.scoring.table,
        cycle.candidates,
        cycle.scoring.time_to_at_fault_collision_s,
        10.0,
        cycle.candidates.labels[runner_up],
        SelectionConfig(hysteresis_margin=margin),
    )
    assert keep.index == runner_up and keep.reason == SelectionReason.KEPT_PREVIOUS
    switch = select(
        cycle.scoring.table,
        cycle.candidates,
        cycle.scoring.time_to_at_fault_collision_s,
        10.0,
        cycle.candidates.labels[runner_up],
        SelectionConfig(hysteresis_margin=0.0),
    )
    assert switch.index == int(np.argmax(total))


def test_batched_scoring_equals_scoring_each_candidate_alone() -> None:
    scenario = scene(
        others=[
            (30.0, 0.0, 3.0, 0.0, AgentType.VEHICLE),
            (45.0, 3.5, 6.0, 0.0, AgentType.VEHICLE),
            (50.0, -2.5, 0.0, 0.5, AgentType.PEDESTRIAN),
        ],
        crosswalk_at_m=50.0,
    )
    planner = UrbanPlanner(scenario)
    cycle = planner.cycle(observation_now(scenario))
    batched = cycle.scoring.table
    rows = np.linspace(0, cycle.candidates.num_candidates - 1, 7).astype(int)
    skip = {"progress"}  # normalised by the best candidate of the batch
    for row in rows:
        alone = planner.scorer.score(cycle.context, cycle.candidates.select([row])).table
        for name in batched.names:
            if name not in skip:
                np.testing.assert_allclose(
                    alone.column(name), batched.column(name)[row : row + 1], err_msg=name
                )


def test_aggregated_modes_stay_in_unit_interval_despite_rounding() -> None:
    # These six probabilities give sum(p / sum(p)) = 1 + 2e-16 in float64: the expectation of
    # ones used to exceed 1 and the ScoreTable refused it (multi-mode predictors crashed).
    probs = np.array([0.2941767375622273, 0.04650569319129405, 0.3147813773368852,
                      0.06940316027702183, 0.08189589173543935, 0.1932371398971322])  # fmt: skip
    for measure in (RiskMeasure.EXPECTATION, RiskMeasure.CVAR):
        aggregated = aggregate_modes(np.ones((3, 6)), probs, measure, 0.3)
        assert np.all(aggregated <= 1.0)
        assert np.all(aggregated >= 0.0)
