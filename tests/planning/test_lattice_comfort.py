"""The lattice's profiles stay within nuPlan's comfortable longitudinal acceleration."""

from __future__ import annotations

import numpy as np
from tests.planning.scenes import observation_now, scene

from urbandrive.metrics import kernels
from urbandrive.metrics.comfort import ComfortConfig
from urbandrive.planning.planner import URBAN_DEFAULT, UrbanPlanner
from urbandrive.planning.proposals.candidates import CandidateIndex
from urbandrive.planning.proposals.lattice import (
    FrenetLatticeGenerator,
    LatticeConfig,
    _pack_rows,
    _polynomial_then_constant,
    lattice_profiles,
    pair_poses,
    quartic_coefficients,
    quintic_coefficients,
)
from urbandrive.planning.proposals.pdm import frenet_trajectory


def test_lattice_from_standstill_accelerates_within_the_comfort_bound() -> None:
    # replanned every cycle from the ego's acceleration, a quartic that may peak above the
    # bound ratchets the executed acceleration up to it (stop_and_go-011 reached 2.48 m/s^2)
    scenario = scene(ego_speed_mps=0.0, num_lanes=1)
    planner = UrbanPlanner(scenario, URBAN_DEFAULT)
    observation = observation_now(scenario)
    context = planner.context(observation, planner.predictor.predict(observation))
    candidates = FrenetLatticeGenerator().generate(context)
    assert candidates.num_candidates > 0
    accel = candidates.states[..., CandidateIndex.ACCEL]
    assert np.all(accel <= ComfortConfig().max_lon_accel_mps2)


def test_polynomials_evaluated_together_equal_each_alone() -> None:
    # longitudinal_profiles evaluates the keep, stop and follow polynomials in one call
    rng = np.random.default_rng(0)
    times = 0.1 * np.arange(81)
    keep = quartic_coefficients(3.0, 8.0, -0.4, rng.uniform(0, 14, 6), rng.uniform(2, 7, 6))
    stop = quintic_coefficients(
        np.full(3, 3.0), np.full(3, 8.0), np.full(3, -0.4), rng.uniform(10, 60, 3),
        np.zeros(3), rng.uniform(2, 8, 3),
    )  # fmt: skip
    durations = [rng.uniform(2, 7, 6), rng.uniform(2, 8, 3)]
    together = _polynomial_then_constant(
        times, np.concatenate([keep, stop]), np.concatenate(durations)
    )
    alone = [
        _polynomial_then_constant(times, c, d) for c, d in zip((keep, stop), durations, strict=True)
    ]
    for found, parts in zip(together, zip(*alone, strict=True), strict=True):
        assert np.array_equal(found, np.concatenate(parts))


def test_quintics_solved_together_equal_each_alone() -> None:
    # lattice_profiles solves the lateral, stop and follow quintics in one call
    rng = np.random.default_rng(1)
    conditions = rng.uniform(-5.0, 20.0, (6, 15))
    conditions[5] = rng.uniform(2.0, 8.0, 15)
    together = quintic_coefficients(*conditions)
    for part in (slice(0, 10), slice(10, 13), slice(13, 15)):
        alone = quintic_coefficients(*(np.ascontiguousarray(row[part]) for row in conditions))
        assert np.array_equal(together[part], alone)


def _two_lane_profiles() -> tuple:
    """(context, lateral, longitudinal profiles) of the lattice at 6 m/s on a two-lane road."""
    scenario = scene(ego_speed_mps=6.0, num_lanes=2)
    planner = UrbanPlanner(scenario, URBAN_DEFAULT)
    observation = observation_now(scenario)
    context = planner.context(observation, planner.predictor.predict(observation))
    return (context, *lattice_profiles(context, LatticeConfig()))


def test_pair_poses_equal_the_frenet_trajectory_of_every_pair() -> None:
    # the lattice locates each longitudinal profile on the reference once for all its pairs
    context, lateral, longitudinal = _two_lane_profiles()
    num_lat, num_lon = len(lateral.names), len(longitudinal.names)
    s_m = np.repeat(longitudinal.position, num_lat, 0)
    d_m = np.tile(lateral.position, (num_lon, 1))
    expected = frenet_trajectory(context, s_m, d_m, np.zeros_like(s_m), np.zeros_like(s_m))
    xy, heading = pair_poses(context, longitudinal.position, lateral.position)
    assert num_lat > 1 and num_lon > 1
    np.testing.assert_array_equal(xy, expected.xy)
    np.testing.assert_array_equal(heading, expected.heading)


def test_compiled_pair_packing_equals_numpy() -> None:
    # the lattice packs only its feasible pairs (compiled) instead of all pairs, then rows
    context, lateral, longitudinal = _two_lane_profiles()
    xy, heading = pair_poses(context, longitudinal.position, lateral.position)
    rng = np.random.default_rng(0)
    speed, accel = rng.normal(size=heading.shape), rng.normal(size=heading.shape)
    for rows in (np.flatnonzero(rng.uniform(size=heading.shape[0]) < 0.7), np.zeros(0, int)):
        found = _pack_rows(rows, xy, heading, speed, accel, longitudinal, lateral)
        with kernels.numpy_reference():
            expected = _pack_rows(rows, xy, heading, speed, accel, longitudinal, lateral)
        assert found.shape == expected.shape == (rows.size, heading.shape[1], 7)
        np.testing.assert_array_equal(found, expected)
