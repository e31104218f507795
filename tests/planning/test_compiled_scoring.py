"""The urban planner with the compiled kernels proposes, scores and selects exactly like the
numpy reference (`urbandrive.metrics.kernels.numpy_reference`) on the broad-phase test scenes;
the compiled kernels one by one against their numpy references."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from tests.planning.scenes import observation_now, planned_now, scene
from tests.planning.test_broad_phase import _scenes

from urbandrive.bench.planning import PerturbedConstantVelocity
from urbandrive.control.lateral import gain_table
from urbandrive.control.tracker import TrackerConfig, TrajectoryTracker
from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import Trajectory
from urbandrive.dynamics.bicycle import make_state
from urbandrive.metrics import kernels
from urbandrive.metrics.states import AgentStates, shared_rows
from urbandrive.planning.planner import UrbanPlanner
from urbandrive.planning.proposals.candidates import Candidates
from urbandrive.planning.proposals.kernels import (
    _interp_columns,
    _nearest_candidates,
    feasible_rows,
)
from urbandrive.planning.proposals.lattice import LatticeConfig, is_feasible
from urbandrive.planning.proposals.obstacles import (
    ObstacleConfig,
    PathObstacles,
    occupied_crosswalks,
    path_obstacles,
)
from urbandrive.planning.proposals.pdm import (
    _nearest_gaps,
    _reference_table,
    _resample_states,
    centred_states,
    idm_profiles,
    path_offsets,
    track_compiled,
)
from urbandrive.planning.scoring import row_terms
from urbandrive.planning.scoring import scorer as scorer_module
from urbandrive.planning.scoring.pairs import (
    SLACK_M,
    StepBoxes,
    contact_pairs,
    contacts_on_rows,
    interacting_pairs,
    projection_pairs,
    projection_search,
)
from urbandrive.planning.scoring.scorer import _projection_window, scoring_inputs
from urbandrive.planning.scoring.terms import score_horizon

pytestmark = pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba is not installed")


@pytest.mark.parametrize("name", list(_scenes()))
def test_compiled_kernels_score_and_select_like_numpy(name: str) -> None:
    scenario = _scenes()[name]
    observation = observation_now(scenario)
    planner = UrbanPlanner(scenario, predictor=PerturbedConstantVelocity())
    compiled = planner.cycle(observation)
    with kernels.numpy_reference():
        reference = planner.cycle(observation)
    # The tracker's sin / cos / tan may round differently from numpy's: float tolerance.
    close = {"rtol": 0, "atol": 1e-9}
    np.testing.assert_allclose(compiled.candidates.states, reference.candidates.states, **close)
    np.testing.assert_allclose(
        compiled.scoring.table.values, reference.scoring.table.values, **close
    )
    for term, values in reference.scoring.per_mode.items():
        np.testing.assert_allclose(compiled.scoring.per_mode[term], values, **close)
    np.testing.assert_allclose(
        compiled.scoring.time_to_at_fault_collision_s,
        reference.scoring.time_to_at_fault_collision_s,
        **close,
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


def _references(seed: int) -> tuple[np.ndarray, Trajectory]:
    """A batch of 7 wiggly references with stops and standstills, and a start off them."""
    rng = np.random.default_rng(seed)
    times = 0.1 * np.arange(81)
    speed = np.clip(rng.uniform(0, 15, (7, 1)) + np.cumsum(rng.normal(0, 0.4, (7, 81)), 1), 0, 20)
    speed[0] = 0.0  # at rest throughout
    speed[1, 40:] = 0.0  # stops
    heading = np.cumsum(rng.normal(0, 0.03, (7, 81)), 1) + rng.uniform(-3.1, 3.1, (7, 1))
    step = speed[..., None] * 0.1 * np.stack([np.cos(heading), np.sin(heading)], -1)
    xy = rng.uniform(-50, 50, (7, 1, 2)) + np.cumsum(step, 1)
    reference = Trajectory(times_s=times, xy=xy, heading=heading, speed_mps=speed)
    start = make_state(
        xy[:, 0] + rng.normal(0, 0.5, (7, 2)), heading[:, 0] + rng.normal(0, 0.1, 7),
        speed[:, 0] + rng.uniform(0, 2, 7), rng.uniform(-0.2, 0.2, 7), rng.normal(0, 1, 7),
    )  # fmt: skip
    return start, reference


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dt_s", [0.1, 0.2])
def test_compiled_tracker_rolls_out_like_the_numpy_tracker(seed: int, dt_s: float) -> None:
    start, reference = _references(seed)
    num_steps = round(8.0 / dt_s)
    config = TrackerConfig()
    compiled = track_compiled(config, start, reference, dt_s, num_steps)
    expected = TrajectoryTracker(config).track(start, reference, dt_s, num_steps)
    np.testing.assert_allclose(compiled.times_s, expected.times_s, rtol=0, atol=1e-12)
    np.testing.assert_allclose(compiled.states, expected.states, rtol=0, atol=1e-9)
    np.testing.assert_allclose(compiled.commands, expected.commands, rtol=0, atol=1e-9)
    one = track_compiled(config, start[2], reference, dt_s, num_steps)  # one start, P references
    np.testing.assert_allclose(
        one.states, TrajectoryTracker(config).track(start[2], reference, dt_s, num_steps).states,
        rtol=0, atol=1e-9,
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("with_accel", [False, True])
@pytest.mark.parametrize("spacing", ["uniform", "arange", "uneven"])
def test_compiled_reference_table_equals_numpy_bit_for_bit(
    seed: int, with_accel: bool, spacing: str
) -> None:
    """`_reference_table` (what the tracker kernel reads: `with_derivatives().at(query)`) by
    `sample_reference` equals its numpy path: headings crossing +-pi, rows at rest (curvature
    held, or 0 for a row never moving), evenly and unevenly spaced times (np.gradient's two
    formulas), queries between, on and beyond the samples."""
    _, reference = _references(seed)
    times = {
        "uniform": np.arange(81) * 0.125,
        "arange": reference.times_s,
        "uneven": np.cumsum(np.r_[0.0, np.random.default_rng(seed).uniform(0.05, 0.15, 80)]),
    }[spacing]
    accel = np.random.default_rng(seed).normal(0.0, 1.0, reference.speed_mps.shape)
    reference = Trajectory(
        times_s=times, xy=reference.xy, heading=np.angle(np.exp(1j * 3.0 * reference.heading)),
        speed_mps=reference.speed_mps, accel_mps2=accel if with_accel else None,
    )  # fmt: skip
    query = np.r_[-0.3, times[[0, 5, -1]], 0.2 * np.arange(40) + 0.01, times[-1] + 1.0]
    found = _reference_table(reference, query, 2.9)
    with kernels.numpy_reference():
        expected = _reference_table(reference, query, 2.9)
    np.testing.assert_array_equal(found, expected)
    assert np.any(reference.speed_mps < 0.5)  # the held curvature is exercised
    # each query is sampled on its own: a query's row is the same floats in any query set
    # (`track_compiled` samples the step starts' and ends' shared times once)
    shuffled = np.random.default_rng(seed).permutation(query.size)
    np.testing.assert_array_equal(_reference_table(reference, query[shuffled], 2.9),
                                  found[:, shuffled])  # fmt: skip
    np.testing.assert_array_equal(_reference_table(reference, query[5:9], 2.9), found[:, 5:9])


@pytest.mark.parametrize("seed", range(3))
def test_compiled_centred_states_equal_numpy_bit_for_bit(seed: int) -> None:
    """`centred_states` by `pack_centred`: the box-centre shift and the packing of numpy's
    `rear_axle_to_center` + `pack_states` (headings across +-pi, a NaN state)."""
    rng = np.random.default_rng(seed)
    states = rng.normal(0.0, 20.0, (7, 41, 6))
    states[..., 2] = rng.uniform(-4.0, 4.0, (7, 41))
    states[3, 5] = np.nan
    s_m, d_m = rng.normal(size=(2, 7, 41))
    vehicle = TrackerConfig().vehicle
    found = centred_states(states, s_m, d_m, vehicle)
    with kernels.numpy_reference():
        expected = centred_states(states, s_m, d_m, vehicle)
    assert found.shape == expected.shape == (7, 41, 7)
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("seed", range(3))
def test_compiled_state_resampling_equals_numpy_bit_for_bit(seed: int) -> None:
    """`_resample_states` by `resample_rows`: the unwrapped, interpolated, re-wrapped states
    of numpy's path."""
    rng = np.random.default_rng(seed)
    states = rng.normal(0.0, 5.0, (6, 41, 6))
    states[..., 2] = np.angle(np.exp(1j * np.cumsum(rng.normal(0.0, 0.5, (6, 41)), -1)))
    source, target = 0.2 * np.arange(41), 0.1 * np.arange(81)
    found = _resample_states(states, source, target)
    with kernels.numpy_reference():
        expected = _resample_states(states, source, target)
    np.testing.assert_array_equal(found, expected)


def test_compiled_gain_lookup_equals_np_interp_bit_for_bit() -> None:
    """The tracker kernel's gain lookup (`_interp_columns`) is np.interp's per column: on the
    LQR gain table at random, grid, end and outside speeds and NaN, and on a table with
    infinities (np.interp's retry from the upper point)."""
    config = TrackerConfig()
    speeds, gains = gain_table(config.lateral, config.vehicle.wheelbase_m, 0.2)
    rng = np.random.default_rng(0)
    queries = np.r_[rng.uniform(-1.0, 45.0, 500), speeds, speeds[[0, -1]] + [-1e-12, 1e-12]]
    odd_speeds = np.array([0.0, 1.0, 2.0, 3.0])
    odd = np.array([[0.0, 1.0, np.inf], [np.inf, 2.0, np.inf], [np.inf, -3.0, 1.0], [1, 4, 2]])
    out = np.empty(3)
    for xp, fp in ((speeds, gains), (odd_speeds, odd)):
        for x in np.r_[queries, np.nan, np.inf, -np.inf, 0.5, 1.5, 2.5]:
            _interp_columns(float(x), xp, fp, out)
            expected = [np.interp(x, xp, fp[:, c]) for c in range(3)]
            np.testing.assert_array_equal(out, expected)


def test_compiled_tracker_rejects_a_non_finite_reference_like_the_numpy_tracker() -> None:
    start, reference = _references(0)
    with pytest.raises(DataError):
        track_compiled(TrackerConfig(), start[:1] * np.nan, reference, 0.1, 10)


@pytest.mark.parametrize("name", ["busy", "stopped_car", "wall"])
def test_compiled_idm_profiles_equal_numpy(name: str) -> None:
    scenario = _scenes()[name]
    observation = observation_now(scenario)
    planner = UrbanPlanner(scenario, predictor=PerturbedConstantVelocity())
    context = planner.context(observation, planner.predictor.predict(observation))
    config = planner.config.pdm
    offsets, _ = path_offsets(context, config)
    offset = np.repeat(offsets, len(config.speed_fractions))
    target = np.tile(np.asarray(config.speed_fractions), offsets.size)
    obstacles = path_obstacles(context, config.obstacles)
    compiled = idm_profiles(context, obstacles, offset, target, config)
    with kernels.numpy_reference():
        expected = idm_profiles(context, obstacles, offset, target, config)
    for found, values in zip(compiled, expected, strict=True):
        # the compiled power / rounding may differ by an ulp (2.5454568022367480 vs ...83
        # once the 3 m/s^2 braking clip is hit), carried along the rollout
        np.testing.assert_allclose(found, values, rtol=1e-12, atol=1e-12)
    # the kernel lists each step's obstacles once per run of paths with one offset: paths in
    # another order (offsets interleaved, no runs) give each path the same floats
    order = np.random.default_rng(0).permutation(offset.size)
    shuffled = idm_profiles(context, obstacles, offset[order], target[order], config)
    for found, values in zip(shuffled, compiled, strict=True):
        np.testing.assert_array_equal(found, values[order])


@pytest.mark.parametrize("name", ["crossing", "crosswalk_ahead", "busy", "busy_seed_3"])
@pytest.mark.parametrize("min_mode_probability", [0.0, 0.17])
def test_compiled_path_obstacles_and_crosswalks_equal_numpy(
    name: str, min_mode_probability: float
) -> None:
    """`path_obstacles` (`pack_obstacles`) and `occupied_crosswalks` (`crosswalks_occupied`)
    with the kernels on and off: the same arrays, every mode kept or some left out, a
    crosswalk occupied or not (a pedestrian 20 m before it: occupied with a 40 m margin)."""
    scenes = _scenes()
    scenes["crosswalk_ahead"] = scene(
        others=[(50.0, -2.5, 0.0, 0.5, AgentType.PEDESTRIAN)], crosswalk_at_m=70.0
    )
    observation = observation_now(scenes[name])
    planner = UrbanPlanner(scenes[name], predictor=PerturbedConstantVelocity())
    context = planner.context(observation, planner.predictor.predict(observation))
    assert (context.agents.mode_probs < 0.17).any() and (context.agents.mode_probs >= 0.17).any()
    occupied = []
    for margin_m in (1.5, 40.0):
        config = ObstacleConfig(
            min_mode_probability=min_mode_probability, crosswalk_margin_m=margin_m
        )
        found = path_obstacles(context, config), occupied_crosswalks(context, config)
        with kernels.numpy_reference():
            expected = path_obstacles(context, config), occupied_crosswalks(context, config)
        for field in ("rear_s_m", "center_s_m", "d_m", "half_width_m", "speed_mps", "valid"):
            value, reference = getattr(found[0], field), getattr(expected[0], field)
            assert value.dtype == reference.dtype
            np.testing.assert_array_equal(value, reference)
        np.testing.assert_array_equal(found[1], expected[1])
        occupied.append(expected[1])
    if name == "crosswalk_ahead":
        assert not occupied[0].any() and occupied[1].all()


@pytest.mark.parametrize("seed", range(8))
def test_idm_candidate_obstacles_keep_every_paths_nearest(seed: int) -> None:
    """`_nearest_candidates` (the IDM kernel's short list per run of paths with one offset)
    keeps each path's nearest obstacle ahead and its gap exactly as a scan of all of them
    (`_nearest_gaps`): rears tied exactly (an agent's identical modes) or 1 ulp apart (equal
    gaps once rounded, from far behind), obstacles behind, beside and between the paths,
    invalid ones."""
    rng = np.random.default_rng(seed)
    num_obstacles, half_length = 300, 2.4
    rear = rng.choice(rng.uniform(5.0, 60.0, 12), num_obstacles)
    rear[::3] = np.nextafter(rear[::3], np.inf)
    rear[::7] = np.nextafter(rear[::7], -np.inf)  # far behind, these round to equal gaps
    center = rear + rng.uniform(0.5, 3.0, num_obstacles)
    offsets = np.repeat([-1.0, 0.0, 3.5, 0.5], 5)
    s_m = np.r_[rng.uniform(0.0, 40.0, 15), rng.uniform(-3000.0, -1000.0, 5)]
    if seed == 0:  # an infinite rear, a path at NaN: nothing assumed
        rear[[3, 11]], s_m[16] = -np.inf, np.nan
    obstacles = PathObstacles(
        rear_s_m=rear[:, None], center_s_m=center[:, None],
        d_m=rng.uniform(-5.0, 5.0, (num_obstacles, 1)), half_width_m=rng.uniform(0.3, 1.2, num_obstacles),
        speed_mps=np.zeros((num_obstacles, 1)), valid=rng.uniform(size=(num_obstacles, 1)) < 0.9,
    )  # fmt: skip
    reach = obstacles.half_width_m + 1.5
    blocking = obstacles.blocking(offsets, 1.0, 0.5)
    expected_gap, expected_nearest = _nearest_gaps(blocking)(obstacles, s_m, half_length, 0)
    sure, unsure, listed = (np.empty(num_obstacles, np.int64) for _ in range(3))
    for first in range(0, offsets.size, 5):
        count = _nearest_candidates(
            s_m, first, offsets, reach, obstacles.valid[:, 0], obstacles.d_m[:, 0],
            center, rear, half_length, sure, unsure, listed,
        )  # fmt: skip
        assert 0 < count <= blocking[first, :, 0].sum()  # a short list, not empty
        assert count < blocking[first, :, 0].sum() or seed == 0  # all kept if non-finite
        for p in range(first, first + 5):
            ahead = [o for o in listed[:count] if center[o] > s_m[p]]
            gaps = [rear[o] - s_m[p] - half_length for o in ahead] or [np.inf]
            assert gaps[int(np.argmin(gaps))] == expected_gap[p]
            assert (ahead or [0])[int(np.argmin(gaps))] == expected_nearest[p]


@pytest.mark.parametrize("name", ["busy", "crossing", "busy_seed_3"])
def test_compiled_scoring_pairs_equal_numpy(name: str) -> None:
    scenario = _scenes()[name]
    planner, cycle = planned_now(scenario)
    context, candidates = cycle.context, cycle.candidates
    inputs = scoring_inputs(context, candidates, planner.scorer.config)
    ego, agents = inputs.ego, inputs.agents

    rows = shared_rows(agents).rows  # one mode: the scorer's rows (compiled boxes)
    rows = AgentStates(rows.xy[None], rows.heading[None], rows.velocity[None], rows.size_m,
                       rows.types, rows.valid[None])  # fmt: skip

    def both() -> tuple[tuple[np.ndarray, ...], ...]:
        return (
            contact_pairs(ego, agents, 1.5),
            projection_pairs(ego, agents, (0.0, 1.1), 5),
            projection_pairs(ego, rows, (0.1, 1.0), 5),
        )

    compiled = both()
    again = both()  # with the output size hint of the first call
    with kernels.numpy_reference():
        reference = both()
    for found in (compiled, again):
        for pairs, expected in zip(found, reference, strict=True):
            for axis, values in zip(pairs, expected, strict=True):
                np.testing.assert_array_equal(axis, values)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("compiled", [True, False])
def test_pair_finder_with_centres_within_keeps_exactly_the_points_within_the_margin(
    seed: int, compiled: bool
) -> None:
    rng = np.random.default_rng(seed)
    ego_xy = rng.uniform(0, 40, (11, 13, 2))
    agent_xy = rng.uniform(0, 40, (2, 5, 13, 2))
    valid = rng.random((5, 13)) < 0.8
    margin = rng.uniform(0, 9, 5)
    ego, agents = StepBoxes.of_points(ego_xy), StepBoxes.of_points(agent_xy, valid)
    found = np.zeros((11, 2, 5, 13), bool)
    with contextlib.ExitStack() as stack:
        if not compiled:
            stack.enter_context(kernels.numpy_reference())
        pairs = interacting_pairs(ego, agents, margin, 3, 4, centres_within=True)
    found[pairs] = True
    gap = agent_xy[None] - ego_xy[:, None, None]
    limit = (margin + SLACK_M)[None, None, :, None]
    expected = (gap[..., 0] * gap[..., 0] + gap[..., 1] * gap[..., 1] <= limit * limit) & valid
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_lattice_feasibility_equals_numpy(seed: int) -> None:
    """`feasible_rows`: numpy's unwrapped yaw rate bit for bit (headings crossing +-pi,
    steps near pi) and so the same feasible rows as `is_feasible`'s numpy path."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0.0, 0.02, (300, 41)), axis=-1) + rng.uniform(-4, 4, (300, 1))
    heading = np.angle(np.exp(1j * heading))  # wrapped: jumps of ~2 pi to undo
    heading[:5, 7] += np.pi  # steps of about pi: the unwrap's boundary
    speed = rng.uniform(0.0, 15.0, heading.shape)
    accel = np.cumsum(rng.normal(0.0, 0.1, heading.shape), axis=-1)
    config = LatticeConfig()
    yaw_rate = np.empty(heading.shape)
    limits = np.array(
        [
            config.max_curvature_1pm, config.max_lateral_accel_mps2, config.max_accel_mps2,
            config.max_decel_mps2, config.max_jerk_mps3,
        ]
    )  # fmt: skip
    found = feasible_rows(heading, speed, accel, 0.1, limits, yaw_rate)
    np.testing.assert_array_equal(yaw_rate, np.gradient(np.unwrap(heading, axis=-1), 0.1, axis=-1))
    with kernels.numpy_reference():
        expected = is_feasible(heading, speed, accel, 0.1, config)
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(is_feasible(heading, speed, accel, 0.1, config), expected)
    assert 0 < expected.sum() < expected.size  # both answers occur


@pytest.mark.parametrize("name", ["busy", "crossing", "busy_seed_3"])
@pytest.mark.parametrize("stride", [1, 5])
def test_projection_search_scores_ttc_like_the_pairs_it_finds(name: str, stride: int) -> None:
    # the scorer's TTC tests each projection pair as the search finds it: the same TTC as
    # the compiled kernel on the pairs projection_pairs returns, bit for bit
    scenario = _scenes()[name]
    planner, cycle = planned_now(scenario)
    config = planner.scorer.config
    inputs = scoring_inputs(cycle.context, cycle.candidates, config)
    shared = shared_rows(inputs.agents)
    rows = shared.rows
    ego = row_terms.buffered_ego(inputs)
    agents = AgentStates(rows.xy[None], rows.heading[None], rows.velocity[None], rows.size_m,
                         rows.types, rows.valid[None])  # fmt: skip
    contact, first = contacts_on_rows(ego, rows, config.required_vru_clearance_m)
    collisions = row_terms.at_fault_collisions(inputs, shared, config.collision, contact, first)
    window = _projection_window(score_horizon(config.time_to_collision))
    decided = shared.all_modes(collisions.at_fault_step[..., ::stride].any(-1))
    candidate, _, row, step = projection_pairs(ego, agents, window, stride, decided[:, None])
    ttc = config.time_to_collision
    on_pairs = row_terms.time_to_collision(
        inputs, shared, collisions, ttc, stride, (candidate, row, step)
    )
    searched = row_terms.time_to_collision(
        inputs, shared, collisions, ttc, stride, projection_search(ego, rows, window, stride)
    )
    np.testing.assert_array_equal(searched, on_pairs)
    # the strided boxes cut from the cycle's
    boxes = row_terms.boxes_at_steps(row_terms.row_boxes(inputs, shared), stride)
    searched_on_cuts = row_terms.time_to_collision(
        inputs, shared, collisions, ttc, stride,
        projection_search(ego, rows, window, stride, boxes), boxes=boxes,
    )  # fmt: skip
    np.testing.assert_array_equal(searched_on_cuts, on_pairs)
    assert np.any(on_pairs < 1.0) or name != "busy"  # the busy scene has TTCs to find


@pytest.mark.parametrize("name", ["busy", "crossing", "busy_seed_3"])
def test_copies_of_a_candidate_are_scored_once_and_alike(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # copies (the same states bit for bit) are scored once: the same table, terms and
    # collision times bit for bit as scoring every candidate
    scenario = _scenes()[name]
    planner, cycle = planned_now(scenario)
    candidates, context = cycle.candidates, cycle.context
    pick = np.r_[np.arange(candidates.num_candidates), [0, 3, 3, candidates.num_candidates - 1]]
    copies = Candidates(candidates.times_s, candidates.states[pick], candidates.kind[pick],
                        tuple(candidates.labels[i] for i in pick))  # fmt: skip
    keep, inverse = scorer_module.distinct_candidates(copies.states)
    np.testing.assert_array_equal(copies.states[keep][inverse], copies.states)
    once = planner.scorer.score(context, copies)
    monkeypatch.setattr(scorer_module, "distinct_candidates", lambda states: None)
    every = planner.scorer.score(context, copies)
    np.testing.assert_array_equal(once.table.values, every.table.values)
    np.testing.assert_array_equal(once.time_to_at_fault_collision_s,
                                  every.time_to_at_fault_collision_s)  # fmt: skip
    for term, values in every.per_mode.items():
        np.testing.assert_array_equal(once.per_mode[term], values)


def test_distinct_candidates_by_the_bits() -> None:
    rng = np.random.default_rng(3)
    states = rng.normal(size=(9, 5, 7))
    states[4] = states[1]
    states[7] = states[1]
    states[8] = states[2]
    states[8, 0, 0] = -0.0 if states[2, 0, 0] == 0.0 else np.nextafter(states[2, 0, 0], 9.0)
    states[6] = states[0]
    states[6, 2, 3], states[6, 2, 4] = states[0, 2, 4], states[0, 2, 3]  # the same bit sum
    for backend in (contextlib.nullcontext(), kernels.numpy_reference()):
        with backend:
            keep, inverse = scorer_module.distinct_candidates(states)
            np.testing.assert_array_equal(keep, [0, 1, 2, 3, 5, 6, 8])
            np.testing.assert_array_equal(keep[inverse], [0, 1, 2, 3, 1, 5, 6, 1, 8])
            assert scorer_module.distinct_candidates(states[keep]) is None
