"""Open-loop planning metrics: displacement of a plan from the expert's future."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64


@dataclass(frozen=True, slots=True)
class PlanDisplacementErrors:
    """ade_m, fde_m: float64[*B]; NaN where the expert has no valid step."""

    ade_m: NDArrayF64
    fde_m: NDArrayF64


def plan_displacement_errors(
    plan_xy: NDArrayF64, expert_xy: NDArrayF64, expert_valid: NDArrayBool | None = None
) -> PlanDisplacementErrors:
    """Average and final L2 error of plans against the expert, over the same H future steps.

    plan_xy: float64[*B, H, 2]; expert_xy: float64[..., H, 2] broadcastable; expert_valid:
    bool[..., H] (default all valid). ADE is the mean over valid steps; FDE is taken at the last
    valid step (the expert's log may end early), not at step H - 1. Metres, any common frame.
    """
    plan_xy, expert_xy = np.asarray(plan_xy, np.float64), np.asarray(expert_xy, np.float64)
    error = np.linalg.norm(plan_xy - expert_xy, axis=-1)  # [*B, H]
    valid = (
        np.ones(error.shape[-1:], bool) if expert_valid is None else np.asarray(expert_valid, bool)
    )
    valid = np.broadcast_to(valid, error.shape)
    count = valid.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ade = np.where(count > 0, np.where(valid, error, 0.0).sum(-1) / count, np.nan)
    last = error.shape[-1] - 1 - np.argmax(valid[..., ::-1], axis=-1)
    fde = np.take_along_axis(error, last[..., None], axis=-1)[..., 0]
    return PlanDisplacementErrors(ade, np.where(count > 0, fde, np.nan))
