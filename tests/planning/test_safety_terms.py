"""The headway and braking terms by hand, and the plan commanding the acceleration it plans."""

from __future__ import annotations

import numpy as np
from tests.planning.scenes import observation_now, scene

from urbandrive.control.tracker import TrackerConfig, TrajectoryTracker
from urbandrive.core.agent_type import AgentType
from urbandrive.dynamics.bicycle import center_to_rear_axle, make_state
from urbandrive.planning.planner import PlanningCycle, UrbanPlanner
from urbandrive.planning.proposals.candidates import Candidates, ProposalKind, pack_states
from urbandrive.planning.scoring import terms
from urbandrive.planning.scoring.scorer import ScoringConfig, scoring_inputs
from urbandrive.planning.scoring.table import ScoreTable
from urbandrive.planning.selection import SelectionConfig, SelectionReason, select
from urbandrive.simulation.engine import _rear_axle_reference

CAR_SIZE_M = np.array([4.7, 1.9])  # `urbandrive.testing` boxes


def _straight(
    cycle: PlanningCycle, speeds_mps: list[float], decels_mps2: list[float] | None = None
) -> Candidates:
    """Candidates from the ego's box centre along y = 0 at constant speeds (or braking from
    them at constant decelerations, never to a stop within the horizon)."""
    context = cycle.context
    times = context.times_s
    decel = np.zeros(len(speeds_mps)) if decels_mps2 is None else np.asarray(decels_mps2)
    speed = np.asarray(speeds_mps)[:, None] - decel[:, None] * times
    x = context.ego_center_xy[0] + (speed + decel[:, None] * times / 2.0) * times
    xy = np.stack([x, np.zeros_like(x)], -1)
    s_m, d_m = context.reference.path.to_frenet(xy)
    zeros = np.zeros_like(x)
    states = pack_states(xy, zeros, speed, zeros, s_m, d_m)
    kind = np.full(len(speeds_mps), ProposalKind.PDM, dtype=np.int64)
    return Candidates(times, states, kind, tuple(f"v{v}" for v in speeds_mps))


def _headway(others: list[tuple[float, float, float, float, AgentType]]) -> np.ndarray:
    scenario = scene(ego_speed_mps=10.0, others=others)
    cycle = UrbanPlanner(scenario).cycle(observation_now(scenario))
    candidates = _straight(cycle, [0.0, 10.0])
    config = ScoringConfig()
    inputs = scoring_inputs(cycle.context, candidates, config)
    return terms.headway(inputs, cycle.context.agents, cycle.context.ego_size_m, config.headway)


def test_headway_by_hand_behind_a_stopped_car() -> None:
    # ego centre at x = 10, a stopped car's centre at x = 40: bumper gap 30 - 4.7 - 10 t
    value = _headway([(40.0, 0.0, 0.0, 0.0, AgentType.VEHICLE)])
    assert value.shape == (2, 1)
    times = 0.5 * np.arange(17)
    standing_gap = 30.0 - 4.7
    np.testing.assert_allclose(value[0], 1.0 - np.clip(1.0 - standing_gap / 2.0, 0, 1))
    gap = standing_gap - 10.0 * times
    shortfall = np.where(10.0 * times < 30.0, np.clip(1.0 - gap / (2.0 + 10.0), 0.0, 1.0), 0.0)
    np.testing.assert_allclose(value[1, 0], 1.0 - shortfall.mean())
    assert value[1, 0] < 0.95


def test_headway_ignores_the_next_lane_oncoming_cars_cars_behind_and_people() -> None:
    value = _headway(
        [
            (30.0, 3.5, 5.0, 0.0, AgentType.VEHICLE),
            (60.0, 0.0, -8.0, 0.0, AgentType.VEHICLE),
            (-5.0, 0.0, 0.0, 0.0, AgentType.VEHICLE),
            (30.0, 0.0, 0.0, 0.0, AgentType.PEDESTRIAN),
        ]
    )
    np.testing.assert_allclose(value, 1.0)


def test_headway_is_kept_behind_a_slower_car_within_reach() -> None:
    # a car 15 m ahead at 5 m/s: keeping 10 m/s closes in, standing still does not
    value = _headway([(25.0, 0.0, 5.0, 0.0, AgentType.VEHICLE)])
    assert value[0, 0] == 1.0
    assert value[1, 0] < 0.85


def test_plan_commands_the_acceleration_it_plans() -> None:
    # 10 m/s, a stopped car 20 m ahead: the plan brakes at once, and a tracker on the ego's
    # state now must brake too (the candidate's own acceleration column is the state's, 0 now)
    scenario = scene(
        ego_speed_mps=10.0, others=[(30.0, 0.0, 0.0, 0.0, AgentType.VEHICLE)], num_lanes=1
    )
    observation = observation_now(scenario)
    plan = UrbanPlanner(scenario).plan(observation)
    trajectory = plan.trajectory
    dt_s = float(trajectory.times_s[1] - trajectory.times_s[0])
    planned = (trajectory.speed_mps[1] - trajectory.speed_mps[0]) / dt_s
    assert planned < -0.5
    config = TrackerConfig()
    ego = observation.ego_index
    heading = float(observation.history.heading[ego, -1])
    state = make_state(
        center_to_rear_axle(observation.history.xy[ego, -1], heading, config.vehicle),
        heading,
        float(trajectory.speed_mps[0]),
    )
    command = TrajectoryTracker(config).command(
        state, _rear_axle_reference(trajectory, config.vehicle), 0.0
    )
    np.testing.assert_allclose(command[0], planned, atol=0.05)


def test_braking_share_by_hand() -> None:
    # 30 m/s braking at 1, 3 and 5 m/s^2: free up to 2, the comfort bound 4.05 costs it all
    scenario = scene(ego_speed_mps=30.0)
    cycle = UrbanPlanner(scenario).cycle(observation_now(scenario))
    candidates = _straight(cycle, [30.0, 30.0, 30.0], [1.0, 3.0, 5.0])
    config = ScoringConfig()
    inputs = scoring_inputs(cycle.context, candidates, config)
    comfortable, _, braking = terms.comfort(inputs, config.comfort)
    np.testing.assert_allclose(comfortable, [1.0, 1.0, 0.0])
    np.testing.assert_allclose(braking, [1.0, 1.0 - 1.0 / 2.05, 0.0], atol=1e-6)


def test_all_unsafe_takes_the_stop_that_hits_latest_then_the_softest() -> None:
    times = 0.1 * np.arange(5)
    kind = np.array([ProposalKind.PDM, ProposalKind.EMERGENCY_STOP, ProposalKind.EMERGENCY_STOP])
    candidates = Candidates(
        times, np.zeros((3, 5, 7)), kind, ("go", "stop comfortable", "stop hard")
    )
    table = ScoreTable.from_columns(
        {"collision": np.zeros(3), "comfort": np.array([1.0, 1.0, 0.0])},
        hard=("collision",),
        weights={"comfort": 1.0},
    )
    config = SelectionConfig()
    hits_later = select(table, candidates, np.array([0.5, 1.0, np.inf]), 8.0, None, config)
    assert hits_later.reason == SelectionReason.ALL_UNSAFE
    assert candidates.labels[hits_later.index] == "stop hard"
    same_time = select(table, candidates, np.array([0.5, 1.0, 1.0]), 8.0, None, config)
    assert candidates.labels[same_time.index] == "stop comfortable"


def test_all_unsafe_takes_the_slower_stop_when_both_hit_at_the_same_step() -> None:
    # cut_in-003: both stops hit 0.2 s ahead (buffered boxes); the comfortable one won on the
    # soft terms and the ego hit the car. At the same collision time the slower one is taken.
    times = 0.1 * np.arange(5)
    kind = np.array([ProposalKind.PDM, ProposalKind.EMERGENCY_STOP, ProposalKind.EMERGENCY_STOP])
    speed = np.array([10.0, 10.0, 10.0])[:, None] - np.array([0.0, 3.5, 7.0])[:, None] * times
    states = pack_states(
        np.zeros((3, 5, 2)), np.zeros((3, 5)), speed, np.zeros((3, 5)), np.zeros((3, 5)),
        np.zeros((3, 5)),
    )  # fmt: skip
    candidates = Candidates(times, states, kind, ("go", "stop comfortable", "stop hard"))
    table = ScoreTable.from_columns(
        {"collision": np.zeros(3), "comfort": np.array([1.0, 1.0, 0.0])},
        hard=("collision",),
        weights={"comfort": 1.0},
    )
    config = SelectionConfig()
    same_step = select(table, candidates, np.array([0.1, 0.2, 0.2]), 10.0, None, config)
    assert same_step.reason == SelectionReason.ALL_UNSAFE
    assert candidates.labels[same_step.index] == "stop hard"
    # neither hits: the softer one
    none = select(table, candidates, np.array([0.1, np.inf, np.inf]), 10.0, None, config)
    assert candidates.labels[none.index] == "stop comfortable"
