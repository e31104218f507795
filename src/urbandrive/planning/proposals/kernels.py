"""Compiled kernels of the proposal generators (numba); numpy stays the reference.

The switch and the fallback without numba are `urbandrive.metrics.kernels`'.
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics.kernels import njit, unwrap_row


@njit
def nearest_obstacle_gaps(
    offsets_m: NDArrayF64,
    reach_m: NDArrayF64,
    obstacle_d_m: NDArrayF64,
    valid: NDArrayBool,
    center_s_m: NDArrayF64,
    rear_s_m: NDArrayF64,
    s_m: NDArrayF64,
    half_length_m: float,
    step: int,
) -> tuple[NDArrayF64, NDArrayInt]:
    """(gap float64[P], nearest int64[P]) at `step`: per path at lateral offset offsets_m[P]
    and arc length s_m[P], the smallest rear_s_m[o, step] - s_m[p] - half_length_m over the
    obstacles o [O, H] valid and across the path (|d - offset| < reach_m[o], as
    `PathObstacles.blocking`) whose centre is ahead (center_s_m[o, step] > s_m[p]), inf if
    none; nearest is its index, the first of equal gaps, 0 if none (np.argmin)."""
    num_paths, num_obstacles = s_m.shape[0], center_s_m.shape[0]
    gap = np.full(num_paths, np.inf)
    nearest = np.zeros(num_paths, np.int64)
    for p in range(num_paths):
        for o in range(num_obstacles):
            if not (valid[o, step] and center_s_m[o, step] > s_m[p]):
                continue
            if not abs(obstacle_d_m[o, step] - offsets_m[p]) < reach_m[o]:
                continue
            value = rear_s_m[o, step] - s_m[p] - half_length_m
            if value < gap[p]:
                gap[p], nearest[p] = value, o
    return gap, nearest


@njit
def _wrap(angle_rad: float) -> float:
    """`geometry.angles.wrap_angle` of one angle: (-pi, pi], numpy's floating mod."""
    wrapped = np.mod(angle_rad + np.pi, 2.0 * np.pi) - np.pi
    return np.pi if wrapped == -np.pi else wrapped


@njit
def _clip(value: float, low: float, high: float) -> float:
    """np.clip of one value."""
    return min(max(value, low), high)


@njit
def _interp_columns(x: float, xp: NDArrayF64, fp: NDArrayF64, out: NDArrayF64) -> None:
    """out[C] = np.interp(x, xp[V], fp[:, c]) for every column c of fp float64[V, C] (xp
    strictly increasing): one bracket, then numpy's arithmetic per column (the slope times the
    offset from the lower point, its retry from the upper one on NaN), so numpy's floats."""
    last = xp.shape[0] - 1
    if np.isnan(x):
        out[:] = x
        return
    if x > xp[last] or x < xp[0]:
        out[:] = fp[last] if x > xp[last] else fp[0]
        return
    lower, upper = 0, last  # xp[lower] <= x < xp[upper] or x == xp[last] (bisection)
    while upper - lower > 1:
        middle = (lower + upper) >> 1
        if x >= xp[middle]:
            lower = middle
        else:
            upper = middle
    if x >= xp[upper]:
        lower = upper
    if lower == last or xp[lower] == x:
        out[:] = fp[lower]
        return
    for c in range(fp.shape[1]):
        slope = (fp[lower + 1, c] - fp[lower, c]) / (xp[lower + 1] - xp[lower])
        value = slope * (x - xp[lower]) + fp[lower, c]
        if np.isnan(value):
            value = slope * (x - xp[lower + 1]) + fp[lower + 1, c]
            if np.isnan(value) and fp[lower, c] == fp[lower + 1, c]:
                value = fp[lower, c]
        out[c] = value


@njit
def track_rollout(
    initial: NDArrayF64,
    now: NDArrayF64,
    ahead: NDArrayF64,
    gain_speeds: NDArrayF64,
    gains: NDArrayF64,
    vehicle: NDArrayF64,
    controller: NDArrayF64,
    dt_s: float,
    states: NDArrayF64,
    commands: NDArrayF64,
) -> bool:
    """`control.tracker.TrajectoryTracker.track` closed with `dynamics.bicycle.step`, for P
    references at once; fills states float64[P, N + 1, S] (states[:, 0] = initial[P, S]) and
    commands float64[P, N, C]. Returns False (and stops) at a non-finite command.

    now, ahead: float64[P, N, 8], the rear-axle reference at each step's time and one step
    later, columns x, y, cos and sin of the heading, heading, speed, accel and the
    feed-forward steering atan(wheelbase * curvature). gain_speeds float64[V], gains
    float64[V, 3]: the LQR gain table. vehicle: wheelbase, max steering, max steering rate,
    max accel, max decel, max jerk, min speed; controller: speed gain, station gain, accel
    gain, standstill speed. The numpy path's operations in its order; tan / sin / cos may
    round differently from numpy's (float tolerance)."""
    wheelbase, max_steer, max_rate = vehicle[0], vehicle[1], vehicle[2]
    max_accel, max_decel, max_jerk, min_speed = vehicle[3], vehicle[4], vehicle[5], vehicle[6]
    speed_gain, station_gain, accel_gain, standstill = (
        controller[0], controller[1], controller[2], controller[3],
    )  # fmt: skip
    num_paths, num_steps = now.shape[0], now.shape[1]
    gain = np.empty(3)
    for p in range(num_paths):
        x, y, heading = initial[p, 0], initial[p, 1], initial[p, 2]
        speed, steering, applied = initial[p, 3], initial[p, 4], initial[p, 5]
        states[p, 0, :] = initial[p]
        for n in range(num_steps):
            ref = now[p, n]
            # tracker._command
            offset_x, offset_y = x - ref[0], y - ref[1]
            cos, sin = ref[2], ref[3]
            along = -(offset_x * cos + offset_y * sin)
            lateral = -offset_x * sin + offset_y * cos
            heading_error = _wrap(heading - ref[4])
            feed_now, feed_ahead = ref[7], ahead[p, n, 7]
            _interp_columns(abs(speed), gain_speeds, gains, gain)
            feedback = gain[0] * lateral + gain[1] * heading_error + gain[2] * (steering - feed_now)
            rate = (feed_ahead - feed_now) / dt_s - feedback
            if not (abs(speed) > standstill or abs(ref[5]) > standstill):
                rate = 0.0
            accel = (
                ref[6]
                + speed_gain * (ref[5] - speed)
                + station_gain * along
                + accel_gain * (ref[6] - applied)
            )
            accel = _clip(accel, -max_decel, max_accel)
            rate = _clip(rate, -max_rate, max_rate)
            if not (np.isfinite(accel) and np.isfinite(rate)):
                return False
            commands[p, n, 0], commands[p, n, 1] = accel, rate
            # bicycle.step
            accel = _clip(accel, -max_decel, max_accel)
            max_change = max_jerk * dt_s
            accel = _clip(accel, applied - max_change, applied + max_change)
            lowest = min((min_speed - speed) / dt_s, 0.0)
            if accel <= lowest:
                next_speed, accel = min(speed, min_speed), lowest
            else:
                next_speed = speed + accel * dt_s
            rate = _clip(rate, -max_rate, max_rate)
            next_steering = _clip(steering + rate * dt_s, -max_steer, max_steer)
            distance = 0.5 * (speed + next_speed) * dt_s
            turn = distance * np.tan(next_steering) / wheelbase
            ratio = turn / (2.0 * np.pi)
            angle = np.pi * (ratio if ratio != 0 else 1.0e-20)
            chord = distance * (np.sin(angle) / angle)
            middle = heading + 0.5 * turn
            x, y = x + chord * np.cos(middle), y + chord * np.sin(middle)
            heading, speed, steering, applied = (
                _wrap(heading + turn),
                next_speed,
                next_steering,
                accel,
            )
            row = states[p, n + 1]
            row[0], row[1], row[2], row[3], row[4], row[5] = x, y, heading, speed, steering, applied
    return True


@njit
def idm_rollout(
    offsets_m: NDArrayF64,
    reach_m: NDArrayF64,
    obstacle_d_m: NDArrayF64,
    valid: NDArrayBool,
    center_s_m: NDArrayF64,
    rear_s_m: NDArrayF64,
    lead_speed_mps: NDArrayF64,
    path_s_m: NDArrayF64,
    comfortable_speed_mps: NDArrayF64,
    speed_fractions: NDArrayF64,
    idm: NDArrayF64,
    half_length_m: float,
    dt_s: float,
    s_m: NDArrayF64,
    speed: NDArrayF64,
    accel: NDArrayF64,
) -> None:
    """`pdm.idm_profiles` after its first column: fills s_m, speed, accel float64[P, H] (their
    column 0 set by the caller) step by step. Obstacles [O, H] as `nearest_obstacle_gaps`,
    lead_speed_mps: their speed along the path; path_s_m, comfortable_speed_mps: the
    reference's comfortable speed profile; idm: max accel, 2 sqrt(max accel * comfortable
    decel), min gap, headway, exponent, max decel (`agents.idm.idm_acceleration`). The same
    operations in the same order as the numpy path."""
    max_accel, brake_scale, min_gap, headway, exponent, max_decel = (
        idm[0], idm[1], idm[2], idm[3], idm[4], idm[5],
    )  # fmt: skip
    num_paths, num_steps = s_m.shape
    num_obstacles = center_s_m.shape[0]
    # Obstacles step-major [H, O]: the inner loop over obstacles reads contiguous memory.
    valid_t, center_t = valid.T.copy(), center_s_m.T.copy()
    rear_t, d_t = rear_s_m.T.copy(), obstacle_d_m.T.copy()
    # Per run of paths with the same offset (the speed fractions of one lateral path) and
    # step, the obstacles valid and beside it that can be a path's nearest, in index order:
    # those ahead of every path of the run whose rear is within rounding of the smallest
    # such rear (the gap rear - s - half length only grows with the rear, so no other can
    # reach the smallest gap), and those ahead of some of the paths. Each path then scans
    # only these, as `nearest_obstacle_gaps` does all: the same gap and nearest obstacle.
    candidates = np.empty(num_obstacles, np.int64)
    sure, unsure = np.empty(num_obstacles, np.int64), np.empty(num_obstacles, np.int64)
    for step in range(num_steps - 1):
        desired_all = np.interp(s_m[:, step], path_s_m, comfortable_speed_mps)
        count = -1
        for p in range(num_paths):
            s_now, offset = s_m[p, step], offsets_m[p]
            if count < 0 or offset != offsets_m[p - 1]:
                count = _nearest_candidates(
                    s_m[:, step], p, offsets_m, reach_m, valid_t[step], d_t[step],
                    center_t[step], rear_t[step], half_length_m, sure, unsure, candidates,
                )  # fmt: skip
            gap, nearest = np.inf, 0  # `nearest_obstacle_gaps`, inline
            for i in range(count):
                o = candidates[i]
                if not center_t[step, o] > s_now:
                    continue
                value = rear_t[step, o] - s_now - half_length_m
                if value < gap:
                    gap, nearest = value, o
            lead = lead_speed_mps[nearest, step] if num_obstacles else 0.0
            now = max(speed[p, step], 0.0)
            desired = max(speed_fractions[p] * desired_all[p], 1e-3)
            gap_p = max(gap, 1e-3)
            brake_term = now * (now - lead) / brake_scale
            desired_gap = min_gap + max(0.0, now * headway + brake_term)
            interaction = 0.0 if np.isinf(gap_p) else (desired_gap / gap_p) ** 2
            free_road = (now / desired) ** exponent
            value = _clip(max_accel * (1.0 - free_road - interaction), -max_decel, max_accel)
            speed[p, step + 1] = max(speed[p, step] + value * dt_s, 0.0)
            accel[p, step] = (speed[p, step + 1] - speed[p, step]) / dt_s
            s_m[p, step + 1] = s_m[p, step] + 0.5 * (speed[p, step] + speed[p, step + 1]) * dt_s
    for p in range(num_paths):
        accel[p, num_steps - 1] = accel[p, num_steps - 2]


@njit
def _nearest_candidates(
    s_m: NDArrayF64,
    first: int,
    offsets_m: NDArrayF64,
    reach_m: NDArrayF64,
    valid: NDArrayBool,
    obstacle_d_m: NDArrayF64,
    center_s_m: NDArrayF64,
    rear_s_m: NDArrayF64,
    half_length_m: float,
    sure: NDArrayInt,
    unsure: NDArrayInt,
    candidates: NDArrayInt,
) -> int:
    """For the run of paths from `first` with offsets_m[first] (s_m float64[P] at one step;
    obstacles [O] at that step): fills candidates[:count] (index order) with the obstacles
    valid and beside the run that can be nearest to one of its paths, and returns count:
    those with the centre ahead of some but not all of the run's paths, and of those ahead of
    all of them the ones whose rear is within 1e-9 (relative) of their smallest rear, far
    above the rounding that could make a larger rear give an equal gap."""
    offset, last = offsets_m[first], first
    s_low, s_high = s_m[first], s_m[first]
    while last + 1 < offsets_m.shape[0] and offsets_m[last + 1] == offset:
        last += 1
        s_low, s_high = min(s_low, s_m[last]), max(s_high, s_m[last])
    for p in range(first, last + 1):
        if np.isnan(s_m[p]):  # no order to rely on: every path scans them all
            s_low, s_high = -np.inf, np.inf
    num_sure, num_unsure, rear_min = 0, 0, np.inf
    for o in range(center_s_m.shape[0]):
        if not (valid[o] and abs(obstacle_d_m[o] - offset) < reach_m[o]):
            continue
        if center_s_m[o] > s_high:
            sure[num_sure] = o
            num_sure += 1
            if rear_s_m[o] < rear_min:
                rear_min = rear_s_m[o]
        elif center_s_m[o] > s_low:
            unsure[num_unsure] = o
            num_unsure += 1
    scale = 1.0 + abs(rear_min) + max(abs(s_low), abs(s_high)) + abs(half_length_m)
    bound = rear_min + 1e-9 * scale
    if np.isnan(bound):  # an infinite rear or path: keep every sure one
        bound = np.inf
    count, i, j = 0, 0, 0  # merge the tied sure ones and the unsure ones in index order
    while i < num_sure or j < num_unsure:
        if j == num_unsure or (i < num_sure and sure[i] < unsure[j]):
            if rear_s_m[sure[i]] <= bound:
                candidates[count] = sure[i]
                count += 1
            i += 1
        else:
            candidates[count] = unsure[j]
            count += 1
            j += 1
    return count


@njit
def feasible_rows(
    heading: NDArrayF64,
    speed: NDArrayF64,
    accel: NDArrayF64,
    dt_s: float,
    limits: NDArrayF64,
    yaw_rate: NDArrayF64,
) -> NDArrayBool:
    """`lattice.is_feasible` row by row: bool[N] of heading, speed, accel float64[N, H];
    limits: max curvature, max lateral accel, max accel, max decel, max jerk. Fills
    yaw_rate[N, H] = np.gradient(np.unwrap(heading), dt_s) by numpy's operations in order
    (unwrap: a remainder and a running sum; gradient: central differences, one-sided at the
    ends), so every test sees the same floats."""
    max_curvature, max_lateral, max_accel, max_decel, max_jerk = (
        limits[0], limits[1], limits[2], limits[3], limits[4],
    )  # fmt: skip
    num_rows, num_steps = heading.shape
    unwrapped = np.empty(num_steps)
    jerk = np.empty(num_steps)
    feasible = np.empty(num_rows, np.bool_)
    for n in range(num_rows):
        unwrap_row(heading[n], unwrapped)
        _gradient_row(unwrapped, dt_s, yaw_rate[n])
        _gradient_row(accel[n], dt_s, jerk)
        ok = True
        for t in range(num_steps):
            rate, v, a = abs(yaw_rate[n, t]), speed[n, t], accel[n, t]
            curvature = rate / v if v > 1.0 else 0.0
            if not (
                curvature <= max_curvature
                and rate * v <= max_lateral
                and a <= max_accel
                and a >= -max_decel
                and abs(jerk[t]) <= max_jerk
            ):
                ok = False
                break
        feasible[n] = ok
    return feasible


@njit
def _gradient_row(values: NDArrayF64, dx: float, out: NDArrayF64) -> None:
    """out[H] = np.gradient(values[H], dx) (H >= 2): the same operations."""
    last = values.shape[0] - 1
    for t in range(1, last):
        out[t] = (values[t + 1] - values[t - 1]) / (2.0 * dx)
    out[0] = (values[1] - values[0]) / dx
    out[last] = (values[last] - values[last - 1]) / dx


@njit
def _time_gradient_row(values: NDArrayF64, spacing: NDArrayF64, out: NDArrayF64) -> None:
    """out[H] = np.gradient(values[H], times) (H >= 2) for times with spacing[H - 1] =
    np.diff(times): numpy's uniform formula when every spacing equals the first, else its
    second-order unevenly spaced one, the same operations in the same order."""
    last = values.shape[0] - 1
    uniform = True
    for t in range(1, last):
        if spacing[t] != spacing[0]:
            uniform = False
    if uniform:
        step = spacing[0]
        for t in range(1, last):
            out[t] = (values[t + 1] - values[t - 1]) / (2.0 * step)
        out[0] = (values[1] - values[0]) / step
        out[last] = (values[last] - values[last - 1]) / step
        return
    for t in range(1, last):
        dx1, dx2 = spacing[t - 1], spacing[t]
        a = -(dx2) / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        out[t] = a * values[t - 1] + b * values[t] + c * values[t + 1]
    out[0] = (values[1] - values[0]) / spacing[0]
    out[last] = (values[last] - values[last - 1]) / spacing[last - 1]


@njit
def _fill_from_nearest_row(values: NDArrayF64, known: NDArrayBool) -> None:
    """`core.trajectory.fill_from_nearest` of one row, in place: each unknown step takes the
    last known value before it, leading ones the first known after; 0 if none is known."""
    num_steps = values.shape[0]
    first = -1
    for t in range(num_steps):
        if known[t]:
            first = t
            break
    if first < 0:
        values[:] = 0.0
        return
    for t in range(first):
        values[t] = values[first]
    last_known = first
    for t in range(first + 1, num_steps):
        if known[t]:
            last_known = t
        else:
            values[t] = values[last_known]


@njit
def sample_reference(
    times_s: NDArrayF64,
    xy: NDArrayF64,
    heading: NDArrayF64,
    speed: NDArrayF64,
    accel: NDArrayF64,
    has_accel: bool,
    min_speed_mps: float,
    lower: NDArrayInt,
    upper: NDArrayInt,
    ratio: NDArrayF64,
    out: NDArrayF64,
) -> None:
    """`Trajectory.with_derivatives().at(query)` of a batch [P] trajectory with no curvature:
    fills out[P, Q, 8] columns 0 x, 1 y, 4 heading, 5 speed, 6 accel, 7 curvature (2, 3 left
    for the caller). times_s float64[H] (H >= 2); xy [P, H, 2]; heading, speed, accel [P, H]
    (accel ignored unless has_accel: then np.gradient of speed over time); curvature: the
    unwrapped heading's time gradient / speed where |speed| >= min_speed_mps, held from the
    nearest such step elsewhere; lower, upper int64[Q], ratio float64[Q]: the query's
    brackets (`core.trajectory.bracket`). numpy's operations in its order: the same floats."""
    num_paths, num_steps = heading.shape
    spacing = times_s[1:] - times_s[:-1]
    unwrapped, yaw_rate = np.empty(num_steps), np.empty(num_steps)
    curvature, rate_of_speed = np.empty(num_steps), np.empty(num_steps)
    fast = np.empty(num_steps, np.bool_)
    for p in range(num_paths):
        unwrap_row(heading[p], unwrapped)
        _time_gradient_row(unwrapped, spacing, yaw_rate)
        for t in range(num_steps):
            fast[t] = abs(speed[p, t]) >= min_speed_mps
            curvature[t] = yaw_rate[t] / speed[p, t] if fast[t] else 0.0
        _fill_from_nearest_row(curvature, fast)
        row_accel = accel[p]
        if not has_accel:
            _time_gradient_row(speed[p], spacing, rate_of_speed)
            row_accel = rate_of_speed
        for q in range(lower.shape[0]):
            low, high, weight = lower[q], upper[q], ratio[q]
            row = out[p, q]
            row[0] = xy[p, low, 0] + weight * (xy[p, high, 0] - xy[p, low, 0])
            row[1] = xy[p, low, 1] + weight * (xy[p, high, 1] - xy[p, low, 1])
            turn = _wrap(heading[p, high] - heading[p, low])
            row[4] = _wrap(heading[p, low] + weight * turn)
            row[5] = speed[p, low] + weight * (speed[p, high] - speed[p, low])
            row[6] = row_accel[low] + weight * (row_accel[high] - row_accel[low])
            row[7] = curvature[low] + weight * (curvature[high] - curvature[low])


@njit
def resample_rows(
    states: NDArrayF64,
    angle_column: int,
    lower: NDArrayInt,
    upper: NDArrayInt,
    ratio: NDArrayF64,
    out: NDArrayF64,
) -> None:
    """out[P, Q, S]: states float64[P, N, S] linearly interpolated at brackets lower, upper
    int64[Q], ratio float64[Q], column `angle_column` unwrapped along each row first (left
    unwrapped: the caller wraps it); numpy's operations in its order."""
    num_paths, num_steps = states.shape[0], states.shape[1]
    unwrapped = np.empty(num_steps)
    for p in range(num_paths):
        unwrap_row(states[p, :, angle_column], unwrapped)
        for q in range(lower.shape[0]):
            low, high, weight = lower[q], upper[q], ratio[q]
            for c in range(states.shape[2]):
                if c == angle_column:
                    start, end = unwrapped[low], unwrapped[high]
                else:
                    start, end = states[p, low, c], states[p, high, c]
                out[p, q, c] = start + weight * (end - start)


@njit
def crosswalks_occupied(
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    valid: NDArrayBool,
    crossing: NDArrayBool,
    soon: NDArrayBool,
    start_s_m: NDArrayF64,
    end_s_m: NDArrayF64,
    corridor_m: float,
) -> NDArrayBool:
    """`obstacles.occupied_crosswalks`' test: bool[C], some crossing agent n (crossing
    bool[N]) in some mode k at some step t with soon[t] is valid (valid bool[N, H]) with
    start_s_m[c] <= s_m[n, k, t] <= end_s_m[c] and |d_m[n, k, t]| <= corridor_m (s_m, d_m
    float64[N, K, H]); the same comparisons as numpy's."""
    occupied = np.zeros(start_s_m.shape[0], np.bool_)
    for c in range(start_s_m.shape[0]):
        for n in range(s_m.shape[0]):
            if not crossing[n] or occupied[c]:
                continue
            for k in range(s_m.shape[1]):
                for t in range(s_m.shape[2]):
                    s = s_m[n, k, t]
                    if (
                        soon[t]
                        and valid[n, t]
                        and s >= start_s_m[c]
                        and s <= end_s_m[c]
                        and abs(d_m[n, k, t]) <= corridor_m
                    ):
                        occupied[c] = True
                        break
                if occupied[c]:
                    break
    return occupied


@njit
def pack_obstacles(
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    speed_along_mps: NDArrayF64,
    valid: NDArrayBool,
    half_length_m: NDArrayF64,
    half_width_m: NDArrayF64,
    agents: NDArrayInt,
    modes: NDArrayInt,
    stops_m: NDArrayF64,
    rear_out: NDArrayF64,
    center_out: NDArrayF64,
    d_out: NDArrayF64,
    half_width_out: NDArrayF64,
    speed_out: NDArrayF64,
    valid_out: NDArrayBool,
) -> None:
    """`obstacles.path_obstacles`' arrays in one pass: row r is agent agents[r] (s_m, d_m,
    speed_along_mps float64[N, K, H], valid bool[N, H], half sizes float64[N]) in mode
    modes[r]; then one row per stop (stops_m float64[Q]). rear = s - half length,
    speed = np.maximum(speed, 0) (NaN kept), stops: still, across every offset."""
    num_steps = s_m.shape[2]
    for row in range(agents.shape[0]):
        n, k = agents[row], modes[row]
        half_width_out[row] = half_width_m[n]
        for t in range(num_steps):
            s, speed = s_m[n, k, t], speed_along_mps[n, k, t]
            rear_out[row, t] = s - half_length_m[n]
            center_out[row, t] = s
            d_out[row, t] = d_m[n, k, t]
            speed_out[row, t] = speed if (speed >= 0.0 or np.isnan(speed)) else 0.0
            valid_out[row, t] = valid[n, t]
    row = agents.shape[0]
    for q in range(stops_m.shape[0]):
        half_width_out[row] = np.inf
        for t in range(num_steps):
            rear_out[row, t], center_out[row, t] = stops_m[q], stops_m[q]
            d_out[row, t], speed_out[row, t], valid_out[row, t] = 0.0, 0.0, True
        row += 1


@njit
def pack_pair_rows(
    rows: NDArrayInt,
    num_lateral: int,
    xy: NDArrayF64,
    heading: NDArrayF64,
    speed: NDArrayF64,
    accel: NDArrayF64,
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    out: NDArrayF64,
) -> None:
    """`candidates.pack_states` of the pair rows `rows` int64[R] only: out float64[R, H, 7]
    from xy float64[N, H, 2], heading, speed, accel [N, H] of the pairs and the profiles
    s_m float64[L, H], d_m float64[A, H] (pair i: s row i // A, d row i % A, A =
    num_lateral); copies only."""
    for r in range(rows.shape[0]):
        pair = rows[r]
        lon, lat = pair // num_lateral, pair % num_lateral
        for t in range(heading.shape[1]):
            state = out[r, t]
            state[0], state[1], state[2] = xy[pair, t, 0], xy[pair, t, 1], heading[pair, t]
            state[3], state[4] = speed[pair, t], accel[pair, t]
            state[5], state[6] = s_m[lon, t], d_m[lat, t]


@njit
def first_equal_modes(fields: tuple, kept: NDArrayInt) -> tuple[NDArrayInt, NDArrayInt]:
    """(row int64[N, K'], unique int64[R]) of each agent's modes `kept` int64[K'], compared
    by the bits of every array of `fields` (a tuple of int64[N, K, B] of one shape, e.g. the
    int64 views of the s, d and speed rows): kept mode k equals, bit for bit in every field, the
    first kept mode j <= k with the same bits (`context.first_equal_mode`); unique lists
    those n * K' + j in order and row[n, k] is j's position in it."""
    num_agents, num_kept = fields[0].shape[0], kept.shape[0]
    row = np.empty((num_agents, num_kept), np.int64)
    unique = np.empty(num_agents * num_kept, np.int64)
    count = 0
    for n in range(num_agents):
        first = count  # this agent's distinct modes are unique[first:count]
        for k in range(num_kept):
            row[n, k] = -1
            for r in range(first, count):  # an equal mode equals its first, among these
                if _same_mode_bits(fields, n, kept[unique[r] - n * num_kept], kept[k]):
                    row[n, k] = r
                    break
            if row[n, k] < 0:
                row[n, k] = count
                unique[count] = n * num_kept + k
                count += 1
    return row, unique[:count]


@njit
def _same_mode_bits(fields: tuple, n: int, j: int, k: int) -> bool:
    """Whether modes j and k of agent n hold the same bits in every field int64[N, K, B]
    (compared position by position across the fields: modes mostly part early)."""
    for b in range(fields[0].shape[2]):
        for field in fields:
            if field[n, j, b] != field[n, k, b]:
                return False
    return True


@njit
def interpolate_rows(
    values: NDArrayF64,
    row: NDArrayInt,
    lower: NDArrayInt,
    upper: NDArrayInt,
    ratio: NDArrayF64,
    out: NDArrayF64,
) -> None:
    """out[N, K, H] = values[row[n, k]] (float64[R, C]) at steps bracketed by lower, upper
    int64[H] with ratio float64[H]: v[lower] + ratio * (v[upper] - v[lower]), numpy's
    operations (`context._interpolate_steps`)."""
    for n in range(row.shape[0]):
        for k in range(row.shape[1]):
            source = values[row[n, k]]
            for h in range(lower.shape[0]):
                low = source[lower[h]]
                out[n, k, h] = low + ratio[h] * (source[upper[h]] - low)


@njit
def cross_reference_where(d_m: NDArrayF64, steps: NDArrayBool, where: NDArrayBool) -> None:
    """`context.merging_agents`' crossing test in place: where[n, k] (bool[N, K]) stays True
    only if d_m[n, k, t] (float64[N, K, H]) is across the reference from step 0 at some step
    t with steps[t]: np.sign(d[0]) * d[t] < 0 (`context.across_reference`: never for d[0] 0 or
    NaN)."""
    for n in range(d_m.shape[0]):
        for k in range(d_m.shape[1]):
            if not where[n, k]:
                continue
            start = d_m[n, k, 0]
            side = 1.0 if start > 0 else (-1.0 if start < 0 else (0.0 if start == 0 else np.nan))
            crossed = False
            for t in range(d_m.shape[2]):
                if steps[t] and side * d_m[n, k, t] < 0.0:
                    crossed = True
                    break
            where[n, k] = crossed


@njit
def pack_centred(
    states: NDArrayF64,
    columns: NDArrayInt,
    cos: NDArrayF64,
    sin: NDArrayF64,
    distance_m: float,
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    out: NDArrayF64,
) -> None:
    """`pdm.centred_states` in one pass: out[P, H, 7] = (x + distance cos, y + distance sin,
    heading, speed, accel, s, d) of rear-axle states float64[P, H, S] (columns int64[5]: those
    of x, y, heading, speed, accel), cos / sin float64[P, H] of their heading, the profiles
    s_m, d_m float64[P, H]; `_shift_along`'s operations (the offset, then the sum)."""
    for p in range(states.shape[0]):
        for t in range(states.shape[1]):
            state, row = states[p, t], out[p, t]
            row[0] = state[columns[0]] + distance_m * cos[p, t]
            row[1] = state[columns[1]] + distance_m * sin[p, t]
            row[2], row[3], row[4] = state[columns[2]], state[columns[3]], state[columns[4]]
            row[5], row[6] = s_m[p, t], d_m[p, t]
