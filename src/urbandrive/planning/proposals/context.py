"""What every proposal generator and scoring term reads in one cycle: the `PlanningContext`.

The predicted agents are expressed once along the route reference (`PathAgents`): Frenet
coordinates of every agent, mode and step, from a time-subsampled projection linearly
interpolated back to every step (projecting every point costs more than the planner's budget
allows, and agents move smoothly over `frenet_stride` steps).

A merge splits the future in two (`split_merging`): a vehicle or cyclist heading along the
route beside it and predicted to cross it within `MERGE_HORIZON_S` either settles on the
reference (its lateral motion stops there, it does not cross and leave) or stays in its lane;
each of the K modes becomes one mode of each. A constant-velocity prediction of a cut-in
otherwise crosses the ego's lane in a second and leaves it (town:standard cut_in-000: the
planner kept 10 m/s, or changed into the lane the car was leaving, and hit it). The settling
copy gets the share `merge_commitment` of the mode's probability: half for a merge predicted
to cross at `MERGE_HORIZON_S`, up to `MERGE_SURE_PROB` for one crossing within
`MERGE_SURE_S`. At an even split a candidate that hits a car clearly cutting in still kept a
hard product of 0.5, enough to be driven (town:standard cut_in-003: 3 m ahead, crossing in
1.2 s, the ego held 11 m/s on a lattice plan instead of braking and hit it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.observation import Observation
from urbandrive.core.trajectory import Trajectory
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics import kernels
from urbandrive.metrics.states import AgentStates, types_in
from urbandrive.planning.reference import RouteReference
from urbandrive.prediction.interfaces import Prediction


@dataclass(frozen=True, slots=True)
class PathAgents:
    """N predicted agents along the reference over the planning times (step 0 = now).

    rows: int64[N], rows of the observation's history; types: int64[N]; size_m: float64[N, 2].
    s_m, d_m: float64[N, K, H], Frenet coordinates of the box centres; speed_along_mps:
    float64[N, K, H], speed along the path (ds/dt); valid: bool[N, H]; mode_probs: float64[K].
    states: the same agents as `AgentStates` with batch (K,): xy float64[K, N, H, 2].
    """

    rows: NDArrayInt
    types: NDArrayInt
    size_m: NDArrayF64
    s_m: NDArrayF64
    d_m: NDArrayF64
    speed_along_mps: NDArrayF64
    valid: NDArrayBool
    mode_probs: NDArrayF64
    states: AgentStates

    @property
    def num_agents(self) -> int:
        return int(self.rows.shape[0])


@dataclass(frozen=True, slots=True)
class PlanningContext:
    """One cycle's inputs, in the map frame.

    times_s: float64[H], 0 .. horizon; ego_center_xy: float64[2]; ego_heading_rad, ego_speed_mps,
    ego_accel_mps2: now; ego_size_m: float64[2] (length, width); s_now_m, d_now_m: the ego's
    Frenet coordinates; red_stop: bool[S], the reference's stops that are red now.
    previous_xy: float64[H, 2], the previous plan re-timed to this cycle, or None;
    previous_plan: the previous cycle's chosen trajectory as planned (its own times), or None;
    previous_age_s: seconds since it was planned.
    """

    observation: Observation
    reference: RouteReference
    prediction: Prediction
    agents: PathAgents
    times_s: NDArrayF64
    ego_center_xy: NDArrayF64
    ego_heading_rad: float
    ego_speed_mps: float
    ego_accel_mps2: float
    ego_size_m: NDArrayF64
    s_now_m: float
    d_now_m: float
    red_stop: NDArrayBool
    previous_xy: NDArrayF64 | None = None
    previous_label: str | None = None
    previous_plan: Trajectory | None = None
    previous_age_s: float = 0.0

    @property
    def dt_s(self) -> float:
        return float(self.times_s[1] - self.times_s[0])

    @property
    def num_steps(self) -> int:
        return int(self.times_s.shape[0])


def path_agents(
    observation: Observation,
    prediction: Prediction,
    reference: RouteReference,
    times_s: NDArrayF64,
    frenet_stride: int = 10,
) -> PathAgents:
    """The prediction on the planning times (now prepended) and along the reference."""
    history, rows = observation.history, prediction.agent_rows
    xy, heading = _with_now(observation, prediction, times_s)  # [N, K, H, 2], [N, K, H]
    xy, heading = keep_braking(observation, rows, xy, heading, times_s)
    s_m, d_m = _frenet_on_steps(reference, xy, times_s.shape[0], frenet_stride)
    probs = prediction.probs
    merging = merging_agents(heading, s_m, d_m, history.types[rows], reference, times_s)
    if merging.any():
        settling = merge_commitment(d_m, merging, times_s)  # [K]
        xy, heading, s_m, d_m = split_merging(xy, heading, s_m, d_m, merging, reference)
        probs = np.concatenate([settling * probs, (1.0 - settling) * probs])
    dt_s = float(times_s[1] - times_s[0])
    valid = np.concatenate([history.valid[rows, -1:], _valid_on(prediction, times_s)], -1)
    mode_xy = np.ascontiguousarray(np.moveaxis(xy, 1, 0))  # [K, N, H, 2]
    states = AgentStates(
        xy=mode_xy,
        heading=np.ascontiguousarray(np.moveaxis(heading, 1, 0)),
        velocity=kernels.gradient(mode_xy, dt_s, 2),  # np.gradient's floats, row by row
        size_m=history.size_m[rows],
        types=history.types[rows].astype(np.int64),
        valid=valid,
    )
    return PathAgents(
        rows=rows,
        types=history.types[rows].astype(np.int64),
        size_m=history.size_m[rows],
        s_m=s_m,
        d_m=d_m,
        speed_along_mps=kernels.gradient(s_m, dt_s, -1),
        valid=valid,
        mode_probs=probs,
        states=states,
    )


#: Agent types that settle in the ego's lane when they merge into it.
MERGING_TYPES = (
    AgentType.VEHICLE,
    AgentType.LARGE_VEHICLE,
    AgentType.CYCLIST,
    AgentType.MOTORCYCLIST,
)
#: A merging agent's heading differs from the path's by at most this now, radians.
MERGE_MAX_HEADING_ERROR_RAD = np.deg2rad(35.0)
#: A merging agent's centre is now at most this far beside the reference, metres (a lane and
#: a half: the neighbour lane and a bike lane or bus stop beyond it).
MERGE_MAX_OFFSET_M = 6.0
#: A predicted crossing later than this is not a merge (a drift of the prediction), seconds.
MERGE_HORIZON_S = 4.0
#: A merge predicted to cross the reference within this settles with `MERGE_SURE_PROB`, seconds.
MERGE_SURE_S = 1.5
#: The settling share of a mode's probability for the most committed merges.
MERGE_SURE_PROB = 0.9


#: Agent types whose observed braking is carried into their prediction.
BRAKING_TYPES = MERGING_TYPES
#: An agent braking harder than this over the last `BRAKING_WINDOW_S` keeps braking, m/s^2.
BRAKING_MIN_DECEL_MPS2 = 1.5
#: The window over which the observed deceleration is measured, seconds.
BRAKING_WINDOW_S = 0.3


def keep_braking(
    observation: Observation,
    rows: NDArrayInt,
    xy: NDArrayF64,
    heading: NDArrayF64,
    times_s: NDArrayF64,
) -> tuple[NDArrayF64, NDArrayF64]:
    """(xy [N, K, H, 2], heading [N, K, H]) with every vehicle or cyclist that is braking now
    (speed falling faster than `BRAKING_MIN_DECEL_MPS2` over `BRAKING_WINDOW_S`) moved along
    its predicted path at that deceleration to a stop, never farther than predicted. A
    constant-velocity prediction of a lead braking at 6 m/s^2 reported it at full speed: the
    ego reacted a second late (town:standard lead_brakes-000, min TTC 0.9 s)."""
    history = observation.history
    window = max(1, round(BRAKING_WINDOW_S / observation.dt_s))
    if history.num_steps <= window:
        return xy, heading
    speed = np.linalg.norm(history.velocity[rows], axis=-1)  # [N, T]
    decel = (speed[:, -1 - window] - speed[:, -1]) / (window * observation.dt_s)
    seen = history.valid[rows, -1] & history.valid[rows, -1 - window]
    braking = seen & (decel > BRAKING_MIN_DECEL_MPS2) & types_in(history.types[rows], BRAKING_TYPES)
    if not braking.any():
        return xy, heading
    xy, heading = xy.copy(), heading.copy()
    for n in np.flatnonzero(braking).tolist():
        v0, a = float(speed[n, -1]), float(decel[n])
        moving = np.minimum(times_s, v0 / a)
        wanted = v0 * moving - 0.5 * a * moving**2  # [H]
        for k in range(xy.shape[1]):
            steps = np.linalg.norm(np.diff(xy[n, k], axis=0), axis=-1)
            along = np.r_[0.0, np.cumsum(steps)]
            at = np.minimum(wanted, along)
            xy[n, k] = np.stack([np.interp(at, along, xy[n, k, :, c]) for c in range(2)], -1)
            heading[n, k] = np.interp(at, along, np.unwrap(heading[n, k]))
    return xy, np.angle(np.exp(1j * heading))


def merging_agents(
    heading: NDArrayF64,
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    types: NDArrayInt,
    reference: RouteReference,
    times_s: NDArrayF64,
) -> NDArrayBool:
    """bool[N, K]: agent n merges in mode k: of `MERGING_TYPES`, now beside the path
    (0 < |d| <= MERGE_MAX_OFFSET_M) heading along it, predicted across it within
    `MERGE_HORIZON_S` (heading [N, K, H]; s_m, d_m [N, K, H] along `reference`)."""
    _, path_heading = reference.path.to_cartesian(s_m[..., 0], np.zeros_like(s_m[..., 0]))
    error = np.abs(np.angle(np.exp(1j * (heading[..., 0] - path_heading))))  # [N, K]
    beside = (
        types_in(types, MERGING_TYPES)[:, None]
        & (error <= MERGE_MAX_HEADING_ERROR_RAD)
        & (np.abs(d_m[..., 0]) <= MERGE_MAX_OFFSET_M)
    )
    soon = times_s <= MERGE_HORIZON_S
    if kernels.enabled():
        from urbandrive.planning.proposals.kernels import cross_reference_where

        cross_reference_where(np.ascontiguousarray(d_m), soon, beside)
        return beside
    agent, mode = np.nonzero(beside)  # only these can cross
    beside[agent, mode] = np.any(across_reference(d_m[agent, mode])[:, soon], axis=-1)
    return beside


def across_reference(d_m: NDArrayF64) -> NDArrayBool:
    """bool[..., H]: the offset d_m [..., H] is on the other side of the reference than at
    step 0 (a merge has crossed it)."""
    return np.sign(d_m[..., :1]) * d_m < 0.0


def merge_commitment(d_m: NDArrayF64, merging: NDArrayBool, times_s: NDArrayF64) -> NDArrayF64:
    """float64[K]: the share of mode k's probability given to its settling copy: 0.5 for a
    merge predicted to cross the reference at `MERGE_HORIZON_S`, rising linearly to
    `MERGE_SURE_PROB` for one crossing within `MERGE_SURE_S`; the most committed of the mode's
    merging agents counts (d_m [N, K, H] along the reference; merging bool[N, K]; times_s [H])."""
    agent, mode = np.nonzero(merging)  # only these count
    across = across_reference(d_m[agent, mode])  # [M, H]
    first_s = np.where(across.any(-1), times_s[np.argmax(across, axis=-1)], np.inf)
    crossing_s = np.full(merging.shape[1], np.inf)
    np.minimum.at(crossing_s, mode, first_s)  # [K]
    ramp = (MERGE_HORIZON_S - crossing_s) / (MERGE_HORIZON_S - MERGE_SURE_S)
    return 0.5 + (MERGE_SURE_PROB - 0.5) * np.clip(ramp, 0.0, 1.0)


def split_merging(
    xy: NDArrayF64,
    heading: NDArrayF64,
    s_m: NDArrayF64,
    d_m: NDArrayF64,
    merging: NDArrayBool,
    reference: RouteReference,
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64]:
    """The K modes doubled (module doc): modes [0, K) hold every merging agent (`merging:
    bool[N, K]`) on the reference from where it would cross it, modes [K, 2K) keep it at its
    offset now; along the path at the predicted s either way. Returns xy [N, 2K, H, 2],
    heading [N, 2K, H], s_m and d_m [N, 2K, H]."""
    num_modes = d_m.shape[1]
    rows = np.flatnonzero(merging.any(axis=1))  # agents merging in some mode
    d_rows, s_rows, merging_rows = d_m[rows], s_m[rows], merging[rows]  # [M, K, H], [M, K]
    settled = np.where(across_reference(d_rows), 0.0, d_rows)
    kept = np.broadcast_to(d_rows[..., :1], d_rows.shape)
    xy_out, heading_out, s_out, d_out = (
        np.concatenate([values, values], 1) for values in (xy, heading, s_m, d_m)
    )
    for half, new_d in enumerate((settled, kept)):
        changed = merging_rows[..., None] & (new_d != d_rows)  # [M, K, H]
        points, tangents = reference.path.to_cartesian(s_rows[changed], new_d[changed])
        modes = slice(half * num_modes, (half + 1) * num_modes)
        for values, new in ((xy_out, points), (heading_out, tangents)):
            part = values[rows, modes]
            part[changed] = new
            values[rows, modes] = part
        d_out[rows, modes] = np.where(merging_rows[..., None], new_d, d_rows)
    return xy_out, heading_out, s_out, d_out


def _with_now(
    observation: Observation, prediction: Prediction, times_s: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64]:
    """Predicted xy float64[N, K, H, 2] and heading [N, K, H] at `times_s` (step 0 = now)."""
    history, rows = observation.history, prediction.agent_rows
    num_agents, num_modes, num_known = prediction.xy.shape[:3]
    xy = np.empty((num_agents, num_modes, num_known + 1, 2))
    heading = np.empty((num_agents, num_modes, num_known + 1))
    xy[:, :, 0], xy[:, :, 1:] = history.xy[rows, -1][:, None], prediction.xy
    heading[:, :, 0], heading[:, :, 1:] = history.heading[rows, -1][:, None], prediction.heading
    steps = _known_steps(
        np.asarray(prediction.times_s, np.float64).tobytes(),
        np.asarray(times_s, np.float64).tobytes(),
    )
    return (xy, heading) if steps is None else (xy[:, :, steps], heading[:, :, steps])


@functools.lru_cache(maxsize=16)
def _known_steps(known_s: bytes, times_s: bytes) -> NDArrayInt | None:
    """The steps of [now, *known] (float64 bytes, now = 0) at each planning time (float64
    bytes), the first at or after it; None where they are the planning times (np.allclose).
    Cached: the predictor's and the planner's times are the same every cycle."""
    known = np.r_[0.0, np.frombuffer(known_s)]
    times = np.frombuffer(times_s)
    if known.shape[0] == times.shape[0] and np.allclose(known, times):
        return None
    steps = np.clip(np.searchsorted(known, times, side="left"), 0, known.shape[0] - 1)
    steps.flags.writeable = False
    return steps


def _valid_on(prediction: Prediction, times_s: NDArrayF64) -> NDArrayBool:
    steps = np.clip(np.searchsorted(prediction.times_s, times_s[1:], side="left"), 0, None)
    return prediction.valid[:, np.minimum(steps, prediction.times_s.shape[0] - 1)]


def _frenet_on_steps(
    reference: RouteReference, xy: NDArrayF64, num_steps: int, frenet_stride: int
) -> tuple[NDArrayF64, NDArrayF64]:
    """(s_m, d_m) float64[N, K, H] of xy float64[N, K, H, 2]: the Frenet coordinates at every
    `frenet_stride`-th step and the last, linear in between (`_interpolate_steps`). An agent's
    mode whose projected points equal an earlier mode's bit for bit (a constant-velocity
    agent in every mode) is projected once: both are computed point by point, so the copies
    are the same floats. With the compiled kernels, the sharing and the interpolation by
    `proposals.kernels.first_equal_modes` and `interpolate_rows`: the same floats."""
    coarse, lower, upper, ratio = _step_brackets(num_steps, frenet_stride)
    points = xy[:, :, coarse]  # [N, K, C, 2]
    num_agents, num_modes = points.shape[:2]
    bits = (
        np.ascontiguousarray(points)
        .view(np.int64)
        .reshape(num_agents, num_modes, 2 * coarse.shape[0])
    )
    if kernels.enabled():
        from urbandrive.planning.proposals.kernels import first_equal_modes, interpolate_rows

        row, unique = first_equal_modes((bits,), np.arange(num_modes))
        flat = points.reshape(num_agents * num_modes, coarse.shape[0], 2)
        s_coarse, d_coarse = reference.path.to_frenet(flat[unique])  # [R, C]
        s_m, d_m = (np.empty((num_agents, num_modes, num_steps)) for _ in range(2))
        interpolate_rows(s_coarse, row, lower, upper, ratio, s_m)
        interpolate_rows(d_coarse, row, lower, upper, ratio, d_m)
        return s_m, d_m
    first = first_equal_mode(bits)  # [N, K], <= k
    agent, mode = np.nonzero(first == np.arange(num_modes))
    s_coarse, d_coarse = reference.path.to_frenet(points[agent, mode])  # [R, C]
    row = np.zeros((num_agents, num_modes), np.int64)
    row[agent, mode] = np.arange(agent.shape[0])
    row = row[np.arange(num_agents)[:, None], first]  # [N, K]
    return (
        _interpolate_steps(s_coarse, coarse, num_steps)[row],
        _interpolate_steps(d_coarse, coarse, num_steps)[row],
    )


def first_equal_mode(bits: NDArrayInt) -> NDArrayInt:
    """int64[N, K]: for each agent's mode k, the first mode j <= k whose bits int64[N, K, B]
    equal its own bit for bit (the numpy reference of `proposals.kernels.first_equal_modes`)."""
    equal = np.all(bits[:, :, None] == bits[:, None, :], axis=-1)  # [N, K, K]
    return np.argmax(equal | np.eye(bits.shape[1], dtype=bool), axis=-1)


@functools.lru_cache(maxsize=16)
def _step_brackets(
    num_steps: int, frenet_stride: int
) -> tuple[NDArrayInt, NDArrayInt, NDArrayInt, NDArrayF64]:
    """Read-only (coarse int64[C]: every stride-th step and the last; lower, upper int64[H]
    and ratio float64[H]: `_interpolate_steps`' brackets of every step), cached."""
    coarse = np.unique(np.r_[np.arange(0, num_steps, frenet_stride), num_steps - 1])
    lower, upper, ratio = _brackets(coarse, num_steps)
    for array in (coarse, lower, upper, ratio):
        array.flags.writeable = False
    return coarse, lower, upper, ratio


def _brackets(coarse: NDArrayInt, num_steps: int) -> tuple[NDArrayInt, NDArrayInt, NDArrayF64]:
    """(lower, upper int64[num_steps], ratio float64[num_steps]): each step between the
    known steps coarse[lower] and coarse[upper] (`_interpolate_steps`)."""
    upper = np.clip(
        np.searchsorted(coarse, np.arange(num_steps), side="left"), 1, coarse.shape[0] - 1
    )
    lower = upper - 1
    ratio = (np.arange(num_steps) - coarse[lower]) / (coarse[upper] - coarse[lower])
    return lower, upper, ratio


def _interpolate_steps(values: NDArrayF64, coarse: NDArrayInt, num_steps: int) -> NDArrayF64:
    """float64[..., num_steps]: `values[..., C]` known at steps `coarse`, linear in between."""
    lower, upper, ratio = _brackets(coarse, num_steps)
    return values[..., lower] + ratio * (values[..., upper] - values[..., lower])
