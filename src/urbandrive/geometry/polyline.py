"""Polylines: arc length, resampling, projection of points, interpolation. float64, metres.

A polyline is `float64[P, 2]` with P >= 2 (consecutive duplicate points are allowed and
treated as zero-length segments).
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64, NDArrayInt


def arc_length(polyline: NDArrayF64) -> NDArrayF64:
    """float64[..., P]: distance along the polyline from its first point to each point."""
    steps = np.linalg.norm(np.diff(polyline, axis=-2), axis=-1)
    zeros = np.zeros(steps.shape[:-1] + (1,))
    return np.concatenate([zeros, np.cumsum(steps, axis=-1)], axis=-1)


def polyline_headings(polyline: NDArrayF64) -> NDArrayF64:
    """float64[P]: direction of travel at each point (of the segment leaving it; last: entering)."""
    deltas = np.diff(polyline, axis=0)
    headings = np.arctan2(deltas[:, 1], deltas[:, 0])
    return np.concatenate([headings, headings[-1:]])


def interpolate_along(polyline: NDArrayF64, s_m: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
    """Points and headings at arc lengths `s_m: float64[N]`, clamped to the polyline's ends.

    Returns xy: float64[N, 2], heading: float64[N].
    """
    _check_polyline(polyline)
    cumulative = arc_length(polyline)
    s_m = np.clip(np.asarray(s_m, dtype=np.float64), 0.0, cumulative[-1])
    segment = np.clip(np.searchsorted(cumulative, s_m, side="right") - 1, 0, len(polyline) - 2)
    seg_len = cumulative[segment + 1] - cumulative[segment]
    ratio = np.divide(s_m - cumulative[segment], seg_len, out=np.zeros_like(s_m), where=seg_len > 0)
    start, end = polyline[segment], polyline[segment + 1]
    xy = start + ratio[:, None] * (end - start)
    heading = _segment_headings(polyline)[segment]
    return xy, heading


def resample_by_count(polyline: NDArrayF64, num_points: int) -> NDArrayF64:
    """float64[num_points, 2]: points equally spaced in arc length, ends kept."""
    if num_points < 2:
        raise ValueError(f"num_points must be >= 2, got {num_points}")
    total = arc_length(polyline)[-1]
    return interpolate_along(polyline, np.linspace(0.0, total, num_points))[0]


def resample_by_spacing(polyline: NDArrayF64, spacing_m: float) -> NDArrayF64:
    """float64[Q, 2]: points about `spacing_m` apart (exactly equal spacing), ends kept, Q >= 2."""
    if spacing_m <= 0:
        raise ValueError(f"spacing_m must be > 0, got {spacing_m}")
    total = arc_length(polyline)[-1]
    return resample_by_count(polyline, max(2, int(np.ceil(total / spacing_m)) + 1))


def project_points(
    polyline: NDArrayF64, points: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64, NDArrayInt]:
    """Closest point on the polyline for each of `points: float64[N, 2]`.

    Returns s_m: float64[N] (arc length of the closest point), lateral_m: float64[N] (signed
    distance, positive to the left of the direction of travel), segment: int64[N].
    Memory is N x (P - 1); chunk very large inputs.
    """
    _check_polyline(polyline)
    points = np.asarray(points, dtype=np.float64)
    start, deltas = polyline[:-1], np.diff(polyline, axis=0)  # [S, 2]
    seg_len_sq = np.einsum("sd,sd->s", deltas, deltas)
    offsets = points[:, None, :] - start[None]  # [N, S, 2]
    ratio = np.divide(
        np.einsum("nsd,sd->ns", offsets, deltas),
        seg_len_sq,
        out=np.zeros(offsets.shape[:2]),
        where=seg_len_sq > 0,
    )
    ratio = np.clip(ratio, 0.0, 1.0)
    closest = start[None] + ratio[..., None] * deltas[None]
    dist_sq = np.sum((points[:, None, :] - closest) ** 2, axis=-1)
    segment = np.argmin(dist_sq, axis=1)
    rows = np.arange(points.shape[0])
    cumulative = arc_length(polyline)
    s_m = cumulative[segment] + ratio[rows, segment] * np.sqrt(seg_len_sq[segment])
    direction = _segment_directions(polyline)[segment]
    offset = points - closest[rows, segment]
    cross = direction[:, 0] * offset[:, 1] - direction[:, 1] * offset[:, 0]
    distance = np.sqrt(dist_sq[rows, segment])
    lateral = np.where(cross >= 0, distance, -distance)
    return s_m, lateral, segment.astype(np.int64)


def midline(left: NDArrayF64, right: NDArrayF64, num_points: int | None = None) -> NDArrayF64:
    """Centre line between two boundaries drawn in the same direction: float64[Q, 2].

    Both are resampled to the same count (default: enough for ~1 m spacing) and averaged.
    """
    if num_points is None:
        longest = max(arc_length(left)[-1], arc_length(right)[-1])
        num_points = max(2, int(np.ceil(longest)) + 1)
    return 0.5 * (resample_by_count(left, num_points) + resample_by_count(right, num_points))


def _segment_directions(polyline: NDArrayF64) -> NDArrayF64:
    """float64[P - 1, 2] unit directions; zero-length segments borrow a neighbour's."""
    headings = _segment_headings(polyline)
    return np.stack([np.cos(headings), np.sin(headings)], axis=-1)


def _segment_headings(polyline: NDArrayF64) -> NDArrayF64:
    deltas = np.diff(polyline, axis=0)
    lengths = np.linalg.norm(deltas, axis=-1)
    headings = np.arctan2(deltas[:, 1], deltas[:, 0])
    nonzero = np.flatnonzero(lengths > 0)
    if nonzero.size == 0:
        return np.zeros_like(headings)
    nearest = nonzero[
        np.clip(np.searchsorted(nonzero, np.arange(len(lengths))), 0, nonzero.size - 1)
    ]
    return headings[nearest]


def _check_polyline(polyline: NDArrayF64) -> None:
    if polyline.ndim != 2 or polyline.shape[-1] != 2 or polyline.shape[0] < 2:
        raise DataError(f"a polyline must be float[P >= 2, 2], got shape {polyline.shape}")


def segment_headings(polyline: NDArrayF64) -> NDArrayF64:
    """float64[P - 1]: heading of each segment, radians; zero-length segments borrow a neighbour's."""
    _check_polyline(polyline)
    return _segment_headings(np.asarray(polyline, dtype=np.float64))
