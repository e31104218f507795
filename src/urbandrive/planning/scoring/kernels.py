"""Compiled kernels of the scorer (numba): the pair broad phase (`pairs.interacting_pairs`)
and the drivable-area grid's bilinear lookup (`drivable_grid.DrivableAreaGrid`).

The same coarse-to-fine test as the numpy reference (group x block boxes, then candidate x
block, then per step), the same comparisons in the same order, in loops that never build the
coarse levels' index arrays: the same pairs in the same order. The switch and the fallback
without numba are `urbandrive.metrics.kernels`'.
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics.kernels import (
    _all_decided,
    _first_projected_hit,
    _lower_modes,
    _meets,
    _pair_relevant,
    _worst_of_modes,
    box_corners_scalar,
    boxes_overlap_scalar,
    njit,
)


@njit
def _grow(rows: NDArrayInt) -> NDArrayInt:
    """rows int64[4, N] copied into int64[4, 2 N]."""
    grown = np.empty((4, 2 * rows.shape[1]), np.int64)
    grown[:, : rows.shape[1]] = rows
    return grown


@njit
def bilinear_inside(cell: NDArrayF64, grid: NDArrayF64) -> tuple[NDArrayF64, bool]:
    """(float64[N] bilinear values of `grid[NY, NX]` at `cell[N, 2]` (x, y in grid units),
    whether every cell lies inside the grid); stops at the first cell outside (the caller
    then runs the numpy path, which has the exact fallback). The same operations in the same
    order as `DrivableAreaGrid.distance_outside_drivable_area`."""
    value = np.empty(cell.shape[0])
    for n in range(cell.shape[0]):
        value[n], inside = _bilinear_at(grid, cell[n, 0], cell[n, 1])
        if not inside:
            return value, False
    return value, True


@njit
def _bilinear_at(grid: NDArrayF64, x: float, y: float) -> tuple[float, bool]:
    """(the bilinear value of `grid[NY, NX]` at (x, y) in grid units, whether the cell lies
    inside the grid; NaN where it does not)."""
    num_y, num_x = grid.shape
    if not (x >= 0 and x < num_x - 1 and y >= 0 and y < num_y - 1):
        return np.nan, False
    ix, iy = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - ix, y - iy
    value = (
        grid[iy, ix] * (1 - fx) * (1 - fy)
        + grid[iy, ix + 1] * fx * (1 - fy)
        + grid[iy + 1, ix] * (1 - fx) * fy
        + grid[iy + 1, ix + 1] * fx * fy
    )
    return value, True


@njit
def _step_blocks(low: NDArrayF64, high: NDArrayF64, valid: NDArrayBool, block_steps: int) -> tuple:
    """(low, high) float64[R, B, 2]: boxes over blocks of `block_steps` steps of the rows'
    boxes low / high [R, T, 2], the steps where valid[R, T] is False left out (+inf / -inf
    where a block has none): `pairs.StepBoxes.blocks` of the masked boxes."""
    num_rows, num_steps = low.shape[0], low.shape[1]
    num_blocks = -(-num_steps // block_steps)
    block_low = np.full((num_rows, num_blocks, 2), np.inf)
    block_high = np.full((num_rows, num_blocks, 2), -np.inf)
    for r in range(num_rows):
        for t in range(num_steps):
            if not valid[r, t]:
                continue
            b = t // block_steps
            for axis in range(2):
                block_low[r, b, axis] = min(block_low[r, b, axis], low[r, t, axis])
                block_high[r, b, axis] = max(block_high[r, b, axis], high[r, t, axis])
    return block_low, block_high


@njit
def _groups(low: NDArrayF64, high: NDArrayF64, group_size: int) -> tuple:
    """(low, high) float64[G, B, 2]: boxes of `group_size` consecutive rows of [R, B, 2]."""
    num_rows = low.shape[0]
    num_groups = -(-num_rows // group_size)
    group_low = np.full((num_groups, low.shape[1], 2), np.inf)
    group_high = np.full((num_groups, low.shape[1], 2), -np.inf)
    for r in range(num_rows):
        g = r // group_size
        for b in range(low.shape[1]):
            for axis in range(2):
                group_low[g, b, axis] = min(group_low[g, b, axis], low[r, b, axis])
                group_high[g, b, axis] = max(group_high[g, b, axis], high[r, b, axis])
    return group_low, group_high


@njit
def masked_pairs_kernel(
    ego_low: NDArrayF64,
    ego_high: NDArrayF64,
    agent_low: NDArrayF64,
    agent_high: NDArrayF64,
    valid: NDArrayBool,
    margin: NDArrayF64,
    block_steps: int,
    group_size: int,
    centres_within: bool,
    capacity: int,
    skip: NDArrayBool,
    boxes: tuple,
    first_step: NDArrayInt,
    emit: NDArrayBool,
) -> NDArrayInt:
    """int64[4, P]: (candidate, mode, agent, step) rows of the pairs whose per-step boxes
    overlap once the candidate's is grown by margin[agent] (`pairs.interacting_pairs`), the
    agents' steps where valid: bool[K, A, T] is False never pairing (as empty boxes there
    would). Coarse to fine as the numpy reference, the same comparisons (per step the circle
    of `centres_within` first: a pair passes iff every test does, in any order): the same
    pairs in the same order. ego_*: [M, T, 2]; agent_*: [K, A, T, 2]; margin:
    float64[A] (slack included); centres_within: also the points ego_low, agent_low within
    the margin (a circle; boxes of points); capacity: the output's first size (it grows);
    skip: bool[M, K * A] (candidate, row k * A + a) never paired, or bool[0, 0] for none.
    first_step: int64[M, K * A] (start it at T), or int64[0, 0] for none: every pair found is
    also tested exactly (`metrics.kernels.boxes_overlap_scalar`, centres ego_low, agent_low,
    boxes = (ego cos, sin [M, T], size [M, 2], agent cos, sin [K * A, T], size [K * A, 2]))
    and first_step lowered to each row's first overlapping step, as `first_overlap_on_rows`
    on the pairs would; only the pairs of the rows with emit: bool[K * A] are returned (the
    others' search stops at their first overlap)."""
    num_candidates, num_steps = ego_low.shape[0], ego_low.shape[1]
    num_modes, num_agents = agent_low.shape[0], agent_low.shape[1]
    every = np.ones((num_candidates, num_steps), np.bool_)
    ego_block_low, ego_block_high = _step_blocks(ego_low, ego_high, every, block_steps)
    group_low, group_high = _groups(ego_block_low, ego_block_high, group_size)
    rows_low = agent_low.reshape(num_modes * num_agents, num_steps, 2)
    rows_high = agent_high.reshape(num_modes * num_agents, num_steps, 2)
    rows_valid = valid.reshape(num_modes * num_agents, num_steps)
    block_low, block_high = _step_blocks(rows_low, rows_high, rows_valid, block_steps)
    num_blocks = block_low.shape[1]
    rows = np.empty((4, max(capacity, 16)), np.int64)
    count = 0
    skipping = skip.shape[0] > 0
    folding = first_step.shape[0] > 0
    ego_cos, ego_sin, ego_size, agent_cos, agent_sin, agent_size = boxes
    for g in range(group_low.shape[0]):
        for k in range(num_modes):
            for a in range(num_agents):
                row = k * num_agents + a
                reach = margin[a]
                for b in range(num_blocks):
                    lbx, lby = block_low[row, b, 0], block_low[row, b, 1]
                    hbx, hby = block_high[row, b, 0], block_high[row, b, 1]
                    if not (
                        group_low[g, b, 0] - reach <= hbx and lbx <= group_high[g, b, 0] + reach
                    ):
                        continue
                    if not (
                        group_low[g, b, 1] - reach <= hby and lby <= group_high[g, b, 1] + reach
                    ):
                        continue
                    for m in range(g * group_size, min((g + 1) * group_size, num_candidates)):
                        if skipping and skip[m, row]:
                            continue
                        if folding and not emit[row] and first_step[m, row] < num_steps:
                            continue  # steps only grow per (m, row): nothing left to find
                        if not (
                            ego_block_low[m, b, 0] - reach <= hbx
                            and lbx <= ego_block_high[m, b, 0] + reach
                            and ego_block_low[m, b, 1] - reach <= hby
                            and lby <= ego_block_high[m, b, 1] + reach
                        ):
                            continue
                        for t in range(b * block_steps, min((b + 1) * block_steps, num_steps)):
                            low_x, low_y = rows_low[row, t, 0], rows_low[row, t, 1]
                            ego_x, ego_y = ego_low[m, t, 0], ego_low[m, t, 1]
                            if centres_within:  # first: it rejects most steps, in one branch
                                gap_x, gap_y = low_x - ego_x, low_y - ego_y
                                if not gap_x * gap_x + gap_y * gap_y <= reach * reach:
                                    continue
                            if not (
                                rows_valid[row, t]
                                and ego_x - reach <= rows_high[row, t, 0]
                                and low_x <= ego_high[m, t, 0] + reach
                                and ego_y - reach <= rows_high[row, t, 1]
                                and low_y <= ego_high[m, t, 1] + reach
                            ):
                                continue
                            if folding:
                                if t < first_step[m, row] and boxes_overlap_scalar(
                                    ego_x, ego_y, ego_cos[m, t], ego_sin[m, t], ego_size[m, 0],
                                    ego_size[m, 1], low_x, low_y, agent_cos[row, t],
                                    agent_sin[row, t], agent_size[row, 0], agent_size[row, 1],
                                ):  # fmt: skip
                                    first_step[m, row] = t
                                if not emit[row]:
                                    continue
                            if count == rows.shape[1]:
                                rows = _grow(rows)
                            rows[0, count], rows[1, count] = m, k
                            rows[2, count], rows[3, count] = a, t
                            count += 1
    return rows[:, :count]


@njit
def distinct_rows(bits: NDArrayInt) -> tuple[NDArrayInt, NDArrayInt]:
    """(keep int64[D], inverse int64[M]) of rows bits int64[M, F]: the first of each set of
    equal rows, in order, and the index into keep standing for each row
    (`scorer.distinct_candidates`: a row is compared in full only with kept rows of the same
    wrapping sum)."""
    num_rows, num_fields = bits.shape
    sums = np.zeros(num_rows, np.int64)
    for i in range(num_rows):
        for f in range(num_fields):
            sums[i] += bits[i, f]
    keep = np.empty(num_rows, np.int64)
    inverse = np.empty(num_rows, np.int64)
    count = 0
    for i in range(num_rows):
        inverse[i] = -1
        for r in range(count):
            j = keep[r]
            if sums[j] == sums[i] and _equal_row(bits, i, j):
                inverse[i] = r
                break
        if inverse[i] < 0:
            keep[count], inverse[i] = i, count
            count += 1
    return keep[:count].copy(), inverse


@njit
def _equal_row(bits: NDArrayInt, i: int, j: int) -> bool:
    """Rows i and j of bits int64[M, F] are equal."""
    for f in range(bits.shape[1]):  # noqa: SIM110 (numba: a plain loop)
        if bits[i, f] != bits[j, f]:
            return False
    return True


@njit
def lane_centering_costs(
    d: NDArrayF64,
    lane: NDArrayInt,
    half_width: NDArrayF64,
    left: NDArrayF64,
    right: NDArrayF64,
    centre_share: float,
    route_share: float,
    cost: NDArrayF64,
) -> None:
    """cost[M, T] = `terms.lane_centering`'s clipped cost per step: d [M, T] (any
    strides), lane int64[M, T] into the lanes' half_width, left, right offsets [L]; numpy's
    operations in its order (fmin keeps the number of a NaN pair, clip keeps NaN)."""
    for m in range(d.shape[0]):
        for t in range(d.shape[1]):
            offset, i = d[m, t], lane[m, t]
            width = half_width[i]
            nearest = _fmin(_fmin(abs(offset - 0.0), abs(offset - left[i])), abs(offset - right[i]))
            value = centre_share * _clip01(nearest / width) + route_share * _clip01(
                abs(offset) / (2.0 * width)
            )
            cost[m, t] = _clip01(value)


@njit
def _fmin(a: float, b: float) -> float:
    """np.fmin of two floats: the smaller, the number where one is NaN."""
    if b != b:
        return a
    if a != a:
        return b
    return a if a <= b else b


@njit
def _clip01(value: float) -> float:
    """np.clip(value, 0.0, 1.0) of a float (NaN kept)."""
    if value != value:
        return value
    return min(max(value, 0.0), 1.0)


@njit
def signal_shares(
    signals: NDArrayF64, index: NDArrayInt, bounds: NDArrayF64, shares: NDArrayF64
) -> None:
    """shares[R, S, T] = |signals[R, index[s], T]| / bounds[s] (`terms._signal_shares`)."""
    for r in range(signals.shape[0]):
        for s in range(index.shape[0]):
            row, bound = index[s], bounds[s]
            for t in range(signals.shape[2]):
                shares[r, s, t] = abs(signals[r, row, t]) / bound


@njit
def headway_shortfall(
    s_e: NDArrayF64,
    d_e: NDArrayF64,
    speed_e: NDArrayF64,
    s_a: NDArrayF64,
    d_a: NDArrayF64,
    live: NDArrayBool,
    reach_m: NDArrayF64,
    half_lengths_m: NDArrayF64,
    min_gap_m: float,
    headway_s: float,
    worst: NDArrayF64,
) -> None:
    """`terms.headway`'s worst shortfall over the agents: worst[M, K, T] (start it at 0) =
    max over agents n of clip(1 - gap / wanted, 0, 1) where agent n is live, ahead (s_a -
    s_e > 0) and across the ego's path (|d_a - d_e| < reach_m[n]); gap = s_a - s_e -
    half_lengths_m[n], wanted = min_gap_m + headway_s * speed_e. Candidates s_e, d_e,
    speed_e [M, T]; agents s_a, d_a, live [N, K, T]. The numpy path's operations; an agent's
    mode equal to an earlier one (s_a, d_a and live alike at every step) is not walked
    again: the earlier one's shares go to both (a maximum does not depend on the order). A
    share is > 0 only where 0 < ahead < wanted + half_lengths: per step the candidates are
    walked in the order of s_e, only those within (s_a - the largest wanted - half_lengths -
    1 m, s_a); the others' shares are 0 (every candidate is walked at a step with a wanted
    gap <= 0 or NaN)."""
    num_candidates, num_steps = s_e.shape
    num_agents, num_modes = s_a.shape[0], s_a.shape[1]
    s_t, d_t = s_e.T.copy(), d_e.T.copy()  # [T, M]: the inner loop reads contiguous memory
    wanted = np.empty((num_steps, num_candidates))
    for t in range(num_steps):
        for m in range(num_candidates):
            wanted[t, m] = min_gap_m + headway_s * speed_e[m, t]
    # Per step the candidates by s: a share is > 0 only where 0 < ahead < wanted + half
    # length, so an agent at s needs only the candidates with s_e in (s - reach_back, s).
    order = np.empty((num_steps, num_candidates), np.int64)
    s_sorted = np.empty((num_steps, num_candidates))
    reach_back = np.full(num_steps, -1.0)  # < 0: no window (a wanted gap <= 0 or NaN)
    for t in range(num_steps):
        order[t] = np.argsort(s_t[t])
        for i in range(num_candidates):
            s_sorted[t, i] = s_t[t, order[t, i]]
        largest, usable = 0.0, True
        for m in range(num_candidates):
            usable = usable and wanted[t, m] > 0.0
            largest = max(largest, wanted[t, m])
        if usable and np.isfinite(largest):
            reach_back[t] = largest + 1.0  # + 1 m: far above any rounding
    same = _equal_modes(s_a, d_a, live)  # [N, K]: the first mode equal to each
    uses = np.empty(num_modes, np.int64)
    for n in range(num_agents):
        reach, half_lengths = reach_m[n], half_lengths_m[n]
        for k in range(num_modes):
            if same[n, k] != k:
                continue
            count = 0
            for j in range(k, num_modes):
                if same[n, j] == k:
                    uses[count] = j
                    count += 1
            for t in range(num_steps):
                if not live[n, k, t]:
                    continue
                agent_s, agent_d = s_a[n, k, t], d_a[n, k, t]
                first, stop = 0, num_candidates
                back = reach_back[t] + max(half_lengths, 0.0)
                if reach_back[t] >= 0.0 and np.isfinite(agent_s) and np.isfinite(back):
                    first = np.searchsorted(s_sorted[t], agent_s - back)
                    stop = np.searchsorted(s_sorted[t], agent_s)  # s_e < s: ahead > 0
                for j in range(first, stop):
                    m = order[t, j]
                    ahead = agent_s - s_t[t, m]
                    if not (ahead > 0.0 and abs(agent_d - d_t[t, m]) < reach):
                        continue
                    share = min(max(1.0 - (ahead - half_lengths) / wanted[t, m], 0.0), 1.0)
                    for i in range(count):
                        if share > worst[m, uses[i], t]:
                            worst[m, uses[i], t] = share


@njit
def _equal_modes(s_a: NDArrayF64, d_a: NDArrayF64, live: NDArrayBool) -> NDArrayInt:
    """int64[N, K]: for each agent and mode, the first mode whose s_a, d_a and live [N, K, T]
    are equal to its own at every step (itself where none is; NaN never equal)."""
    num_agents, num_modes, num_steps = s_a.shape
    same = np.empty((num_agents, num_modes), np.int64)
    for n in range(num_agents):
        for k in range(num_modes):
            same[n, k] = k
            for j in range(k):
                if same[n, j] != j:
                    continue
                equal = True
                for t in range(num_steps):
                    if not (
                        s_a[n, j, t] == s_a[n, k, t]
                        and d_a[n, j, t] == d_a[n, k, t]
                        and live[n, j, t] == live[n, k, t]
                    ):
                        equal = False
                        break
                if equal:
                    same[n, k] = j
                    break
    return same


@njit
def box_corners_rows(
    xy: NDArrayF64, cos: NDArrayF64, sin: NDArrayF64, size: NDArrayF64, corners: NDArrayF64
) -> None:
    """corners[R, 4, 2] = `geometry.boxes.box_corners` of the boxes xy [R, 2], (cos, sin)
    [R] of the heading, size [R, 2] (length, width), metres: the same operations."""
    for r in range(xy.shape[0]):
        xs, ys = box_corners_scalar(xy[r, 0], xy[r, 1], cos[r], sin[r], size[r, 0], size[r, 1])
        for i in range(4):
            corners[r, i, 0], corners[r, i, 1] = xs[i], ys[i]


@njit
def _nan_min(a: float, b: float) -> float:
    """np.minimum of two floats (NaN if either is)."""
    if a != a or b != b:
        return np.nan
    return a if a <= b else b


@njit
def _nan_max(a: float, b: float) -> float:
    """np.maximum of two floats (NaN if either is)."""
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@njit
def projection_boxes(
    xy: NDArrayF64,
    cos: NDArrayF64,
    sin: NDArrayF64,
    speed: NDArrayF64,
    first_s: float,
    last_s: float,
    low: NDArrayF64,
    high: NDArrayF64,
) -> None:
    """low, high[R, T, 2]: the boxes of the segments xy + first_s v -> xy + last_s v, v =
    speed (cos, sin) (`pairs.StepBoxes.of_segments` of `projection_pairs`' ends, numpy's
    operations: the same floats). xy [R, T, 2]; cos, sin (numpy's), speed [R, T]."""
    for r in range(xy.shape[0]):
        for t in range(xy.shape[1]):
            for axis in range(2):
                direction = cos[r, t] if axis == 0 else sin[r, t]
                velocity = speed[r, t] * direction
                start = xy[r, t, axis] + first_s * velocity
                end = xy[r, t, axis] + last_s * velocity
                low[r, t, axis] = _nan_min(start, end)
                high[r, t, axis] = _nan_max(start, end)


@njit
def corner_distances_on_grid(
    xy: NDArrayF64,
    cos: NDArrayF64,
    sin: NDArrayF64,
    size: NDArrayF64,
    origin: NDArrayF64,
    resolution: float,
    grid: NDArrayF64,
    distance: NDArrayF64,
) -> bool:
    """distance[R, 4] = the grid's bilinear distance outside the drivable area at the corners
    of the boxes xy [R, 2], (cos, sin) [R], size [R, 2] (`box_corners_rows`, then
    `DrivableAreaGrid.distance_outside_drivable_area`: cell = (corner - origin) / resolution,
    `_bilinear_at`; the same operations). False as soon as a corner is off the grid (the
    caller then takes the exact path)."""
    for r in range(xy.shape[0]):
        xs, ys = box_corners_scalar(xy[r, 0], xy[r, 1], cos[r], sin[r], size[r, 0], size[r, 1])
        for i in range(4):
            x = (xs[i] - origin[0]) / resolution
            y = (ys[i] - origin[1]) / resolution
            distance[r, i], inside = _bilinear_at(grid, x, y)
            if not inside:
                return False
    return True


@njit
def projection_ttc_kernel(
    ego_low: NDArrayF64,
    ego_high: NDArrayF64,
    agent_low: NDArrayF64,
    agent_high: NDArrayF64,
    margin: NDArrayF64,
    block_steps: int,
    group_size: int,
    ego_xy: NDArrayF64,
    ego_cos: NDArrayF64,
    ego_sin: NDArrayF64,
    ego_speed: NDArrayF64,
    ego_size: NDArrayF64,
    agent_xy: NDArrayF64,
    agent_cos: NDArrayF64,
    agent_sin: NDArrayF64,
    agent_velocity: NDArrayF64,
    agent_size: NDArrayF64,
    valid: NDArrayBool,
    first_collision_step: NDArrayInt,
    lateral: NDArrayBool,
    reach_m: NDArrayF64,
    rear_axle_m: float,
    stopped_mps: float,
    cos_ahead: float,
    cos_not_behind: float,
    times_s: NDArrayF64,
    mode_start: NDArrayInt,
    modes: NDArrayInt,
    decide_at_s: float,
    decided: NDArrayBool,
    ttc: NDArrayF64,
) -> None:
    """The projection pairs of `masked_pairs_kernel` (one mode: rows' boxes agent_* [U, T,
    2], the rows' valid [U, T] masking them; ego_* [M, T, 2]; margin float64[U], slack
    included), each handed as it is found to `metrics.kernels.min_ttc_on_rows`' test (its
    loop body, the same operations; arguments from ego_xy on as its): the same pairs in the
    same order, so ttc and decided end as `min_ttc_on_rows` leaves them on the pairs the
    search returns. A (candidate, row) whose modes are all decided is passed over (the
    test's first check), no pair written."""
    num_candidates, num_steps = ego_low.shape[0], ego_low.shape[1]
    num_rows = agent_low.shape[0]
    every = np.ones((num_candidates, num_steps), np.bool_)
    ego_block_low, ego_block_high = _step_blocks(ego_low, ego_high, every, block_steps)
    group_low, group_high = _groups(ego_block_low, ego_block_high, group_size)
    block_low, block_high = _step_blocks(agent_low, agent_high, valid, block_steps)
    for g in range(group_low.shape[0]):
        for u in range(num_rows):
            reach = margin[u]
            for b in range(block_low.shape[1]):
                lbx, lby = block_low[u, b, 0], block_low[u, b, 1]
                hbx, hby = block_high[u, b, 0], block_high[u, b, 1]
                if not (group_low[g, b, 0] - reach <= hbx and lbx <= group_high[g, b, 0] + reach):
                    continue
                if not (group_low[g, b, 1] - reach <= hby and lby <= group_high[g, b, 1] + reach):
                    continue
                for m in range(g * group_size, min((g + 1) * group_size, num_candidates)):
                    if _all_decided(decided, m, mode_start, modes, u):
                        continue
                    if not (
                        ego_block_low[m, b, 0] - reach <= hbx
                        and lbx <= ego_block_high[m, b, 0] + reach
                        and ego_block_low[m, b, 1] - reach <= hby
                        and lby <= ego_block_high[m, b, 1] + reach
                    ):
                        continue
                    # steps from the row's first collision on are never tested (TTC 0 there)
                    stop = min((b + 1) * block_steps, num_steps, first_collision_step[m, u])
                    for t in range(b * block_steps, stop):
                        if not (
                            valid[u, t]
                            and ego_low[m, t, 0] - reach <= agent_high[u, t, 0]
                            and agent_low[u, t, 0] <= ego_high[m, t, 0] + reach
                            and ego_low[m, t, 1] - reach <= agent_high[u, t, 1]
                            and agent_low[u, t, 1] <= ego_high[m, t, 1] + reach
                        ):
                            continue
                        # min_ttc_on_rows' body on the pair (m, u, t), its checks (reads
                        # only) cheapest first
                        speed_e = ego_speed[m, t]
                        if not abs(speed_e) > stopped_mps:
                            continue
                        if _all_decided(decided, m, mode_start, modes, u):
                            continue
                        cos_e, sin_e = ego_cos[m, t], ego_sin[m, t]
                        ex, ey = ego_xy[m, t, 0], ego_xy[m, t, 1]
                        ax, ay = agent_xy[u, t, 0], agent_xy[u, t, 1]
                        rear_x, rear_y = ex - rear_axle_m * cos_e, ey - rear_axle_m * sin_e
                        if not _pair_relevant(
                            ax - rear_x, ay - rear_y, cos_e, sin_e, cos_ahead, cos_not_behind,
                            lateral[m, t],
                        ):  # fmt: skip
                            continue
                        velocity_a = agent_velocity[u, t]
                        relative_vx = velocity_a[0] - speed_e * cos_e
                        relative_vy = velocity_a[1] - speed_e * sin_e
                        pair_reach = reach_m[m, u]
                        if not _meets(
                            ax - ex, ay - ey, relative_vx, relative_vy, pair_reach, times_s[0],
                            times_s[-1],
                        ):  # fmt: skip
                            continue
                        hit = _first_projected_hit(
                            ego_xy[m, t], cos_e, sin_e, speed_e, ego_size[m], agent_xy[u, t],
                            agent_cos[u, t], agent_sin[u, t], velocity_a, agent_size[u],
                            pair_reach, times_s, _worst_of_modes(ttc, m, t, mode_start, modes, u),
                        )  # fmt: skip
                        _lower_modes(ttc, m, t, mode_start, modes, u, hit)
                        if hit <= decide_at_s:
                            for i in range(mode_start[u], mode_start[u + 1]):
                                decided[m, modes[i]] = True
