"""Long tables (one row per agent and step) to `(A, T)` grids, vectorised with numpy.

Every adapter reads rows `(track id, step, values...)`; `index_rows` finds each row's agent and
step once, then `scatter` and the per-agent reductions place any column without Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt


@dataclass(frozen=True, slots=True)
class RowIndex:
    """Where each of N source rows lands in an `(A, T)` grid.

    agent_ids: str[A], the track ids in order of first appearance in the file.
    agent_of_row: int64[N], row -> agent index; step_of_row: int64[N], row -> step index.
    """

    agent_ids: np.ndarray
    agent_of_row: NDArrayInt
    step_of_row: NDArrayInt
    num_steps: int

    @property
    def num_agents(self) -> int:
        return int(self.agent_ids.shape[0])

    @property
    def valid(self) -> NDArrayBool:
        """bool[A, T]: whether a row exists for the agent at the step."""
        return self.scatter(np.ones(self.agent_of_row.shape[0], dtype=bool), fill=False)

    def scatter(self, values: np.ndarray, fill: float | bool = 0) -> np.ndarray:
        """Row values `[N, ...]` -> grid `[A, T, ...]`, `fill` where an agent has no row."""
        grid = np.full((self.num_agents, self.num_steps, *values.shape[1:]), fill, values.dtype)
        grid[self.agent_of_row, self.step_of_row] = values
        return grid

    def first_per_agent(self, values: np.ndarray) -> np.ndarray:
        """`[A, ...]`: each agent's value at its first row in the file."""
        _, first_row = np.unique(self.agent_of_row, return_index=True)
        return values[first_row]

    def median_per_agent(self, values: NDArrayF64) -> NDArrayF64:
        """float64[A, ...]: median over each agent's rows (values: float64[N, ...])."""
        grid = self.scatter(np.asarray(values, dtype=np.float64), fill=np.nan)
        return np.nanmedian(grid, axis=1)


def index_rows(
    path: Path, track_ids: np.ndarray, step_of_row: NDArrayInt, num_steps: int
) -> RowIndex:
    """Index rows by `(track id, step)`; `DataError` naming `path` on a duplicate or bad step.

    track_ids: str[N]; step_of_row: int64[N] in `[0, num_steps)`.
    """
    step_of_row = np.asarray(step_of_row, dtype=np.int64)
    outside = np.flatnonzero((step_of_row < 0) | (step_of_row >= num_steps))
    if outside.size:
        row = int(outside[0])
        raise DataError(f"{path}: row {row} has step {step_of_row[row]} outside [0, {num_steps})")
    sorted_ids, first_row, inverse = np.unique(track_ids, return_index=True, return_inverse=True)
    order = np.argsort(first_row, kind="stable")  # agents in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    agent_of_row = rank[inverse.reshape(-1)].astype(np.int64)
    cell = agent_of_row * num_steps + step_of_row
    unique_cells, counts = np.unique(cell, return_counts=True)
    if np.any(counts > 1):
        agent, step = divmod(int(unique_cells[np.argmax(counts > 1)]), num_steps)
        raise DataError(
            f"{path}: track {str(sorted_ids[order][agent])!r} has two rows at step {step}"
        )
    return RowIndex(sorted_ids[order], agent_of_row, step_of_row, num_steps)


def finite_difference_velocity(
    xy: NDArrayF64, valid: NDArrayBool, times_s: NDArrayF64
) -> NDArrayF64:
    """float64[A, T, 2] velocity, m/s, from positions within contiguous valid runs.

    xy: float64[A, T, 2], metres; valid: bool[A, T]; times_s: float64[T] (may be unevenly
    spaced). Central differences inside a run, one-sided at its ends, zero for a lone step and
    at invalid steps; never differences across a gap.
    """
    has_previous = np.zeros_like(valid)
    has_previous[:, 1:] = valid[:, 1:] & valid[:, :-1]
    has_next = np.zeros_like(valid)
    has_next[:, :-1] = valid[:, :-1] & valid[:, 1:]
    times = np.broadcast_to(np.asarray(times_s, dtype=np.float64), valid.shape)
    previous_xy = np.concatenate([xy[:, :1], xy[:, :-1]], axis=1)
    next_xy = np.concatenate([xy[:, 1:], xy[:, -1:]], axis=1)
    previous_t = np.concatenate([times[:, :1], times[:, :-1]], axis=1)
    next_t = np.concatenate([times[:, 1:], times[:, -1:]], axis=1)
    low_xy = np.where(has_previous[..., None], previous_xy, xy)
    high_xy = np.where(has_next[..., None], next_xy, xy)
    span_s = np.where(has_next, next_t, times) - np.where(has_previous, previous_t, times)
    moved = high_xy - low_xy
    safe_span = np.where(span_s > 0, span_s, 1.0)[..., None]
    return np.where((span_s > 0)[..., None] & valid[..., None], moved / safe_span, 0.0)
