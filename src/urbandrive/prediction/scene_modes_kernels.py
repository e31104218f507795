"""Compiled (numba) scene-mode separation: `scene_modes.separate_scene_modes`'s sweeps for
every scene mode in one call, the numpy path (`separate_scene_modes_reference`) staying the
reference.

The kernel walks pairs x steps with an early exit at the first overlapping step and never
builds the options of a mode: option 0 of agent a in scene mode k is row M + k of the
stacked paths (marginal modes first, then the scene modes), option o > 0 is row o - 1. It
does the reference's floating-point operations in the same order (the same bounds, the
centre-distance filter of `metrics.forecasting.boxes_overlap_near` and the strict separating
axes of `geometry.boxes.boxes_overlap`, the same costs), and cos, sin and hypot come from
numpy, so the picked options are the reference's bit for bit.
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.compiled import njit
from urbandrive.metrics.kernels import boxes_overlap_scalar


@njit
def _paths_overlap(
    xy_a: np.ndarray,
    cos_a: np.ndarray,
    sin_a: np.ndarray,
    xy_b: np.ndarray,
    cos_b: np.ndarray,
    sin_b: np.ndarray,
    size: np.ndarray,
    diagonal: np.ndarray,
    a: int,
    b: int,
) -> bool:
    """Whether the boxes of agents a and b (size [N, 2], diagonal [N] = hypot of the size)
    on the paths xy [H, 2], cos, sin [H] overlap (positive area) at some step;
    `boxes_overlap_near`'s filter first."""
    reach = 0.5 * (diagonal[a] + diagonal[b])
    for t in range(xy_a.shape[0]):
        gap_x, gap_y = xy_a[t, 0] - xy_b[t, 0], xy_a[t, 1] - xy_b[t, 1]
        if not gap_x**2 + gap_y**2 < reach**2:
            continue
        if boxes_overlap_scalar(
            xy_a[t, 0],
            xy_a[t, 1],
            cos_a[t],
            sin_a[t],
            size[a, 0],
            size[a, 1],
            xy_b[t, 0],
            xy_b[t, 1],
            cos_b[t],
            sin_b[t],
            size[b, 0],
            size[b, 1],
            False,
        ):
            return True
    return False


@njit
def _meet(low: np.ndarray, high: np.ndarray, a: int, p: int, b: int, q: int) -> bool:
    """The bounds low, high [N, P, 2] of path p of agent a and path q of agent b meet."""
    return (
        low[a, p, 0] <= high[b, q, 0]
        and low[b, q, 0] <= high[a, p, 0]
        and low[a, p, 1] <= high[b, q, 1]
        and low[b, q, 1] <= high[a, p, 1]
    )


@njit
def _row(option: int, mode: int, num_marginal: int) -> int:
    """The stacked path of `option` in scene mode `mode`: 0 = the scene mode's future."""
    return num_marginal + mode if option == 0 else option - 1


@njit
def apart_now(
    xy: np.ndarray,
    cos: np.ndarray,
    sin: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    size: np.ndarray,
    diagonal: np.ndarray,
) -> np.ndarray:
    """bool[N, N]: the boxes now (xy [N, 1, 2], cos, sin [N, 1]; bounds low, high
    [N, 1, 2]) do not overlap (the diagonal: True)."""
    num_agents = xy.shape[0]
    apart = np.ones((num_agents, num_agents), dtype=np.bool_)
    for a in range(num_agents):
        for b in range(a + 1, num_agents):
            if _meet(low, high, a, 0, b, 0) and _paths_overlap(
                xy[a], cos[a], sin[a], xy[b], cos[b], sin[b], size, diagonal, a, b
            ):
                apart[a, b] = apart[b, a] = False
    return apart


@njit
def separate_all_modes(
    xy: np.ndarray,
    cos: np.ndarray,
    sin: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    size: np.ndarray,
    diagonal: np.ndarray,
    log_choice: np.ndarray,
    apart: np.ndarray,
    penalty: float,
    max_sweeps: int,
) -> np.ndarray:
    """int64[N, K]: each agent's option in each scene mode (0: its scene-mode future, m + 1:
    its marginal mode m). xy: float64[N, M + K, H', 2] the stacked paths (M marginal modes,
    then the K scene modes) at the tested steps, cos, sin [N, M + K, H']; low, high
    [N, M + K, 2] their bounds (`scene_modes._path_bounds`); size [N, 2], diagonal [N];
    log_choice: float64[N, K, M]; apart: bool[N, N] the judged pairs apart now."""
    num_agents, num_modes, num_marginal = log_choice.shape
    picked = np.zeros((num_agents, num_modes), dtype=np.int64)
    conflicts = np.zeros((num_agents, num_agents), dtype=np.bool_)
    for mode in range(num_modes):
        row = num_marginal + mode
        conflicts[:] = False
        found = False
        for a in range(num_agents):
            for b in range(a + 1, num_agents):
                if (
                    apart[a, b]
                    and _meet(low, high, a, row, b, row)
                    and _paths_overlap(
                        xy[a, row],
                        cos[a, row],
                        sin[a, row],
                        xy[b, row],
                        cos[b, row],
                        sin[b, row],
                        size,
                        diagonal,
                        a,
                        b,
                    )
                ):
                    conflicts[a, b] = conflicts[b, a] = found = True
        if found:
            cost = np.empty((num_agents, num_marginal + 1))
            for a in range(num_agents):
                cost[a, 0] = -log_choice[a, mode].max()
                for m in range(num_marginal):
                    cost[a, m + 1] = -log_choice[a, mode, m]
            _separate_mode(
                xy, cos, sin, low, high, size, diagonal, cost, apart, conflicts, penalty,
                max_sweeps, mode, picked[:, mode],
            )  # fmt: skip
    return picked


@njit
def _separate_mode(
    xy: np.ndarray,
    cos: np.ndarray,
    sin: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    size: np.ndarray,
    diagonal: np.ndarray,
    cost: np.ndarray,
    apart: np.ndarray,
    conflicts: np.ndarray,
    penalty: float,
    max_sweeps: int,
    mode: int,
    picked: np.ndarray,
) -> None:
    """`scene_modes._separate` for scene mode `mode`: the sweeps write picked: int64[N];
    cost: float64[N, O]; conflicts: bool[N, N] (updated); the rest as `separate_all_modes`."""
    num_agents, num_options = cost.shape
    num_marginal = num_options - 1
    neighbours, num_neighbours = _neighbours(low, high, apart, mode, num_marginal)
    for _ in range(max_sweeps):
        agents = np.flatnonzero(conflicts.sum(1) > 0)
        count = agents.size
        if count == 0:
            break
        own = np.empty(count)
        viable = np.zeros((count, num_options), dtype=np.bool_)
        for c in range(count):
            a = agents[c]
            own[c] = cost[a, picked[a]] + penalty * conflicts[a].sum()
            for o in range(num_options):
                viable[c, o] = cost[a, o] < own[c] and o != picked[a]
        near = np.zeros((count, num_options, num_agents), dtype=np.bool_)
        hits = np.zeros((count, num_options, num_agents), dtype=np.bool_)
        total = np.full((count, num_options), np.inf)
        for c in range(count):
            a = agents[c]
            for o in range(num_options):
                if not viable[c, o]:
                    continue
                p = _row(o, mode, num_marginal)
                overlaps = 0
                for b in neighbours[a, : num_neighbours[a]]:
                    q = _row(picked[b], mode, num_marginal)
                    if not _meet(low, high, a, p, b, q):
                        continue
                    near[c, o, b] = True
                    if _paths_overlap(
                        xy[a, p], cos[a, p], sin[a, p], xy[b, q], cos[b, q], sin[b, q],
                        size, diagonal, a, b,
                    ):  # fmt: skip
                        hits[c, o, b] = True
                        overlaps += 1
                total[c, o] = cost[a, o] + penalty * overlaps
        best = np.empty(count, dtype=np.int64)
        gain = np.empty(count)
        for c in range(count):
            best[c] = np.argmin(total[c])
            gain[c] = own[c] - total[c, best[c]]
        stale = np.zeros(count, dtype=np.bool_)
        for i in np.argsort(-gain, kind="mergesort"):
            if gain[i] <= 0:
                break
            if stale[i]:
                continue
            agent, option = agents[i], best[i]
            p = _row(option, mode, num_marginal)
            for c in range(count):
                other = agents[c]
                if conflicts[other, agent] or near[c, :, agent].any():
                    stale[c] = True
                elif apart[other, agent]:
                    for o in range(num_options):
                        if _meet(low, high, other, _row(o, mode, num_marginal), agent, p):
                            stale[c] = True
                            break
            picked[agent] = option
            for b in range(num_agents):
                conflicts[agent, b] = conflicts[b, agent] = hits[i, option, b]
        if not gain.max() > 0:
            break


@njit
def _neighbours(
    low: np.ndarray, high: np.ndarray, apart: np.ndarray, mode: int, num_marginal: int
) -> tuple[np.ndarray, np.ndarray]:
    """int64[N, N] and [N]: for each agent a, the agents b != a of the judged pairs apart now
    (apart: bool[N, N]) whose bounds over all options of scene mode `mode` meet a's, in
    increasing order (row a holds num[a] of them): no other pair's options can meet."""
    num_agents = low.shape[0]
    union_low = np.empty((num_agents, 1, 2))
    union_high = np.empty((num_agents, 1, 2))
    for a in range(num_agents):
        for axis in range(2):
            union_low[a, 0, axis] = low[a, num_marginal + mode, axis]
            union_high[a, 0, axis] = high[a, num_marginal + mode, axis]
            for m in range(num_marginal):
                union_low[a, 0, axis] = min(union_low[a, 0, axis], low[a, m, axis])
                union_high[a, 0, axis] = max(union_high[a, 0, axis], high[a, m, axis])
    neighbours = np.empty((num_agents, num_agents), dtype=np.int64)
    count = np.zeros(num_agents, dtype=np.int64)
    for a in range(num_agents):
        for b in range(num_agents):
            if b != a and apart[a, b] and _meet(union_low, union_high, a, 0, b, 0):
                neighbours[a, count[a]] = b
                count[a] += 1
    return neighbours, count
