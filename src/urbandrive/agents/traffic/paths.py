"""Agent paths as one padded table: every path resampled at a uniform spacing, so the point
at arc length s is at index s / spacing and a window ahead of an agent is a slice.

Rows are agents. Static agents (parked cars) get a degenerate path they never move along.
Everything is float64 in the map frame, metres and radians.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.angles import wrap_angle

#: Points along every path are this far apart, metres.
PATH_SPACING_M = 1.0
#: Half width of the moving-average window that rounds kinks of lane changes, points.
_SMOOTH_HALF_WINDOW = 3


@dataclass(frozen=True, slots=True)
class PathRow:
    """One resampled path of P points: xy float64[P, 2]; heading, curvature (1/m),
    speed_limit_mps float64[P]; lane_ids int64[P] (-1 off the map's lanes); changing bool[P]
    (between lanes, mid lane change); length_m: usable arc length (the rest is padding)."""

    xy: NDArrayF64
    heading: NDArrayF64
    curvature: NDArrayF64
    speed_limit_mps: NDArrayF64
    lane_ids: NDArrayInt
    changing: NDArrayBool
    length_m: float


@dataclass(frozen=True, slots=True)
class PathTable:
    """A rows, P points each (the fields of `PathRow` stacked: xy float64[A, P, 2], ...;
    length_m float64[A]); point k lies at arc length k * spacing_m."""

    xy: NDArrayF64
    heading: NDArrayF64
    curvature: NDArrayF64
    speed_limit_mps: NDArrayF64
    lane_ids: NDArrayInt
    changing: NDArrayBool
    length_m: NDArrayF64
    spacing_m: float

    @property
    def num_points(self) -> int:
        return int(self.xy.shape[1])

    def with_row(self, row: int, path: PathRow) -> PathTable:
        """A copy with `row` replaced (copy on write: the old table is left untouched)."""
        fields = {}
        for name in ("xy", "heading", "curvature", "speed_limit_mps", "lane_ids", "changing"):
            values = getattr(self, name).copy()
            values[row] = getattr(path, name)
            fields[name] = values
        length = self.length_m.copy()
        length[row] = path.length_m
        return replace(self, length_m=length, **fields)


def resample_path(
    xy: NDArrayF64,
    s_m: NDArrayF64,
    lane_ids: NDArrayInt,
    speed_limit_mps: NDArrayF64,
    num_points: int,
    spacing_m: float = PATH_SPACING_M,
    smooth: bool = True,
) -> PathRow:
    """Resample a dense path (xy float64[Q, 2] at arc lengths s_m float64[Q], per-point lane
    ids and limits) to `num_points` points `spacing_m` apart, smoothed, and padded past its
    end by continuing straight. Paths longer than the table are cut. `smooth` rounds kinks
    with a short moving average (vehicles); walkers keep their corners."""
    length_m = min(float(s_m[-1]), (num_points - 1) * spacing_m)
    grid = np.arange(num_points) * spacing_m
    inside = np.minimum(grid, s_m[-1])
    points = np.stack([np.interp(inside, s_m, xy[:, 0]), np.interp(inside, s_m, xy[:, 1])], -1)
    end_direction = xy[-1] - xy[-2]
    end_direction /= max(float(np.linalg.norm(end_direction)), 1e-9)
    points += np.maximum(grid - s_m[-1], 0.0)[:, None] * end_direction
    if smooth:
        points = _smooth(points)
    segment = np.clip(np.searchsorted(s_m, inside, side="right") - 1, 0, len(s_m) - 1)
    heading = _headings(points)
    curvature = np.r_[wrap_angle(np.diff(heading)) / spacing_m, 0.0]
    return PathRow(
        xy=points,
        heading=heading,
        curvature=curvature,
        speed_limit_mps=np.asarray(speed_limit_mps, np.float64)[segment],
        lane_ids=np.asarray(lane_ids, np.int64)[segment],
        changing=np.zeros(num_points, dtype=bool),
        length_m=length_m,
    )


def static_path(xy: NDArrayF64, heading_rad: float, num_points: int) -> PathRow:
    """A degenerate straight path through `xy: float64[2]` for an agent that never moves."""
    direction = np.array([np.cos(heading_rad), np.sin(heading_rad)])
    points = xy + np.multiply.outer(np.arange(num_points) * PATH_SPACING_M, direction)
    return PathRow(
        xy=points,
        heading=np.full(num_points, heading_rad),
        curvature=np.zeros(num_points),
        speed_limit_mps=np.zeros(num_points),
        lane_ids=np.full(num_points, -1, dtype=np.int64),
        changing=np.zeros(num_points, dtype=bool),
        length_m=0.0,
    )


def stack_paths(rows: list[PathRow], spacing_m: float = PATH_SPACING_M) -> PathTable:
    """The table of `rows` (all with the same number of points)."""
    return PathTable(
        xy=np.stack([r.xy for r in rows]),
        heading=np.stack([r.heading for r in rows]),
        curvature=np.stack([r.curvature for r in rows]),
        speed_limit_mps=np.stack([r.speed_limit_mps for r in rows]),
        lane_ids=np.stack([r.lane_ids for r in rows]),
        changing=np.stack([r.changing for r in rows]),
        length_m=np.array([r.length_m for r in rows], dtype=np.float64),
        spacing_m=spacing_m,
    )


def _smooth(points: NDArrayF64) -> NDArrayF64:
    """Moving average over 2 * _SMOOTH_HALF_WINDOW + 1 points, ends held (float64[P, 2])."""
    half = _SMOOTH_HALF_WINDOW
    padded = np.concatenate(
        [np.repeat(points[:1], half, 0), points, np.repeat(points[-1:], half, 0)]
    )
    cumulative = np.concatenate([np.zeros((1, 2)), np.cumsum(padded, axis=0)])
    smooth = (cumulative[2 * half + 1 :] - cumulative[: -2 * half - 1]) / (2 * half + 1)
    smooth[:half], smooth[-half:] = points[:half], points[-half:]
    return smooth


def _headings(points: NDArrayF64) -> NDArrayF64:
    """float64[P]: direction of the central difference at each point."""
    delta = np.gradient(points, axis=0)
    return np.arctan2(delta[:, 1], delta[:, 0])


def sample_paths(
    table: PathTable, rows: NDArrayInt, s_m: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """Point float64[N, 2], heading float64[N] and curvature float64[N] of `rows` at `s_m`."""
    position = np.clip(s_m / table.spacing_m, 0.0, table.num_points - 1.000001)
    index = position.astype(np.int64)
    ratio = position - index
    start, end = table.xy[rows, index], table.xy[rows, index + 1]
    xy = start + ratio[:, None] * (end - start)
    turn = wrap_angle(table.heading[rows, index + 1] - table.heading[rows, index])
    heading = wrap_angle(table.heading[rows, index] + ratio * turn)
    return xy, heading, table.curvature[rows, index]


def project_on_windows(
    table: PathTable,
    rows: NDArrayInt,
    s_from_m: NDArrayF64,
    points: NDArrayF64,
    num_segments: int,
    stride: int = 2,
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64, NDArrayBool]:
    """Project `points: float64[N, 2]` onto the windows of `num_segments` chords, each
    `stride` points long, of path `rows: int[N]`, starting just behind `s_from_m: float64[N]`.

    Returns s (arc length of the foot point), d (signed lateral offset, left +), the path's
    heading at the foot and whether the foot lies inside the window (not at its ends), [N] each.
    """
    last_first = table.num_points - num_segments * stride - 1
    first = np.clip((s_from_m / table.spacing_m).astype(np.int64) - stride, 0, last_first)
    index = first[:, None] + stride * np.arange(num_segments + 1)  # [N, W + 1]
    window = table.xy[rows[:, None], index]  # [N, W + 1, 2]
    start, delta = window[:, :-1], np.diff(window, axis=1)
    offset = points[:, None, :] - start
    length_sq = np.einsum("nwd,nwd->nw", delta, delta)
    ratio = np.einsum("nwd,nwd->nw", offset, delta) / np.maximum(length_sq, 1e-12)
    clipped = np.clip(ratio, 0.0, 1.0)
    gap = offset - clipped[..., None] * delta
    segment = np.argmin(np.einsum("nwd,nwd->nw", gap, gap), axis=1)
    picked = np.arange(points.shape[0])
    chosen_delta, chosen_offset = delta[picked, segment], offset[picked, segment]
    cross = chosen_delta[:, 0] * chosen_offset[:, 1] - chosen_delta[:, 1] * chosen_offset[:, 0]
    d_m = cross / np.sqrt(np.maximum(length_sq[picked, segment], 1e-12))
    s_m = (first + stride * (segment + clipped[picked, segment])) * table.spacing_m
    inside = (ratio[picked, segment] >= 0.0) | (segment > 0)
    inside &= (ratio[picked, segment] <= 1.0) | (segment < num_segments - 1)
    heading = np.arctan2(chosen_delta[:, 1], chosen_delta[:, 0])
    return s_m, d_m, heading, inside
