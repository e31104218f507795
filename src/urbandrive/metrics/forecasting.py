"""Forecasting metrics: marginal (per agent) and joint (per scene) displacement, misses,
consistency between agents of one predicted world, and calibration of mode probabilities.

Source: argoverse/av2-api `src/av2/datasets/motion_forecasting/eval/metrics.py` (ADE, FDE,
miss at 2.0 m, brier-FDE = FDE + (1 - p)^2, multi-world ADE/FDE, world collisions at 1.0 m),
the AV2 leaderboards, and the Waymo Open Motion overlap rate (boxes). Shapes: predictions
`xy: float64[..., A, K, H, 2]` (modes before time), joint probabilities `[..., K]`, marginal
`[..., A, K]`, ground truth `[..., A, H, 2]`, `valid: bool[..., A, H]`; any leading scene
axes; metres, any frame shared by all inputs.

Choices where sources differ or are silent:

- Invalid ground-truth steps are excluded from ADE; FDE is taken at the last valid step (not
  at H - 1), so a track that ends early is judged where it was last seen. Agents without a
  valid step are not scored (NaN, `scored` False). On fully valid inputs this equals AV2.
- minADE is the minimum over modes of each mode's ADE (so minADE <= ADE of every mode);
  the AV2 leaderboard instead reports the ADE of the minimum-FDE mode, kept here as
  `ade_of_min_fde_mode_m`. brier-minFDE uses the probability of the minimum-FDE mode, as given
  (AV2's `normalize=False` default).
- K = 1 is the most probable mode; K = k keeps the k most probable (ties: lower index first).
- Joint: a world's ADE (FDE) is the mean over scored agents; avgMinADE / avgMinFDE are the
  minima over worlds; the best world is the minimum-FDE one; actor miss rate is the fraction of
  scored agents whose FDE in the best world exceeds 2.0 m.
- Overlaps: AV2's world collisions compare centres (closer than 1.0 m); the Waymo Open Motion
  overlap rate (waymo-open-dataset `metrics/motion_metrics.cc`, `ComputeOverlapRate`) compares
  oriented boxes (predicted centre, heading from the predicted path, the track's length and
  width) and counts an overlap only where the intersection has a positive area, against the
  true boxes of the other objects seen now. `world_overlaps` with boxes applies that box test
  between the agents of one predicted world; `overlaps_with_others` is the test against
  other boxes (e.g. the truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.boxes import boxes_overlap


@dataclass(frozen=True, slots=True)
class ModeErrors:
    """ade_m, fde_m: float64[..., A, K] (NaN for unscored agents); scored: bool[..., A]."""

    ade_m: NDArrayF64
    fde_m: NDArrayF64
    scored: NDArrayBool


def mode_errors(
    pred_xy: NDArrayF64, gt_xy: NDArrayF64, valid: NDArrayBool | None = None
) -> ModeErrors:
    """ADE (mean over valid steps) and FDE (at the last valid step) of every mode of every agent.

    pred_xy: float64[..., A, K, H, 2]; gt_xy: float64[..., A, H, 2]; valid: bool[..., A, H].
    """
    pred_xy, gt_xy = np.asarray(pred_xy, np.float64), np.asarray(gt_xy, np.float64)
    error = np.linalg.norm(pred_xy - gt_xy[..., None, :, :], axis=-1)  # [..., A, K, H]
    if valid is None:
        valid = np.ones(gt_xy.shape[:-1], dtype=bool)
    valid = np.broadcast_to(np.asarray(valid, bool), gt_xy.shape[:-1])
    count = valid.sum(-1)
    scored = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        ade = np.where(valid[..., None, :], error, 0.0).sum(-1) / count[..., None]
    last = valid.shape[-1] - 1 - np.argmax(valid[..., ::-1], axis=-1)  # [..., A]
    fde = np.take_along_axis(
        error, np.broadcast_to(last[..., None, None], error.shape[:-1] + (1,)), -1
    )[..., 0]
    nan = ~scored[..., None]
    return ModeErrors(np.where(nan, np.nan, ade), np.where(nan, np.nan, fde), scored)


def top_k_modes(probs: NDArrayF64, k: int) -> NDArrayInt:
    """int64[..., k]: indices of the k most probable modes, most probable first (stable ties)."""
    if k < 1 or k > probs.shape[-1]:
        raise ValueError(f"k must be in [1, {probs.shape[-1]}], got {k}")
    return np.argsort(-np.asarray(probs), axis=-1, kind="stable")[..., :k]


@dataclass(frozen=True, slots=True)
class MarginalMetrics:
    """Per agent, float64[..., A] (NaN where not scored) unless said otherwise.

    min_ade_m, min_fde_m, brier_min_fde_m, ade_of_min_fde_mode_m; missed: bool[..., A] (min FDE
    > threshold; False where not scored); best_mode: int64[..., A], index among all K modes of
    the minimum-FDE mode; scored: bool[..., A].
    """

    min_ade_m: NDArrayF64
    min_fde_m: NDArrayF64
    brier_min_fde_m: NDArrayF64
    ade_of_min_fde_mode_m: NDArrayF64
    missed: NDArrayBool
    best_mode: NDArrayInt
    scored: NDArrayBool

    def summary(self) -> dict[str, float]:
        """Means over scored agents: minADE, minFDE, MR, brier-minFDE."""
        scored = self.scored
        return {
            "min_ade_m": float(self.min_ade_m[scored].mean()),
            "min_fde_m": float(self.min_fde_m[scored].mean()),
            "miss_rate": float(self.missed[scored].mean()),
            "brier_min_fde_m": float(self.brier_min_fde_m[scored].mean()),
        }


def marginal_metrics(
    pred_xy: NDArrayF64,
    probs: NDArrayF64,
    gt_xy: NDArrayF64,
    valid: NDArrayBool | None = None,
    top_k: int = 6,
    miss_threshold_m: float = 2.0,
) -> MarginalMetrics:
    """minADE_k, minFDE_k, miss, brier-minFDE_k per agent over its `top_k` most probable modes.

    pred_xy: float64[..., A, K, H, 2]; probs: float64[..., A, K] (marginal) or [..., K] (one
    distribution shared by all agents: joint worlds scored marginally); gt_xy: [..., A, H, 2];
    valid: bool[..., A, H].
    """
    errors = mode_errors(pred_xy, gt_xy, valid)
    probs = np.asarray(probs, np.float64)
    if probs.ndim == errors.ade_m.ndim - 1:  # [..., K]: one distribution for every agent
        probs = probs[..., None, :]
    probs = np.broadcast_to(probs, errors.ade_m.shape)
    kept = top_k_modes(probs, top_k)
    ade = np.take_along_axis(errors.ade_m, kept, -1)
    fde = np.take_along_axis(errors.fde_m, kept, -1)
    scored = errors.scored
    best = np.argmin(np.where(scored[..., None], fde, 0.0), axis=-1)[..., None]
    min_fde = np.take_along_axis(fde, best, -1)[..., 0]
    best_mode = np.take_along_axis(kept, best, -1)[..., 0]
    best_prob = np.take_along_axis(probs, best_mode[..., None], -1)[..., 0]
    return MarginalMetrics(
        min_ade_m=np.min(ade, axis=-1),
        min_fde_m=min_fde,
        brier_min_fde_m=min_fde + (1.0 - best_prob) ** 2,
        ade_of_min_fde_mode_m=np.take_along_axis(ade, best, -1)[..., 0],
        missed=scored & (min_fde > miss_threshold_m),
        best_mode=best_mode.astype(np.int64),
        scored=scored,
    )


@dataclass(frozen=True, slots=True)
class JointMetrics:
    """Per scene, float64[...]: min_ade_m (avgMinADE), min_fde_m (avgMinFDE), brier_min_fde_m,
    actor_miss_rate; best_world: int64[...] (minimum-FDE world); world_ade_m, world_fde_m:
    float64[..., K]."""

    min_ade_m: NDArrayF64
    min_fde_m: NDArrayF64
    brier_min_fde_m: NDArrayF64
    actor_miss_rate: NDArrayF64
    best_world: NDArrayInt
    world_ade_m: NDArrayF64
    world_fde_m: NDArrayF64


def joint_metrics(
    pred_xy: NDArrayF64,
    probs: NDArrayF64,
    gt_xy: NDArrayF64,
    valid: NDArrayBool | None = None,
    scored: NDArrayBool | None = None,
    miss_threshold_m: float = 2.0,
) -> JointMetrics:
    """Scene-level (multi-world) metrics: each of the K modes is one world for all agents.

    pred_xy: float64[..., A, K, H, 2]; probs: float64[..., K]; gt_xy: float64[..., A, H, 2];
    valid: bool[..., A, H]; scored: bool[..., A], the agents to score (default: every agent
    with a valid step; agents without one are never scored).
    """
    errors = mode_errors(pred_xy, gt_xy, valid)
    mask = errors.scored if scored is None else errors.scored & np.asarray(scored, bool)
    count = mask.sum(-1)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        world_ade = np.where(mask[..., None], errors.ade_m, 0.0).sum(-2) / count
        world_fde = np.where(mask[..., None], errors.fde_m, 0.0).sum(-2) / count
    best = np.argmin(np.nan_to_num(world_fde, nan=np.inf), axis=-1)
    min_fde = np.take_along_axis(world_fde, best[..., None], -1)[..., 0]
    best_prob = np.take_along_axis(np.asarray(probs, np.float64), best[..., None], -1)[..., 0]
    fde_in_best = np.take_along_axis(errors.fde_m, best[..., None, None], -1)[..., 0]  # [..., A]
    with np.errstate(invalid="ignore", divide="ignore"):
        miss_rate = (mask & (fde_in_best > miss_threshold_m)).sum(-1) / count[..., 0]
    return JointMetrics(
        min_ade_m=np.min(world_ade, axis=-1),
        min_fde_m=min_fde,
        brier_min_fde_m=min_fde + (1.0 - best_prob) ** 2,
        actor_miss_rate=miss_rate,
        best_world=best.astype(np.int64),
        world_ade_m=world_ade,
        world_fde_m=world_fde,
    )


def world_overlaps(
    pred_xy: NDArrayF64,
    agent_mask: NDArrayBool | None = None,
    radius_m: float = 1.0,
    heading: NDArrayF64 | None = None,
    size_m: NDArrayF64 | None = None,
) -> NDArrayBool:
    """bool[..., A, K]: agent a overlaps another agent at some step of predicted world k.

    pred_xy: float64[..., A, K, H, 2]; agent_mask: bool[..., A], agents that exist (others
    never overlap). Without boxes: centres closer than `radius_m` (AV2's world collision test,
    strict `<`). With heading: float64[..., A, K, H] and size_m: float64[..., A, 2] (length,
    width, finite and > 0): the oriented boxes intersect with a positive area (WOMD's test;
    boxes that only touch do not overlap). Memory is A x A x K x H.
    """
    pred_xy = np.asarray(pred_xy, np.float64)
    num_agents = pred_xy.shape[-4]
    first, second = (
        pred_xy[..., :, None, :, :, :],
        pred_xy[..., None, :, :, :, :],
    )  # [..., A, A, K, H, 2]
    if (heading is None) != (size_m is None):
        raise ValueError("world_overlaps: give both heading and size_m (boxes) or neither")
    if heading is None or size_m is None:
        touching = np.linalg.norm(first - second, axis=-1) < radius_m
    else:
        heading = np.asarray(heading, np.float64)
        size = checked_sizes(size_m, "world_overlaps")[..., None, None, :]  # [..., A, 1, 1, 2]
        touching = boxes_overlap_near(
            (first, heading[..., :, None, :, :], size[..., :, None, :, :, :]),
            (second, heading[..., None, :, :, :], size[..., None, :, :, :, :]),
        )
    mask = (
        np.ones(pred_xy.shape[:-4] + (num_agents,), bool)
        if agent_mask is None
        else np.asarray(agent_mask, bool)
    )
    pair_mask = mask[..., :, None] & mask[..., None, :] & ~np.eye(num_agents, dtype=bool)
    return np.any(touching.any(-1) & pair_mask[..., None], axis=-2)


def overlaps_with_others(
    xy: NDArrayF64,
    heading: NDArrayF64,
    size_m: NDArrayF64,
    other_xy: NDArrayF64,
    other_heading: NDArrayF64,
    other_size_m: NDArrayF64,
    other_valid: NDArrayBool,
    same: NDArrayBool,
    valid: NDArrayBool | None = None,
) -> NDArrayBool:
    """bool[A]: agent a's box (xy: float64[A, H, 2], heading: [A, H], size_m: [A, 2]) overlaps
    (positive area) the box of some other agent b (other_xy: [B, H, 2], other_heading: [B, H],
    other_size_m: [B, 2]) at a step where both are valid (other_valid: bool[B, H]; valid:
    bool[A, H], default all); same: bool[A, B], the pairs never compared (an agent and
    itself). WOMD's overlap test of a prediction against the other objects' ground truth.
    Memory is A x B x H."""
    size = checked_sizes(size_m, "overlaps_with_others")
    other_size = checked_sizes(other_size_m, "overlaps_with_others (others)")
    hit = boxes_overlap_near(
        (np.asarray(xy, np.float64)[:, None], np.asarray(heading)[:, None], size[:, None, None]),
        (
            np.asarray(other_xy, np.float64)[None],
            np.asarray(other_heading)[None],
            other_size[None, :, None],
        ),
    )  # [A, B, H]
    hit &= np.asarray(other_valid, bool)[None] & ~np.asarray(same, bool)[..., None]
    if valid is not None:
        hit &= np.asarray(valid, bool)[:, None]
    return hit.any((-2, -1))


def boxes_overlap_near(
    first: tuple[NDArrayF64, NDArrayF64, NDArrayF64],
    second: tuple[NDArrayF64, NDArrayF64, NDArrayF64],
) -> NDArrayBool:
    """`boxes_overlap(*first, *second, touching_counts=False)`, each box (xy [..., 2], heading
    [...], size [..., 2]) broadcast, tested exactly only where the centres are closer than
    the sum of the half-diagonals (elsewhere the boxes cannot overlap)."""
    (xy_a, heading_a, size_a), (xy_b, heading_b, size_b) = first, second
    reach = 0.5 * (
        np.hypot(size_a[..., 0], size_a[..., 1]) + np.hypot(size_b[..., 0], size_b[..., 1])
    )
    gap = xy_a - xy_b
    near = gap[..., 0] ** 2 + gap[..., 1] ** 2 < reach**2
    index = np.nonzero(near)
    shape = near.shape

    def pick(values: NDArrayF64, pair: bool) -> NDArrayF64:
        return np.broadcast_to(values, shape + (2,) if pair else shape)[index]

    result = np.zeros(shape, dtype=bool)
    result[index] = boxes_overlap(
        pick(xy_a, True),
        pick(heading_a, False),
        pick(size_a, True),
        pick(xy_b, True),
        pick(heading_b, False),
        pick(size_b, True),
        touching_counts=False,
    )
    return result


def checked_sizes(size_m: NDArrayF64, where: str) -> NDArrayF64:
    """float64[..., A, 2] (length, width); `ValueError` naming the first agent (index along
    A) whose size is missing (NaN), not finite or not positive."""
    size = np.asarray(size_m, np.float64)
    bad = ~(np.isfinite(size) & (size > 0)).all(-1)
    if bad.any():
        index = np.argwhere(bad)[0]
        raise ValueError(
            f"{where}: agent {int(index[-1])} has size {size[tuple(index)]} (length, width); "
            "boxes need finite positive sizes (loaders fill DEFAULT_SIZE_M by type)"
        )
    return size


def overlap_rate(overlaps: NDArrayBool, agent_mask: NDArrayBool | None = None) -> NDArrayF64:
    """float64[..., K]: fraction of existing agents that overlap another, per world.

    overlaps: bool[..., A, K] from `world_overlaps`; agent_mask: bool[..., A].
    """
    mask = (
        np.ones(overlaps.shape[:-1], bool) if agent_mask is None else np.asarray(agent_mask, bool)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return (overlaps & mask[..., None]).sum(-2) / mask.sum(-1)[..., None]


def mode_probability_nll(
    probs: NDArrayF64, best_mode: NDArrayInt, eps: float = 1e-12
) -> NDArrayF64:
    """float64[...]: -log p(best mode), the NLL of the mode distribution with the best mode as label.

    probs: float64[..., K] (joint, or marginal per agent); best_mode: int[...] (e.g.
    `JointMetrics.best_world`). Probabilities are clipped at `eps`.
    """
    chosen = np.take_along_axis(
        np.asarray(probs, np.float64), np.asarray(best_mode)[..., None], -1
    )[..., 0]
    return -np.log(np.maximum(chosen, eps))


def laplace_mixture_nll(
    pred_xy: NDArrayF64,
    scale_m: NDArrayF64,
    probs: NDArrayF64,
    gt_xy: NDArrayF64,
    valid: NDArrayBool | None = None,
    joint: bool = True,
) -> NDArrayF64:
    """Negative log-likelihood (nats) of the ground truth under a mixture of Laplace modes.

    pred_xy, scale_m: float64[..., A, K, H, 2] (locations; scales b > 0, per coordinate);
    gt_xy: [..., A, H, 2]; valid: bool[..., A, H] (invalid steps contribute nothing).
    joint=True: probs float64[..., K], one mixture over worlds of the whole scene, returns
    float64[...]. joint=False: probs float64[..., A, K], one mixture per agent, returns
    float64[..., A]. log Laplace(x | mu, b) = -log(2 b) - |x - mu| / b, summed over coordinates
    and valid steps (and agents when joint) inside each mode.
    """
    pred_xy, scale = np.asarray(pred_xy, np.float64), np.asarray(scale_m, np.float64)
    gt = np.asarray(gt_xy, np.float64)[..., None, :, :]
    log_density = (-np.log(2.0 * scale) - np.abs(gt - pred_xy) / scale).sum(-1)  # [..., A, K, H]
    if valid is not None:
        log_density = np.where(np.asarray(valid, bool)[..., None, :], log_density, 0.0)
    per_mode = log_density.sum(-1)  # [..., A, K]
    if joint:
        per_mode = per_mode.sum(-2)  # [..., K]
    with np.errstate(divide="ignore"):
        log_probs = np.log(np.asarray(probs, np.float64))
    return -logsumexp(log_probs + per_mode, axis=-1)


def expected_calibration_error(
    probs: NDArrayF64, best_mode: NDArrayInt, num_bins: int = 10, top_label_only: bool = True
) -> float:
    """Expected calibration error of mode probabilities, the label being "this mode is the best".

    probs: float64[N, K] (N scenes, or agents); best_mode: int[N]. top_label_only: judge only the
    most probable mode of each row (Guo et al. 2017); else every (row, mode) pair. Confidences
    are binned in `num_bins` equal-width bins of [0, 1]; ECE = sum_b (n_b / n) |accuracy_b -
    confidence_b|.
    """
    probs = np.asarray(probs, np.float64).reshape(-1, np.shape(probs)[-1])
    best_mode = np.asarray(best_mode).reshape(-1)
    is_best = np.arange(probs.shape[-1]) == best_mode[:, None]
    if top_label_only:
        top = np.argmax(probs, axis=-1)[:, None]
        confidence = np.take_along_axis(probs, top, -1)[:, 0]
        correct = np.take_along_axis(is_best, top, -1)[:, 0]
    else:
        confidence, correct = probs.reshape(-1), is_best.reshape(-1)
    bins = np.minimum((confidence * num_bins).astype(np.int64), num_bins - 1)
    count = np.bincount(bins, minlength=num_bins)
    gap = np.abs(
        np.bincount(bins, correct.astype(np.float64), num_bins)
        - np.bincount(bins, confidence, num_bins)
    )
    return float(gap.sum() / max(count.sum(), 1))
