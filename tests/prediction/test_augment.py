"""Training augmentations: hand-computed cases and round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from urbandrive.core import AgentType
from urbandrive.maps.vectorize import NUM_MAP_FEATURES
from urbandrive.prediction.augment import (
    AugmentConfig,
    derive_motion,
    jitter_history,
    make_augment,
    mirror_scene,
    reverse_scene,
    scale_scene,
)
from urbandrive.prediction.features import SceneTensors, collate
from urbandrive.prediction.losses import LossConfig, total_loss
from urbandrive.prediction.model import JointPredictionModel, ModelConfig
from urbandrive.prediction.training import targets_in_agent_frames

DT = 0.5
T, H = 3, 4


def walkers() -> SceneTensors:
    """Agent 0 walks +x at 2 m/s over all T + H steps; agent 1 stands at (0, 3) from the
    last history step on, its future valid for 2 steps only."""
    t = np.arange(T + H) * DT
    a0 = np.stack([2.0 * t - 2.0, np.zeros_like(t)], -1)
    a1 = np.tile([0.0, 3.0], (T + H, 1))
    xy = np.stack([a0, a1]).astype(np.float32)
    valid = np.ones((2, T + H), bool)
    valid[1, : T - 1] = False
    valid[1, T + 2 :] = False
    xy = np.where(valid[..., None], xy, 0.0).astype(np.float32)
    velocity = np.zeros((2, T, 2), np.float32)
    velocity[0, :, 0] = 2.0
    return SceneTensors(
        origin_xy=np.zeros(2),
        origin_heading=0.0,
        agent_rows=np.array([0, 1]),
        xy=xy[:, :T],
        heading=np.zeros((2, T), np.float32),
        velocity=velocity,
        valid=valid[:, :T],
        types=np.full(2, int(AgentType.PEDESTRIAN)),
        confidence=np.ones(2, np.float32),
        map_points=np.zeros((0, 20, 2), np.float32),
        map_point_valid=np.zeros((0, 20), bool),
        map_features=np.zeros((0, NUM_MAP_FEATURES), np.float32),
        map_valid=np.zeros(0, bool),
        future_xy=xy[:, T:],
        future_valid=valid[:, T:],
    )


def test_scale_multiplies_lengths_and_keeps_headings() -> None:
    scene = walkers()
    scaled = scale_scene(scene, 1.5)
    np.testing.assert_allclose(scaled.xy, 1.5 * scene.xy)
    np.testing.assert_allclose(scaled.velocity[0, -1], [3.0, 0.0])
    np.testing.assert_allclose(scaled.future_xy, 1.5 * scene.future_xy)
    np.testing.assert_array_equal(scaled.heading, scene.heading)
    back = scale_scene(scaled, 1 / 1.5)
    np.testing.assert_allclose(back.xy, scene.xy, atol=1e-6)
    with pytest.raises(ValueError, match="> 0"):
        scale_scene(scene, 0.0)


def test_mirror_negates_y_and_headings_and_is_an_involution() -> None:
    scene = walkers()
    mirrored = mirror_scene(scene)
    np.testing.assert_allclose(mirrored.xy[1, -1], [0.0, -3.0])
    np.testing.assert_allclose(mirrored.future_xy[1, 0], [0.0, -3.0])
    twice = mirror_scene(mirrored)
    for name in ("xy", "heading", "velocity", "future_xy"):
        np.testing.assert_array_equal(getattr(twice, name), getattr(scene, name))


def test_derive_motion_by_hand() -> None:
    # (0,0) (1,0) (1,0) (1,1) at 0.5 s, an invalid step, then (5,5) alone.
    xy = np.array([[[0, 0], [1, 0], [1, 0], [1, 1], [0, 0], [5, 5]]], float)
    valid = np.array([[True, True, True, True, False, True]])
    velocity, heading = derive_motion(xy, valid, np.full((1, 6), 0.3), 0.5)
    np.testing.assert_allclose(
        velocity[0], [[2, 0], [2, 0], [0, 0], [0, 2], [0, 0], [0, 0]], atol=1e-6
    )
    # moving +x, +x, held, +y, invalid (0), isolated: the last heading held over the gap.
    np.testing.assert_allclose(heading[0], [0, 0, 0, np.pi / 2, 0, np.pi / 2], atol=1e-6)


def test_reverse_plays_the_window_backwards() -> None:
    scene = walkers()
    reversed_ = reverse_scene(scene, DT)
    assert reversed_ is not None
    # Old steps 6..0: the new now is old step 4, where both agents are seen.
    assert reversed_.num_agents == 2
    full = np.concatenate([scene.xy, scene.future_xy], 1)[0, ::-1]
    np.testing.assert_allclose(reversed_.xy[0], full[:T])
    np.testing.assert_allclose(reversed_.future_xy[0], full[T:])
    np.testing.assert_allclose(reversed_.velocity[0], np.tile([-2.0, 0.0], (T, 1)), atol=1e-5)
    np.testing.assert_allclose(np.abs(reversed_.heading[0]), np.pi, atol=1e-6)
    assert reversed_.valid[:, -1].all()
    twice = reverse_scene(reversed_, DT)
    assert twice is not None
    np.testing.assert_allclose(twice.xy[0], scene.xy[0], atol=1e-6)


def test_reverse_drops_agents_unseen_at_the_new_now() -> None:
    scene = walkers()
    assert scene.future_valid is not None
    scene.future_valid[1, 1] = False  # agent 1 unseen at old step 4, the new now
    reversed_ = reverse_scene(scene, DT)
    assert reversed_ is not None
    np.testing.assert_array_equal(reversed_.agent_rows, [0])
    scene.future_valid[0] = False  # nobody has a future: nothing to reverse
    assert reverse_scene(scene, DT) is None


def test_jitter_without_noise_keeps_positions_and_rederives_velocity() -> None:
    scene = walkers()
    jittered = jitter_history(scene, 0.0, np.random.default_rng(0), DT)
    np.testing.assert_array_equal(jittered.xy, scene.xy)
    np.testing.assert_allclose(jittered.velocity[0], scene.velocity[0], atol=1e-6)
    noisy = jitter_history(scene, 0.1, np.random.default_rng(0), DT)
    assert not np.allclose(noisy.xy[0], scene.xy[0])
    assert (noisy.xy[~scene.valid] == 0).all()
    np.testing.assert_array_equal(noisy.future_xy, scene.future_xy)


def test_make_augment_is_seeded_and_trains() -> None:
    assert make_augment(AugmentConfig(), DT) is None
    config = AugmentConfig((0.5, 2.0), 0.5, 0.5, 0.05)
    augment = make_augment(config, DT)
    assert augment is not None
    one = [augment(walkers(), np.random.default_rng(3)) for _ in range(2)]
    np.testing.assert_array_equal(one[0].xy, one[1].xy)
    scenes = [augment(walkers(), np.random.default_rng(seed)) for seed in range(8)]
    batch = collate(scenes)
    model = JointPredictionModel(
        ModelConfig(hidden_dim=16, num_modes=3, history_steps=T, future_steps=H, dt_s=DT)
    )
    output = model(batch)
    assert batch.future_valid is not None
    loss, _ = total_loss(
        output, targets_in_agent_frames(batch), batch.future_valid, batch.agent_mask, LossConfig()
    )
    assert torch.isfinite(loss)


@pytest.mark.parametrize(
    "changes",
    [
        {"scale_range": (0.0, 1.0)},
        {"scale_range": (2.0, 1.0)},
        {"mirror_probability": 1.5},
        {"history_noise_m": -1.0},
    ],
)
def test_bad_augment_settings_are_refused(changes: dict) -> None:
    with pytest.raises(ValueError):
        AugmentConfig(**changes)
