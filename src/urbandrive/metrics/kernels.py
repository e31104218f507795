"""Compiled kernels for the metrics' `*_on_rows` entry points (numba); numpy stays the reference.

Each kernel walks the (batch, agent, step) pairs one by one and does, in scalar code, exactly
the floating-point operations of the numpy path in the same order (separating axes of
`geometry.boxes.boxes_overlap`, corner-to-edge distances of `boxes_distance`, the closest
approach and projected boxes of the TTC), so it gives the same answers bit for bit. Inputs
whose rounding could differ between libraries (cos, sin, hypot) are computed by numpy and
passed in.

The switch (`enabled()`, `set_enabled`, `numpy_reference()`, `njit`) is
`urbandrive.core.compiled`'s, re-exported here. Without numba the package still imports and
every metric runs its numpy version. Kernels compile on first use (`cache=True` keeps
them on disk); call `warm_up()` before timing.
"""

from __future__ import annotations

import functools

import numpy as np

from urbandrive.core.compiled import (  # noqa: F401 - re-exported: the kernels' switch
    HAVE_NUMBA,
    enabled,
    njit,
    numpy_reference,
    set_enabled,
)

#: Slack on the lower bound (centre gap - half-diagonals) of a box distance, metres: far above
#: the rounding of either side, so a skipped pair could never have lowered a minimum.
LOWER_BOUND_SLACK_M = 1e-6

#: `_on_polygons` skips the box-polygon test where the box's bounding circle stays this far
#: outside the polygon's bounding box, metres (far above any rounding of the test).
POLYGON_REJECT_MARGIN_M = 0.5


def cos_sin(heading: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cos, sin) of `heading` by numpy (its elementwise loops, the values the reference
    uses), float64 of heading's shape, C-contiguous and read-only. The last few results are
    kept and returned again for a heading array equal to theirs bit for bit (the scorer's
    metrics take the same headings several times per cycle, some with a size-1 axis more):
    the same values, computed once. With the compiled kernels, numpy computes each run of
    bit-identical consecutive headings once (`_bit_runs`: a constant-velocity agent's
    headings are one run) and the runs are spread back: numpy's values, elementwise."""
    heading = np.asarray(heading, np.float64)
    for index, (kept, cos, sin) in enumerate(_COS_SIN_CACHE):
        if kept.size == heading.size and _same_bits(kept, heading):
            _COS_SIN_CACHE.insert(0, _COS_SIN_CACHE.pop(index))
            if cos.shape == heading.shape:
                return cos, sin
            return cos.reshape(heading.shape), sin.reshape(heading.shape)
    heading = np.ascontiguousarray(heading)
    if enabled() and heading.size > 0:
        flat = heading.reshape(-1)
        starts = _bit_runs(flat.view(np.int64))
        values = flat[starts]
        cos, sin = np.empty(heading.shape), np.empty(heading.shape)
        _spread_runs(np.cos(values), np.sin(values), starts, cos.reshape(-1), sin.reshape(-1))
    else:
        cos, sin = np.cos(heading), np.sin(heading)
    cos.setflags(write=False)
    sin.setflags(write=False)
    _COS_SIN_CACHE.insert(0, (heading.copy(), cos, sin))
    del _COS_SIN_CACHE[_COS_SIN_CACHE_SIZE:]
    return cos, sin


def _same_bits(kept: np.ndarray, heading: np.ndarray) -> bool:
    """Whether float64 `heading` (any shape and strides) holds the bits of the contiguous
    `kept` (the same size), compared without copying heading where the kernels run."""
    if heading.size == 0:
        return True
    if not enabled() or heading.ndim == 0:
        return np.array_equal(
            kept.view(np.int64).ravel(), np.ascontiguousarray(heading).view(np.int64).ravel()
        )
    rows = heading.reshape(-1, heading.shape[-1])  # a view for the planner's arrays
    return _equal_rows(kept.reshape(rows.shape).view(np.int64), rows.view(np.int64))


@njit
def _equal_rows(kept: np.ndarray, rows: np.ndarray) -> bool:
    """Whether int64 kept [R, C] and rows [R, C] (any strides) are equal everywhere."""
    for r in range(rows.shape[0]):
        for c in range(rows.shape[1]):
            if kept[r, c] != rows[r, c]:
                return False
    return True


@njit
def _bit_runs(bits: np.ndarray) -> np.ndarray:
    """int64[R]: the index of the first element of each run of equal consecutive values of
    bits int64[N] (N >= 1), ascending, starting at 0."""
    starts = np.empty(bits.shape[0], np.int64)
    count = 0
    for i in range(bits.shape[0]):
        if i == 0 or bits[i] != bits[i - 1]:
            starts[count] = i
            count += 1
    return starts[:count]


@njit
def _spread_runs(
    run_cos: np.ndarray, run_sin: np.ndarray, starts: np.ndarray, cos: np.ndarray, sin: np.ndarray
) -> None:
    """cos, sin[N] = each element's run's run_cos, run_sin[R] (runs from `_bit_runs`)."""
    num_runs = starts.shape[0]
    for r in range(num_runs):
        stop = starts[r + 1] if r + 1 < num_runs else cos.shape[0]
        for i in range(starts[r], stop):
            cos[i], sin[i] = run_cos[r], run_sin[r]


def cos_sin_of(heading: np.ndarray, index: object) -> tuple[np.ndarray, np.ndarray]:
    """`cos_sin(heading[index])` as contiguous arrays, cut from `cos_sin(heading)`: the cycle's
    terms take every step's and every row's cos / sin first, so a strided or row subset
    reuses them (numpy's cos / sin are elementwise: the same values)."""
    cos, sin = cos_sin(heading)
    return np.ascontiguousarray(cos[index]), np.ascontiguousarray(sin[index])


def contiguous_pairs(xy: np.ndarray) -> np.ndarray:
    """np.ascontiguousarray(xy, np.float64) of float64 (x, y) pairs [..., 2]: a strided cut
    (every n-th step) is copied a pair at a time (as complex128, the same bits), about twice
    as fast as numpy's copy of its two-element rows."""
    xy = np.asarray(xy, np.float64)
    if xy.flags.c_contiguous or xy.ndim < 2 or xy.shape[-1] != 2 or xy.strides[-1] != 8:
        return np.ascontiguousarray(xy)
    pairs = np.ascontiguousarray(xy.view(np.complex128)[..., 0])
    return pairs.view(np.float64).reshape(xy.shape)


#: `cos_sin`'s most recent (heading copy, cos, sin), newest first.
_COS_SIN_CACHE: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
_COS_SIN_CACHE_SIZE = 8


def forget_cos_sin() -> None:
    """Drop what `cos_sin` keeps. The planner calls it at the start of each cycle: a cycle's
    headings are new, so only its own repeats are worth keeping, and a benchmark that
    replans one observation must not time the last cycle's trigonometry as free."""
    _COS_SIN_CACHE.clear()


@functools.lru_cache(maxsize=64)
def arccos_threshold(threshold_rad: float, strict: bool) -> float:
    """The smallest c in [-1, 1] with np.arccos(c) < threshold_rad (strict) or <= (not
    strict), found by bisection over numpy's own arccos, so `c >= result` decides the angle
    test exactly as `np.arccos(c) < threshold_rad` does (arccos is non-increasing)."""

    def passes(value: float) -> bool:
        angle = float(np.arccos(np.float64(value)))
        return angle < threshold_rad if strict else angle <= threshold_rad

    low, high = -1.0, 1.0
    if passes(low):
        return low
    if not passes(high):
        return np.inf
    while True:  # passes(high), not passes(low)
        middle = 0.5 * (low + high)
        if middle <= low or middle >= high:
            return high
        if passes(middle):
            high = middle
        else:
            low = middle


@njit
def boxes_overlap_scalar(
    xa: float,
    ya: float,
    ca: float,
    sa: float,
    la: float,
    wa: float,
    xb: float,
    yb: float,
    cb: float,
    sb: float,
    lb: float,
    wb: float,
    touching_counts: bool = True,
) -> bool:
    """`geometry.boxes.boxes_overlap` of one pair: centre, (cos, sin) of the heading and
    (length, width) of box a and box b, metres; the same operations in the same order.
    touching_counts=False: only a positive area counts (`boxes_overlap(...,
    touching_counts=False)`)."""
    cx, cy = xb - xa, yb - ya
    ha0, ha1, hb0, hb1 = 0.5 * la, 0.5 * wa, 0.5 * lb, 0.5 * wb
    c00 = abs(ca * cb + sa * sb)
    c01 = abs(ca * -sb + sa * cb)
    c10 = abs(-sa * cb + ca * sb)
    c11 = abs(-sa * -sb + ca * cb)
    if _apart(abs(ca * cx + sa * cy), ha0 + (c00 * hb0 + c01 * hb1), touching_counts):
        return False
    if _apart(abs(-sa * cx + ca * cy), ha1 + (c10 * hb0 + c11 * hb1), touching_counts):
        return False
    if _apart(abs(cb * cx + sb * cy), hb0 + (c00 * ha0 + c10 * ha1), touching_counts):
        return False
    gap, reach = abs(-sb * cx + cb * cy), hb1 + (c01 * ha0 + c11 * ha1)
    return gap <= reach if touching_counts else gap < reach


@njit
def _apart(gap: float, reach: float, touching_counts: bool) -> bool:
    """The boxes are apart along one axis: gap > reach, or, when touching does not count,
    `not gap < reach` (the numpy twins' comparisons, NaN included)."""
    if touching_counts:
        return gap > reach
    return not gap < reach


@njit
def boxes_separation_scalar(
    xa: float,
    ya: float,
    ca: float,
    sa: float,
    la: float,
    wa: float,
    xb: float,
    yb: float,
    cb: float,
    sb: float,
    lb: float,
    wb: float,
) -> float:
    """The largest gap between the two boxes' projections on their four edge normals,
    metres (arguments as `boxes_overlap_scalar`): a lower bound of their distance (a
    projection on a unit axis never lengthens a segment), <= 0 where they overlap."""
    cx, cy = xb - xa, yb - ya
    ha0, ha1, hb0, hb1 = 0.5 * la, 0.5 * wa, 0.5 * lb, 0.5 * wb
    c00 = abs(ca * cb + sa * sb)
    c01 = abs(ca * -sb + sa * cb)
    c10 = abs(-sa * cb + ca * sb)
    c11 = abs(-sa * -sb + ca * cb)
    gap = abs(ca * cx + sa * cy) - (ha0 + (c00 * hb0 + c01 * hb1))
    gap = max(gap, abs(-sa * cx + ca * cy) - (ha1 + (c10 * hb0 + c11 * hb1)))
    gap = max(gap, abs(cb * cx + sb * cy) - (hb0 + (c00 * ha0 + c10 * ha1)))
    return max(gap, abs(-sb * cx + cb * cy) - (hb1 + (c01 * ha0 + c11 * ha1)))


@njit
def _corners(x: float, y: float, c: float, s: float, length: float, width: float) -> tuple:
    """(xs, ys), 4-tuples each: `geometry.boxes.box_corners` of one box (FL, RL, RR, FR), as
    scalars (no array allocated per call)."""
    h0, h1 = 0.5 * length, 0.5 * width
    m0, m1 = 0.5 * length * -1.0, 0.5 * width * -1.0
    xs = (
        (c * h0 - s * h1) + x,
        (c * m0 - s * h1) + x,
        (c * m0 - s * m1) + x,
        (c * h0 - s * m1) + x,
    )
    ys = (
        (s * h0 + c * h1) + y,
        (s * m0 + c * h1) + y,
        (s * m0 + c * m1) + y,
        (s * h0 + c * m1) + y,
    )
    return xs, ys


#: `_corners` for other modules' kernels.
box_corners_scalar = _corners


@njit
def _corners_to_edges_sq(
    points_x: tuple, points_y: tuple, polygon_x: tuple, polygon_y: tuple
) -> float:
    """Smallest squared distance from the 4 points to the edges of the 4-gon (4-tuples)."""
    best = np.inf
    for i in range(4):
        for e in range(4):
            sx, sy = polygon_x[e], polygon_y[e]
            dx, dy = polygon_x[(e + 1) % 4] - sx, polygon_y[(e + 1) % 4] - sy
            ox, oy = points_x[i] - sx, points_y[i] - sy
            length_sq = max(dx * dx + dy * dy, 1e-18)
            ratio = min(max((ox * dx + oy * dy) / length_sq, 0.0), 1.0)
            gx, gy = ox - ratio * dx, oy - ratio * dy
            best = min(best, gx * gx + gy * gy)
    return best


@njit
def boxes_distance_scalar(
    xa: float,
    ya: float,
    ca: float,
    sa: float,
    la: float,
    wa: float,
    xb: float,
    yb: float,
    cb: float,
    sb: float,
    lb: float,
    wb: float,
) -> float:
    """`geometry.boxes.boxes_distance` of one pair (arguments as `boxes_overlap_scalar`)."""
    if boxes_overlap_scalar(xa, ya, ca, sa, la, wa, xb, yb, cb, sb, lb, wb):
        return 0.0
    return _apart_distance(xa, ya, ca, sa, la, wa, xb, yb, cb, sb, lb, wb)


@njit
def _apart_distance(
    xa: float,
    ya: float,
    ca: float,
    sa: float,
    la: float,
    wa: float,
    xb: float,
    yb: float,
    cb: float,
    sb: float,
    lb: float,
    wb: float,
) -> float:
    """`boxes_distance_scalar` of two boxes known not to overlap (arguments as
    `boxes_overlap_scalar`): the least corner-to-edge distance, sqrt taken once (sqrt is
    monotone: min(sqrt(a), sqrt(b)) == sqrt(min(a, b)) bit for bit)."""
    ax, ay = _corners(xa, ya, ca, sa, la, wa)
    bx, by = _corners(xb, yb, cb, sb, lb, wb)
    return np.sqrt(min(_corners_to_edges_sq(ax, ay, bx, by), _corners_to_edges_sq(bx, by, ax, ay)))


@njit
def _worst_of_modes(
    per_step: np.ndarray, m: int, t: int, mode_start: np.ndarray, modes: np.ndarray, u: int
) -> float:
    """The largest per_step[m, k, t] over the modes k that use row u (`SharedRows` CSR)."""
    worst = -np.inf
    for i in range(mode_start[u], mode_start[u + 1]):
        worst = max(worst, per_step[m, modes[i], t])
    return worst


@njit
def _all_decided(
    decided: np.ndarray, m: int, mode_start: np.ndarray, modes: np.ndarray, u: int
) -> bool:
    """Every mode k that uses row u has decided[m, k]."""
    for i in range(mode_start[u], mode_start[u + 1]):  # noqa: SIM110 (numba: a plain loop)
        if not decided[m, modes[i]]:
            return False
    return True


@njit
def _lower_modes(
    per_step: np.ndarray,
    m: int,
    t: int,
    mode_start: np.ndarray,
    modes: np.ndarray,
    u: int,
    value: float,
) -> None:
    """per_step[m, k, t] = min(itself, value) for the modes k that use row u."""
    for i in range(mode_start[u], mode_start[u + 1]):
        if value < per_step[m, modes[i], t]:
            per_step[m, modes[i], t] = value


@njit
def first_overlap_on_rows(
    candidate: np.ndarray,
    row: np.ndarray,
    step: np.ndarray,
    ego_xy: np.ndarray,
    ego_cos: np.ndarray,
    ego_sin: np.ndarray,
    ego_size: np.ndarray,
    agent_xy: np.ndarray,
    agent_cos: np.ndarray,
    agent_sin: np.ndarray,
    agent_size: np.ndarray,
    valid: np.ndarray,
    first_step: np.ndarray,
) -> None:
    """Lower first_step[M, U] (start it at T) to the first step with a valid agent row whose
    box overlaps the candidate's, over the pairs (candidate, row, step) int64[P]; a pair at
    or after its row's first overlap so far is skipped. Ego: xy [M, T, 2], cos / sin
    [M, T], size [M, 2]; agents: xy [U, T, 2], cos / sin [U, T], size [U, 2], valid [U, T]."""
    for p in range(candidate.shape[0]):
        m, u, t = candidate[p], row[p], step[p]
        if t >= first_step[m, u] or not valid[u, t]:
            continue
        if boxes_overlap_scalar(
            ego_xy[m, t, 0], ego_xy[m, t, 1], ego_cos[m, t], ego_sin[m, t], ego_size[m, 0],
            ego_size[m, 1], agent_xy[u, t, 0], agent_xy[u, t, 1], agent_cos[u, t],
            agent_sin[u, t], agent_size[u, 0], agent_size[u, 1],
        ):  # fmt: skip
            first_step[m, u] = t


@njit
def min_clearance_on_rows(
    candidate: np.ndarray,
    row: np.ndarray,
    step: np.ndarray,
    ego_xy: np.ndarray,
    ego_cos: np.ndarray,
    ego_sin: np.ndarray,
    ego_size: np.ndarray,
    agent_xy: np.ndarray,
    agent_cos: np.ndarray,
    agent_sin: np.ndarray,
    agent_size: np.ndarray,
    counts: np.ndarray,
    reach_m: np.ndarray,
    search_radius_m: float,
    mode_start: np.ndarray,
    modes: np.ndarray,
    minimum_only: bool,
    cap_m: float,
    per_step: np.ndarray,
    minimum: np.ndarray,
) -> None:
    """The box distance to valid vulnerable agents (centres within search_radius_m + reach)
    over shared rows: lower per_step[M, K, T] and minimum[M, K, 1]
    (start both at inf) for every mode that uses the pair's row (`SharedRows` CSR
    mode_start, modes), each box distance computed once. Pairs (candidate, row, step)
    int64[P]; arrays as `first_overlap_on_rows`, counts: bool[U, T] (valid and vulnerable),
    reach_m: float64[M, U]. minimum_only: a pair that cannot lower the minimum over the steps
    below cap_m is skipped (the minimum stays exact below cap_m) and per_step is not
    written (any array will do)."""
    for p in range(candidate.shape[0]):
        m, u, t = candidate[p], row[p], step[p]
        if not counts[u, t]:
            continue
        dx = agent_xy[u, t, 0] - ego_xy[m, t, 0]
        dy = agent_xy[u, t, 1] - ego_xy[m, t, 1]
        gap, reach = np.sqrt(dx * dx + dy * dy), reach_m[m, u]
        if not gap <= search_radius_m + reach:
            continue
        if minimum_only:
            worst = min(_worst_of_modes(minimum, m, 0, mode_start, modes, u), cap_m)
        else:
            worst = _worst_of_modes(per_step, m, t, mode_start, modes, u)
        if gap - reach > worst + LOWER_BOUND_SLACK_M:
            continue  # box distance >= gap - reach: this pair cannot lower any minimum
        box = (
            ego_xy[m, t, 0], ego_xy[m, t, 1], ego_cos[m, t], ego_sin[m, t], ego_size[m, 0],
            ego_size[m, 1], agent_xy[u, t, 0], agent_xy[u, t, 1], agent_cos[u, t],
            agent_sin[u, t], agent_size[u, 0], agent_size[u, 1],
        )  # fmt: skip
        separation = boxes_separation_scalar(*box) if minimum_only else 0.0
        if separation > worst + LOWER_BOUND_SLACK_M:
            continue  # a tighter lower bound
        # a positive separation is an axis that parts the boxes: no overlap test needed
        distance = _apart_distance(*box) if separation > 0.0 else boxes_distance_scalar(*box)
        if not minimum_only:
            _lower_modes(per_step, m, t, mode_start, modes, u, distance)
        _lower_modes(minimum, m, 0, mode_start, modes, u, distance)


@njit
def min_ttc_on_rows(
    candidate: np.ndarray,
    row: np.ndarray,
    step: np.ndarray,
    ego_xy: np.ndarray,
    ego_cos: np.ndarray,
    ego_sin: np.ndarray,
    ego_speed: np.ndarray,
    ego_size: np.ndarray,
    agent_xy: np.ndarray,
    agent_cos: np.ndarray,
    agent_sin: np.ndarray,
    agent_velocity: np.ndarray,
    agent_size: np.ndarray,
    valid: np.ndarray,
    first_collision_step: np.ndarray,
    lateral: np.ndarray,
    reach_m: np.ndarray,
    rear_axle_m: float,
    stopped_mps: float,
    cos_ahead: float,
    cos_not_behind: float,
    times_s: np.ndarray,
    mode_start: np.ndarray,
    modes: np.ndarray,
    decide_at_s: float,
    decided: np.ndarray,
    ttc: np.ndarray,
) -> None:
    """nuPlan's projected TTC (relevance, closest approach, projected boxes: module doc of
    `metrics.time_to_collision`) over shared rows: lower ttc[M, K, T] for every mode that uses the
    pair's row (`SharedRows` CSR), each projection computed once (up to the largest of those
    modes' minima so far). Pairs (candidate, row, step) int64[P]; arrays as
    `first_overlap_on_rows`, ego_speed [M, T], agent_velocity [U, T, 2] (along the heading),
    first_collision_step int64[M, U] (the same in every mode using a row), lateral bool[M, T],
    reach_m float64[M, U]. decided: bool[M, K], (candidate, mode) whose TTC no longer matters
    (the caller's at-fault collisions); a pair whose modes are all decided is skipped, and a
    TTC at or below `decide_at_s` decides its mode (-inf: never; only the within-bound flag
    is then exact)."""
    for p in range(candidate.shape[0]):
        m, u, t = candidate[p], row[p], step[p]
        if _all_decided(decided, m, mode_start, modes, u):
            continue
        speed_e = ego_speed[m, t]
        if not valid[u, t] or t >= first_collision_step[m, u]:
            continue
        if not abs(speed_e) > stopped_mps:
            continue
        cos_e, sin_e = ego_cos[m, t], ego_sin[m, t]
        ex, ey = ego_xy[m, t, 0], ego_xy[m, t, 1]
        ax, ay = agent_xy[u, t, 0], agent_xy[u, t, 1]
        rear_x, rear_y = ex - rear_axle_m * cos_e, ey - rear_axle_m * sin_e
        if not _pair_relevant(
            ax - rear_x, ay - rear_y, cos_e, sin_e, cos_ahead, cos_not_behind, lateral[m, t]
        ):
            continue
        velocity_a = agent_velocity[u, t]
        relative_vx = velocity_a[0] - speed_e * cos_e
        relative_vy = velocity_a[1] - speed_e * sin_e
        reach = reach_m[m, u]
        if not _meets(ax - ex, ay - ey, relative_vx, relative_vy, reach, times_s[0], times_s[-1]):
            continue
        hit = _first_projected_hit(
            ego_xy[m, t], cos_e, sin_e, speed_e, ego_size[m], agent_xy[u, t], agent_cos[u, t],
            agent_sin[u, t], velocity_a, agent_size[u], reach, times_s,
            _worst_of_modes(ttc, m, t, mode_start, modes, u),
        )  # fmt: skip
        _lower_modes(ttc, m, t, mode_start, modes, u, hit)
        if hit <= decide_at_s:
            for i in range(mode_start[u], mode_start[u + 1]):
                decided[m, modes[i]] = True


@njit
def classify_collisions(
    candidate: np.ndarray,
    row: np.ndarray,
    step: np.ndarray,
    ego_xy: np.ndarray,
    ego_cos: np.ndarray,
    ego_sin: np.ndarray,
    ego_speed: np.ndarray,
    ego_size: np.ndarray,
    agent_xy: np.ndarray,
    agent_cos: np.ndarray,
    agent_sin: np.ndarray,
    agent_velocity: np.ndarray,
    agent_size: np.ndarray,
    agent_static: np.ndarray,
    lateral: np.ndarray,
    rear_axle_m: float,
    ego_stopped_mps: float,
    agent_stopped_mps: float,
    cos_not_behind: float,
    kind: np.ndarray,
    at_fault: np.ndarray,
    ego_heading: np.ndarray,
    agent_heading: np.ndarray,
    speeds: np.ndarray,
    turn: np.ndarray,
) -> None:
    """`collisions._classify_events`' kind (`CollisionKind` values) and fault of the events
    (candidate, row, step) int64[E] into kind int64[E] and at_fault bool[E]. Arrays as
    `first_overlap_on_rows`, ego_speed [M, T], agent_velocity [U, T, 2], agent_static
    bool[U] (STATIC: not moving), lateral bool[M, T]; cos_not_behind: `arccos_threshold` of
    the behind angle (not strict): an agent is behind where its cosine is below it. Also
    what the collision energy takes (numpy's operations): speeds[2, E] = |ego speed| and the
    agent's speed (0 for STATIC), turn[E] = ego_heading [M, T] - agent_heading [U, T]."""
    for e in range(candidate.shape[0]):
        m, u, t = candidate[e], row[e], step[e]
        cos_e, sin_e = ego_cos[m, t], ego_sin[m, t]
        ex, ey = ego_xy[m, t, 0], ego_xy[m, t, 1]
        ax, ay = agent_xy[u, t, 0], agent_xy[u, t, 1]
        vx, vy = agent_velocity[u, t, 0], agent_velocity[u, t, 1]
        speed_a = 0.0 if agent_static[u] else np.sqrt(vx * vx + vy * vy)
        speeds[0, e], speeds[1, e] = abs(ego_speed[m, t]), speed_a
        turn[e] = ego_heading[m, t] - agent_heading[u, t]
        if abs(ego_speed[m, t]) <= ego_stopped_mps:
            kind[e] = 0  # STOPPED_EGO
        elif speed_a <= agent_stopped_mps:
            kind[e] = 1  # STOPPED_AGENT
        else:
            ox = ax - (ex - rear_axle_m * cos_e)
            oy = ay - (ey - rear_axle_m * sin_e)
            distance = np.sqrt(ox * ox + oy * oy)
            behind = False
            if distance > 0:  # else the angle is NaN: not behind
                cosine = min(max((ox * cos_e + oy * sin_e) / distance, -1.0), 1.0)
                behind = cosine < cos_not_behind
            half_length = 0.5 * ego_size[m, 0]
            if behind:
                kind[e] = 3  # ACTIVE_REAR
            elif boxes_overlap_scalar(
                ex + half_length * cos_e, ey + half_length * sin_e, cos_e, sin_e, 0.0,
                ego_size[m, 1], ax, ay, agent_cos[u, t], agent_sin[u, t], agent_size[u, 0],
                agent_size[u, 1],
            ):  # fmt: skip
                kind[e] = 2  # ACTIVE_FRONT
            else:
                kind[e] = 4  # ACTIVE_LATERAL
        at_fault[e] = kind[e] == 1 or kind[e] == 2 or (kind[e] == 4 and lateral[m, t])


@njit
def _pair_relevant(
    offset_x: float,
    offset_y: float,
    cos_e: float,
    sin_e: float,
    cos_ahead: float,
    cos_not_behind: float,
    lateral: bool,
) -> bool:
    """nuPlan's TTC relevance angle test of one pair (`time_to_collision._relevant`): the
    agent at `offset` from the ego's rear axle is ahead, or beside (not behind) on `lateral`
    steps; angles compared through their exact cosine thresholds (`arccos_threshold`)."""
    distance = np.sqrt(offset_x * offset_x + offset_y * offset_y)
    if not distance > 0:  # angle NaN: neither ahead nor behind
        return lateral
    cosine = min(max((offset_x * cos_e + offset_y * sin_e) / distance, -1.0), 1.0)
    return cosine >= cos_ahead or (lateral and cosine >= cos_not_behind)


@njit
def _first_projected_hit(
    xy_e: np.ndarray,
    cos_e: float,
    sin_e: float,
    speed_e: float,
    size_e: np.ndarray,
    xy_a: np.ndarray,
    cos_a: float,
    sin_a: float,
    velocity_a: np.ndarray,
    size_a: np.ndarray,
    reach_m: float,
    times_s: np.ndarray,
    below_s: float,
) -> float:
    """The first projection time below `below_s` at which the projected boxes overlap, else
    inf (`time_to_collision._projected_ttc` of one pair)."""
    velocity_x, velocity_y = speed_e * cos_e, speed_e * sin_e
    for k in range(times_s.shape[0]):
        time_s = times_s[k]
        if time_s >= below_s:
            break
        ex, ey = xy_e[0] + time_s * velocity_x, xy_e[1] + time_s * velocity_y
        ax, ay = xy_a[0] + time_s * velocity_a[0], xy_a[1] + time_s * velocity_a[1]
        gx, gy = ax - ex, ay - ey
        if not gx * gx + gy * gy <= reach_m * reach_m:
            continue
        if boxes_overlap_scalar(
            ex, ey, cos_e, sin_e, size_e[0], size_e[1], ax, ay, cos_a, sin_a, size_a[0], size_a[1]
        ):
            return time_s
    return np.inf


@njit
def _meets(
    rx: float, ry: float, vx: float, vy: float, reach_m: float, first_s: float, last_s: float
) -> bool:
    """`time_to_collision._closest_approach_within` of one pair."""
    speed_sq = vx * vx + vy * vy
    closing = -(rx * vx + ry * vy)
    closest = closing / speed_sq if speed_sq > 0 else 0.0
    closest = min(max(closest, first_s), last_s)
    gx, gy = rx + closest * vx, ry + closest * vy
    return gx * gx + gy * gy <= reach_m * reach_m


@njit
def box_overlaps_convex_polygon(
    x: float, y: float, c: float, s: float, length: float, width: float, polygon: np.ndarray
) -> bool:
    """`geometry.boxes.boxes_overlap_convex_polygons` of one box (centre, cos / sin of the
    heading, length, width; metres) and one polygon float64[P, 2]: separating axes."""
    corners_x, corners_y = _corners(x, y, c, s, length, width)
    num_vertices = polygon.shape[0]
    for n in range(2 + num_vertices):
        if n == 0:
            axis_x, axis_y = c, s
        elif n == 1:
            axis_x, axis_y = -s, c
        else:
            v = n - 2
            w = (v + 1) % num_vertices
            axis_x = -(polygon[w, 1] - polygon[v, 1])
            axis_y = polygon[w, 0] - polygon[v, 0]
        box_low, box_high = np.inf, -np.inf
        for i in range(4):
            on_axis = axis_x * corners_x[i] + axis_y * corners_y[i]
            box_low, box_high = min(box_low, on_axis), max(box_high, on_axis)
        polygon_low, polygon_high = np.inf, -np.inf
        for v in range(num_vertices):
            on_axis = axis_x * polygon[v, 0] + axis_y * polygon[v, 1]
            polygon_low, polygon_high = min(polygon_low, on_axis), max(polygon_high, on_axis)
        if box_high < polygon_low or polygon_high < box_low:
            return False
    return True


@njit
def _on_polygons(
    xy: np.ndarray,
    cos: np.ndarray,
    sin: np.ndarray,
    size: np.ndarray,
    active: np.ndarray,
    polygons: np.ndarray,
) -> np.ndarray:
    """bool[R, C, T]: box r at step t (where `active` [R, T]) overlaps polygon c.
    xy, size: [R, T, 2]; cos, sin: [R, T]; polygons: [C, P, 2]. A box whose bounding circle
    stays `POLYGON_REJECT_MARGIN_M` clear of a polygon's bounding box is apart from it
    without the separating-axis test (whose gap there is far above its rounding)."""
    num_rows, num_steps = active.shape
    num_polygons = polygons.shape[0]
    out = np.zeros((num_rows, num_polygons, num_steps), np.bool_)
    bounds = np.empty((num_polygons, 4))  # x low, y low, x high, y high
    for c in range(num_polygons):
        bounds[c, 0], bounds[c, 1] = polygons[c, :, 0].min(), polygons[c, :, 1].min()
        bounds[c, 2], bounds[c, 3] = polygons[c, :, 0].max(), polygons[c, :, 1].max()
    for r in range(num_rows):
        for t in range(num_steps):
            if not active[r, t]:
                continue
            x, y = xy[r, t, 0], xy[r, t, 1]
            length, width = size[r, t, 0], size[r, t, 1]
            clear = 0.5 * np.sqrt(length * length + width * width) + POLYGON_REJECT_MARGIN_M
            for c in range(num_polygons):
                if (
                    x + clear < bounds[c, 0]
                    or y + clear < bounds[c, 1]
                    or x - clear > bounds[c, 2]
                    or y - clear > bounds[c, 3]
                ):
                    continue
                out[r, c, t] = box_overlaps_convex_polygon(
                    xy[r, t, 0], xy[r, t, 1], cos[r, t], sin[r, t], size[r, t, 0],
                    size[r, t, 1], polygons[c],
                )  # fmt: skip
    return out


@njit
def crosswalk_violations(
    ego_xy: np.ndarray,
    ego_cos: np.ndarray,
    ego_sin: np.ndarray,
    ego_size: np.ndarray,
    ego_moving: np.ndarray,
    agent_xy: np.ndarray,
    agent_cos: np.ndarray,
    agent_sin: np.ndarray,
    agent_size: np.ndarray,
    yielding: np.ndarray,
    polygons: np.ndarray,
    conflict_distance_m: float,
    ego_batch: tuple[int, int],
    agent_batch: tuple[int, int],
    violation: np.ndarray,
) -> None:
    """Set violation[B0, B1, C, T] where the moving ego is on crosswalk c with a yielding agent
    on it within `conflict_distance_m` (box to box) at step t
    (`traffic_rules.pedestrian_yield_compliance`). Ego rows [E0 * E1, T] (+2 for xy, size),
    agent rows [G0 * G1 * A, T] (+2), contiguous; ego_batch = (E0, E1), agent_batch =
    (G0, G1), each axis 1 or the broadcast one; ego_moving, yielding: bool."""
    (e0, e1), (g0, g1) = ego_batch, agent_batch
    num_agents = yielding.shape[0] // (g0 * g1)
    ego_on = _on_polygons(ego_xy, ego_cos, ego_sin, ego_size, ego_moving, polygons)
    agent_on = _on_polygons(agent_xy, agent_cos, agent_sin, agent_size, yielding, polygons)
    for i in range(violation.shape[0]):
        for j in range(violation.shape[1]):
            e = min(i, e0 - 1) * e1 + min(j, e1 - 1)
            first_agent = (min(i, g0 - 1) * g1 + min(j, g1 - 1)) * num_agents
            for c in range(polygons.shape[0]):
                for t in range(ego_moving.shape[1]):
                    if not ego_on[e, c, t]:
                        continue
                    for g in range(first_agent, first_agent + num_agents):
                        if agent_on[g, c, t] and _rows_within(
                            ego_xy, ego_cos, ego_sin, ego_size, e, agent_xy, agent_cos,
                            agent_sin, agent_size, g, t, conflict_distance_m,
                        ):  # fmt: skip
                            violation[i, j, c, t] = True
                            break


@njit
def crosswalk_violations_on_rows(
    ego_xy: np.ndarray,
    ego_cos: np.ndarray,
    ego_sin: np.ndarray,
    ego_size: np.ndarray,
    ego_moving: np.ndarray,
    agent_xy: np.ndarray,
    agent_cos: np.ndarray,
    agent_sin: np.ndarray,
    agent_size: np.ndarray,
    yielding: np.ndarray,
    polygons: np.ndarray,
    conflict_distance_m: float,
) -> np.ndarray:
    """bool[E, G]: `crosswalk_violations`' violation at any crosswalk and step for each ego
    row e [E, T] and agent row g [G, T] (+2 for xy, size) taken as a pair; each pair is
    tested only until its first violation."""
    ego_on = _on_polygons(ego_xy, ego_cos, ego_sin, ego_size, ego_moving, polygons)
    agent_on = _on_polygons(agent_xy, agent_cos, agent_sin, agent_size, yielding, polygons)
    num_agents = agent_on.shape[0]
    violated = np.zeros((ego_on.shape[0], num_agents), np.bool_)
    for c in range(polygons.shape[0]):
        for t in range(ego_moving.shape[1]):
            for g in range(num_agents):
                if not agent_on[g, c, t]:
                    continue
                for e in range(ego_on.shape[0]):
                    if ego_on[e, c, t] and not violated[e, g]:
                        violated[e, g] = _rows_within(
                            ego_xy, ego_cos, ego_sin, ego_size, e, agent_xy, agent_cos,
                            agent_sin, agent_size, g, t, conflict_distance_m,
                        )  # fmt: skip
    return violated


@njit
def _rows_within(
    ego_xy: np.ndarray,
    ego_cos: np.ndarray,
    ego_sin: np.ndarray,
    ego_size: np.ndarray,
    e: int,
    agent_xy: np.ndarray,
    agent_cos: np.ndarray,
    agent_sin: np.ndarray,
    agent_size: np.ndarray,
    g: int,
    t: int,
    max_distance_m: float,
) -> bool:
    """Box distance of ego row e and agent row g at step t <= max_distance_m (rows as
    `crosswalk_violations`)."""
    distance = boxes_distance_scalar(
        ego_xy[e, t, 0], ego_xy[e, t, 1], ego_cos[e, t], ego_sin[e, t], ego_size[e, t, 0],
        ego_size[e, t, 1], agent_xy[g, t, 0], agent_xy[g, t, 1], agent_cos[g, t],
        agent_sin[g, t], agent_size[g, t, 0], agent_size[g, t, 1],
    )  # fmt: skip
    return distance <= max_distance_m


@njit
def banded_matmul(
    values: np.ndarray, matrix: np.ndarray, first: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """float64[R, J] values @ matrix for values float64[R, I], matrix float64[I, J] whose
    column j is zero outside rows first[j] <= i < stop[j] (int64[J]): single-threaded, no BLAS
    (the sums run in another order than BLAS's: float tolerance)."""
    out = np.zeros((values.shape[0], matrix.shape[1]))
    for r in range(values.shape[0]):
        for j in range(matrix.shape[1]):
            total = 0.0
            for i in range(first[j], stop[j]):
                total += values[r, i] * matrix[i, j]
            out[r, j] = total
    return out


@njit
def _banded_row(
    values: np.ndarray, matrix: np.ndarray, first: np.ndarray, stop: np.ndarray, out: np.ndarray
) -> None:
    """out[J] = values[I] @ matrix[I, J], column j summed over rows first[j] <= i < stop[j]
    (`banded_matmul` of one row)."""
    for j in range(matrix.shape[1]):
        total = 0.0
        for i in range(first[j], stop[j]):
            total += values[i] * matrix[i, j]
        out[j] = total


@njit
def _round(value: float, scale: float) -> float:
    """np.round(value, decimals) with scale = 10 ** decimals (numpy: rint(x * s) / s)."""
    return np.rint(value * scale) / scale


@njit
def unwrap_row(angles: np.ndarray, out: np.ndarray) -> None:
    """out[T] = np.unwrap(angles[T]) (period 2 pi, discont pi) by numpy's operations in its
    order (a remainder and a running sum of corrections), so the floats are numpy's. The
    remainder only where numpy keeps it (|step| >= pi or NaN): it costs more than the rest."""
    period, half = 2.0 * np.pi, np.pi
    out[0] = angles[0]
    correction = 0.0
    for t in range(1, angles.shape[0]):
        step = angles[t] - angles[t - 1]
        fix = 0.0
        if not abs(step) < half:
            wrapped = np.mod(step + half, period) + -half
            if wrapped == -half and step > 0:
                wrapped = half
            fix = wrapped - step
        correction += fix
        out[t] = angles[t] + correction


#: Rows `comfort_signals_rows` filters together (independent sums the CPU overlaps).
COMFORT_BLOCK_ROWS = 4


@njit
def _banded_block(
    values: np.ndarray, matrix: np.ndarray, first: np.ndarray, stop: np.ndarray, out: np.ndarray
) -> None:
    """out[4, J] = values[4, I] @ matrix[I, J] (`_banded_row` of four rows at once: each
    row's sums in `_banded_row`'s order, the four chains interleaved)."""
    for j in range(matrix.shape[1]):
        t0 = t1 = t2 = t3 = 0.0
        for i in range(first[j], stop[j]):
            weight = matrix[i, j]
            t0 += values[0, i] * weight
            t1 += values[1, i] * weight
            t2 += values[2, i] * weight
            t3 += values[3, i] * weight
        out[0, j], out[1, j], out[2, j], out[3, j] = t0, t1, t2, t3


@njit
def comfort_signals_rows(
    heading: np.ndarray,
    acceleration: np.ndarray,
    smooth: tuple,
    yaw_rate: tuple,
    yaw_accel: tuple,
    jerk: tuple,
    scale: float,
    signals: np.ndarray,
) -> None:
    """`metrics.comfort.comfort_signals` of rows: heading float64[R, T], acceleration
    float64[R, T, 2] -> signals float64[R, 6, T] (`ComfortSignal` order, rounded with
    scale = 10 ** decimals). Each filter is (matrix [T, T], first, stop) of `savgol_matrix`
    and its band. The numpy path's operations (np.unwrap, norm, filters, rounding) in its
    order; the filters' sums run in another order than BLAS's (float tolerance). Rows go
    `COMFORT_BLOCK_ROWS` at a time (`_banded_block`; a last short block padded with zeros)."""
    num_rows, num_steps = heading.shape
    block = COMFORT_BLOCK_ROWS
    inputs = np.zeros((6, block, num_steps))  # unwrapped, magnitude, lon, lat, smoothed lon, mag
    filtered = np.empty((6, block, num_steps))
    for start in range(0, num_rows, block):
        count = min(block, num_rows - start)
        for b in range(count):
            r = start + b
            unwrap_row(heading[r], inputs[0, b])
            for t in range(num_steps):
                x, y = acceleration[r, t, 0], acceleration[r, t, 1]
                inputs[1, b, t] = np.sqrt(x * x + y * y)
                inputs[2, b, t], inputs[3, b, t] = x, y
        _banded_block(inputs[2], smooth[0], smooth[1], smooth[2], filtered[0])
        _banded_block(inputs[3], smooth[0], smooth[1], smooth[2], filtered[1])
        _banded_block(inputs[1], smooth[0], smooth[1], smooth[2], inputs[5])
        for b in range(block):
            for t in range(num_steps):
                filtered[0, b, t] = _round(filtered[0, b, t], scale)
                filtered[1, b, t] = _round(filtered[1, b, t], scale)
                inputs[5, b, t] = _round(inputs[5, b, t], scale)
                inputs[4, b, t] = filtered[0, b, t]
        _banded_block(inputs[0], yaw_rate[0], yaw_rate[1], yaw_rate[2], filtered[2])
        _banded_block(inputs[0], yaw_accel[0], yaw_accel[1], yaw_accel[2], filtered[3])
        _banded_block(inputs[4], jerk[0], jerk[1], jerk[2], filtered[4])
        _banded_block(inputs[5], jerk[0], jerk[1], jerk[2], filtered[5])
        for b in range(count):  # the final rounding of all six (lon / lat: a second time)
            for i in range(6):
                for t in range(num_steps):
                    signals[start + b, i, t] = _round(filtered[i, b, t], scale)


@njit
def body_frame_acceleration_row(
    cos: np.ndarray, sin: np.ndarray, speed: np.ndarray, dt_s: float, out: np.ndarray
) -> None:
    """out[T, 2] = `metrics.comfort.body_frame_acceleration` of one rollout moving at speed[T]
    along its heading ((cos, sin)[T] by numpy): velocity speed * (cos, sin), np.gradient's
    central differences inside and one-sided ones at the ends, rotated into the heading's
    frame; numpy's operations in its order."""
    num_steps = speed.shape[0]
    twice = 2.0 * dt_s
    for t in range(num_steps):
        before, after, step = t - 1, t + 1, twice
        if t == 0:
            before, after, step = 0, 1, dt_s
        elif t == num_steps - 1:
            before, after, step = t - 1, t, dt_s
        ax = (speed[after] * cos[after] - speed[before] * cos[before]) / step
        ay = (speed[after] * sin[after] - speed[before] * sin[before]) / step
        out[t, 0] = cos[t] * ax + sin[t] * ay
        out[t, 1] = -sin[t] * ax + cos[t] * ay


@njit
def comfort_of_speed_rows(
    heading: np.ndarray,
    cos: np.ndarray,
    sin: np.ndarray,
    speed: np.ndarray,
    dt_s: float,
    smooth: tuple,
    yaw_rate: tuple,
    yaw_accel: tuple,
    jerk: tuple,
    scale: float,
    lower: np.ndarray,
    upper: np.ndarray,
    signals: np.ndarray,
    within: np.ndarray,
) -> None:
    """`metrics.comfort.ego_is_comfortable` of R rollouts moving along their heading:
    heading, its (cos, sin) by numpy and speed float64[R, T] -> signals float64[R, 6, T]
    (`comfort_signals_rows` of `body_frame_acceleration_row`) and within bool[R, 6]: lower[i]
    < signal i < upper[i] at every step (NaN bounds: that side unbounded, as None)."""
    num_rows, num_steps = heading.shape
    acceleration = np.empty((num_rows, num_steps, 2))
    for r in range(num_rows):
        body_frame_acceleration_row(cos[r], sin[r], speed[r], dt_s, acceleration[r])
    comfort_signals_rows(heading, acceleration, smooth, yaw_rate, yaw_accel, jerk, scale, signals)
    for r in range(num_rows):
        for i in range(signals.shape[1]):
            ok = True
            for t in range(num_steps):
                value = signals[r, i, t]
                if (not np.isnan(lower[i]) and not value > lower[i]) or (
                    not np.isnan(upper[i]) and not value < upper[i]
                ):
                    ok = False
                    break
            within[r, i] = ok


@njit
def velocity_along_heading_rows(
    velocity: np.ndarray, static: np.ndarray, cos: np.ndarray, sin: np.ndarray, out: np.ndarray
) -> None:
    """out[U, T, 2] = |velocity[U, T, 2]| (0 where static[U]) times (cos, sin)[U, T]:
    `time_to_collision._agent_velocity_along_heading` of rows, numpy's operations."""
    for u in range(velocity.shape[0]):
        for t in range(velocity.shape[1]):
            vx, vy = velocity[u, t, 0], velocity[u, t, 1]
            speed = 0.0 if static[u] else np.sqrt(vx * vx + vy * vy)
            out[u, t, 0], out[u, t, 1] = speed * cos[u, t], speed * sin[u, t]


@njit
def over_speed_rows(speed: np.ndarray, limit: np.ndarray, over: np.ndarray) -> None:
    """over[R, T] = `compliance.speed_limit_compliance`'s over-speed of speed, limit
    [R, T] (any strides): 0 where the limit is NaN, else np.maximum(0, |speed| - limit)
    (NaN kept)."""
    for r in range(speed.shape[0]):
        for t in range(speed.shape[1]):
            bound = limit[r, t]
            if bound != bound:
                over[r, t] = 0.0
                continue
            excess = abs(speed[r, t]) - bound
            over[r, t] = excess if excess != excess or excess > 0.0 else 0.0


@njit
def driving_direction_rows(
    progress: np.ndarray,
    window: int,
    compliance_m: float,
    violation_m: float,
    multiplier: np.ndarray,
) -> None:
    """multiplier[R] = `compliance.driving_direction_compliance` of progress[R, T] (T >= 1):
    numpy's running sum (sequential), window sums cumulative[t] - cumulative[t - window - 1]
    (- 0.0 for the first window + 1 steps), their least (NaN if any is), then 1.0 / 0.5 /
    0.0 by the thresholds (a NaN worst is 0.0, as numpy's comparisons give)."""
    num_steps = progress.shape[1]
    cumulative = np.empty(num_steps)
    for r in range(progress.shape[0]):
        total = progress[r, 0]
        cumulative[0] = total
        for t in range(1, num_steps):
            total = total + progress[r, t]
            cumulative[t] = total
        least, nan = np.inf, False
        for t in range(num_steps):
            before = cumulative[t - window - 1] if t > window else 0.0
            value = cumulative[t] - before
            if value != value:
                nan = True
            elif value < least:
                least = value
        worst = max(0.0, -least)
        if nan or not worst < violation_m:
            multiplier[r] = 0.0
        elif worst < compliance_m:
            multiplier[r] = 1.0
        else:
            multiplier[r] = 0.5


@njit
def first_true_rows(flags: np.ndarray, first: np.ndarray) -> None:
    """first[R] = the index of the first True of each row of flags bool[R, T] (any
    strides), T where none: np.argmax's index where np.any holds."""
    num_steps = flags.shape[1]
    for r in range(flags.shape[0]):
        first[r] = num_steps
        for t in range(num_steps):
            if flags[r, t]:
                first[r] = t
                break


@njit
def ttc_per_step_summary(
    ttc: np.ndarray, at_fault: np.ndarray, least_s: float, within: np.ndarray, minimum: np.ndarray
) -> None:
    """`time_to_collision._ttc_from_per_step` of ttc float64[R, T] and at_fault bool[R, T]
    (any strides): ttc set to 0 at at-fault steps in place, within[R] = least_s < ttc at
    every step, minimum[R] = its least (NaN if any is, as np.min; inf for T = 0)."""
    for r in range(ttc.shape[0]):
        ok, low = True, np.inf
        for t in range(ttc.shape[1]):
            if at_fault[r, t]:
                ttc[r, t] = 0.0
            value = ttc[r, t]
            ok = ok and least_s < value
            if value != value or value < low:
                low = value if low == low else low
        within[r], minimum[r] = ok, low


@njit
def tally_at_fault(
    batch: np.ndarray,
    step: np.ndarray,
    category: np.ndarray,
    at_fault: np.ndarray,
    counts: np.ndarray,
    at_fault_step: np.ndarray,
) -> None:
    """`collisions._result_of_events`' counts and at-fault steps of E events with batch
    (candidate, mode) int64[E, 2], step int64[E], category int64[E] (`CollisionCategory`),
    at_fault bool[E]: counts[M, K, 3] += 1 and at_fault_step[M, K, T] = True per at-fault
    event (start both at zero)."""
    for e in range(step.shape[0]):
        if at_fault[e]:
            m, k = batch[e, 0], batch[e, 1]
            counts[m, k, category[e]] += 1
            at_fault_step[m, k, step[e]] = True


@njit
def spread_row_collisions(first_step: np.ndarray, row_of: np.ndarray, num_steps: int) -> tuple:
    """The collisions of shared rows spread to the modes: first_step int64[M, U] (each
    (candidate, row)'s first overlapping step, num_steps where none), row_of int64[K, A]
    (`SharedRows`) -> (row_hits, mode_first, mode_hits): row_hits int64[3, H] (candidate, row,
    step) of the rows that collide, np.nonzero(first_step < num_steps)'s order; mode_first
    int64[M, K, A] = first_step[:, row_of]; mode_hits int64[4, E] (candidate, mode, agent,
    the row hit's index) of np.nonzero(mode_first < num_steps), in its order."""
    num_candidates, num_rows = first_step.shape
    num_modes, num_agents = row_of.shape
    uses = np.zeros(num_rows, np.int64)  # (mode, agent)s per row
    for k in range(num_modes):
        for a in range(num_agents):
            uses[row_of[k, a]] += 1
    hit_of = np.full((num_candidates, num_rows), -1, np.int64)
    count, total = 0, 0
    for m in range(num_candidates):
        for u in range(num_rows):
            if first_step[m, u] < num_steps:
                hit_of[m, u] = count
                count += 1
                total += uses[u]
    row_hits = np.empty((3, count), np.int64)
    for m in range(num_candidates):
        for u in range(num_rows):
            h = hit_of[m, u]
            if h >= 0:
                row_hits[0, h], row_hits[1, h], row_hits[2, h] = m, u, first_step[m, u]
    mode_first = np.empty((num_candidates, num_modes, num_agents), np.int64)
    mode_hits = np.empty((4, total), np.int64)
    e = 0
    for m in range(num_candidates):
        for k in range(num_modes):
            for a in range(num_agents):
                u = row_of[k, a]
                mode_first[m, k, a] = first_step[m, u]
                h = hit_of[m, u]
                if h >= 0:
                    mode_hits[0, e], mode_hits[1, e], mode_hits[2, e], mode_hits[3, e] = m, k, a, h
                    e += 1
    return row_hits, mode_first, mode_hits


@njit
def _gradient_rows(values: np.ndarray, step: float, out: np.ndarray) -> None:
    """out[R, H, C] = np.gradient(values[R, H, C], step, axis=1) (H >= 2): numpy's central
    differences (f[t + 1] - f[t - 1]) / (2 step) inside and one-sided ones at the ends. With
    C > 1 each row is one flat run over (t, c) (contiguous: ~25 % faster for C = 2)."""
    num_steps = values.shape[1]
    twice = 2.0 * step
    inner, width = values.shape[2], values.shape[1] * values.shape[2]
    if inner > 1:
        flat, flat_out = values.reshape(values.shape[0], width), out.reshape(out.shape[0], width)
        for r in range(flat.shape[0]):
            row, row_out = flat[r], flat_out[r]
            for j in range(inner):
                row_out[j] = (row[inner + j] - row[j]) / step
            for j in range(inner, width - inner):
                row_out[j] = (row[j + inner] - row[j - inner]) / twice
            for j in range(width - inner, width):
                row_out[j] = (row[j] - row[j - inner]) / step
        return
    for r in range(values.shape[0]):
        for c in range(values.shape[2]):
            out[r, 0, c] = (values[r, 1, c] - values[r, 0, c]) / step
            for t in range(1, num_steps - 1):
                out[r, t, c] = (values[r, t + 1, c] - values[r, t - 1, c]) / twice
            out[r, num_steps - 1, c] = (
                values[r, num_steps - 1, c] - values[r, num_steps - 2, c]
            ) / step


def gradient(values: np.ndarray, step: float, axis: int) -> np.ndarray:
    """np.gradient(values, step, axis=axis) for float64 values with a uniform scalar step: the
    same floats, by a compiled loop (`_gradient_rows`) when the kernels are on (numpy's own
    call costs more than its arithmetic on the planner's arrays)."""
    values = np.asarray(values)
    axis = axis % max(values.ndim, 1)
    if not enabled() or values.dtype != np.float64 or values.shape[axis] < 2:
        return np.gradient(values, step, axis=axis)
    shape = values.shape
    rows = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    out = np.empty(shape)
    _gradient_rows(
        np.ascontiguousarray(values).reshape(rows, shape[axis], inner), float(step),
        out.reshape(rows, shape[axis], inner),
    )  # fmt: skip
    return out


def first_true(flags: np.ndarray) -> np.ndarray:
    """int64[...]: the index of the first True along the last axis of flags bool[..., T], T
    where none (np.argmax's index where np.any holds), by a compiled pass where the kernels
    run (numpy's reductions over short rows cost more than the pass)."""
    flags = np.asarray(flags, np.bool_)
    if not enabled() or flags.ndim == 0:
        return np.where(flags.any(-1), np.argmax(flags, axis=-1), flags.shape[-1])
    rows = flags.reshape(-1, flags.shape[-1])
    first = np.empty(rows.shape[0], np.int64)
    first_true_rows(rows, first)
    return first.reshape(flags.shape[:-1])
