"""`ScoreTable`: every candidate's score terms by name, hard (multiplied) or soft (weighted).

total = prod(hard terms) * sum(w_j * soft_j) / sum(w_j), as nuPlan's closed-loop score and
PDM-Closed's proposal score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64


@dataclass(frozen=True, slots=True)
class ScoreTable:
    """names: J term names; values: float64[M, J] in [0, 1] (1 best); is_hard: bool[J];
    weights: float64[J], 0 for hard terms, >= 0 for soft ones with a positive sum."""

    names: tuple[str, ...]
    values: NDArrayF64
    is_hard: NDArrayBool
    weights: NDArrayF64

    def __post_init__(self) -> None:
        num_terms = len(self.names)
        if len(set(self.names)) != num_terms:
            raise DataError(f"score table: duplicate term names {self.names}")
        if self.values.ndim != 2 or self.values.shape[1] != num_terms:
            raise DataError(f"score table: values {self.values.shape} for {num_terms} terms")
        if self.is_hard.shape != (num_terms,) or self.weights.shape != (num_terms,):
            raise DataError("score table: is_hard and weights need one entry per term")
        if (
            not np.all(np.isfinite(self.values))
            or self.values.min(initial=0) < 0
            or self.values.max(initial=0) > 1
        ):
            raise DataError("score table: values must be finite and in [0, 1]")
        if np.any(self.weights < 0) or np.any(self.weights[self.is_hard] != 0):
            raise DataError("score table: weights must be >= 0, and 0 for hard terms")
        if (~self.is_hard).any() and self.weights[~self.is_hard].sum() <= 0:
            raise DataError("score table: soft weights must have a positive sum")

    @staticmethod
    def from_columns(
        columns: dict[str, NDArrayF64], hard: Sequence[str], weights: dict[str, float]
    ) -> ScoreTable:
        """Hard terms first (in `hard` order), then the weighted ones (in `weights` order)."""
        names = (*hard, *weights)
        return ScoreTable(
            names=tuple(names),
            values=np.stack([np.asarray(columns[name], np.float64) for name in names], -1),
            is_hard=np.array([name in hard for name in names], dtype=bool),
            weights=np.array([0.0 if name in hard else float(weights[name]) for name in names]),
        )

    @property
    def num_candidates(self) -> int:
        return int(self.values.shape[0])

    def column(self, name: str) -> NDArrayF64:
        """float64[M]: one term."""
        if name not in self.names:
            raise KeyError(f"no score term {name!r}; known: {self.names}")
        return self.values[:, self.names.index(name)]

    def hard_product(self) -> NDArrayF64:
        """float64[M]: product of the hard terms (1 when there are none)."""
        return np.prod(self.values[:, self.is_hard], axis=-1)

    def soft_score(self) -> NDArrayF64:
        """float64[M]: weighted mean of the soft terms (1 when there are none)."""
        soft = ~self.is_hard
        if not soft.any():
            return np.ones(self.num_candidates)
        return self.values[:, soft] @ self.weights[soft] / self.weights[soft].sum()

    def total(self) -> NDArrayF64:
        """float64[M] in [0, 1]: hard product times the weighted soft mean."""
        return self.hard_product() * self.soft_score()

    def columns(self) -> dict[str, NDArrayF64]:
        """Term name -> float64[M], plus "hard", "soft" and "total" (for `Plan.scores`)."""
        result = {name: self.values[:, index] for index, name in enumerate(self.names)}
        result.update(hard=self.hard_product(), soft=self.soft_score(), total=self.total())
        return result
