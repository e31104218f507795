"""Candidate ego trajectories as one packed array `[M, H, state]`, indexed by `CandidateIndex`."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.trajectory import Trajectory
from urbandrive.core.typing import NDArrayF64, NDArrayInt


class CandidateIndex(enum.IntEnum):
    """Columns of `Candidates.states`: box centre pose (global frame), speed (m/s), longitudinal
    acceleration (m/s^2), and the Frenet coordinates along the route reference (m)."""

    X = 0
    Y = 1
    HEADING = 2
    SPEED = 3
    ACCEL = 4
    S = 5
    D = 6


class ProposalKind(enum.IntEnum):
    """Which generator made a candidate."""

    PDM = 0
    LATTICE = 1
    EMERGENCY_STOP = 2
    PREVIOUS = 3


@dataclass(frozen=True, slots=True)
class Candidates:
    """M candidate trajectories over H steps (H = horizon / dt + 1, step 0 is now).

    times_s: float64[H], seconds from now; states: float64[M, H, len(CandidateIndex)];
    kind: int64[M], `ProposalKind`; labels: M short names, stable from cycle to cycle for the
    same manoeuvre (hysteresis matches on them).
    """

    times_s: NDArrayF64
    states: NDArrayF64
    kind: NDArrayInt
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        num = self.states.shape[0]
        if self.states.ndim != 3 or self.states.shape[1:] != (
            self.times_s.shape[0],
            len(CandidateIndex),
        ):
            raise DataError(
                f"candidates: states {self.states.shape} do not match {self.times_s.shape[0]} times"
            )
        if self.kind.shape != (num,) or len(self.labels) != num:
            raise DataError(
                f"candidates: {num} states, {self.kind.shape} kinds, {len(self.labels)} labels"
            )

    @property
    def num_candidates(self) -> int:
        return int(self.states.shape[0])

    def column(self, index: CandidateIndex) -> NDArrayF64:
        """float64[M, H]: one state column."""
        return self.states[..., index]

    @property
    def xy(self) -> NDArrayF64:
        """float64[M, H, 2], box centres, metres."""
        return self.states[..., [CandidateIndex.X, CandidateIndex.Y]]

    def select(self, rows: NDArrayInt | Sequence[int]) -> Candidates:
        rows = np.asarray(rows, dtype=np.int64)
        return Candidates(
            self.times_s, self.states[rows], self.kind[rows], tuple(self.labels[i] for i in rows)
        )

    def trajectory(self, row: int | None = None) -> Trajectory:
        """The box-centre `Trajectory` of one candidate (batch ()) or of all (batch (M,))."""
        states = self.states if row is None else self.states[row]
        return Trajectory(
            times_s=self.times_s,
            xy=np.ascontiguousarray(states[..., [CandidateIndex.X, CandidateIndex.Y]]),
            heading=np.ascontiguousarray(states[..., CandidateIndex.HEADING]),
            speed_mps=np.ascontiguousarray(states[..., CandidateIndex.SPEED]),
            accel_mps2=np.ascontiguousarray(states[..., CandidateIndex.ACCEL]),
        )


def concatenate(parts: Sequence[Candidates]) -> Candidates:
    """One `Candidates` of every part's rows, in order (same times)."""
    parts = [part for part in parts if part.num_candidates]
    if not parts:
        raise DataError("candidates: nothing to concatenate")
    return Candidates(
        parts[0].times_s,
        np.concatenate([part.states for part in parts]),
        np.concatenate([part.kind for part in parts]),
        tuple(label for part in parts for label in part.labels),
    )


def pack_states(
    xy: NDArrayF64,
    heading: NDArrayF64,
    speed_mps: NDArrayF64,
    accel_mps2: NDArrayF64,
    s_m: NDArrayF64,
    d_m: NDArrayF64,
) -> NDArrayF64:
    """float64[M, H, len(CandidateIndex)] from per-column arrays float64[M, H] (xy [M, H, 2])."""
    states = np.empty((*heading.shape, len(CandidateIndex)))
    states[..., CandidateIndex.X] = xy[..., 0]
    states[..., CandidateIndex.Y] = xy[..., 1]
    states[..., CandidateIndex.HEADING] = heading
    states[..., CandidateIndex.SPEED] = speed_mps
    states[..., CandidateIndex.ACCEL] = accel_mps2
    states[..., CandidateIndex.S] = s_m
    states[..., CandidateIndex.D] = d_m
    return states
