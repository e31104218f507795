"""Oriented boxes (agent footprints) and their batched overlap test (separating axes)."""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64

#: Corner order of `box_corners`: front-left, rear-left, rear-right, front-right.
_CORNER_SIGNS = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])


def box_corners(xy: NDArrayF64, heading: NDArrayF64, size_m: NDArrayF64) -> NDArrayF64:
    """Corners of oriented boxes.

    xy: float64[..., 2] centres; heading: float64[...] radians; size_m: float64[..., 2]
    (length, width). All broadcast. Returns float64[..., 4, 2] (front-left, rear-left,
    rear-right, front-right).
    """
    xy, heading, size_m = np.asarray(xy), np.asarray(heading), np.asarray(size_m)
    half = 0.5 * size_m[..., None, :] * _CORNER_SIGNS  # [..., 4, 2] in the box frame
    cos, sin = np.cos(heading)[..., None], np.sin(heading)[..., None]
    x = cos * half[..., 0] - sin * half[..., 1]
    y = sin * half[..., 0] + cos * half[..., 1]
    return np.stack([x, y], axis=-1) + xy[..., None, :]


def boxes_overlap(
    xy_a: NDArrayF64,
    heading_a: NDArrayF64,
    size_a: NDArrayF64,
    xy_b: NDArrayF64,
    heading_b: NDArrayF64,
    size_b: NDArrayF64,
) -> NDArrayBool:
    """Whether box a and box b overlap (touching counts), for broadcastable batches.

    xy: float64[..., 2]; heading: float64[...]; size: float64[..., 2] (length, width).
    Returns bool[...] over the broadcast batch shape. Exact separating-axis test on the four
    edge normals, computed as interval overlaps of the half-extents (no corner arrays).
    """
    xy_a, xy_b = np.asarray(xy_a, np.float64), np.asarray(xy_b, np.float64)
    size_a, size_b = np.asarray(size_a, np.float64), np.asarray(size_b, np.float64)
    heading_a, heading_b = np.asarray(heading_a), np.asarray(heading_b)
    centre = xy_b - xy_a
    axes_a = _unit_axes(heading_a)  # [..., 2 axes, 2]
    axes_b = _unit_axes(heading_b)
    half_a, half_b = 0.5 * size_a, 0.5 * size_b
    # |axis_a_i . axis_b_j| for every pair: [..., 2, 2]
    cross_abs = np.abs(np.einsum("...id,...jd->...ij", axes_a, axes_b))
    # On the axes of a: distance of centres vs half-extent of a + projected half-extent of b.
    dist_on_a = np.abs(np.einsum("...id,...d->...i", axes_a, centre))
    reach_on_a = half_a + np.einsum("...ij,...j->...i", cross_abs, half_b)
    dist_on_b = np.abs(np.einsum("...jd,...d->...j", axes_b, centre))
    reach_on_b = half_b + np.einsum("...ij,...i->...j", cross_abs, half_a)
    return np.all(dist_on_a <= reach_on_a, axis=-1) & np.all(dist_on_b <= reach_on_b, axis=-1)


def _unit_axes(heading: NDArrayF64) -> NDArrayF64:
    """float64[..., 2, 2]: the box's longitudinal and lateral unit vectors."""
    cos, sin = np.cos(heading), np.sin(heading)
    return np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
