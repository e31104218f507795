"""Compiled kernels of the proposal generators (numba); numpy stays the reference.

The switch and the fallback without numba are `urbandrive.metrics.kernels`'.
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics.kernels import njit


@njit
def nearest_obstacle_gaps(
    offsets_m: NDArrayF64,
    reach_m: NDArrayF64,
    obstacle_d_m: NDArrayF64,
    valid: NDArrayBool,
    center_s_m: NDArrayF64,
    rear_s_m: NDArrayF64,
    s_m: NDArrayF64,
    half_length_m: float,
    step: int,
) -> tuple[NDArrayF64, NDArrayInt]:
    """(gap float64[P], nearest int64[P]) at `step`: per path at lateral offset offsets_m[P]
    and arc length s_m[P], the smallest rear_s_m[o, step] - s_m[p] - half_length_m over the
    obstacles o [O, H] valid and across the path (|d - offset| < reach_m[o], as
    `PathObstacles.blocking`) whose centre is ahead (center_s_m[o, step] > s_m[p]), inf if
    none; nearest is its index, the first of equal gaps, 0 if none (np.argmin)."""
    num_paths, num_obstacles = s_m.shape[0], center_s_m.shape[0]
    gap = np.full(num_paths, np.inf)
    nearest = np.zeros(num_paths, np.int64)
    for p in range(num_paths):
        for o in range(num_obstacles):
            if not (valid[o, step] and center_s_m[o, step] > s_m[p]):
                continue
            if not abs(obstacle_d_m[o, step] - offsets_m[p]) < reach_m[o]:
                continue
            value = rear_s_m[o, step] - s_m[p] - half_length_m
            if value < gap[p]:
                gap[p], nearest[p] = value, o
    return gap, nearest
