"""Aggregating a term over the K predicted futures: expectation or CVaR of the cost.

A term value v in [0, 1] (1 best) has cost 1 - v. CVaR_alpha of the cost is the mean cost
over the worst alpha share of the probability mass (Rockafellar & Uryasev 2000); alpha = 1 is
the expectation, alpha -> 0 the worst mode. The aggregated value is 1 - CVaR.
"""

from __future__ import annotations

import enum

import numpy as np

from urbandrive.core.typing import NDArrayF64


class RiskMeasure(enum.IntEnum):
    EXPECTATION = 0
    CVAR = 1


def expected_value(values: NDArrayF64, probs: NDArrayF64) -> NDArrayF64:
    """float64[M]: sum_k probs[k] * values[M, k]."""
    return values @ (probs / probs.sum())


def conditional_value_at_risk(costs: NDArrayF64, probs: NDArrayF64, alpha: float) -> NDArrayF64:
    """float64[M]: mean of `costs[M, K]` over the worst `alpha` of the mass `probs[K]`."""
    if not 0 < alpha <= 1:
        raise ValueError(f"CVaR level alpha must be in (0, 1], got {alpha}")
    order = np.argsort(-costs, axis=-1, kind="stable")
    sorted_costs = np.take_along_axis(costs, order, axis=-1)
    mass = (probs / probs.sum())[order]
    before = np.cumsum(mass, axis=-1) - mass
    share = np.clip(np.minimum(mass, alpha - before), 0.0, None)
    return np.sum(share * sorted_costs, axis=-1) / alpha


def aggregate_modes(
    values: NDArrayF64, probs: NDArrayF64, measure: RiskMeasure, alpha: float
) -> NDArrayF64:
    """float64[M]: a term `values[M]` as is, or `values[M, K]` reduced over the modes; clipped
    to [0, 1] (a weighted mean of ones can round to 1 + 2e-16 with several modes)."""
    if values.ndim == 1:
        return values
    if measure == RiskMeasure.EXPECTATION:
        return np.clip(expected_value(values, probs), 0.0, 1.0)
    return np.clip(1.0 - conditional_value_at_risk(1.0 - values, probs, alpha), 0.0, 1.0)
