"""Training losses of the joint model: winner-takes-all over scene modes and over each
agent's marginal modes, mode classification, Laplace negative log-likelihood.

All errors are in each agent's frame now (distances do not depend on the frame). Shapes:
B scenes, A agents, K modes, H steps; `mask`: bool (B, A) agents that count (real, with at
least one valid future step); `future_valid`: bool (B, A, H).

- scene WTA: the winner of a scene is the mode k minimising the mean over its agents of
  their ADE in mode k; regression = that mean ADE; NLL = Laplace NLL of the winner per valid
  step and coordinate; classification = cross-entropy of the scene logits on the winner;
  agent classification = cross-entropy of each agent's logits of the joint modes on that
  agent's own best joint mode (calibrates `Prediction.marginal_probs` of the joint modes);
  agent regression = the ADE of that best joint mode (a per-agent WTA term that keeps the
  scene modes diverse for each agent: with the scene term alone, in busy scenes every mode
  drifted to the same mean future).
- marginal WTA: the same per agent over its marginal modes.
- overlap (when `overlap_weight` > 0 and the agents' poses now are given): within every
  scene mode, for pairs of agents whose true centres stay at least `overlap_radius_m` apart
  at a step, the mean over those pairs, modes and steps (every `overlap_step_stride`-th) of
  relu(1 - predicted distance / radius): the scene modes learn not to put two agents in the
  same place (the overlap rate of `prediction.evaluation`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional

from urbandrive.prediction.features import agent_to_scene
from urbandrive.prediction.model import ModelOutput


@dataclass(frozen=True, slots=True)
class LossConfig:
    """Weights of the terms (see the module docstring)."""

    regression_weight: float = 1.0
    nll_weight: float = 0.1
    classification_weight: float = 1.0
    agent_classification_weight: float = 0.5
    agent_regression_weight: float = 0.5
    marginal_weight: float = 1.0
    overlap_weight: float = 0.0
    overlap_radius_m: float = 1.5
    overlap_step_stride: int = 3


def mode_ade(pred_xy: torch.Tensor, gt_xy: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(B, A, K): mean over valid steps of the L2 error of each mode (0 without valid step).
    pred_xy: (B, A, K, H, 2); gt_xy: (B, A, H, 2); valid: bool (B, A, H)."""
    error = torch.linalg.vector_norm(pred_xy - gt_xy[:, :, None], dim=-1)  # (B, A, K, H)
    weight = valid[:, :, None].float()
    return (error * weight).sum(-1) / weight.sum(-1).clamp(min=1.0)


def laplace_nll(
    pred_xy: torch.Tensor, scale: torch.Tensor, gt_xy: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """(B, A): mean over valid steps and both coordinates of log(2 b) + |x - mu| / b.
    pred_xy, scale: (B, A, H, 2); gt_xy: (B, A, H, 2); valid: bool (B, A, H)."""
    nll = torch.log(2.0 * scale) + (gt_xy - pred_xy).abs() / scale
    count = valid.float().sum(-1)
    return (nll * valid[..., None]).sum((-1, -2)) / (2.0 * count).clamp(min=1.0)


def _pick(values: torch.Tensor, mode: torch.Tensor) -> torch.Tensor:
    """values (B, A, K, ...) at mode (B, A) -> (B, A, ...)."""
    index = mode.view(*mode.shape, 1, *([1] * (values.dim() - 3)))
    index = index.expand(*mode.shape, 1, *values.shape[3:])
    return torch.gather(values, 2, index).squeeze(2)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `values` where `mask` (same shape), 0 when nothing is masked in."""
    weight = mask.float()
    return (values * weight).sum() / weight.sum().clamp(min=1.0)


def scene_wta(
    output: ModelOutput, gt_xy: torch.Tensor, valid: torch.Tensor, mask: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Scene-level WTA terms: regression, nll, classification, agent_classification,
    agent_regression."""
    valid = valid & mask[..., None]
    ade = mode_ade(output.joint_xy, gt_xy, valid)  # (B, A, K)
    weight = mask[..., None].float()
    scene_error = (ade * weight).sum(1) / weight.sum(1).clamp(min=1.0)  # (B, K)
    winner = scene_error.argmin(-1)  # (B,)
    scenes = mask.any(-1)
    per_agent_winner = winner[:, None].expand_as(mask)
    nll = laplace_nll(
        _pick(output.joint_xy, per_agent_winner),
        _pick(output.joint_scale, per_agent_winner),
        gt_xy,
        valid,
    )
    classification = functional.cross_entropy(output.scene_logits, winner, reduction="none")
    agent_best = ade.argmin(-1)
    agent_classification = functional.cross_entropy(
        output.joint_agent_logits.flatten(0, 1), agent_best.flatten(), reduction="none"
    ).view_as(mask)
    return {
        "regression": _masked_mean(scene_error.gather(1, winner[:, None])[:, 0], scenes),
        "agent_regression": _masked_mean(ade.gather(-1, agent_best[..., None])[..., 0], mask),
        "nll": _masked_mean(nll, mask),
        "classification": _masked_mean(classification, scenes),
        "agent_classification": _masked_mean(agent_classification, mask),
    }


def marginal_wta(
    output: ModelOutput, gt_xy: torch.Tensor, valid: torch.Tensor, mask: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Per-agent WTA terms of the marginal head: regression, nll, classification."""
    valid = valid & mask[..., None]
    ade = mode_ade(output.marginal_xy, gt_xy, valid)
    winner = ade.argmin(-1)  # (B, A)
    nll = laplace_nll(
        _pick(output.marginal_xy, winner), _pick(output.marginal_scale, winner), gt_xy, valid
    )
    classification = functional.cross_entropy(
        output.marginal_logits.flatten(0, 1), winner.flatten(), reduction="none"
    ).view_as(mask)
    return {
        "regression": _masked_mean(ade.gather(-1, winner[..., None])[..., 0], mask),
        "nll": _masked_mean(nll, mask),
        "classification": _masked_mean(classification, mask),
    }


def overlap_penalty(
    joint_xy: torch.Tensor,
    gt_xy: torch.Tensor,
    valid: torch.Tensor,
    mask: torch.Tensor,
    poses: tuple[torch.Tensor, torch.Tensor],
    config: LossConfig,
) -> torch.Tensor:
    """The overlap term (module docstring). joint_xy: (B, A, K, H, 2) and gt_xy (B, A, H, 2)
    in each agent's frame now; poses: the agents' xy (B, A, 2) and heading (B, A) now in a
    common frame."""
    steps = slice(config.overlap_step_stride - 1, None, config.overlap_step_stride)
    origin, heading = poses
    pred = agent_to_scene(joint_xy[..., steps, :], origin, heading)  # (B, A, K, h, 2)
    true = agent_to_scene(gt_xy[:, :, None, steps], origin, heading)[:, :, 0]  # (B, A, h, 2)
    radius = config.overlap_radius_m
    gap = (pred[:, :, None] - pred[:, None]).square().sum(-1).add(1e-6).sqrt()  # (B,A,A,K,h)
    true_gap = torch.linalg.vector_norm(true[:, :, None] - true[:, None], dim=-1)  # (B,A,A,h)
    seen = valid[..., steps] & mask[..., None]
    pairs = seen[:, :, None] & seen[:, None] & (true_gap >= radius)
    pairs &= ~torch.eye(mask.shape[1], dtype=torch.bool)[None, :, :, None]
    penalty = functional.relu(1.0 - gap / radius) * pairs[:, :, :, None]
    return penalty.sum() / (pairs.sum() * joint_xy.shape[2]).clamp(min=1)


def total_loss(
    output: ModelOutput,
    gt_xy: torch.Tensor,
    valid: torch.Tensor,
    mask: torch.Tensor,
    config: LossConfig,
    poses: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted sum of every term and each term as a float (for logging).
    gt_xy: (B, A, H, 2) each agent's frame now; valid: bool (B, A, H); mask: bool (B, A);
    poses: the agents' xy (B, A, 2) and heading (B, A) now (needed by the overlap term)."""
    mask = mask & valid.any(-1)
    joint = scene_wta(output, gt_xy, valid, mask)
    if config.overlap_weight > 0:
        if poses is None:
            raise ValueError("the overlap loss needs the agents' poses now")
        joint["overlap"] = overlap_penalty(output.joint_xy, gt_xy, valid, mask, poses, config)
    marginal = marginal_wta(output, gt_xy, valid, mask)
    total = (
        config.regression_weight * joint["regression"]
        + config.nll_weight * joint["nll"]
        + config.classification_weight * joint["classification"]
        + config.agent_classification_weight * joint["agent_classification"]
        + config.agent_regression_weight * joint["agent_regression"]
        + config.overlap_weight * joint.get("overlap", 0.0)
        + config.marginal_weight
        * (
            config.regression_weight * marginal["regression"]
            + config.nll_weight * marginal["nll"]
            + config.classification_weight * marginal["classification"]
        )
    )
    terms = {f"joint_{k}": float(v.detach()) for k, v in joint.items()}
    terms |= {f"marginal_{k}": float(v.detach()) for k, v in marginal.items()}
    terms["total"] = float(total.detach())
    if not math.isfinite(terms["total"]):
        raise FloatingPointError(f"non-finite loss: {terms}")
    return total, terms
