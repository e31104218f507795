"""Losses by hand, one scene overfitted, checkpoints that resume exactly."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from urbandrive.core.errors import UrbandriveError
from urbandrive.prediction.features import SceneTensors, collate
from urbandrive.prediction.losses import (
    LossConfig,
    laplace_nll,
    marginal_wta,
    mode_ade,
    overlap_penalty,
    scene_wta,
    total_loss,
)
from urbandrive.prediction.model import JointPredictionModel, ModelOutput
from urbandrive.prediction.training import (
    CHECKPOINT_NAME,
    METRICS_NAME,
    TrainConfig,
    build_windows,
    config_from_dict,
    config_to_dict,
    fit,
    load_model,
    load_train_config,
    make_optimizer,
    train_step,
)

from .scenes import mixed_scene


def hand_made_output() -> tuple[ModelOutput, torch.Tensor, torch.Tensor, torch.Tensor]:
    """2 agents, 2 modes, 2 steps, ground truth at 0. Agent 0: mode 0 exact, mode 1 off by
    1 m; agent 1: mode 0 off by 4 m, mode 1 off by 1 m. Scale 1, logits 0."""
    offsets = torch.tensor([[0.0, 1.0], [4.0, 1.0]])  # (A, K)
    xy = torch.zeros(1, 2, 2, 2, 2)
    xy[..., 0] = offsets[None, :, :, None]
    ones, zeros = torch.ones_like(xy), torch.zeros(1, 2, 2)
    output = ModelOutput(
        xy, ones, zeros, torch.zeros(1, 2), xy.clone(), ones.clone(), zeros.clone()
    )
    gt = torch.zeros(1, 2, 2, 2)
    return output, gt, torch.ones(1, 2, 2, dtype=torch.bool), torch.ones(1, 2, dtype=torch.bool)


def test_mode_ade_and_laplace_nll_by_hand() -> None:
    output, gt, valid, _ = hand_made_output()
    torch.testing.assert_close(
        mode_ade(output.joint_xy, gt, valid), torch.tensor([[[0.0, 1.0], [4.0, 1.0]]])
    )
    nll = laplace_nll(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2), gt[:, :1], valid[:, :1])
    torch.testing.assert_close(nll, torch.tensor([[math.log(2.0)]]))
    # |x - mu| / b = 3 on x only, every step: mean over steps and coordinates = log 2 + 1.5.
    off = torch.zeros(1, 1, 2, 2)
    off[..., 0] = 3.0
    nll = laplace_nll(off, torch.ones(1, 1, 2, 2), gt[:, :1], valid[:, :1])
    torch.testing.assert_close(nll, torch.tensor([[math.log(2.0) + 1.5]]))


def test_scene_winner_minimises_the_mean_ade_over_agents() -> None:
    output, gt, valid, mask = hand_made_output()
    terms = scene_wta(output, gt, valid, mask)
    # Scene errors: mode 0 = (0 + 4) / 2 = 2, mode 1 = (1 + 1) / 2 = 1 -> mode 1 wins.
    assert float(terms["regression"]) == pytest.approx(1.0)
    assert float(terms["classification"]) == pytest.approx(math.log(2.0))
    # Winner mode 1: each agent 1 m off on x at both steps -> log 2 + 0.5.
    assert float(terms["nll"]) == pytest.approx(math.log(2.0) + 0.5)
    assert float(terms["agent_classification"]) == pytest.approx(math.log(2.0))
    # Each agent's own best joint mode: agent 0 mode 0 (0 m), agent 1 mode 1 (1 m).
    assert float(terms["agent_regression"]) == pytest.approx(0.5)


def test_marginal_winner_is_per_agent() -> None:
    output, gt, valid, mask = hand_made_output()
    terms = marginal_wta(output, gt, valid, mask)
    # Agent 0 wins mode 0 (0 m), agent 1 mode 1 (1 m): mean 0.5.
    assert float(terms["regression"]) == pytest.approx(0.5)
    assert float(terms["nll"]) == pytest.approx(math.log(2.0) + 0.25)


def test_overlap_penalty_by_hand() -> None:
    """Two agents facing each other 10 m apart, truly passing 2 m apart; mode 0 puts both at
    the same point at the last step, mode 1 keeps them 2 m apart."""
    config = LossConfig(overlap_weight=1.0, overlap_radius_m=1.5, overlap_step_stride=1)
    origin = torch.tensor([[[0.0, 0.0], [10.0, 0.0]]])
    heading = torch.tensor([[0.0, math.pi]])
    # Each agent's own frame: forward is +x. Step 0 at 1 m ahead, step 1 at 5 m ahead.
    joint = torch.zeros(1, 2, 2, 2, 2)
    joint[:, :, :, 0, 0] = 1.0
    joint[:, :, 0, 1, 0] = 5.0  # mode 0: both at x = 5 (scene frame)
    joint[:, 0, 1, 1] = torch.tensor([4.0, 1.0])  # mode 1: (4, 1) and (6, -1) in the scene
    joint[:, 1, 1, 1] = torch.tensor([4.0, 1.0])
    gt = joint[:, :, 1].clone()  # truth: mode 1, 2.83 m apart at the last step
    valid, mask = torch.ones(1, 2, 2, dtype=torch.bool), torch.ones(1, 2, dtype=torch.bool)
    penalty = overlap_penalty(joint, gt, valid, mask, (origin, heading), config)
    # Ordered pairs (0, 1) and (1, 0), 2 modes, 2 steps: only mode 0's last step is inside
    # the radius (distance ~0), penalty 1 each.
    assert float(penalty) == pytest.approx(2 * 1.0 / (2 * 2 * 2), abs=1e-3)
    # Truth as close as the prediction: no penalty.
    close_gt = joint[:, :, 0].clone()
    assert float(overlap_penalty(joint, close_gt, valid, mask, (origin, heading), config)) < 0.05


def test_agents_without_a_valid_future_do_not_count() -> None:
    output, gt, valid, mask = hand_made_output()
    valid[0, 1] = False  # agent 1 unseen in the future: only agent 0 counts
    total, terms = total_loss(output, gt, valid, mask, LossConfig())
    assert terms["joint_regression"] == pytest.approx(0.0)
    assert terms["marginal_regression"] == pytest.approx(0.0)
    assert torch.isfinite(total)


# -- training -------------------------------------------------------------------------------


def tiny_config(**changes: object) -> TrainConfig:
    config = TrainConfig(
        epochs=2,
        batch_size=2,
        history_s=1.0,
        future_s=1.2,
        stride_s=0.5,
        hidden_dim=32,
        num_modes=3,
        learning_rate=3e-3,
    )
    return dataclasses.replace(config, **changes)


def test_fifty_steps_overfit_a_single_scene() -> None:
    config = tiny_config()
    windows = build_windows([mixed_scene(num_agents=6, num_steps=40)], config, 0.1)[:1]
    torch.manual_seed(0)
    model = JointPredictionModel(config.model_config(0.1))
    optimizer, scheduler = make_optimizer(model, config, 50)
    batch = collate(windows)
    losses = [train_step(model, optimizer, scheduler, batch, config.loss) for _ in range(50)]
    assert losses[-1]["total"] < 0.5 * losses[0]["total"]
    assert losses[-1]["joint_regression"] < 0.5 * losses[0]["joint_regression"]


def test_resumed_run_takes_exactly_the_same_steps(tmp_path: Path) -> None:
    config = tiny_config()
    windows = build_windows([mixed_scene(num_agents=6, num_steps=40)], config, 0.1)
    straight = fit(config, windows, windows[:2], 0.1, tmp_path / "straight", progress=False)
    fit(config, windows, windows[:2], 0.1, tmp_path / "cut", progress=False, stop_after_epoch=1)
    resumed = fit(config, windows, windows[:2], 0.1, tmp_path / "cut", resume=True, progress=False)
    for name, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value, atol=0, rtol=0)
    rows = [json.loads(line) for line in (tmp_path / "cut" / METRICS_NAME).read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert {"train_total", "val_minADE3", "val_jointMinFDE3", "scenes_per_s"} <= set(rows[0])
    assert load_model(tmp_path / "cut" / CHECKPOINT_NAME).config == resumed.model.config


def test_augment_hook_sees_every_training_window_each_epoch(tmp_path: Path) -> None:
    config = tiny_config()
    windows = build_windows([mixed_scene(num_agents=6, num_steps=40)], config, 0.1)
    seen = []

    def identity(scene: SceneTensors, rng: np.random.Generator) -> SceneTensors:
        seen.append(scene.num_agents)
        return scene

    plain = fit(config, windows, [], 0.1, tmp_path / "plain", progress=False)
    hooked = fit(config, windows, [], 0.1, tmp_path / "hooked", progress=False, augment=identity)
    assert len(seen) == config.epochs * len(windows)
    for name, value in plain.model.state_dict().items():
        torch.testing.assert_close(hooked.model.state_dict()[name], value, atol=0, rtol=0)


def test_existing_run_is_not_overwritten_without_resume(tmp_path: Path) -> None:
    config = tiny_config(epochs=1)
    windows = build_windows([mixed_scene(num_agents=4, num_steps=30)], config, 0.1)[:2]
    fit(config, windows, [], 0.1, tmp_path, progress=False)
    with pytest.raises(UrbandriveError, match="--resume"):
        fit(config, windows, [], 0.1, tmp_path, progress=False)


def test_config_file_is_read_and_unknown_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "train.toml"
    path.write_text('epochs = 3\ndata = ["av2:x"]\n[loss]\nnll_weight = 0.5\n')
    config = load_train_config(path, epochs=7, batch_size=None)
    assert config.epochs == 7 and config.data == ("av2:x",) and config.loss.nll_weight == 0.5
    assert config_from_dict(config_to_dict(config)) == config
    path.write_text("epochz = 3\n")
    with pytest.raises(UrbandriveError, match="epochz"):
        load_train_config(path)
