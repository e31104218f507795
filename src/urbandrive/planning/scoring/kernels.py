"""Compiled kernels of the scorer (numba): the pair broad phase (`pairs.interacting_pairs`)
and the drivable-area grid's bilinear lookup (`drivable_grid.DrivableAreaGrid`).

The same coarse-to-fine test as the numpy reference (group x block boxes, then candidate x
block, then per step), the same comparisons in the same order, in loops that never build the
coarse levels' index arrays: the same pairs in the same order. The switch and the fallback
without numba are `urbandrive.metrics.kernels`'.
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.metrics.kernels import njit


@njit
def _meet(
    low_a: tuple[float, float],
    high_a: tuple[float, float],
    low_b: tuple[float, float],
    high_b: tuple[float, float],
    margin: float,
) -> bool:
    """`pairs._overlap` of one pair of boxes (x, y) low / high corners, a grown by `margin`."""
    if not (low_a[0] - margin <= high_b[0] and low_b[0] <= high_a[0] + margin):
        return False
    return low_a[1] - margin <= high_b[1] and low_b[1] <= high_a[1] + margin


@njit
def _grow(rows: NDArrayInt) -> NDArrayInt:
    """rows int64[4, N] copied into int64[4, 2 N]."""
    grown = np.empty((4, 2 * rows.shape[1]), np.int64)
    grown[:, : rows.shape[1]] = rows
    return grown


@njit
def interacting_pairs_kernel(
    ego_low: NDArrayF64,
    ego_high: NDArrayF64,
    ego_block_low: NDArrayF64,
    ego_block_high: NDArrayF64,
    group_low: NDArrayF64,
    group_high: NDArrayF64,
    agent_low: NDArrayF64,
    agent_high: NDArrayF64,
    agent_block_low: NDArrayF64,
    agent_block_high: NDArrayF64,
    margin: NDArrayF64,
    block_steps: int,
    group_size: int,
) -> NDArrayInt:
    """int64[4, P]: (candidate, mode, agent, step) rows of the overlapping pairs.

    ego_*: [M, T, 2], ego_block_*: [M, B, 2], group_*: [G, B, 2]; agent_*: [K, A, T, 2],
    agent_block_*: [K, A, B, 2]; margin: float64[A] (slack included), metres.
    """
    num_candidates, num_steps = ego_low.shape[0], ego_low.shape[1]
    num_modes, num_agents = agent_block_low.shape[0], agent_block_low.shape[1]
    rows = np.empty((4, 4096), np.int64)
    count = 0
    for g in range(group_low.shape[0]):
        for k in range(num_modes):
            for a in range(num_agents):
                for b in range(agent_block_low.shape[2]):
                    low_b = (agent_block_low[k, a, b, 0], agent_block_low[k, a, b, 1])
                    high_b = (agent_block_high[k, a, b, 0], agent_block_high[k, a, b, 1])
                    group = (group_low[g, b, 0], group_low[g, b, 1])
                    if not _meet(
                        group, (group_high[g, b, 0], group_high[g, b, 1]), low_b, high_b, margin[a]
                    ):
                        continue
                    for m in range(g * group_size, min((g + 1) * group_size, num_candidates)):
                        if not _meet(
                            (ego_block_low[m, b, 0], ego_block_low[m, b, 1]),
                            (ego_block_high[m, b, 0], ego_block_high[m, b, 1]),
                            low_b,
                            high_b,
                            margin[a],
                        ):
                            continue
                        for t in range(b * block_steps, min((b + 1) * block_steps, num_steps)):
                            if not _meet(
                                (ego_low[m, t, 0], ego_low[m, t, 1]),
                                (ego_high[m, t, 0], ego_high[m, t, 1]),
                                (agent_low[k, a, t, 0], agent_low[k, a, t, 1]),
                                (agent_high[k, a, t, 0], agent_high[k, a, t, 1]),
                                margin[a],
                            ):
                                continue
                            if count == rows.shape[1]:
                                rows = _grow(rows)
                            rows[0, count], rows[1, count] = m, k
                            rows[2, count], rows[3, count] = a, t
                            count += 1
    return rows[:, :count]


@njit
def bilinear_inside(cell: NDArrayF64, grid: NDArrayF64) -> tuple[NDArrayF64, bool]:
    """(float64[N] bilinear values of `grid[NY, NX]` at `cell[N, 2]` (x, y in grid units),
    whether every cell lies inside the grid); stops at the first cell outside (the caller
    then runs the numpy path, which has the exact fallback). The same operations in the same
    order as `DrivableAreaGrid.distance_outside_drivable_area`."""
    num_y, num_x = grid.shape
    value = np.empty(cell.shape[0])
    for n in range(cell.shape[0]):
        x, y = cell[n, 0], cell[n, 1]
        if not (x >= 0 and x < num_x - 1 and y >= 0 and y < num_y - 1):
            return value, False
        ix, iy = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - ix, y - iy
        value[n] = (
            grid[iy, ix] * (1 - fx) * (1 - fy)
            + grid[iy, ix + 1] * fx * (1 - fy)
            + grid[iy + 1, ix] * (1 - fx) * fy
            + grid[iy + 1, ix + 1] * fx * fy
        )
    return value, True
