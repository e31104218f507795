"""The cycle's agents along the reference: a merging vehicle splits the future in two."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import numpy as np
import pytest
from tests.planning.scenes import observation_now, scene

from urbandrive.core import compiled
from urbandrive.core.agent_type import AgentType
from urbandrive.maps.frenet import ReferencePath
from urbandrive.planning.planner import UrbanPlanner
from urbandrive.planning.proposals.context import (
    MERGE_HORIZON_S,
    MERGE_SURE_PROB,
    MERGE_SURE_S,
    _frenet_on_steps,
    _interpolate_steps,
    across_reference,
    merge_commitment,
)


def _cycle(others: list[tuple[float, float, float, float, AgentType]]):
    scenario = scene(ego_speed_mps=10.0, others=others)
    return UrbanPlanner(scenario).cycle(observation_now(scenario))


def test_a_car_cutting_in_settles_in_the_lane_or_stays_in_its_own() -> None:
    # 15 m ahead in the left lane (y = 3.5), 2.5 m/s towards the ego's lane: constant velocity
    # alone has it cross the ego's lane within 3 s and leave it.
    cycle = _cycle([(25.0, 3.5, 7.0, -2.5, AgentType.VEHICLE)])
    agents = cycle.context.agents
    assert agents.mode_probs.shape == (2,)
    # predicted across the reference in 1.4 s (< MERGE_SURE_S): mostly settling
    np.testing.assert_allclose(agents.mode_probs, [MERGE_SURE_PROB, 1.0 - MERGE_SURE_PROB])
    row = int(np.flatnonzero(agents.types == AgentType.VEHICLE)[-1])
    settled, kept = agents.d_m[row, 0], agents.d_m[row, 1]
    assert settled.min() >= -1e-9 and abs(settled[-1]) < 1e-6  # on the reference, not across
    np.testing.assert_allclose(kept, 3.5, atol=1e-6)  # in its own lane
    # positions follow the new offsets (the scorer reads xy, the proposals read s and d)
    np.testing.assert_allclose(agents.states.xy[0, row, -1, 1], 0.0, atol=1e-6)
    np.testing.assert_allclose(agents.states.xy[1, row, -1, 1], 3.5, atol=1e-6)


def test_merge_commitment_by_hand() -> None:
    # three agents at d = 3 moving to d < 0 at constant lateral speed, one mode each pair
    times = 0.1 * np.arange(81)
    cross_at = np.array([1.0, 2.75, 4.0])  # seconds
    d_m = 3.0 - (3.0 / cross_at)[:, None, None] * (times + 0.05)  # crosses just before
    merging = np.ones((3, 1), bool)
    # the most committed agent counts: crossing within MERGE_SURE_S
    np.testing.assert_allclose(merge_commitment(d_m, merging, times), [MERGE_SURE_PROB])
    ramp = (MERGE_HORIZON_S - 2.8) / (MERGE_HORIZON_S - MERGE_SURE_S)
    expected = 0.5 + (MERGE_SURE_PROB - 0.5) * ramp  # the second crosses at step 28
    np.testing.assert_allclose(merge_commitment(d_m, np.array([[0], [1], [1]], bool), times),
                               [expected])  # fmt: skip
    np.testing.assert_allclose(merge_commitment(d_m, np.array([[0], [0], [1]], bool), times),
                               [0.5])  # fmt: skip
    np.testing.assert_allclose(merge_commitment(d_m, np.zeros((3, 1), bool), times), [0.5])


def test_the_planner_brakes_for_a_close_committed_cut_in() -> None:
    # cut_in-003 at t = 3.9 s: 11.4 m/s in the middle lane, a car 5.6 m ahead (centres) at
    # 8.6 m/s, 2.2 m to the right moving in at 2.2 m/s. At an even split a plan hitting it
    # once settled kept a hard product of 0.5 and won over braking (here pdm left at full
    # speed); the ego hit the car.
    car = (15.6, 1.3, 8.6, 2.2, AgentType.VEHICLE)
    scenario = scene(ego_speed_mps=11.4, num_lanes=3, ego_lane=1, others=[car])
    cycle = UrbanPlanner(scenario).cycle(observation_now(scenario))
    chosen = cycle.selection.index
    settled = cycle.scoring.per_mode["no_at_fault_collision"][chosen, 0]
    assert settled == 1.0 or cycle.candidates.labels[chosen] == "stop hard"


def test_a_parallel_car_and_a_crossing_pedestrian_are_not_split() -> None:
    cycle = _cycle(
        [
            (25.0, 3.5, 7.0, 0.0, AgentType.VEHICLE),
            (40.0, 3.0, 0.0, -1.4, AgentType.PEDESTRIAN),
        ]
    )
    assert cycle.context.agents.mode_probs.shape == (1,)


def test_the_planner_brakes_for_a_cut_in_instead_of_changing_into_its_lane() -> None:
    cycle = _cycle([(25.0, 3.5, 7.0, -2.5, AgentType.VEHICLE)])
    chosen = cycle.candidates.trajectory(cycle.selection.index)
    assert abs(chosen.xy[-1, 1]) < 1.0  # keeps its lane
    assert chosen.speed_mps[-1] < 8.0  # and slows to follow the car


def _braking_lead_scene(decel_mps2: float):
    """The ego at 10 m/s, a lead 30 m ahead at 10 m/s that starts braking at `decel_mps2`
    0.5 s before now (to a stop)."""
    import dataclasses

    from tests.planning.scenes import NOW, NUM_STEPS

    from urbandrive.core.scenario import Route
    from urbandrive.testing import scenario_from_states, straight_road

    times = 0.1 * (np.arange(NUM_STEPS) - NOW)
    ego_x = 10.0 + 10.0 * times
    braking = np.clip(times + 0.5, 0.0, 10.0 / decel_mps2)
    lead_speed = np.where(times < -0.5, 10.0, 10.0 - decel_mps2 * braking)
    lead_x = 40.0 + 10.0 * times - np.where(times < -0.5, 0.0, 0.5 * decel_mps2 * braking**2)
    xy = np.stack([np.stack([ego_x, np.zeros_like(ego_x)], -1), np.stack([lead_x, 0 * lead_x], -1)])
    velocity = np.stack([np.stack([np.full_like(times, 10.0), 0 * times], -1),
                         np.stack([lead_speed, 0 * times], -1)])  # fmt: skip
    scenario = scenario_from_states(
        xy,
        np.zeros(xy.shape[:2]),
        [AgentType.VEHICLE, AgentType.VEHICLE],
        velocity=velocity,
        current_index=NOW,
        road_map=straight_road(num_lanes=1),
    )
    return dataclasses.replace(scenario, route=Route((0, 1)))


def test_a_braking_lead_is_predicted_to_keep_braking_to_a_stop() -> None:
    scenario = _braking_lead_scene(6.0)
    cycle = UrbanPlanner(scenario).cycle(observation_now(scenario))
    agents = cycle.context.agents
    lead = int(np.flatnonzero(agents.rows == 1)[0])
    now_x = agents.states.xy[0, lead, 0, 0]
    # 7 m/s now, braking at 6 m/s^2: stops 4.1 m further on (constant velocity: 56 m)
    assert agents.states.xy[0, lead, -1, 0] - now_x == pytest.approx(7.0**2 / 12.0, abs=0.3)
    assert agents.speed_along_mps[lead, 0, -1] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_frenet_of_shared_modes_equals_projecting_every_mode(seed: int) -> None:
    # modes sharing an agent's points are projected once: the same floats as projecting every
    # (agent, mode), rows equal up to one bit or a -0.0 included
    rng = np.random.default_rng(seed)
    bend = np.linspace(0.0, 60.0, 61)
    path = ReferencePath.from_points(np.stack([bend, 0.01 * bend**2], -1))
    xy = rng.uniform(-5.0, 65.0, (7, 4, 21, 2))
    xy[:, 1] = xy[:, 0]  # mode 1 copies mode 0 for every agent
    xy[2, 3] = xy[2, 0]
    xy[3, 2] = np.nextafter(xy[3, 0], np.inf)  # one bit off: its own row
    xy[4, 2], xy[4, 3] = xy[4, 0], xy[4, 0]
    xy[4, 3, 5, 0] += 1.0
    xy[5, 2, 5, 0] = 0.0
    xy[5, 3] = xy[5, 2]
    xy[5, 3, 5, 0] = -0.0  # equal, not the same bits: its own row
    reference = SimpleNamespace(path=path)
    coarse = np.r_[np.arange(0, 21, 5), 20]
    s_want, d_want = path.to_frenet(xy[:, :, coarse])
    contexts = [compiled.numpy_reference()]  # and the compiled sharing and interpolation
    if compiled.HAVE_NUMBA:
        contexts.append(contextlib.nullcontext())
    for context in contexts:
        with context:
            s_m, d_m = _frenet_on_steps(reference, xy, 21, 5)
            s_none, d_none = _frenet_on_steps(reference, xy[:0], 21, 5)
        np.testing.assert_array_equal(s_m, _interpolate_steps(s_want, coarse, 21))
        np.testing.assert_array_equal(d_m, _interpolate_steps(d_want, coarse, 21))
        assert s_none.shape == d_none.shape == (0, 4, 21)


def test_compiled_crossing_test_equals_across_reference() -> None:
    """`kernels.cross_reference_where` keeps (agent, mode) pairs across the reference at a
    step of the window exactly as `across_reference`: offsets now 0, -0.0 or NaN, NaN and
    infinite steps, crossings outside the window."""
    if not compiled.HAVE_NUMBA:
        pytest.skip("numba is not installed")
    from urbandrive.planning.proposals.kernels import cross_reference_where

    rng = np.random.default_rng(0)
    d_m = rng.normal(0.0, 2.0, (40, 3, 21))
    d_m[:4, :, 0] = [[0.0], [-0.0], [np.nan], [np.inf]]
    d_m[4:8, :, 5] = np.nan
    d_m[8:10, :, 7] = -np.inf
    window = np.arange(21) < 12
    where = rng.uniform(size=(40, 3)) < 0.8
    expected = where & np.any(across_reference(d_m)[..., window], axis=-1)
    found = where.copy()
    cross_reference_where(d_m, window, found)
    np.testing.assert_array_equal(found, expected)
    assert found.any() and (where & ~found).any()
