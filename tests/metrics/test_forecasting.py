"""Forecasting metrics: hand cases, properties, and a golden check against av2's metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.geometry.boxes import boxes_overlap
from urbandrive.metrics.forecasting import (
    expected_calibration_error,
    joint_metrics,
    laplace_mixture_nll,
    marginal_metrics,
    mode_errors,
    mode_probability_nll,
    overlap_rate,
    overlaps_with_others,
    world_overlaps,
)


def _straight(length: int = 5) -> np.ndarray:
    return np.stack([np.arange(1.0, length + 1), np.zeros(length)], -1)


def test_hand_computed_marginal_metrics() -> None:
    gt = _straight()[None]  # [A=1, H=5, 2]
    pred = np.stack([gt[0] + [0.0, 1.0], gt[0] + [0.0, 3.0]])[None]  # [1, K=2, 5, 2]
    probs = np.array([[0.3, 0.7]])
    top_two = marginal_metrics(pred, probs, gt, top_k=2)
    assert top_two.min_ade_m.tolist() == [1.0]
    assert top_two.min_fde_m.tolist() == [1.0]
    assert top_two.brier_min_fde_m[0] == pytest.approx(1.0 + 0.7**2)
    assert top_two.best_mode.tolist() == [0]
    assert not top_two.missed[0]
    most_probable = marginal_metrics(pred, probs, gt, top_k=1)
    assert most_probable.min_fde_m.tolist() == [3.0]
    assert most_probable.missed[0]


def test_invalid_steps_are_excluded_and_fde_is_at_the_last_valid_step() -> None:
    gt = _straight()[None]
    pred = (gt[0] + np.array([[0, 1], [0, 1], [0, 1], [0, 9], [0, 9]]))[None, None]
    valid = np.array([[True, True, True, False, False]])
    errors = mode_errors(pred, gt, valid)
    assert errors.ade_m.tolist() == [[1.0]]
    assert errors.fde_m.tolist() == [[1.0]]
    none_valid = mode_errors(pred, gt, np.zeros((1, 5), bool))
    assert np.isnan(none_valid.ade_m).all() and not none_valid.scored.any()


def test_joint_metrics_pick_the_best_world() -> None:
    gt = np.stack([_straight(), _straight() + [0.0, 5.0]])  # two agents
    good, bad = gt + [0.0, 0.5], gt + [0.0, 3.0]
    mixed = np.stack([gt[0] + [0.0, 0.0], gt[1] + [0.0, 4.0]])
    pred = np.stack([bad, good, mixed], axis=1)  # [A=2, K=3, H, 2]
    probs = np.array([0.2, 0.5, 0.3])
    result = joint_metrics(pred, probs, gt)
    assert result.best_world.tolist() == 1
    assert result.min_fde_m == pytest.approx(0.5)
    assert result.brier_min_fde_m == pytest.approx(0.5 + 0.25)
    assert result.actor_miss_rate == 0.0
    np.testing.assert_allclose(result.world_fde_m, [3.0, 0.5, 2.0])
    assert mode_probability_nll(probs, result.best_world) == pytest.approx(-np.log(0.5))


def test_world_overlaps_radius_and_boxes() -> None:
    first = _straight()
    pred = np.stack([first, first + [0.0, 0.8], first + [0.0, 10.0]])[:, None]  # [A=3, K=1, H, 2]
    overlaps = world_overlaps(pred)
    assert overlaps[:, 0].tolist() == [True, True, False]
    np.testing.assert_allclose(overlap_rate(overlaps), [2 / 3])
    heading = np.zeros((3, 1, 5))
    size = np.array([[4.0, 0.5], [4.0, 0.5], [4.0, 0.5]])
    assert world_overlaps(pred, heading=heading, size_m=size)[:, 0].tolist() == [
        False,
        False,
        False,
    ]
    masked = world_overlaps(pred, agent_mask=np.array([True, False, True]))
    assert masked[:, 0].tolist() == [False, False, False]


def test_world_overlaps_of_boxes_need_a_positive_area() -> None:
    # Three 2 m squares, still for 3 steps: a and b touch at the corner (1, 1), b and c share
    # the edge x = 3, then at step 2 c slides 0.1 m into b (area 0.1 x 2 > 0).
    xy = np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 2.0]])[:, None, None].repeat(3, 2)
    xy[2, 0, 2] = [3.9, 2.0]
    heading, size = np.zeros((3, 1, 3)), np.full((3, 2), 2.0)
    overlaps = world_overlaps(xy, heading=heading, size_m=size)[:, 0]
    assert overlaps.tolist() == [False, True, True]
    xy[2, 0, 2] = [4.0, 2.0]
    assert not world_overlaps(xy, heading=heading, size_m=size).any()
    # Turned 45 degrees, a is the diamond |x| + |y| <= sqrt 2: b's corner (0.2, 0.2) is in.
    heading[0] = np.pi / 4
    xy[1, 0] = [1.2, 1.2]
    assert world_overlaps(xy, heading=heading, size_m=size)[:, 0].tolist() == [True, True, False]


def test_world_overlaps_of_boxes_equal_the_pairwise_box_test() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(-12, 12, (7, 2, 5, 2))  # [A, K, H, 2]
    heading, size = rng.uniform(-np.pi, np.pi, (7, 2, 5)), rng.uniform(0.3, 4.0, (7, 2))
    got = world_overlaps(xy, heading=heading, size_m=size)
    expected = np.zeros((7, 2), bool)
    for a, b, k, t in np.ndindex(7, 7, 2, 5):
        if a != b and boxes_overlap(
            xy[a, k, t], heading[a, k, t], size[a], xy[b, k, t], heading[b, k, t], size[b]
        ):
            expected[a, k] = True  # no exact touching with random reals
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(got, expected)


def test_boxes_need_sizes_and_headings() -> None:
    xy = np.zeros((2, 1, 3, 2))
    size = np.array([[4.0, 2.0], [np.nan, np.nan]])
    with pytest.raises(ValueError, match="agent 1 has size"):
        world_overlaps(xy, heading=np.zeros((2, 1, 3)), size_m=size)
    with pytest.raises(ValueError, match="both heading and size_m"):
        world_overlaps(xy, size_m=np.ones((2, 2)))


def test_overlaps_with_others_at_valid_steps_only() -> None:
    # Agent 0 moves along x through the true boxes of two others (1 m squares at x = 2 and x
    # = 4); the one at x = 4 is valid at step 0 only, when agent 0 is still at x = 0.
    xy = np.array([[[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]]])
    others = np.array([[[2.0, 0.0]] * 3, [[4.0, 0.0]] * 3])
    args = (xy, np.zeros((1, 3)), np.ones((1, 2)), others, np.zeros((2, 3)), np.ones((2, 2)))
    valid = np.array([[True, True, True], [True, False, False]])
    never = np.zeros((1, 2), bool)
    assert overlaps_with_others(*args, valid, never).tolist() == [True]
    assert not overlaps_with_others(*args, valid, np.array([[True, False]])).any()  # itself
    own = np.array([[True, False, False]])
    assert not overlaps_with_others(*args, valid, never, own).any()


def test_laplace_mixture_nll_of_one_mode_by_hand() -> None:
    gt = np.zeros((1, 1, 2))
    pred = np.ones((1, 1, 1, 2))
    scale = np.full((1, 1, 1, 2), 0.5)
    expected = 2 * (np.log(2 * 0.5) + 1.0 / 0.5)
    assert laplace_mixture_nll(pred, scale, np.array([1.0]), gt) == pytest.approx(expected)
    marginal = laplace_mixture_nll(pred, scale, np.array([[1.0]]), gt, joint=False)
    np.testing.assert_allclose(marginal, [expected])


def test_expected_calibration_error() -> None:
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    best = np.array([0, 1, 0, 0])
    # bins: 0.9 (n=2, accuracy 0.5), 0.6 (n=2, accuracy 1.0)
    assert expected_calibration_error(probs, best) == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    assert expected_calibration_error(np.array([[1.0, 0.0]]), np.array([0])) == 0.0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 4), st.integers(6, 8))
def test_min_ade_is_at_most_every_mode_and_k6_beats_k1(
    seed: int, num_agents: int, num_modes: int
) -> None:
    rng = np.random.default_rng(seed)
    pred = rng.normal(0, 3, (num_agents, num_modes, 10, 2))
    gt = rng.normal(0, 3, (num_agents, 10, 2))
    probs = rng.dirichlet(np.ones(num_modes), num_agents)
    valid = rng.random((num_agents, 10)) < 0.8
    six, one = (
        marginal_metrics(pred, probs, gt, valid, 6),
        marginal_metrics(pred, probs, gt, valid, 1),
    )
    errors = mode_errors(pred, gt, valid)
    scored = errors.scored
    assert np.all(
        six.min_ade_m[scored, None]
        <= np.take_along_axis(errors.ade_m, np.argsort(-probs, -1)[:, :6], -1)[scored]
    )
    assert np.all(six.min_ade_m[scored] <= one.min_ade_m[scored])
    assert np.all(six.min_fde_m[scored] <= one.min_fde_m[scored])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(-100, 100), st.floats(-np.pi, np.pi))
def test_metrics_are_invariant_to_moving_the_scene(seed: int, shift: float, angle: float) -> None:
    rng = np.random.default_rng(seed)
    pred, gt = rng.normal(0, 3, (3, 6, 8, 2)), rng.normal(0, 3, (3, 8, 2))
    probs = rng.dirichlet(np.ones(6))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    before = joint_metrics(pred, probs, gt)
    after = joint_metrics(pred @ rotation.T + shift, probs, gt @ rotation.T + shift)
    np.testing.assert_allclose(before.world_ade_m, after.world_ade_m, atol=1e-9)
    np.testing.assert_allclose(before.min_fde_m, after.min_fde_m, atol=1e-9)


def test_batched_scenes_match_one_by_one() -> None:
    rng = np.random.default_rng(1)
    pred, gt = rng.normal(0, 3, (4, 3, 6, 8, 2)), rng.normal(0, 3, (4, 3, 8, 2))
    probs = rng.dirichlet(np.ones(6), 4)
    batched = joint_metrics(pred, probs, gt)
    for scene in range(4):
        single = joint_metrics(pred[scene], probs[scene], gt[scene])
        assert batched.min_ade_m[scene] == pytest.approx(single.min_ade_m)
        assert batched.best_world[scene] == single.best_world


def test_golden_against_av2() -> None:
    av2_metrics = pytest.importorskip(
        "av2.datasets.motion_forecasting.eval.metrics",
        reason="optional: .venv/bin/pip install -c constraints.txt av2",
    )
    rng = np.random.default_rng(7)
    num_agents, num_modes, horizon = 5, 6, 60
    pred = rng.normal(0, 5, (num_agents, num_modes, horizon, 2)).cumsum(-2)
    gt = rng.normal(0, 5, (num_agents, horizon, 2)).cumsum(-2)
    probs = rng.dirichlet(np.ones(num_modes), num_agents)
    ours = marginal_metrics(pred, probs, gt, top_k=num_modes)
    for agent in range(num_agents):
        ade = av2_metrics.compute_ade(pred[agent], gt[agent])
        fde = av2_metrics.compute_fde(pred[agent], gt[agent])
        brier = av2_metrics.compute_brier_fde(pred[agent], gt[agent], probs[agent])
        missed = av2_metrics.compute_is_missed_prediction(pred[agent], gt[agent])
        best = int(np.argmin(fde))
        assert ours.min_ade_m[agent] == pytest.approx(ade.min())
        assert ours.ade_of_min_fde_mode_m[agent] == pytest.approx(ade[best])
        assert ours.min_fde_m[agent] == pytest.approx(fde.min())
        assert ours.brier_min_fde_m[agent] == pytest.approx(brier[best])
        assert ours.missed[agent] == missed[best]
    world_probs = rng.dirichlet(np.ones(num_modes))
    joint = joint_metrics(pred, world_probs, gt)
    np.testing.assert_allclose(joint.world_ade_m, av2_metrics.compute_world_ade(pred, gt))
    np.testing.assert_allclose(joint.world_fde_m, av2_metrics.compute_world_fde(pred, gt))
    world_brier = av2_metrics.compute_world_brier_fde(pred, gt, world_probs)
    assert joint.brier_min_fde_m == pytest.approx(world_brier[joint.best_world])
    misses = av2_metrics.compute_world_misses(pred, gt)
    assert joint.actor_miss_rate == pytest.approx(misses[:, joint.best_world].mean())
    close = pred[:, :, ::10] * 0.02  # crowd the agents so that some worlds collide
    np.testing.assert_array_equal(
        world_overlaps(close), av2_metrics.compute_world_collisions(close)
    )
