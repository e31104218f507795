"""Compiled kernels of the proposal generators (numba); numpy stays the reference.

The switch and the fallback without numba are `urbandrive.metrics.kernels`'.
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics.kernels import njit


@njit
def nearest_obstacle_gaps(
    blocking: NDArrayBool,
    center_s_m: NDArrayF64,
    rear_s_m: NDArrayF64,
    s_m: NDArrayF64,
    half_length_m: float,
    step: int,
) -> tuple[NDArrayF64, NDArrayInt]:
    """(gap float64[P], nearest int64[P]) at `step`: per path, the smallest
    rear_s_m[o, step] - s_m[p] - half_length_m over the obstacles o blocking it
    (blocking: bool[P, O, H]) whose centre is ahead (center_s_m[o, step] > s_m[p]), inf if
    none; nearest is its index, the first of equal gaps, 0 if none (np.argmin)."""
    num_paths, num_obstacles = blocking.shape[0], blocking.shape[1]
    gap = np.full(num_paths, np.inf)
    nearest = np.zeros(num_paths, np.int64)
    for p in range(num_paths):
        for o in range(num_obstacles):
            if blocking[p, o, step] and center_s_m[o, step] > s_m[p]:
                value = rear_s_m[o, step] - s_m[p] - half_length_m
                if value < gap[p]:
                    gap[p], nearest[p] = value, o
    return gap, nearest
