"""Lane curves: straight runs, cubic Bezier turns and tapers, boundaries offset from a centre.

Every curve comes back as `(points: float64[P, 2], tangents: float64[P, 2])`, map frame,
metres, tangents unit length, so boundaries are offset along the exact normals.
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayF64

#: Bezier parameters: uniform, plus two points close to each end so the first and last
#: segments point along the end tangents (successor headings agree to ~0.5 % of the turn).
_BEZIER_PARAMS = np.unique(np.concatenate([np.linspace(0.0, 1.0, 21), [0.004, 0.996]]))


def heading_vector(heading_rad: float) -> NDArrayF64:
    """float64[2], unit vector of a heading (radians CCW from +x)."""
    return np.array([np.cos(heading_rad), np.sin(heading_rad)])


def straight_curve(
    start_xy: NDArrayF64, end_xy: NDArrayF64, spacing_m: float = 5.0
) -> tuple[NDArrayF64, NDArrayF64]:
    """A straight run from start to end (float64[2] each) with points about `spacing_m` apart."""
    delta = end_xy - start_xy
    length_m = float(np.linalg.norm(delta))
    if length_m <= 0:
        raise ValueError(f"straight run from {start_xy} to itself")
    count = max(2, int(np.ceil(length_m / spacing_m)) + 1)
    ratios = np.linspace(0.0, 1.0, count)
    points = start_xy + np.multiply.outer(ratios, delta)
    return points, np.broadcast_to(delta / length_m, points.shape).copy()


def bezier_curve(control: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
    """Cubic Bezier through control points float64[4, 2], sampled at `_BEZIER_PARAMS`."""
    t = _BEZIER_PARAMS[:, None]
    u = 1.0 - t
    p0, p1, p2, p3 = control
    points = u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3
    derivative = 3 * u**2 * (p1 - p0) + 6 * u * t * (p2 - p1) + 3 * t**2 * (p3 - p2)
    tangents = derivative / np.linalg.norm(derivative, axis=1, keepdims=True)
    return points, tangents


def connector_curve(
    start_xy: NDArrayF64, start_heading_rad: float, end_xy: NDArrayF64, end_heading_rad: float
) -> tuple[NDArrayF64, NDArrayF64]:
    """A smooth curve leaving start along its heading and arriving at end along its heading.

    Turns: a near-circular arc (cubic Bezier) as wide as the shorter leg to the corner where
    the tangent rays meet, plus a straight run on the longer leg. Parallel headings (straight
    on, lane shifts): an S-curve with handles of half the along-track distance.
    """
    t0, t3 = heading_vector(start_heading_rad), heading_vector(end_heading_rad)
    delta = end_xy - start_xy
    cross = t0[0] * t3[1] - t0[1] * t3[0]
    if abs(cross) < 1e-9:
        along = max(float(delta @ t0), 1e-3)
        if np.allclose(delta, along * t0, atol=1e-9):
            return straight_curve(start_xy, end_xy, spacing_m=2.0)
        control = np.stack([start_xy, start_xy + along / 2 * t0, end_xy - along / 2 * t3, end_xy])
        return bezier_curve(control)
    # start + a t0 = corner = end - b t3
    a, b = np.linalg.solve(np.stack([t0, t3], axis=1), delta)
    if a <= 0 or b <= 0:
        raise ValueError(f"no forward turn from {start_xy} to {end_xy}")
    leg = min(a, b)
    turn_rad = abs(float(np.arctan2(cross, t0 @ t3)))
    radius = leg / np.tan(turn_rad / 2)
    handle = 4.0 / 3.0 * np.tan(turn_rad / 4) * radius
    arc_start, arc_end = start_xy + (a - leg) * t0, end_xy - (b - leg) * t3
    arc = bezier_curve(
        np.stack([arc_start, arc_start + handle * t0, arc_end - handle * t3, arc_end])
    )
    parts = [arc]
    if a - leg > 1e-6:
        parts.insert(0, straight_curve(start_xy, arc_start, spacing_m=2.0))
    if b - leg > 1e-6:
        parts.append(straight_curve(arc_end, end_xy, spacing_m=2.0))
    return join_curves(*parts)


def join_curves(*parts: tuple[NDArrayF64, NDArrayF64]) -> tuple[NDArrayF64, NDArrayF64]:
    """Concatenate curves whose ends meet, dropping each duplicated joint point."""
    points = [parts[0][0]] + [p[1:] for p, _ in parts[1:]]
    tangents = [parts[0][1]] + [t[1:] for _, t in parts[1:]]
    return np.concatenate(points), np.concatenate(tangents)


def offset_boundaries(
    points: NDArrayF64, tangents: NDArrayF64, width_m: float
) -> tuple[NDArrayF64, NDArrayF64]:
    """Left and right boundaries float64[P, 2], `width_m / 2` either side along the normals."""
    left_normal = np.stack([-tangents[:, 1], tangents[:, 0]], axis=1)
    half = width_m / 2
    return points + half * left_normal, points - half * left_normal
