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
    touching_counts: bool = True,
) -> NDArrayBool:
    """Whether box a and box b overlap, for broadcastable batches.

    xy: float64[..., 2]; heading: float64[...]; size: float64[..., 2] (length, width).
    Returns bool[...] over the broadcast batch shape. Exact separating-axis test on the four
    edge normals, computed as interval overlaps of the half-extents (no corner arrays).
    touching_counts: boxes that only touch (an edge or a corner) overlap; False: only boxes
    whose intersection has a positive area do (strict interval overlaps on every axis).
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
    inside = np.less_equal if touching_counts else np.less
    return np.all(inside(dist_on_a, reach_on_a), axis=-1) & np.all(
        inside(dist_on_b, reach_on_b), axis=-1
    )


def _unit_axes(heading: NDArrayF64) -> NDArrayF64:
    """float64[..., 2, 2]: the box's longitudinal and lateral unit vectors."""
    cos, sin = np.cos(heading), np.sin(heading)
    return np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)


def boxes_distance(
    xy_a: NDArrayF64,
    heading_a: NDArrayF64,
    size_a: NDArrayF64,
    xy_b: NDArrayF64,
    heading_b: NDArrayF64,
    size_b: NDArrayF64,
) -> NDArrayF64:
    """Euclidean distance between the footprints of box a and box b; 0 where they overlap.

    xy: float64[..., 2] centres, metres; heading: float64[...] radians; size: float64[..., 2]
    (length, width), metres. All broadcast. Returns float64[...] over the broadcast batch shape.
    For two disjoint convex polygons the closest pair always involves a corner of one and an
    edge of the other, so this is the minimum of the 2 x 4 x 4 corner-to-edge distances.
    """
    corners_a = box_corners(np.asarray(xy_a, np.float64), heading_a, np.asarray(size_a, np.float64))
    corners_b = box_corners(np.asarray(xy_b, np.float64), heading_b, np.asarray(size_b, np.float64))
    corners_a, corners_b = np.broadcast_arrays(corners_a, corners_b)
    distance = np.minimum(
        _corners_to_edges_distance(corners_a, corners_b),
        _corners_to_edges_distance(corners_b, corners_a),
    )
    overlap = boxes_overlap(xy_a, heading_a, size_a, xy_b, heading_b, size_b)
    return np.where(overlap, 0.0, distance)


def _corners_to_edges_distance(points: NDArrayF64, polygon: NDArrayF64) -> NDArrayF64:
    """float64[...]: the smallest distance from any of points[..., 4, 2] to an edge of polygon[..., 4, 2]."""
    start = polygon[..., None, :, :]  # [..., 1, edges, 2]
    delta = np.roll(polygon, -1, axis=-2)[..., None, :, :] - start
    offset = points[..., :, None, :] - start  # [..., points, edges, 2]
    length_sq = np.maximum(np.sum(delta * delta, axis=-1), 1e-18)
    ratio = np.clip(np.sum(offset * delta, axis=-1) / length_sq, 0.0, 1.0)
    gap = offset - ratio[..., None] * delta
    return np.sqrt(np.min(np.sum(gap * gap, axis=(-1)), axis=(-2, -1)))


def boxes_overlap_convex_polygons(
    xy: NDArrayF64, heading: NDArrayF64, size_m: NDArrayF64, polygons: NDArrayF64
) -> NDArrayBool:
    """Whether each box overlaps each convex polygon (touching counts), by separating axes.

    xy: float64[..., 2]; heading: float64[...]; size_m: float64[..., 2] (length, width), metres.
    polygons: float64[..., P, 2] vertices in order (either winding), broadcast against the boxes'
    batch shape; pad a polygon with fewer vertices by repeating its last vertex (zero-length
    edges add no axis). Returns bool[...]. For a non-convex polygon the answer is conservative
    (it may say "overlap" where only the polygon's convex hull overlaps).
    """
    corners = box_corners(np.asarray(xy, np.float64), heading, np.asarray(size_m, np.float64))
    polygons = np.asarray(polygons, np.float64)
    edges = np.roll(polygons, -1, axis=-2) - polygons
    polygon_normals = np.stack([-edges[..., 1], edges[..., 0]], axis=-1)  # [..., P, 2]
    box_axes = _unit_axes(np.asarray(heading, np.float64))  # [..., 2, 2]
    box_axes, polygon_normals = _broadcast_leading(box_axes, polygon_normals)
    axes = np.concatenate([box_axes, polygon_normals], axis=-2)  # [..., 2 + P, 2]
    on_axes_box = np.einsum("...nd,...cd->...nc", axes, corners)
    on_axes_polygon = np.einsum("...nd,...pd->...np", axes, polygons)
    separated = (on_axes_box.max(-1) < on_axes_polygon.min(-1)) | (
        on_axes_polygon.max(-1) < on_axes_box.min(-1)
    )
    return ~np.any(separated, axis=-1)


def _broadcast_leading(first: NDArrayF64, second: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
    """Broadcast two [..., n, 2] arrays over their leading axes only."""
    batch = np.broadcast_shapes(first.shape[:-2], second.shape[:-2])
    return (
        np.broadcast_to(first, batch + first.shape[-2:]),
        np.broadcast_to(second, batch + second.shape[-2:]),
    )
