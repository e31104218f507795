"""Keeping the agents of one scene mode apart at inference.

The learned model's scene mode k gives each agent a choice among its own marginal modes
(`ModelConfig.joint_from_marginal`, weights `ModelOutput.joint_choice`). Where two agents'
futures in one scene mode overlap (oriented boxes with a positive area at some step, the
test of `metrics.forecasting.world_overlaps`) while their boxes are apart now,
`separate_scene_modes` re-chooses within that scene mode (iterated conditional modes, in
sweeps): an agent's options are its current future (cost -log of its largest choice weight)
and its marginal modes m (cost -log choice[m]), each plus `penalty_nats` per judged agent it
overlaps; in each sweep the overlapping agents, most gaining first, take their least costly
option. Scene probabilities are unchanged; agents without an overlap keep their futures.
Pairs that overlap now are never judged, nor (`LearnedPredictor`) pairs with a STATIC
object (its jitter is no choice of mode) or, by default, with a pedestrian.

Measured with `urbandrive evaluate-prediction --predictor learned` (default.pt, defaults
here) against no separation, same code: real data (AV2 + WOMD + ScenarioNet, 6515
agent-windows) overlap_rate 0.184 -> 0.163, jointMinFDE6 1.393 -> 1.385; held-out town
(9978) 0.024 -> 0.017, 0.966 -> 0.967; minFDE6 (marginal head) unchanged.

`separate_scene_modes` runs the numba kernel of `scene_modes_kernels` (pairs x steps with an
early exit, no per-mode option arrays), bit for bit the numpy `separate_scene_modes_reference`
(run under `core.compiled.numpy_reference()`). Cost on the `prediction_inference` bench scene
(64 agents, many overlaps; CPU, interleaved, loaded machine): 1.0 ms vs the reference's 6.1 ms;
with the headings `LearnedPredictor` computes for it, +2.3 ms per prediction (reference +7.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from urbandrive.core.compiled import enabled
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics.forecasting import boxes_overlap_near
from urbandrive.prediction import scene_modes_kernels


@dataclass(frozen=True, slots=True)
class SeparationConfig:
    """penalty_nats: cost of one overlapping pair, in nats of choice log-probability (an
    agent takes a mode up to that many nats less likely to undo one overlap); max_sweeps:
    passes over the overlapping agents of a scene mode; step_stride: the futures are tested every
    that many steps, the last one included (for speed; the overlap figures test every step);
    pedestrians: the pairs with a pedestrian
    judged: all, only those with another type ("with_others"), or none ("never", default:
    real pedestrians' boxes overlap often in the truth, 0.27 of them on the real data, and
    judging them cost pedestrians' jointMinFDE6 4 % there)."""

    penalty_nats: float = 3.0
    max_sweeps: int = 3
    step_stride: int = 3
    pedestrians: Literal["all", "with_others", "never"] = "never"

    def __post_init__(self) -> None:
        if not self.penalty_nats > 0 or min(self.max_sweeps, self.step_stride) < 1:
            raise ValueError(f"penalty_nats must be > 0, max_sweeps and step_stride >= 1: {self}")
        if self.pedestrians not in ("all", "with_others", "never"):
            raise ValueError(f"pedestrians must be all, with_others or never, got {self}")


#: The separation the `learned` predictor applies by default.
DEFAULT_SEPARATION = SeparationConfig()


@dataclass(frozen=True, slots=True)
class Futures:
    """Futures of N agents, O options each: xy float64[N, O, H, 2], heading float64[N, O, H]."""

    xy: NDArrayF64
    heading: NDArrayF64


def separate_scene_modes(
    joint: Futures,
    marginal: Futures,
    choice: NDArrayF64,
    now_xy: NDArrayF64,
    now_heading: NDArrayF64,
    size_m: NDArrayF64,
    config: SeparationConfig | None = None,
    judged: NDArrayBool | None = None,
) -> NDArrayF64:
    """float64[N, K, H, 2]: the K scene modes `joint` with overlapping agents re-chosen among
    their M `marginal` modes. choice: float64[N, K, M], the weights of the marginal modes in
    each scene mode; now_xy: float64[N, 2] and now_heading: [N], the boxes now; size_m:
    float64[N, 2] (length, width), metres; judged: bool[N, N], the pairs that may be judged
    (default all; only those apart now are). Runs the compiled kernel
    (`scene_modes_kernels`) where the compiled switch is on, else
    `separate_scene_modes_reference`; both give the same result bit for bit."""
    if not enabled():
        return separate_scene_modes_reference(
            joint, marginal, choice, now_xy, now_heading, size_m, config, judged
        )
    config = config or SeparationConfig()
    result, num_agents = joint.xy.copy(), joint.xy.shape[0]
    rows = np.arange(num_agents)  # the agents of a judged pair: no other is ever re-chosen
    if judged is not None:
        rows = np.flatnonzero((judged & ~np.eye(num_agents, dtype=bool)).any(1))
    if rows.size < 2:
        return result
    size = np.ascontiguousarray(size_m[rows], np.float64)
    diagonal = np.hypot(size[:, 0], size[:, 1])
    now_xy = np.asarray(now_xy, np.float64)[rows, None]  # [R, 1, 2]
    now_heading = np.asarray(now_heading, np.float64)[rows, None]
    bounds = _path_bounds(now_xy[:, None], size)  # [R, 1, 2] each
    cos, sin = np.cos(now_heading), np.sin(now_heading)
    apart = scene_modes_kernels.apart_now(now_xy, cos, sin, *bounds, size, diagonal)
    if judged is not None:
        apart &= judged[np.ix_(rows, rows)]
    steps = slice((joint.xy.shape[2] - 1) % config.step_stride, None, config.step_stride)
    xy = np.concatenate([marginal.xy[rows, :, steps], joint.xy[rows, :, steps]], 1)
    heading = np.concatenate([marginal.heading[rows, :, steps], joint.heading[rows, :, steps]], 1)
    picked = scene_modes_kernels.separate_all_modes(
        xy,  # [R, M + K, H', 2]
        np.cos(heading),
        np.sin(heading),
        *_path_bounds(xy, size),
        size,
        diagonal,
        np.log(np.clip(choice[rows], 1e-12, None)),
        apart,
        float(config.penalty_nats),
        int(config.max_sweeps),
    )  # [R, K]
    agent, mode = np.nonzero(picked)
    result[rows[agent], mode] = marginal.xy[rows[agent], picked[agent, mode] - 1]
    return result


def separate_scene_modes_reference(
    joint: Futures,
    marginal: Futures,
    choice: NDArrayF64,
    now_xy: NDArrayF64,
    now_heading: NDArrayF64,
    size_m: NDArrayF64,
    config: SeparationConfig | None = None,
    judged: NDArrayBool | None = None,
) -> NDArrayF64:
    """float64[N, K, H, 2]: the K scene modes `joint` with overlapping agents re-chosen among
    their M `marginal` modes. choice: float64[N, K, M], the weights of the marginal modes in
    each scene mode; now_xy: float64[N, 2] and now_heading: [N], the boxes now; size_m:
    float64[N, 2] (length, width), metres; judged: bool[N, N], the pairs that may be judged
    (default all; only those apart now are). The numpy reference of `separate_scene_modes`."""
    config = config or SeparationConfig()
    result, full_marginal_xy = joint.xy.copy(), marginal.xy
    if joint.xy.shape[0] < 2:
        return result
    now = Futures(now_xy[:, None, None], now_heading[:, None, None])
    apart = ~_pair_overlaps(now, _path_bounds(now.xy, size_m), size_m)[..., 0]
    if judged is not None:
        apart &= judged
    steps = np.arange(joint.xy.shape[2] - 1, -1, -config.step_stride)[::-1]
    joint, marginal = (
        Futures(f.xy[:, :, steps], f.heading[:, :, steps]) for f in (joint, marginal)
    )
    joint_bounds = _path_bounds(joint.xy, size_m)  # [N, K, 2] each
    conflicts = _pair_overlaps(joint, joint_bounds, size_m) & apart[..., None]  # [N, N, K]
    if not conflicts.any():
        return result
    marginal_bounds = _path_bounds(marginal.xy, size_m)
    log_choice = np.log(np.clip(choice, 1e-12, None))
    for mode in np.flatnonzero(conflicts.any((0, 1))).tolist():
        options = Futures(
            np.concatenate([joint.xy[:, mode, None], marginal.xy], 1),
            np.concatenate([joint.heading[:, mode, None], marginal.heading], 1),
        )  # [N, 1 + M, H', ...]
        bounds = tuple(
            np.concatenate([j[:, mode, None], m], 1)
            for j, m in zip(joint_bounds, marginal_bounds, strict=True)
        )
        cost = -np.concatenate([log_choice[:, mode].max(-1, keepdims=True), log_choice[:, mode]], 1)
        picked = _separate(options, bounds, cost, apart, size_m, conflicts[..., mode], config)
        chosen = picked > 0
        result[chosen, mode] = full_marginal_xy[chosen, picked[chosen] - 1]
    return result


def _separate(
    options: Futures,
    bounds: tuple[NDArrayF64, NDArrayF64],
    cost: NDArrayF64,
    apart: NDArrayBool,
    size_m: NDArrayF64,
    conflicts: NDArrayBool,
    config: SeparationConfig,
) -> NDArrayInt:
    """int64[N]: each agent's option (0 = its current future) after the sweeps. In a sweep
    every overlapping agent's options are costed against the others' picked futures at once;
    then, most gaining first, each takes its least costly option unless an earlier move came
    near it (its costs are stale until the next sweep). options: [N, O, H, ...]; cost:
    float64[N, O]; bounds: low, high float64[N, O, 2] (`_path_bounds`); apart (judged
    pairs), conflicts (updated): bool[N, N]."""
    picked = np.zeros(cost.shape[0], dtype=np.int64)
    low, high = bounds
    for _ in range(config.max_sweeps):
        agents = np.flatnonzero(conflicts.any(1))
        if not agents.size:
            break
        index, now = np.arange(agents.size), picked[agents]
        own = cost[agents, now] + config.penalty_nats * conflicts[agents].sum(1)  # [C]
        viable = cost[agents] < own[:, None]  # could beat the picked option, even overlap-free
        viable[index, now] = False
        hits, near = _option_overlaps(options, bounds, picked, agents, size_m, apart, viable)
        total = np.where(viable, cost[agents] + config.penalty_nats * hits.sum(-1), np.inf)
        best = np.argmin(total, 1)
        gain = own - total[index, best]
        stale = np.zeros(agents.size, dtype=bool)
        for i in np.argsort(-gain, kind="stable").tolist():
            if gain[i] <= 0:
                break
            if stale[i]:
                continue
            agent, option = int(agents[i]), int(best[i])
            reach = _meet(low[agents], high[agents], low[agent, option], high[agent, option])
            stale |= near[:, :, agent].any(1) | conflicts[agents, agent]
            stale |= reach.any(1) & apart[agents, agent]
            picked[agent] = option
            conflicts[agent], conflicts[:, agent] = hits[i, option], hits[i, option]
        if not gain.max() > 0:
            break
    return picked


def _option_overlaps(
    options: Futures,
    bounds: tuple[NDArrayF64, NDArrayF64],
    picked: NDArrayInt,
    agents: NDArrayInt,
    size_m: NDArrayF64,
    apart: NDArrayBool,
    viable: NDArrayBool,
) -> tuple[NDArrayBool, NDArrayBool]:
    """bool[C, O, N] twice: option o of agents[c] overlaps agent b's picked future at some
    step, and may (bounds; judged pairs only, never b = agents[c]); only the options
    viable: bool[C, O] are tested. bounds: low, high float64[N, O, 2]."""
    rows = np.arange(picked.size)
    low, high = bounds
    other_low, other_high = low[rows, picked], high[rows, picked]  # [N, 2]
    near = _meet(low[agents][:, :, None], high[agents][:, :, None], other_low, other_high)
    near &= apart[agents][:, None, :] & viable[:, :, None]
    near[np.arange(agents.size), :, agents] = False
    index, option, other = np.nonzero(near)
    hits = np.zeros(near.shape, dtype=bool)
    if index.size:
        agent = agents[index]
        hit = boxes_overlap_near(
            (options.xy[agent, option], options.heading[agent, option], size_m[agent, None]),
            (
                options.xy[other, picked[other]],
                options.heading[other, picked[other]],
                size_m[other, None],
            ),
        ).any(-1)
        hits[index[hit], option[hit], other[hit]] = True
    return hits, near


def _meet(
    low_a: NDArrayF64, high_a: NDArrayF64, low_b: NDArrayF64, high_b: NDArrayF64
) -> NDArrayBool:
    """bool[...]: the bounds [..., 2] (x, y) of a and b (broadcast) meet."""
    return (
        (low_a[..., 0] <= high_b[..., 0])
        & (low_b[..., 0] <= high_a[..., 0])
        & (low_a[..., 1] <= high_b[..., 1])
        & (low_b[..., 1] <= high_a[..., 1])
    )


def _path_bounds(xy: NDArrayF64, size_m: NDArrayF64) -> tuple[NDArrayF64, NDArrayF64]:
    """low, high float64[N, ..., 2]: the bounds of each path xy [N, ..., H, 2] grown by the
    agent's half-diagonal (size_m [N, 2])."""
    reach = 0.5 * np.hypot(size_m[:, 0], size_m[:, 1])
    reach = reach.reshape(reach.shape + (1,) * (xy.ndim - 2))
    return xy.min(-2) - reach, xy.max(-2) + reach


def _pair_overlaps(
    worlds: Futures, bounds: tuple[NDArrayF64, NDArrayF64], size_m: NDArrayF64
) -> NDArrayBool:
    """bool[N, N, K]: the boxes of agents a and b overlap (positive area) at some step of
    world k. worlds: xy float64[N, K, H, 2], heading [N, K, H]; bounds: low, high [N, K, 2]
    (`_path_bounds`, the broad phase); size_m: [N, 2]."""
    xy, heading = worlds.xy, worlds.heading
    num_agents = xy.shape[0]
    low, high = bounds
    near = _meet(low[:, None], high[:, None], low[None], high[None])
    near &= np.triu(np.ones((num_agents, num_agents), dtype=bool), 1)[..., None]
    first, second, mode = np.nonzero(near)
    result = np.zeros(near.shape, dtype=bool)
    if first.size:
        hit = boxes_overlap_near(
            (xy[first, mode], heading[first, mode], size_m[first, None]),
            (xy[second, mode], heading[second, mode], size_m[second, None]),
        ).any(-1)
        result[first[hit], second[hit], mode[hit]] = True
        result[second[hit], first[hit], mode[hit]] = True
    return result
