"""Frenet frame along a lane sequence: arc length s and signed lateral offset d (left +).

The reference is a polyline. So that (x, y) <-> (s, d) is one-to-one near the path, the
offset direction is not the segment normal but a "miter" vector per point (the bisector of
the neighbouring segments' normals, scaled so its component along each of them is 1),
blended linearly along each segment: the points at a fixed d then form the exact d-offset of
every segment, and both directions have closed forms. Everything is float64 in the map frame.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import shapely
from scipy.spatial import cKDTree

from urbandrive.core import compiled
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Route
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.geometry.angles import wrap_angle
from urbandrive.geometry.polyline import arc_length, interpolate_along, project_points

if TYPE_CHECKING:
    from urbandrive.maps.road_map import RoadMap

#: Consecutive points closer than this are merged when a path is built, metres.
MIN_POINT_SPACING_M = 0.05
#: Miter vectors are capped at this length (a 150-degree turn) to stay finite at hairpins.
_MAX_MITER_LENGTH = 1.0 / np.cos(np.deg2rad(75.0))
#: `to_frenet` first tries the 2 * _WINDOW segments around the nearest vertex.
_WINDOW = 2
#: The compiled nearest-vertex grid covers the path's bounding box grown by this, metres
#: (points beyond it compare every vertex), in at most `_GRID_MAX_CELLS` square cells.
_GRID_MARGIN_M = 30.0
_GRID_MAX_CELLS = 4096
#: The grid (a few ms to build) is built by the first query of at least this many points;
#: fewer use the KD-tree until then (the same vertices).
_GRID_MIN_POINTS = 256
#: A path whose cells would be wider than this many median segment lengths (a long route:
#: each cell would list many vertices, and building it would take long) keeps the KD-tree.
_GRID_MAX_CELL_SEGMENTS = 4.0


@dataclass(frozen=True)
class ReferencePath:
    """A de-duplicated polyline with per-point attributes (P >= 2), map frame.

    xy: float64[P, 2], metres. s_m: float64[P], arc length from the first point.
    heading: float64[P], radians, tangent at each point (bisector at interior points).
    curvature: float64[P], 1/m, turn angle over the mean neighbouring segment length (0 at ends).
    lane_ids: int64[P], lane of the segment leaving each point (last point: its own lane).
    speed_limit_mps: float64[P], that lane's limit.
    miter: float64[P, 2], offset direction per unit of d (see the module docstring).
    Not slotted: the segment tree is built lazily on the first `to_frenet`.
    """

    xy: NDArrayF64
    s_m: NDArrayF64
    heading: NDArrayF64
    curvature: NDArrayF64
    lane_ids: NDArrayInt
    speed_limit_mps: NDArrayF64
    miter: NDArrayF64

    @staticmethod
    def from_points(
        xy: NDArrayF64,
        lane_ids: NDArrayInt | None = None,
        speed_limit_mps: NDArrayF64 | None = None,
    ) -> ReferencePath:
        """Build from `xy: float64[P, 2]` (points closer than MIN_POINT_SPACING_M merged).

        lane_ids: int[P] (default -1) and speed_limit_mps: float[P] (default NaN), per point.
        """
        xy = np.asarray(xy, dtype=np.float64)
        if xy.ndim != 2 or xy.shape[1] != 2 or not np.all(np.isfinite(xy)):
            raise DataError(f"reference path: want finite float[P, 2] points, got shape {xy.shape}")
        lane_ids = np.full(len(xy), -1) if lane_ids is None else np.asarray(lane_ids)
        speed = np.full(len(xy), np.nan) if speed_limit_mps is None else np.asarray(speed_limit_mps)
        steps = np.linalg.norm(np.diff(xy, axis=0), axis=-1)
        keep = np.r_[steps >= MIN_POINT_SPACING_M, True]  # of a close pair, keep the later point
        if keep.sum() < 2:
            raise DataError(
                f"reference path: its {len(xy)} points span less than {MIN_POINT_SPACING_M} m"
            )
        xy = xy[keep]
        segment_heading, point_heading, miter = _tangents_and_miters(xy)
        s_m = arc_length(xy)
        mean_length = 0.5 * (np.diff(s_m)[:-1] + np.diff(s_m)[1:])
        turn = wrap_angle(np.diff(segment_heading))
        return ReferencePath(
            xy=xy,
            s_m=s_m,
            heading=point_heading,
            curvature=np.r_[0.0, turn / mean_length, 0.0],
            lane_ids=lane_ids[keep].astype(np.int64),
            speed_limit_mps=speed[keep].astype(np.float64),
            miter=miter,
        )

    @property
    def length_m(self) -> float:
        return float(self.s_m[-1])

    @cached_property
    def _vertex_tree(self) -> cKDTree:
        return cKDTree(self.xy)

    @cached_property
    def _vertex_grid(self) -> tuple[NDArrayF64, NDArrayInt, NDArrayInt, NDArrayInt] | None:
        """`_nearest_vertex_kernel`'s grid: (x0, y0, cell size) float64[3], cells along x and
        y int64[2], and per cell (row-major) the vertices that can be nearest to a point in it
        (every vertex closest to some point of the cell, ascending): offsets int64[C + 1] into
        members int64[M]. None for a path too long for its cells (`_GRID_MAX_CELL_SEGMENTS`)."""
        low, high = self.xy.min(0) - _GRID_MARGIN_M, self.xy.max(0) + _GRID_MARGIN_M
        size = max(float(np.sqrt(np.prod(high - low) / _GRID_MAX_CELLS)), 0.5)
        if size > _GRID_MAX_CELL_SEGMENTS * float(np.median(np.diff(self.s_m))):
            return None
        shape = np.maximum(np.ceil((high - low) / size), 1).astype(np.int64)
        geometry = np.array([low[0], low[1], size])
        offsets = np.zeros(int(shape.prod()) + 1, np.int64)
        _grid_candidates(self.xy, geometry, shape, offsets, np.empty(0, np.int64))
        members = np.empty(int(offsets[-1]), np.int64)
        _grid_candidates(self.xy, geometry, shape, offsets, members)
        return geometry, shape, offsets, members

    def _nearest_vertex(self, flat: NDArrayF64) -> NDArrayInt:
        """int64[N]: the nearest vertex of each point flat float64[N, 2] (of equally near
        ones the first), by the compiled grid (the KD-tree's where the path has none);
        ValueError for a non-finite point (as the KD-tree)."""
        grid = self._vertex_grid
        if grid is None:
            return self._vertex_tree.query(flat)[1].astype(np.int64)
        vertex = np.empty(flat.shape[0], np.int64)
        if not _nearest_vertex_kernel(flat, self.xy, *grid, vertex):
            raise ValueError("to_frenet: points must be finite")
        return vertex

    @cached_property
    def _segment_tree(self) -> shapely.STRtree:
        return shapely.STRtree(shapely.linestrings(np.stack([self.xy[:-1], self.xy[1:]], axis=1)))

    def to_cartesian(self, s_m: NDArrayF64, d_m: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
        """Map-frame points of Frenet coordinates `s_m, d_m: float64[...]` (broadcast).

        s outside [0, length] extends the end segments. Returns xy: float64[..., 2] and the
        path's heading at s: float64[...] (radians, blended between the points' tangents).
        """
        s_m, d_m = np.broadcast_arrays(np.asarray(s_m, np.float64), np.asarray(d_m, np.float64))
        if compiled.enabled() and s_m.size:
            return self._to_cartesian_compiled(s_m, d_m)
        segment = np.clip(np.searchsorted(self.s_m, s_m, side="right") - 1, 0, len(self.xy) - 2)
        start, end = self.xy[segment], self.xy[segment + 1]
        ratio = (s_m - self.s_m[segment]) / (self.s_m[segment + 1] - self.s_m[segment])
        miter_start, miter_end = self.miter[segment], self.miter[segment + 1]
        d = d_m[..., None]
        xy = (
            start
            + d * miter_start
            + ratio[..., None] * (end - start + d * (miter_end - miter_start))
        )
        turn = wrap_angle(self.heading[segment + 1] - self.heading[segment])
        heading = wrap_angle(self.heading[segment] + np.clip(ratio, 0.0, 1.0) * turn)
        return xy, heading

    def _to_cartesian_compiled(
        self, s_m: NDArrayF64, d_m: NDArrayF64
    ) -> tuple[NDArrayF64, NDArrayF64]:
        """`to_cartesian` of broadcast s_m, d_m float64[...] by `_cartesian_kernel`: the same
        values."""
        xy = np.empty(s_m.shape + (2,))
        heading = np.empty(s_m.shape)
        _cartesian_kernel(
            np.ascontiguousarray(s_m).reshape(-1), np.ascontiguousarray(d_m).reshape(-1),
            self.s_m, self.xy, self.miter, self.heading, self._segment_turn,
            xy.reshape(-1, 2), heading.reshape(-1),
        )  # fmt: skip
        return xy, heading

    def to_cartesian_pairs(self, s_m: NDArrayF64, d_m: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
        """`to_cartesian` of every pair of a row of `s_m: float64[L, H]` and a row of
        `d_m: float64[A, H]` (a lattice's longitudinal x lateral profiles), each s located on
        the path once: xy float64[L, A, H, 2] and the path's heading float64[L, H] (it does not
        depend on d). The same floats as `to_cartesian(s_m[:, None], d_m[None])`."""
        s_m, d_m = np.asarray(s_m, np.float64), np.asarray(d_m, np.float64)
        if s_m.ndim != 2 or d_m.ndim != 2 or s_m.shape[1] != d_m.shape[1]:
            raise ValueError(
                f"to_cartesian_pairs: want [L, H] and [A, H], got {s_m.shape}, {d_m.shape}"
            )
        if not (compiled.enabled() and s_m.size and d_m.size):
            _, heading = self.to_cartesian(s_m, np.zeros_like(s_m))
            return self.to_cartesian(s_m[:, None], d_m[None])[0], heading
        xy = np.empty((s_m.shape[0], d_m.shape[0], s_m.shape[1], 2))
        heading = np.empty(s_m.shape)
        _cartesian_pairs_kernel(
            np.ascontiguousarray(s_m), np.ascontiguousarray(d_m), self.s_m, self.xy, self.miter,
            self.heading, self._segment_turn, xy, heading,
        )  # fmt: skip
        return xy, heading

    @cached_property
    def _segment_turn(self) -> NDArrayF64:
        """float64[P - 1]: the tangent's turn over each segment, wrapped, radians."""
        return wrap_angle(self.heading[1:] - self.heading[:-1])

    def to_frenet(self, xy: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
        """Frenet coordinates of `xy: float64[..., 2]`: s_m, d_m: float64[...] (d > 0: left).

        Each point takes, among the segments near it, the one whose sector (between the
        miter lines at its ends) holds it with the smallest |d|; points beyond the ends
        extend the end segments (s < 0 or s > length). Fast path: the segments around the
        nearest vertex (KD-tree; compiled: `_vertex_grid`); points none of them holds search
        the segment tree.
        """
        xy = np.asarray(xy, dtype=np.float64)
        flat = np.ascontiguousarray(xy.reshape(-1, 2))
        if compiled.enabled() and flat.shape[0]:
            s_out, d_out = np.empty(flat.shape[0]), np.empty(flat.shape[0])
            lost = np.empty(flat.shape[0], np.bool_)
            if flat.shape[0] >= _GRID_MIN_POINTS or "_vertex_grid" in self.__dict__:
                vertex = self._nearest_vertex(flat)
            else:
                vertex = self._vertex_tree.query(flat)[1].astype(np.int64)
            _frenet_window_kernel(
                flat, vertex, _WINDOW, self.s_m, self.xy, self.miter, s_out, d_out, lost
            )
        else:
            _, vertex = self._vertex_tree.query(flat)
            s_out, d_out, lost = self._frenet_on_window(flat, vertex)
        if np.any(lost):
            s_out[lost], d_out[lost] = self._to_frenet_searching(flat[lost])
        return s_out.reshape(xy.shape[:-1]), d_out.reshape(xy.shape[:-1])

    def _frenet_on_window(
        self, flat: NDArrayF64, vertex: NDArrayInt
    ) -> tuple[NDArrayF64, NDArrayF64, np.ndarray]:
        """(s, d, lost) of `flat: float64[N, 2]` on the 2 * _WINDOW segments around each
        nearest vertex `vertex: int[N]` (the smallest |d| of the sectors holding the point);
        lost: bool[N], no sector holds it (s, d then meaningless)."""
        last = len(self.xy) - 2
        segment = np.clip(vertex[:, None] + np.arange(-_WINDOW, _WINDOW), 0, last)  # [N, 2W]
        s_m, d_m, inside = self._frenet_on_segments(
            np.repeat(flat, 2 * _WINDOW, axis=0), segment.reshape(-1)
        )
        score = np.where(inside, np.abs(d_m), np.inf).reshape(segment.shape)
        best = np.argmin(score, axis=1) + np.arange(len(flat)) * 2 * _WINDOW
        return s_m[best], d_m[best], ~np.isfinite(score.min(axis=1))

    def _to_frenet_searching(self, flat: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
        """(s, d) of `flat: float64[M, 2]` over every segment near each point (segment tree)."""
        points = shapely.points(flat)
        (_, nearest), nearest_distance = self._segment_tree.query_nearest(
            points, return_distance=True, all_matches=False
        )
        point_index, segment = self._segment_tree.query(
            points, predicate="dwithin", distance=1.5 * nearest_distance + 0.5
        )
        s_m, d_m, inside = self._frenet_on_segments(flat[point_index], segment)
        score = np.where(inside, np.abs(d_m), np.inf)
        order = np.lexsort((score, point_index))
        best = order[np.r_[True, np.diff(point_index[order]) != 0]]
        s_out, d_out = s_m[best], d_m[best]
        lost = ~np.isfinite(score[best])  # in no sector (e.g. behind a capped hairpin)
        if np.any(lost):
            s_out[lost], d_out[lost] = self._nearest_projection(flat[lost], nearest[lost])
        return s_out, d_out

    def _frenet_on_segments(
        self, xy: NDArrayF64, segment: NDArrayInt
    ) -> tuple[NDArrayF64, NDArrayF64, np.ndarray]:
        """(s, d, inside-the-sector) of points `xy: float64[M, 2]` against `segment: int[M]`."""
        start, delta = self.xy[segment], self.xy[segment + 1] - self.xy[segment]
        length = self.s_m[segment + 1] - self.s_m[segment]
        unit = delta / length[:, None]
        offset = xy - start
        d_m = unit[:, 0] * offset[:, 1] - unit[:, 1] * offset[:, 0]
        miter_start, miter_end = self.miter[segment], self.miter[segment + 1]
        scale = length + d_m * np.einsum("md,md->m", miter_end - miter_start, unit)
        along = np.einsum("md,md->m", offset - d_m[:, None] * miter_start, unit)
        ratio = along / np.where(scale > 0, scale, np.inf)
        tolerance = 1e-9
        last = len(self.xy) - 2
        inside = (scale > 0) & ((ratio >= -tolerance) | (segment == 0))
        inside &= (ratio <= 1 + tolerance) | (segment == last)
        return self.s_m[segment] + ratio * length, d_m, inside

    def _nearest_projection(
        self, xy: NDArrayF64, segment: NDArrayInt
    ) -> tuple[NDArrayF64, NDArrayF64]:
        """(s, d) of `xy: float64[M, 2]` by plain projection on their nearest segments."""
        start, delta = self.xy[segment], self.xy[segment + 1] - self.xy[segment]
        length = self.s_m[segment + 1] - self.s_m[segment]
        offset = xy - start
        ratio = np.clip(np.einsum("md,md->m", offset, delta) / length**2, 0.0, 1.0)
        foot_offset = offset - ratio[:, None] * delta
        side = np.sign(delta[:, 0] * foot_offset[:, 1] - delta[:, 1] * foot_offset[:, 0])
        return self.s_m[segment] + ratio * length, side * np.linalg.norm(foot_offset, axis=-1)


@compiled.njit
def _frenet_window_kernel(
    flat: NDArrayF64,
    vertex: NDArrayInt,
    window: int,
    path_s: NDArrayF64,
    path_xy: NDArrayF64,
    miter: NDArrayF64,
    s_out: NDArrayF64,
    d_out: NDArrayF64,
    lost: np.ndarray,
) -> None:
    """`ReferencePath._frenet_on_window` point by point: fills s_out, d_out float64[N] and
    lost bool[N] for flat float64[N, 2] and vertex int64[N], the path's s_m [P], xy [P, 2] and
    miter [P, 2]; the operations of `_frenet_on_segments` in the same order, the first
    smallest |d| as np.argmin takes it."""
    last = path_xy.shape[0] - 2
    for n in range(flat.shape[0]):
        best, best_s, best_d = np.inf, 0.0, 0.0
        first = True
        for j in range(-window, window):
            segment = min(max(vertex[n] + j, 0), last)
            length = path_s[segment + 1] - path_s[segment]
            unit_x = (path_xy[segment + 1, 0] - path_xy[segment, 0]) / length
            unit_y = (path_xy[segment + 1, 1] - path_xy[segment, 1]) / length
            offset_x, offset_y = flat[n, 0] - path_xy[segment, 0], flat[n, 1] - path_xy[segment, 1]
            d = unit_x * offset_y - unit_y * offset_x
            scale = length + d * (
                (miter[segment + 1, 0] - miter[segment, 0]) * unit_x
                + (miter[segment + 1, 1] - miter[segment, 1]) * unit_y
            )
            along = (offset_x - d * miter[segment, 0]) * unit_x + (
                offset_y - d * miter[segment, 1]
            ) * unit_y
            ratio = along / (scale if scale > 0 else np.inf)
            inside = (
                scale > 0
                and (ratio >= -1e-9 or segment == 0)
                and (ratio <= 1 + 1e-9 or segment == last)
            )
            score = abs(d) if inside else np.inf
            if first or score < best:
                best, best_s, best_d, first = score, path_s[segment] + ratio * length, d, False
        s_out[n], d_out[n], lost[n] = best_s, best_d, not np.isfinite(best)


@compiled.njit
def _grid_candidates(
    path_xy: NDArrayF64,
    geometry: NDArrayF64,
    shape: NDArrayInt,
    offsets: NDArrayInt,
    members: NDArrayInt,
) -> None:
    """Fill `ReferencePath._vertex_grid`: with members empty, the counts (offsets[C + 1]);
    then the members. A vertex is kept for a cell when its least distance to the cell is
    within the least (over vertices) greatest distance, widened by 1e-6 m^2 for rounding."""
    num_x, num_y = shape[0], shape[1]
    for cell in range(num_x * num_y):
        x_low = geometry[0] + (cell // num_y) * geometry[2]
        y_low = geometry[1] + (cell % num_y) * geometry[2]
        x_high, y_high = x_low + geometry[2], y_low + geometry[2]
        bound = np.inf
        for v in range(path_xy.shape[0]):
            far_x = max(abs(path_xy[v, 0] - x_low), abs(path_xy[v, 0] - x_high))
            far_y = max(abs(path_xy[v, 1] - y_low), abs(path_xy[v, 1] - y_high))
            bound = min(bound, far_x * far_x + far_y * far_y)
        bound = bound * (1.0 + 1e-9) + 1e-6
        count = 0
        for v in range(path_xy.shape[0]):
            near_x = max(x_low - path_xy[v, 0], 0.0, path_xy[v, 0] - x_high)
            near_y = max(y_low - path_xy[v, 1], 0.0, path_xy[v, 1] - y_high)
            if near_x * near_x + near_y * near_y <= bound:
                if members.shape[0]:
                    members[offsets[cell] + count] = v
                count += 1
        if not members.shape[0]:
            offsets[cell + 1] = offsets[cell] + count


@compiled.njit
def _nearest_vertex_kernel(
    flat: NDArrayF64,
    path_xy: NDArrayF64,
    geometry: NDArrayF64,
    shape: NDArrayInt,
    offsets: NDArrayInt,
    members: NDArrayInt,
    vertex: NDArrayInt,
) -> bool:
    """Fill vertex int64[N] with the nearest of the path's xy [P, 2] to each point of flat
    float64[N, 2] (squared distance dx * dx + dy * dy, the first of equal ones): the cell's
    members (`_grid_candidates`) inside the grid, every vertex outside it. False (vertex
    unset) if a point is not finite."""
    num_x, num_y = shape[0], shape[1]
    for n in range(flat.shape[0]):
        x, y = flat[n, 0], flat[n, 1]
        if not (np.isfinite(x) and np.isfinite(y)):
            return False
        column = np.floor((x - geometry[0]) / geometry[2])
        row = np.floor((y - geometry[1]) / geometry[2])
        inside = 0 <= column < num_x and 0 <= row < num_y
        start, stop = 0, path_xy.shape[0]
        if inside:
            cell = int(column) * num_y + int(row)
            start, stop = offsets[cell], offsets[cell + 1]
        best, best_distance = -1, np.inf
        for m in range(start, stop):
            v = members[m] if inside else m
            dx, dy = x - path_xy[v, 0], y - path_xy[v, 1]
            distance = dx * dx + dy * dy
            if distance < best_distance or best < 0:
                best, best_distance = v, distance
        vertex[n] = best
    return True


@compiled.njit
def _cartesian_kernel(
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    path_s: NDArrayF64,
    path_xy: NDArrayF64,
    miter: NDArrayF64,
    heading: NDArrayF64,
    turn: NDArrayF64,
    xy_out: NDArrayF64,
    heading_out: NDArrayF64,
) -> None:
    """`ReferencePath.to_cartesian` point by point: xy_out[N, 2] and heading_out[N] of s_m,
    d_m float64[N], the path's s_m [P], xy [P, 2], miter [P, 2], heading [P] and wrapped turn
    per segment [P - 1]; the numpy path's operations in order (np.mod's float remainder is
    fmod's, exact, in both)."""
    last = path_s.shape[0] - 2
    for n in range(s_m.shape[0]):
        segment, ratio = _segment_at(path_s, s_m[n], last)
        for c in range(2):
            xy_out[n, c] = _offset_point(path_xy, miter, segment, ratio, d_m[n], c)
        heading_out[n] = _heading_at(heading, turn, segment, ratio)


@compiled.njit
def _segment_at(path_s: NDArrayF64, s: float, last: int) -> tuple[int, float]:
    """The segment of the path's s_m [P] holding s (clamped to [0, last]) and s's ratio
    along it (outside [0, 1] beyond the ends)."""
    segment = min(max(np.searchsorted(path_s, s, side="right") - 1, 0), last)
    return segment, (s - path_s[segment]) / (path_s[segment + 1] - path_s[segment])


@compiled.njit
def _offset_point(
    path_xy: NDArrayF64, miter: NDArrayF64, segment: int, ratio: float, d: float, c: int
) -> float:
    """Coordinate c of the point at `ratio` along `segment`, offset d along the miters."""
    start, end = path_xy[segment, c], path_xy[segment + 1, c]
    return (start + d * miter[segment, c]) + ratio * (
        end - start + d * (miter[segment + 1, c] - miter[segment, c])
    )


@compiled.njit
def _heading_at(heading: NDArrayF64, turn: NDArrayF64, segment: int, ratio: float) -> float:
    """The path's heading at `ratio` along `segment`, wrapped (`geometry.angles.wrap_angle`)."""
    angle = heading[segment] + min(max(ratio, 0.0), 1.0) * turn[segment]
    wrapped = np.mod(angle + np.pi, 2.0 * np.pi) - np.pi
    return np.pi if wrapped == -np.pi else wrapped


@compiled.njit
def _cartesian_pairs_kernel(
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    path_s: NDArrayF64,
    path_xy: NDArrayF64,
    miter: NDArrayF64,
    heading: NDArrayF64,
    turn: NDArrayF64,
    xy_out: NDArrayF64,
    heading_out: NDArrayF64,
) -> None:
    """`_cartesian_kernel` of the pairs of rows s_m float64[L, H] x d_m float64[A, H]:
    xy_out[L, A, H, 2], heading_out[L, H]; each (l, h) located once, the same operations."""
    last = path_s.shape[0] - 2
    for row in range(s_m.shape[0]):
        for t in range(s_m.shape[1]):
            segment, ratio = _segment_at(path_s, s_m[row, t], last)
            for lateral in range(d_m.shape[0]):
                for c in range(2):
                    xy_out[row, lateral, t, c] = _offset_point(
                        path_xy, miter, segment, ratio, d_m[lateral, t], c
                    )
            heading_out[row, t] = _heading_at(heading, turn, segment, ratio)


def _tangents_and_miters(xy: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """Segment headings float64[P-1], point tangents float64[P] and miters float64[P, 2]."""
    delta = np.diff(xy, axis=0)
    unit = delta / np.linalg.norm(delta, axis=-1, keepdims=True)
    normal = np.stack([-unit[:, 1], unit[:, 0]], axis=-1)
    normal_before, normal_after = np.r_[normal[:1], normal], np.r_[normal, normal[-1:]]
    denominator = np.maximum(1.0 + np.einsum("pd,pd->p", normal_before, normal_after), 1e-12)
    miter = (normal_before + normal_after) / denominator[:, None]
    length = np.linalg.norm(miter, axis=-1, keepdims=True)
    miter = np.where(length > _MAX_MITER_LENGTH, miter / length * _MAX_MITER_LENGTH, miter)
    tangent = np.r_[unit[:1], unit] + np.r_[unit, unit[-1:]]
    segment_heading = np.arctan2(delta[:, 1], delta[:, 0])
    return segment_heading, np.arctan2(tangent[:, 1], tangent[:, 0]), miter


@dataclass(frozen=True, slots=True)
class ReferencePathConfig:
    """lane_change_length_m: along a lane change in the sequence, the path leaves the first
    lane at its middle and joins the next this far ahead (straight connection), metres."""

    lane_change_length_m: float = 20.0


def reference_path(
    road_map: RoadMap,
    lane_ids: list[int] | tuple[int, ...],
    config: ReferencePathConfig | None = None,
) -> ReferencePath:
    """The `ReferencePath` along consecutive lanes (successors or left / right neighbours).

    Raises `DataError` naming the map and lanes for an unknown lane or an unlinked pair.
    """
    config = ReferencePathConfig() if config is None else config
    if len(lane_ids) == 0:
        raise DataError(f"map {road_map.source!r}: a reference path needs at least one lane")
    changes = [_is_lane_change(road_map, a, b) for a, b in itertools.pairwise(lane_ids)]
    changes = [False, *changes, False]  # entered / left by a lane change, per lane
    pieces, piece_lanes, piece_speeds = [], [], []
    previous_end: NDArrayF64 | None = None
    for position, lane_id in enumerate(lane_ids):
        lane = road_map.lanes[lane_id]
        centerline, total = lane.centerline, lane.length_m
        begin_s = 0.0
        if changes[position] and previous_end is not None:
            begin_s = min(
                total,
                project_points(centerline, previous_end[None])[0][0] + config.lane_change_length_m,
            )
        end_s = 0.5 * (begin_s + total) if changes[position + 1] else total
        piece = _slice_polyline(centerline, begin_s, end_s)
        previous_end = piece[-1]
        pieces.append(piece)
        piece_lanes.append(np.full(len(piece), lane_id, dtype=np.int64))
        piece_speeds.append(np.full(len(piece), lane.speed_limit_mps))
    return ReferencePath.from_points(
        np.concatenate(pieces), np.concatenate(piece_lanes), np.concatenate(piece_speeds)
    )


def _is_lane_change(road_map: RoadMap, lane_id: int, next_id: int) -> bool:
    """Whether next_id follows lane_id as a successor (False) or a neighbour (True)."""
    for known in (lane_id, next_id):
        if known not in road_map.lanes:
            raise DataError(f"map {road_map.source!r}: no lane with id {known}")
    lane = road_map.lanes[lane_id]
    if next_id in lane.successors:
        return False
    if next_id in (lane.left_neighbor, lane.right_neighbor):
        return True
    raise DataError(
        f"map {road_map.source!r}: lane {next_id} neither follows nor neighbours lane {lane_id}"
    )


def _slice_polyline(polyline: NDArrayF64, begin_s: float, end_s: float) -> NDArrayF64:
    """float64[Q, 2]: the part of `polyline` between arc lengths begin_s <= end_s, ends included."""
    cumulative = arc_length(polyline)
    inner = polyline[(cumulative > begin_s) & (cumulative < end_s)]
    ends, _ = interpolate_along(polyline, np.array([begin_s, end_s]))
    return np.concatenate([ends[:1], inner, ends[1:]])


def route_reference_path(road_map: RoadMap, route: Route) -> ReferencePath:
    """The `ReferencePath` of a route: along its lanes, or along its explicit `path_xy` (speed
    limits then from the nearest lane of each point)."""
    if route.lane_ids:
        return reference_path(road_map, route.lane_ids)
    if route.path_xy is None:
        raise DataError(f"map {road_map.source!r}: a route needs lane ids or a path")
    nearest, _ = road_map.nearest_lanes(route.path_xy)
    limits = np.array([road_map.lanes[int(lane)].speed_limit_mps for lane in nearest])
    return ReferencePath.from_points(route.path_xy, nearest, limits)
