"""Losses by hand, one scene overfitted, checkpoints that resume exactly."""

from __future__ import annotations

import math

import pytest
import torch

from urbandrive.prediction.losses import (
    LossConfig,
    laplace_nll,
    marginal_wta,
    mode_ade,
    scene_wta,
    total_loss,
)
from urbandrive.prediction.model import ModelOutput


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


def test_marginal_winner_is_per_agent() -> None:
    output, gt, valid, mask = hand_made_output()
    terms = marginal_wta(output, gt, valid, mask)
    # Agent 0 wins mode 0 (0 m), agent 1 mode 1 (1 m): mean 0.5.
    assert float(terms["regression"]) == pytest.approx(0.5)
    assert float(terms["nll"]) == pytest.approx(math.log(2.0) + 0.25)


def test_agents_without_a_valid_future_do_not_count() -> None:
    output, gt, valid, mask = hand_made_output()
    valid[0, 1] = False  # agent 1 unseen in the future: only agent 0 counts
    total, terms = total_loss(output, gt, valid, mask, LossConfig())
    assert terms["joint_regression"] == pytest.approx(0.0)
    assert terms["marginal_regression"] == pytest.approx(0.0)
    assert torch.isfinite(total)
