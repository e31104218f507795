"""`LearnedPredictor`: the joint model behind the `Predictor` protocol.

Inference: `observation_features` (float64 global -> float32 scene frame), the model (each
agent's frame), then back to the scene frame and, in float64, to the global frame. The
default checkpoint ships as package data (`urbandrive/prediction/checkpoints/default.pt`).

Modes. `Prediction.marginal` always holds the marginal head's K modes per agent (what
per-agent metrics score). `mode_source="joint"` (default): `xy` holds the K scene modes;
`probs` = softmax of the scene logits; `marginal_probs[n]` = softmax of agent n's own logits
over the same K scene modes. `mode_source="marginal"`: `xy` holds each agent's K marginal
modes (best-of-K per agent, as the ETH/UCY protocol scores); they are not consistent across
agents, and `probs` is then only the normalised mean of the marginal probabilities.

Horizon: the checkpoint's (e.g. 3 s); a longer `horizon_s` continues every mode at its last
predicted velocity (and heading), a shorter one truncates. Agents not seen now are predicted
invalid.

Speed: `JointPredictionModel.infer` (no Laplace scales), and the map's encodings kept per
map piece across calls (`MapEncodingCache`: the map is static across a scenario's cycles).
"""

from __future__ import annotations

import contextlib
import importlib.resources
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from urbandrive.core import compiled
from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError, UrbandriveError
from urbandrive.core.observation import Observation
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.maps.index import best_lanes_with_headings, project_to_lanes
from urbandrive.metrics.states import types_in
from urbandrive.prediction.baselines import future_times, predicted_rows
from urbandrive.prediction.features import (
    FeatureConfig,
    SceneTensors,
    collate,
    observation_features,
    vector_length,
)
from urbandrive.prediction.interfaces import MarginalForecast, Prediction
from urbandrive.prediction.map_cache import MapEncodingCache
from urbandrive.prediction.model import InferencePlan, JointPredictionModel
from urbandrive.prediction.scene_modes import (
    DEFAULT_SEPARATION,
    Futures,
    SeparationConfig,
    separate_scene_modes,
)
from urbandrive.prediction.training import load_model, read_checkpoint

DEFAULT_CHECKPOINT = "default.pt"
#: `headings_along`: below this chord length per step (m; 0.5 m/s at 0.1 s) the predicted
#: heading is held.
_MIN_STEP_FOR_HEADING_M = 0.05
#: `headings_along`'s chord about step t: from step t - back to step t + ahead (the slices
#: of its padded path assume 2 and 1).
_CHORD_BACK, _CHORD_AHEAD = 2, 1
#: `headings_along`: a bounded agent's heading turns at most this (rad) per m it moves (a
#: turning radius of ~3 m; a car's is ~5 m).
_MAX_CURVATURE = 0.35
_TURN_ON_THE_SPOT = (AgentType.PEDESTRIAN, AgentType.ANIMAL, AgentType.UNKNOWN)


def shipped_checkpoint(name: str = DEFAULT_CHECKPOINT) -> Path:
    """Path of a checkpoint shipped in `urbandrive/prediction/checkpoints/`."""
    resource = importlib.resources.files("urbandrive.prediction").joinpath("checkpoints", name)
    path = Path(str(resource))
    if not path.is_file():
        raise DataError(f"{path}: shipped checkpoint {name!r} not found (package data missing?)")
    return path


@dataclass(frozen=True, slots=True)
class LearnedConfig:
    """horizon_s: predicted horizon (None: the checkpoint's); include_ego: predict the ego
    too; mode_source: "joint" or "marginal" (module docstring); max_model_agents: the model
    sees at most this many agents seen now, nearest the scene origin (the ego), and the
    others seen now are predicted at constant velocity, the same in every mode, with uniform
    per-agent probabilities (None: the model predicts every agent seen now);
    marginal_forecast: fill `Prediction.marginal` (False: None, for consumers that read only
    the joint modes, e.g. a planner: its horizon extension and headings are not computed);
    hold_still_m: a joint mode of an agent slower than `hold_still_mps` now that moves it
    less than this (m) by the model's horizon holds the agent where it is (None: never) -
    else a stopped car creeps on the model's jitter, and the horizon extension carries the
    creep on (0.3 - 1 m in 3 s became 2.5 - 4.5 m in 8 s on town:standard/double_parked-000);
    torch_threads: torch's intra-op threads while predicting, restored after (None: torch's
    setting) - a closed loop runs one process per core, and torch's default of one thread
    per core made a `learned_near` prediction 11x slower on a loaded 2-core machine
    (707 ms vs 62 ms, town:standard/crosswalk_crowd-000); separation: re-choose the
    marginal modes of agents whose boxes overlap in a scene mode (`scene_modes`; None: not);
    merge_modes_m: a joint scene mode
    within this (m, in x and in y, at every step) of a more probable one for every agent the
    ego can meet is merged into it, probabilities summed (`merge_modes`; None: never) - a
    planner scores each distinct mode, and the model's modes often agree near the ego;
    merge_reach_m: the agents the ego can meet are those whose predicted positions (any
    mode, any step) come within this plus the ego's speed x horizon of the ego now;
    drift_mps: a model-predicted vehicle or cyclist within `merge_reach_m` + the ego's speed
    x `DRIFT_FOLLOWED_S` of the ego, moving across its lane at least this fast now (m/s),
    whose joint modes that follow it (`drifting_agents`) carry less than `DRIFT_MODE_PROB`,
    gets one more scene mode: the most probable one with such agents at constant velocity, of
    the probability that brings the following modes to `DRIFT_MODE_PROB` (`with_drift_mode`;
    None: never) - the model's modes kept a car drifting into the ego's lane in its own lane
    (town:standard cut_in-007);
    extend_along_lanes: a longer `horizon_s` continues a `DRIFT_TYPES` agent's mode along the
    lane nearest its last predicted position (`along_lanes`), not straight on (False). Straight
    on, a 2 degree heading error at the model's 3 s carried 5 s at 11 m/s put a car 1.9 m into
    the ego's lane in every mode (town:standard cut_in-011: the ego sped up to pass it, then
    changed lanes beside it as it cut in, TTC 0.7 s). Not on for `learned_near` yet: along
    lanes fixed cut_in-011 (68.8 -> 100) and bus_pull_out-012 / -013 (now passed; -011 not:
    too close to the bus), but cut_in-003 became an at-fault collision (the ego, changing
    lanes away from a hard cut-in, found every candidate unsafe a second later, stopped
    mid-change and was hit; straight on it passed). All 210 town:standard reactive: 95.68,
    pass 0.952, 1 at-fault against 96.23, 0.952, 0 straight on; AV2 logs 92.6 against 93.1."""

    horizon_s: float | None = None
    include_ego: bool = False
    mode_source: Literal["joint", "marginal"] = "joint"
    max_model_agents: int | None = None
    marginal_forecast: bool = True
    hold_still_m: float | None = None
    hold_still_mps: float = 0.5
    torch_threads: int | None = None
    separation: SeparationConfig | None = DEFAULT_SEPARATION
    merge_modes_m: float | None = None
    merge_reach_m: float = 20.0
    drift_mps: float | None = None
    extend_along_lanes: bool = False

    def __post_init__(self) -> None:
        if self.mode_source not in ("joint", "marginal"):
            raise ValueError(f"mode_source must be 'joint' or 'marginal', got {self.mode_source!r}")
        if self.horizon_s is not None and not self.horizon_s > 0:
            raise ValueError(f"horizon_s must be > 0, got {self.horizon_s}")
        if self.max_model_agents is not None and self.max_model_agents < 1:
            raise ValueError(f"max_model_agents must be >= 1, got {self.max_model_agents}")
        if self.hold_still_m is not None and not self.hold_still_m > 0:
            raise ValueError(f"hold_still_m must be > 0, got {self.hold_still_m}")
        if self.torch_threads is not None and self.torch_threads < 1:
            raise ValueError(f"torch_threads must be >= 1, got {self.torch_threads}")
        if self.merge_modes_m is not None and not self.merge_modes_m > 0:
            raise ValueError(f"merge_modes_m must be > 0, got {self.merge_modes_m}")
        if not self.merge_reach_m >= 0:
            raise ValueError(f"merge_reach_m must be >= 0, got {self.merge_reach_m}")
        if self.drift_mps is not None and not self.drift_mps > 0:
            raise ValueError(f"drift_mps must be > 0, got {self.drift_mps}")


def headings_along(
    xy: NDArrayF64,
    start_xy: NDArrayF64,
    start_heading: NDArrayF64,
    bounded: NDArrayBool | None = None,
) -> NDArrayF64:
    """float64[N, K, H]: the heading along each predicted path. xy: [N, K, H, 2]; start_xy:
    [N, 2] and start_heading: [N], now; bounded: bool[N], the agents whose heading turns at
    most `_MAX_CURVATURE` x the step's length and does not flip when they back up
    (`heading_bounded`; None: none).

    Step t's direction is that of the chord over the steps t-2 .. t+1 (centred on step t,
    clipped to the path and to now), taken only where the chord is at least
    `_MIN_STEP_FOR_HEADING_M` per step long; elsewhere the last such direction is held
    (from the heading now): a few cm of jitter on a still agent do not turn it. Compiled
    kernels around numpy's arctan2 where the compiled switch is on (the same floats as
    `headings_along_reference`)."""
    if not compiled.enabled():
        return headings_along_reference(xy, start_xy, start_heading, bounded)
    xy = np.ascontiguousarray(xy, dtype=np.float64)
    shape = xy.shape[:3]
    chord, reliable = np.empty((2,) + shape), np.empty(shape, dtype=np.bool_)
    start = np.ascontiguousarray(start_xy, dtype=np.float64)
    _chords_kernel(xy, start, _MIN_STEP_FOR_HEADING_M, chord, reliable)
    angle = np.arctan2(chord[1], chord[0])  # contiguous: 2x faster than over an axis of 2
    flags = np.zeros(shape[0], np.bool_) if bounded is None else np.asarray(bounded, np.bool_)
    heading = np.ascontiguousarray(start_heading, dtype=np.float64)
    _hold_and_limit_kernel(xy, start, heading, flags, reliable, _MAX_CURVATURE, angle)
    return angle


def headings_along_reference(
    xy: NDArrayF64,
    start_xy: NDArrayF64,
    start_heading: NDArrayF64,
    bounded: NDArrayBool | None = None,
) -> NDArrayF64:
    """`headings_along` in numpy: the reference of its compiled kernels."""
    steps = xy.shape[2]
    start = np.broadcast_to(start_xy[:, None, None], xy[:, :, :1].shape)
    # now three times, the steps, the last again: step t's chord runs from padded[t] to
    # padded[t + 3], i.e. from step max(t - 2, 0) to step min(t + 1, H) (step 0: now).
    padded = np.concatenate([start, start, start, xy, xy[:, :, -1:]], axis=2)
    chord = padded[:, :, 4 : steps + 4] - padded[:, :, 1 : steps + 1]
    index = np.arange(1, steps + 1)
    span = np.minimum(index + _CHORD_AHEAD, steps) - np.maximum(index - _CHORD_BACK, 0)
    chord_x, chord_y = chord[..., 0], chord[..., 1]
    # sqrt(x^2 + y^2): `np.linalg.norm(step, axis=-1)` to the bit, 10x faster over an axis of 2.
    reliable = np.sqrt(chord_x * chord_x + chord_y * chord_y) >= _MIN_STEP_FOR_HEADING_M * span
    angle = np.arctan2(chord_y, chord_x)
    if not reliable.all():
        last = np.maximum.accumulate(np.where(reliable, np.arange(steps), -1), axis=-1)
        held = np.take_along_axis(angle, np.maximum(last, 0), axis=-1)
        angle = np.where(last >= 0, held, start_heading[:, None, None])
    if bounded is None or not bounded.any():
        return angle
    step = np.diff(padded[:, :, 2 : steps + 3], axis=2)
    limit = _MAX_CURVATURE * np.sqrt(step[..., 0] ** 2 + step[..., 1] ** 2)[bounded]
    angle[bounded] = _rate_limited(angle[bounded], start_heading[bounded], limit)
    return angle


@compiled.njit
def _chords_kernel(
    xy: NDArrayF64, start: NDArrayF64, min_step_m: float, chord: NDArrayF64, reliable: NDArrayBool
) -> None:  # pragma: no cover - compiled
    """`headings_along_reference`'s chords (step max(t - 2, 0) -> min(t + 1, H), step 0:
    now), x and y apart: chord [2, N, K, H], and whether each is at least `min_step_m` per
    step long, into reliable [N, K, H]."""
    steps = xy.shape[2]
    for n in range(xy.shape[0]):
        for k in range(xy.shape[1]):
            for t in range(steps):
                back, ahead = t - _CHORD_BACK, min(t + _CHORD_AHEAD, steps - 1)
                for axis in range(2):
                    origin = start[n, axis] if back < 0 else xy[n, k, back, axis]
                    chord[axis, n, k, t] = xy[n, k, ahead, axis] - origin
                x, y = chord[0, n, k, t], chord[1, n, k, t]
                span = min(t + 1 + _CHORD_AHEAD, steps) - max(t + 1 - _CHORD_BACK, 0)
                reliable[n, k, t] = np.sqrt(x * x + y * y) >= min_step_m * span


@compiled.njit
def _hold_and_limit_kernel(
    xy: NDArrayF64,
    start: NDArrayF64,
    start_heading: NDArrayF64,
    bounded: NDArrayBool,
    reliable: NDArrayBool,
    max_curvature: float,
    angle: NDArrayF64,
) -> None:  # pragma: no cover - compiled
    """In place on angle [N, K, H]: an unreliable step holds the last reliable angle (the
    heading now before any); a bounded agent's heading then turns at most max_curvature x
    the step's length per step (`_rate_limited_kernel`'s law). The turns run step by step
    over all bounded (agent, mode) rows at once: each row is a chain of dependent divisions,
    and independent rows side by side keep the CPU busy (the same operations per row)."""
    num_modes, steps = angle.shape[1], angle.shape[2]
    for n in range(angle.shape[0]):
        for k in range(num_modes):
            held = start_heading[n]
            for t in range(steps):
                if reliable[n, k, t]:
                    held = angle[n, k, t]
                angle[n, k, t] = held
    agents = np.flatnonzero(bounded)
    heading = np.empty((agents.shape[0], num_modes))
    for row in range(agents.shape[0]):
        heading[row, :] = start_heading[agents[row]]
    for t in range(steps):
        for row in range(agents.shape[0]):
            n = agents[row]
            for k in range(num_modes):
                if t == 0:
                    step_x, step_y = xy[n, k, 0, 0] - start[n, 0], xy[n, k, 0, 1] - start[n, 1]
                else:
                    step_x = xy[n, k, t, 0] - xy[n, k, t - 1, 0]
                    step_y = xy[n, k, t, 1] - xy[n, k, t - 1, 1]
                limit = max_curvature * np.sqrt(step_x * step_x + step_y * step_y)
                heading[row, k] = _turned_toward(heading[row, k], angle[n, k, t], limit)
                angle[n, k, t] = heading[row, k]


def heading_bounded(types: NDArrayInt) -> NDArrayBool:
    """bool[N]: the agents `headings_along` turns at a bounded rate (not pedestrians, animals
    or unknown agents, which turn on the spot)."""
    return ~types_in(types, _TURN_ON_THE_SPOT)


def _rate_limited(target: NDArrayF64, start: NDArrayF64, limit: NDArrayF64) -> NDArrayF64:
    """float64[M, K, H]: headings that follow `target` [M, K, H] from `start` [M] turning at
    most `limit` [M, K, H] (rad) per step; a target behind (reversing) is followed backwards
    (compiled kernel, or its numpy reference)."""
    rows = target.reshape(-1, target.shape[2])
    first = np.repeat(start, target.shape[1])
    bound = limit.reshape(rows.shape)
    if compiled.enabled():
        result = np.empty_like(rows)
        _rate_limited_kernel(rows, first, bound, result)
    else:
        result = _rate_limited_reference(rows, first, bound)
    return result.reshape(target.shape)


def _rate_limited_reference(target: NDArrayF64, start: NDArrayF64, limit: NDArrayF64) -> NDArrayF64:
    """`_rate_limited` on rows: target, limit [R, H], start [R] -> headings [R, H] in
    [-pi, pi)."""
    result = np.empty_like(target)
    heading = start.copy()
    for t in range(target.shape[1]):
        turn = target[:, t] - heading
        turn -= np.pi * np.floor(turn / np.pi + 0.5)  # the axis, not the direction: +-pi/2
        heading += np.clip(turn, -limit[:, t], limit[:, t])
        heading -= 2.0 * np.pi * np.floor(heading / (2.0 * np.pi) + 0.5)
        result[:, t] = heading
    return result


@compiled.njit
def _rate_limited_kernel(
    target: NDArrayF64, start: NDArrayF64, limit: NDArrayF64, result: NDArrayF64
) -> None:  # pragma: no cover - compiled
    """`_rate_limited_reference` into `result` [R, H]."""
    for row in range(target.shape[0]):
        heading = start[row]
        for t in range(target.shape[1]):
            heading = _turned_toward(heading, target[row, t], limit[row, t])
            result[row, t] = heading


@compiled.njit
def _turned_toward(heading: float, target: float, limit: float) -> float:  # pragma: no cover
    """`heading` turned toward the axis of `target` by at most `limit` (rad), in [-pi, pi):
    `_rate_limited_reference`'s step on one row, the same operations."""
    turn = target - heading
    turn -= np.pi * np.floor(turn / np.pi + 0.5)
    heading += min(max(turn, -limit), limit)
    return heading - 2.0 * np.pi * np.floor(heading / (2.0 * np.pi) + 0.5)


def hold_still(
    xy: NDArrayF64, start_xy: NDArrayF64, speed: NDArrayF64, max_shift_m: float, max_speed: float
) -> NDArrayF64:
    """float64[N, K, H, 2]: `xy` with each mode of an agent slower than `max_speed` now
    (`speed` [N], m/s) that ends less than `max_shift_m` from `start_xy` [N, 2] replaced by
    the agent standing at `start_xy` (a mode that moves it farther, e.g. pulling away, stays)."""
    shift = np.linalg.norm(xy[:, :, -1] - start_xy[:, None], axis=-1)  # (N, K)
    still = (shift < max_shift_m) & (speed < max_speed)[:, None]
    return np.where(still[..., None, None], start_xy[:, None, None], xy)


def all_agents(
    history: Tracks,
    rows: NDArrayInt,
    seen: NDArrayBool,
    seen_now: NDArrayBool,
    picked: tuple[NDArrayF64, NDArrayF64],
    times_s: NDArrayF64,
) -> tuple[NDArrayF64, NDArrayF64]:
    """(xy float64[N, M, H, 2], heading [N, M, H]) of agents `rows` [N]: the model's modes
    `picked` (xy [N', M, H, 2], heading [N', M, H]) for the `seen` [N] ones, every mode at
    constant velocity and heading from now (at `times_s` [H]) for the others `seen_now`,
    zeros else. One compiled pass where the switch is on (the same floats)."""
    picked_xy, picked_heading = picked
    shape = (rows.size,) + picked_xy.shape[1:]
    cheap = seen_now & ~seen  # seen now, beyond max_model_agents
    if compiled.enabled():
        xy, heading = np.empty(shape), np.empty(shape[:3])
        now = history.xy[rows, -1], history.velocity[rows, -1], history.heading[rows, -1]
        source = np.where(seen, np.cumsum(seen) - 1, np.where(cheap, -1, -2))
        modes = np.ascontiguousarray(picked_xy), np.ascontiguousarray(picked_heading)
        _all_agents_kernel(*modes, source, *now, np.ascontiguousarray(times_s), xy, heading)
        return xy, heading
    xy, heading = np.zeros(shape), np.zeros(shape[:3])
    xy[seen], heading[seen] = picked_xy, picked_heading
    if cheap.any():
        velocity = history.velocity[rows[cheap], -1]
        cv = history.xy[rows[cheap], -1, None] + velocity[:, None] * times_s[None, :, None]
        xy[cheap] = cv[:, None]
        heading[cheap] = history.heading[rows[cheap], -1, None, None]
    return xy, heading


@compiled.njit
def _all_agents_kernel(
    picked_xy: NDArrayF64,
    picked_heading: NDArrayF64,
    source: NDArrayInt,
    now_xy: NDArrayF64,
    now_velocity: NDArrayF64,
    now_heading: NDArrayF64,
    times_s: NDArrayF64,
    xy: NDArrayF64,
    heading: NDArrayF64,
) -> None:  # pragma: no cover - compiled
    """`all_agents` into xy, heading: row n from picked row source[n] (>= 0), at constant
    velocity (-1: now + velocity x time) or zeros (-2)."""
    for n in range(source.shape[0]):
        for k in range(xy.shape[1]):
            for t in range(xy.shape[2]):
                if source[n] >= 0:
                    heading[n, k, t] = picked_heading[source[n], k, t]
                    for axis in range(2):
                        xy[n, k, t, axis] = picked_xy[source[n], k, t, axis]
                elif source[n] == -1:
                    heading[n, k, t] = now_heading[n]
                    for axis in range(2):
                        xy[n, k, t, axis] = now_xy[n, axis] + now_velocity[n, axis] * times_s[t]
                else:
                    heading[n, k, t] = 0.0
                    xy[n, k, t, 0], xy[n, k, t, 1] = 0.0, 0.0


def hold_and_extend(
    xy: NDArrayF64,
    start_xy: NDArrayF64,
    steps: int,
    speed: NDArrayF64,
    held_modes: int,
    max_shift_m: float,
    max_speed: float,
) -> NDArrayF64:
    """float64[N, M, steps, 2]: `extend_horizon` (each mode's last step velocity) of xy
    [N, M, H, 2] after `hold_still` (speed [N], max_shift_m, max_speed) of its first
    `held_modes` modes (0: none). One compiled pass where the compiled switch is on and the
    horizon is extended (the same floats as `hold_still` then `extend_horizon`)."""
    if compiled.enabled() and steps > xy.shape[2]:
        result = np.empty(xy.shape[:2] + (steps, 2))
        xy, start_xy = np.ascontiguousarray(xy, np.float64), np.ascontiguousarray(start_xy)
        speed = np.ascontiguousarray(speed, np.float64)
        _hold_and_extend_kernel(xy, start_xy, speed, held_modes, max_shift_m, max_speed, result)
        return result
    if held_modes:
        joint = hold_still(xy[:, :held_modes], start_xy, speed, max_shift_m, max_speed)
        xy = (
            np.concatenate([joint, xy[:, held_modes:]], axis=1)
            if held_modes < xy.shape[1]
            else joint
        )
    return extend_horizon(xy, start_xy, steps)


@compiled.njit
def _hold_and_extend_kernel(
    xy: NDArrayF64,
    start: NDArrayF64,
    speed: NDArrayF64,
    held_modes: int,
    max_shift_m: float,
    max_speed: float,
    result: NDArrayF64,
) -> None:  # pragma: no cover - compiled
    """`hold_and_extend`'s numpy path into result [N, M, steps, 2], the same operations: a
    held mode is the start point at every step; the extension adds i x the last step."""
    have, steps = xy.shape[2], result.shape[2]
    for n in range(xy.shape[0]):
        for k in range(xy.shape[1]):
            still = False
            if k < held_modes and speed[n] < max_speed:
                dx, dy = xy[n, k, have - 1, 0] - start[n, 0], xy[n, k, have - 1, 1] - start[n, 1]
                still = np.sqrt(dx * dx + dy * dy) < max_shift_m
            for axis in range(2):
                for t in range(have):
                    result[n, k, t, axis] = start[n, axis] if still else xy[n, k, t, axis]
                last = result[n, k, have - 1, axis]
                before = result[n, k, have - 2, axis] if have > 1 else start[n, axis]
                velocity = last - before
                for extra in range(1, steps - have + 1):
                    result[n, k, have - 1 + extra, axis] = last + float(extra) * velocity


def merge_modes(xy: NDArrayF64, probs: NDArrayF64, max_gap_m: float) -> NDArrayInt:
    """int64[K]: the mode each scene mode merges into (itself when kept). Modes are taken
    most probable first (ties: lower index); one joins the first kept mode whose positions
    differ from its own by less than `max_gap_m` in x and in y at every step for every agent.
    xy: float64[N, K, H, 2] (the agents that matter); probs: float64[K]. Compiled
    (`_merge_modes_kernel`) where the switch is on."""
    num_modes = probs.shape[0]
    target = np.arange(num_modes)
    if xy.shape[0] == 0:  # no agent tells the modes apart
        target[:] = int(np.argmax(probs))
        return target
    if compiled.enabled():
        order = np.argsort(-probs, kind="stable")
        _merge_modes_kernel(np.ascontiguousarray(xy, np.float64), order, max_gap_m, target)
        return target
    ends = xy[:, :, -1]  # [N, K, 2]: most modes part by the end, a cheap first test
    end_gap = np.abs(ends[:, :, None] - ends[:, None]).max(axis=(0, 3))  # [K, K]
    by_mode = np.ascontiguousarray(np.moveaxis(xy, 1, 0).reshape(num_modes, -1))  # [K, N H 2]
    kept: list[int] = []
    for mode in np.argsort(-probs, kind="stable").tolist():
        near = (k for k in kept if end_gap[mode, k] < max_gap_m)
        into = next((k for k in near if _max_gap(by_mode[mode], by_mode[k]) < max_gap_m), None)
        if into is None:
            kept.append(mode)
        else:
            target[mode] = into
    return target


@compiled.njit
def _merge_modes_kernel(
    xy: NDArrayF64, order: NDArrayInt, max_gap_m: float, target: NDArrayInt
) -> None:  # pragma: no cover - compiled
    """`merge_modes`' loop into target [K]: modes in `order`; a mode joins the first kept
    one whose every |difference| (agents, steps, x and y) is below max_gap_m (numpy's: the
    largest below it, NaN never)."""
    kept = np.empty(order.shape[0], np.int64)
    num_kept = 0
    for mode in order:
        into = -1
        for j in range(num_kept):
            if _all_within(xy, mode, kept[j], max_gap_m):
                into = kept[j]
                break
        if into < 0:
            kept[num_kept] = mode
            num_kept += 1
        else:
            target[mode] = into


@compiled.njit
def _all_within(xy: NDArrayF64, first: int, second: int, gap: float) -> bool:  # pragma: no cover
    """Whether modes `first` and `second` of xy [N, K, H, 2] differ by less than gap in x and
    in y at every step for every agent (the end points first: most modes part there)."""
    last = xy.shape[2] - 1
    for n in range(xy.shape[0]):
        for axis in range(2):
            if not abs(xy[n, first, last, axis] - xy[n, second, last, axis]) < gap:
                return False
    for n in range(xy.shape[0]):
        for t in range(last):
            for axis in range(2):
                if not abs(xy[n, first, t, axis] - xy[n, second, t, axis]) < gap:
                    return False
    return True


def _max_gap(first: NDArrayF64, second: NDArrayF64) -> float:
    """max |first - second| of two float64[M] rows (no large temporaries: 15 pairs at most)."""
    return float(np.abs(first - second).max())


def extend_horizon(
    xy: NDArrayF64, start_xy: NDArrayF64, steps: int, velocity: NDArrayF64 | None = None
) -> NDArrayF64:
    """float64[N, K, steps, 2]: truncated, or continued at `velocity` [N, K, 2] per step
    (None: each mode's last step velocity, `last_step`)."""
    have = xy.shape[2]
    if steps <= have:
        return xy[:, :, :steps]
    if velocity is None:
        velocity = last_step(xy, start_xy)
    extra = np.arange(1, steps - have + 1)[:, None] * velocity[:, :, None]
    return np.concatenate([xy, xy[:, :, -1:] + extra], axis=2)


def last_step(xy: NDArrayF64, start_xy: NDArrayF64) -> NDArrayF64:
    """float64[N, K, 2]: each mode's last step (xy [N, K, H, 2]; from `start_xy` [N, 2] when
    H is 1)."""
    before = (
        xy[:, :, -2] if xy.shape[2] > 1 else np.broadcast_to(start_xy[:, None], xy[:, :, -1].shape)
    )
    return xy[:, :, -1] - before


#: `along_lanes`: a last step turned more than this from its lane's direction (rad) goes
#: straight on (a turn across lanes, a U-turn: no lane to follow).
ALONG_LANE_MAX_ANGLE_RAD = np.deg2rad(20.0)
#: `along_lanes`: a last step shorter than this (m) is kept as it is (a stopped agent).
ALONG_LANE_MIN_STEP_M = 0.01


def along_lanes(
    observation: Observation, xy: NDArrayF64, start_xy: NDArrayF64, types: NDArrayInt
) -> NDArrayF64:
    """float64[N, K, 2]: each mode's last step (`last_step` of xy [N, K, H, 2], global)
    projected on the direction of the lane nearest its last position, for the
    `DRIFT_TYPES` agents (types [N]) whose step is within `ALONG_LANE_MAX_ANGLE_RAD` of it;
    the others' (and every step where there is no map) as they are."""
    step = last_step(xy, start_xy)
    road_map = observation.road_map
    length = np.linalg.norm(step, axis=-1)  # [N, K]
    moving = types_in(types, DRIFT_TYPES)[:, None] & (length >= ALONG_LANE_MIN_STEP_M)
    if road_map is None or not road_map.lanes or not moving.any():
        return step
    ends, moved = xy[:, :, -1][moving], step[moving]  # [M, 2]
    heading = np.arctan2(moved[:, 1], moved[:, 0])
    lanes, _ = road_map.nearest_lanes(ends)
    lane_heading = project_to_lanes(road_map.index, ends, road_map.index.rows_of(lanes))[2]
    direction = np.stack([np.cos(lane_heading), np.sin(lane_heading)], -1)  # [M, 2]
    turned = np.abs(np.angle(np.exp(1j * (heading - lane_heading))))
    projected = (moved * direction).sum(-1, keepdims=True) * direction
    result = step.copy()
    result[moving] = np.where((turned <= ALONG_LANE_MAX_ANGLE_RAD)[:, None], projected, moved)
    return result


def extended_headings(
    xy: NDArrayF64,
    start_xy: NDArrayF64,
    start_heading: NDArrayF64,
    steps: int,
    bounded: NDArrayBool | None = None,
) -> NDArrayF64:
    """float64[N, K, steps]: `headings_along` the modes `xy: [N, K, H, 2]` as `extend_horizon`
    continues them."""
    return headings_along(extend_horizon(xy, start_xy, steps), start_xy, start_heading, bounded)


def agents_to_global(local: np.ndarray, now_xy: NDArrayF64, scene: SceneTensors) -> NDArrayF64:
    """float64[..., A, K, H, 2]: points in each agent's frame now (`local`, any float dtype)
    in the global frame, in one float64 rotation by the agent's global heading now (its
    scene-frame heading + the scene frame's) about its global position now (`now_xy`
    float64[A, 2]). A compiled pass for float32 `local` where the switch is on (the same
    operations)."""
    angle = scene.origin_heading + scene.heading[:, -1].astype(np.float64)
    if compiled.enabled() and local.ndim >= 4 and local.dtype == np.float32:
        flat = np.ascontiguousarray(local).reshape(-1, *local.shape[-4:])
        result = np.empty(flat.shape)
        now = np.ascontiguousarray(now_xy, np.float64)
        _to_global_kernel(flat, np.cos(angle), np.sin(angle), now, result)
        return result.reshape(local.shape)
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    x, y = local[..., 0], local[..., 1]
    return np.stack(
        [
            cos * x - sin * y + now_xy[:, 0, None, None],
            sin * x + cos * y + now_xy[:, 1, None, None],
        ],
        -1,
    )


@compiled.njit
def _to_global_kernel(
    local: np.ndarray, cos: NDArrayF64, sin: NDArrayF64, now_xy: NDArrayF64, result: NDArrayF64
) -> None:  # pragma: no cover - compiled
    """`agents_to_global` into result [L, A, K, S, 2] of float32 local [L, A, K, S, 2]."""
    for lead in range(local.shape[0]):
        for a in range(local.shape[1]):
            for k in range(local.shape[2]):
                for t in range(local.shape[3]):
                    x, y = np.float64(local[lead, a, k, t, 0]), np.float64(local[lead, a, k, t, 1])
                    result[lead, a, k, t, 0] = cos[a] * x - sin[a] * y + now_xy[a, 0]
                    result[lead, a, k, t, 1] = sin[a] * x + cos[a] * y + now_xy[a, 1]


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with `count` torch intra-op threads (None: as set), then restore."""
    before = torch.get_num_threads()
    if count is not None and count != before:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _separated(
    observation: Observation,
    rows: np.ndarray,
    xy: NDArrayF64,
    choice: torch.Tensor,
    config: SeparationConfig,
) -> NDArrayF64:
    """The scene modes xy[0] ([A', K, H, 2], global) kept apart (`separate_scene_modes`)
    with the marginal modes xy[1] and the choice weights (A', K, K)."""
    history = observation.history
    now_xy, now_heading = history.xy[rows, -1], history.heading[rows, -1]
    types = history.types[rows]
    weights = choice.double().numpy()
    moving = types != AgentType.STATIC  # a static object's jitter is not a choice of mode
    judged = moving[:, None] & moving[None]
    walking = types == AgentType.PEDESTRIAN
    if config.pedestrians == "with_others":
        judged &= ~(walking[:, None] & walking[None])
    elif config.pedestrians == "never":
        judged &= ~(walking[:, None] | walking[None])
    # Only the agents of a judged pair have their headings read (the others' stay 0).
    used, bounded = np.flatnonzero(judged.any(1)), heading_bounded(types)
    start = now_xy[used], now_heading[used], bounded[used]
    joint, marginal = (Futures(x, np.zeros(x.shape[:3])) for x in xy)
    for future in (joint, marginal):
        future.heading[used] = headings_along(future.xy[used], *start)
    size = history.size_m[rows]
    return separate_scene_modes(joint, marginal, weights, now_xy, now_heading, size, config, judged)


def _softmax(logits: torch.Tensor) -> np.ndarray:
    return torch.softmax(logits.double(), dim=-1).numpy()


class LearnedPredictor:
    """The learned joint predictor (`name = "learned"`); see the module docstring."""

    name = "learned"

    def __init__(
        self, checkpoint: Path | str | None = None, config: LearnedConfig | None = None
    ) -> None:
        self.config = config or LearnedConfig()
        path = shipped_checkpoint() if checkpoint is None else Path(checkpoint)
        self.model: JointPredictionModel = load_model(read_checkpoint(path))
        model = self.model.config
        self.features = FeatureConfig(
            history_steps=model.history_steps,
            future_steps=model.future_steps,
            dt_s=model.dt_s,
            max_agents=self.config.max_model_agents,
            use_map=model.use_map,
        )
        self.maps = MapEncodingCache(self.model, self.features.points_per_polyline)
        #: The model's `inference_plan`, made on the first prediction: like the map cache,
        #: bound to the weights as they are then (the predictor's model is not trained).
        self._plan: InferencePlan | None = None

    @property
    def num_modes(self) -> int:
        return self.model.config.num_modes

    def _run(self, observation: Observation) -> tuple[np.ndarray, ...]:
        """Of the agents seen now (A'): their rows int64[A'], then xy float64[A', K, H, 2]
        (global), probs [K] and marginal probs [A', K] of `xy`, and the marginal head's xy
        [A', K, H, 2] and probs [A', K] (both None when nothing reads them: no marginal
        forecast, joint modes, no separation)."""
        scene = observation_features(observation, self.features)
        batch = collate([scene])
        encoded = None
        road_map, ids = observation.road_map, scene.map_piece_ids
        if road_map is not None and ids is not None and scene.map_valid.any():
            encoded = self.maps.encode(road_map, ids, scene.origin_xy, scene.origin_heading)
        if self._plan is None:
            self._plan = self.model.inference_plan()
        output = self.model.infer(batch, encoded, self._plan)
        now_xy = observation.history.xy[scene.agent_rows, -1]
        config, head_xy, head_probs = self.config, None, None
        separate = config.separation is not None and output.joint_choice is not None
        if config.marginal_forecast or config.mode_source == "marginal" or separate:
            head_probs = _softmax(output.marginal_logits[0])
            local = torch.stack([output.joint_xy[0], output.marginal_xy[0]]).numpy()
            xy = agents_to_global(local, now_xy, scene)
            joint_xy, head_xy = xy[0], xy[1]
            if config.mode_source == "marginal":
                probs = head_probs.mean(0)
                return (
                    scene.agent_rows,
                    head_xy,
                    probs / probs.sum(),
                    head_probs,
                    head_xy,
                    head_probs,
                )
            if separate:
                choice = output.joint_choice[0]
                joint_xy = _separated(observation, scene.agent_rows, xy, choice, config.separation)
        else:  # the marginal head's modes are not read: only the joint ones to the global frame
            joint_xy = agents_to_global(output.joint_xy[0].numpy(), now_xy, scene)
        probs, marginal_probs = (
            _softmax(output.scene_logits[0]),
            _softmax(output.joint_agent_logits[0]),
        )
        return scene.agent_rows, joint_xy, probs / probs.sum(), marginal_probs, head_xy, head_probs

    def predict(self, observation: Observation) -> Prediction:
        history = observation.history
        rows = predicted_rows(observation, self.config.include_ego)
        dt_s = self.features.dt_s
        times = future_times(self.config.horizon_s or self.features.future_steps * dt_s, dt_s)
        if not history.valid[:, -1].any():  # nobody seen now: nothing to say
            return _nothing_seen(rows, times, self.num_modes, self.config.marginal_forecast)
        with torch_threads(self.config.torch_threads):
            seen_rows, xy_seen, probs, marginal_seen, head_xy, head_probs = self._run(observation)
        position = np.full(history.num_agents, -1, dtype=np.int64)
        position[seen_rows] = np.arange(seen_rows.size)
        wanted = position[rows]
        seen, seen_now = wanted >= 0, history.valid[rows, -1]
        start_xy, start_heading = history.xy[rows[seen], -1], history.heading[rows[seen], -1]

        def probs_of(values: np.ndarray) -> NDArrayF64:
            """Seen agents' probabilities [A', K] -> [N, K] (uniform for the others)."""
            result = np.full((rows.size, values.shape[1]), 1.0 / values.shape[1])
            result[seen] = values[wanted[seen]]
            return result

        num_modes = xy_seen.shape[1]
        marginal = self.config.marginal_forecast
        both = np.concatenate([xy_seen, head_xy], axis=1) if marginal else xy_seen
        picked = both[wanted[seen]]  # (N', 2K or K, H', 2)
        speed = vector_length(history.velocity[rows[seen], -1])
        held = (
            (0, 0.0) if self.config.hold_still_m is None else (num_modes, self.config.hold_still_m)
        )
        hold = (speed, *held, self.config.hold_still_mps)
        if self.config.extend_along_lanes and times.size > picked.shape[2]:
            picked = hold_and_extend(picked, start_xy, picked.shape[2], *hold)
            along = along_lanes(observation, picked, start_xy, history.types[rows[seen]])
            picked_xy = extend_horizon(picked, start_xy, times.size, along)
        else:
            picked_xy = hold_and_extend(picked, start_xy, times.size, *hold)
        bounded = heading_bounded(history.types[rows[seen]])
        picked_heading = headings_along(picked_xy, start_xy, start_heading, bounded)
        if seen.all():
            both_xy, both_heading = picked_xy, picked_heading
        else:
            picked_modes = picked_xy, picked_heading
            both_xy, both_heading = all_agents(history, rows, seen, seen_now, picked_modes, times)
        xy, marginal_xy = both_xy[:, :num_modes], both_xy[:, num_modes:]
        heading, marginal_heading = both_heading[:, :num_modes], both_heading[:, num_modes:]
        marginal_probs = probs_of(marginal_seen)
        # The horizon extension is straight: the model's steps and the end point bound it.
        ends = picked_xy[:, :num_modes, picked.shape[2] :][:, :, -1:]
        sampled = np.concatenate([picked_xy[:, :num_modes, : picked.shape[2]], ends], 2)
        merged = self._merged_modes(observation, sampled, probs, times[-1])
        if merged is not None:  # the kept modes [K'], and [K, K'] one-hot: mode -> kept mode
            kept, into = merged
            xy, heading = xy[:, kept], heading[:, kept]
            probs, marginal_probs = probs @ into, marginal_probs @ into
        if self.config.drift_mps is not None:
            drifting, followed = drifting_agents(
                observation,
                rows,
                xy,
                probs,
                times,
                self.config.drift_mps,
                self._drift_reach_m(observation),
                among=seen,
                followed_below=DRIFT_MODE_PROB,
            )
            if drifting.any():
                modes = (xy, heading, probs, marginal_probs)
                least = float(followed[drifting].min())
                xy, heading, probs, marginal_probs = with_drift_mode(
                    observation, rows, drifting, least, modes, times
                )
        return Prediction(
            agent_rows=rows,
            times_s=times,
            xy=xy,
            heading=heading,
            probs=probs,
            marginal_probs=marginal_probs,
            valid=np.repeat(seen_now[:, None], times.size, axis=1),
            marginal=MarginalForecast(marginal_xy, marginal_heading, probs_of(head_probs))
            if marginal
            else None,
        )

    def _drift_reach_m(self, observation: Observation) -> float:
        """How far from the ego a drifting agent matters (m): `merge_reach_m` plus the ego's
        speed x `DRIFT_FOLLOWED_S` (infinite when the ego is not seen now)."""
        history, ego = observation.history, observation.ego_index
        if not (0 <= ego < history.num_agents and history.valid[ego, -1]):
            return np.inf
        speed = float(np.linalg.norm(history.velocity[ego, -1]))
        return self.config.merge_reach_m + speed * DRIFT_FOLLOWED_S

    def _merged_modes(
        self, observation: Observation, joint_xy: NDArrayF64, probs: NDArrayF64, horizon_s: float
    ) -> tuple[NDArrayInt, NDArrayF64] | None:
        """The kept scene modes int64[K'] and float64[K, K'] one-hot, mode k -> the kept mode
        it merges into (`LearnedConfig.merge_modes_m`, over the model's agents the ego can
        meet), or None when nothing merges or merging is off (or the ego is not seen now).
        joint_xy: float64[N', K, S, 2], global, the model's steps then, when the horizon is
        extended, its end: the extension runs straight between the last two, so a gap in x or
        y is largest at one of them, and the distance to the ego is taken to that segment."""
        config, history, ego = self.config, observation.history, observation.ego_index
        if config.merge_modes_m is None or config.mode_source != "joint":
            return None
        if not (0 <= ego < history.num_agents and history.valid[ego, -1]):
            return None
        reach = config.merge_reach_m + float(np.linalg.norm(history.velocity[ego, -1])) * horizon_s
        closest = _closest_squared(joint_xy, history.xy[ego, -1])
        target = merge_modes(joint_xy[closest < reach * reach], probs, config.merge_modes_m)
        if np.array_equal(target, np.arange(probs.shape[0])):
            return None
        kept = np.flatnonzero(target == np.arange(probs.shape[0]))
        return kept, (target[:, None] == kept[None, :]).astype(np.float64)


#: `drifting_agents`: the types whose sideways motion across their lane is carried on.
DRIFT_TYPES = (
    AgentType.VEHICLE,
    AgentType.LARGE_VEHICLE,
    AgentType.CYCLIST,
    AgentType.MOTORCYCLIST,
)
#: `with_drift_mode`: the probability of the joint modes that follow a drifting agent, the
#: added one included: the model's modes and the observed kinematics as two equally trusted
#: experts (an added mode of 1/K = 0.17 left the planner a plan colliding in it:
#: town:standard cut_in-007, hard 0.85 against 0.70 for stopping).
DRIFT_MODE_PROB = 0.5
#: `drifting_agents`: a joint mode within this of the constant-velocity position at
#: `DRIFT_FOLLOWED_S` follows the drift (m, s).
DRIFT_FOLLOWED_M, DRIFT_FOLLOWED_S = 1.0, 2.0


def lateral_speed(observation: Observation, rows: NDArrayInt) -> NDArrayF64:
    """float64[N]: the velocity now of agents `rows` [N] across the lane that best matches
    their pose (m/s, left positive), or across their heading where there is no map."""
    history = observation.history
    heading = history.heading[rows, -1]
    road_map = observation.road_map
    if road_map is not None and rows.size and road_map.lanes:
        _, _, heading = best_lanes_with_headings(road_map.index, history.xy[rows, -1], heading)
    velocity = history.velocity[rows, -1]
    return np.cos(heading) * velocity[:, 1] - np.sin(heading) * velocity[:, 0]


def drifting_agents(
    observation: Observation,
    rows: NDArrayInt,
    xy: NDArrayF64,
    probs: NDArrayF64,
    times_s: NDArrayF64,
    min_lateral_mps: float,
    reach_m: float = np.inf,
    among: NDArrayBool | None = None,
    followed_below: float | None = None,
) -> tuple[NDArrayBool, NDArrayF64]:
    """(drifting bool[N], followed float64[N]): agent rows[n] ([N]) is a `DRIFT_TYPES` agent
    seen now within `reach_m` of the ego (when it is seen) moving across its lane at least
    `min_lateral_mps` (`lateral_speed`), and the
    probability (of `probs` [K]) of its modes xy [N, K, H, 2] (global, at `times_s` [H])
    within `DRIFT_FOLLOWED_M` of its constant-velocity position at `DRIFT_FOLLOWED_S`.
    Only agents in `among` (bool[N]; None: all) whose followed probability is below
    `followed_below` (None: any) can be drifting: the others' lanes are not matched."""
    history = observation.history
    velocity = history.velocity[rows, -1]
    drifting = (
        history.valid[rows, -1]
        & types_in(history.types[rows], DRIFT_TYPES)
        & (vector_length(velocity) >= min_lateral_mps)
    )
    ego = observation.ego_index
    if 0 <= ego < history.num_agents and history.valid[ego, -1]:
        drifting &= vector_length(history.xy[rows, -1] - history.xy[ego, -1]) <= reach_m
    step = int(np.argmin(np.abs(times_s - DRIFT_FOLLOWED_S)))
    kinematic = history.xy[rows, -1] + velocity * times_s[step]  # [N, 2]
    gap = vector_length(xy[:, :, step] - kinematic[:, None])  # [N, K]
    followed = (gap <= DRIFT_FOLLOWED_M) @ probs
    if among is not None:
        drifting &= among
    if followed_below is not None:
        drifting &= followed < followed_below
    found = np.flatnonzero(drifting)
    if found.size:
        drifting[found] = np.abs(lateral_speed(observation, rows[found])) >= min_lateral_mps
    return drifting, followed


def with_drift_mode(
    observation: Observation,
    rows: NDArrayInt,
    drifting: NDArrayBool,
    followed: float,
    modes: tuple[NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64],
    times_s: NDArrayF64,
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64]:
    """The modes (xy [N, K, H, 2], heading [N, K, H], probs [K], marginal_probs [N, K]) and
    one more: the most probable mode with the `drifting` [N] agents at constant velocity and
    heading. Its share p of the scene (and of each agent; the others scaled by 1 - p) brings
    the modes that follow the drift, of probability `followed` < `DRIFT_MODE_PROB` before,
    to `DRIFT_MODE_PROB`: p + (1 - p) * followed = DRIFT_MODE_PROB."""
    xy, heading, probs, marginal_probs = modes
    history = observation.history
    share = (DRIFT_MODE_PROB - followed) / (1.0 - followed)
    top = int(np.argmax(probs))
    extra_xy, extra_heading = xy[:, top].copy(), heading[:, top].copy()  # [N, H, 2], [N, H]
    moved = rows[drifting]
    extra_xy[drifting] = (
        history.xy[moved, -1, None] + history.velocity[moved, -1, None] * times_s[None, :, None]
    )
    extra_heading[drifting] = history.heading[moved, -1, None]
    extra_marginal = np.full((rows.size, 1), share)
    return (
        np.concatenate([xy, extra_xy[:, None]], 1),
        np.concatenate([heading, extra_heading[:, None]], 1),
        np.r_[(1.0 - share) * probs, share],
        np.concatenate([(1.0 - share) * marginal_probs, extra_marginal], 1),
    )


def _closest_squared(xy: NDArrayF64, point: NDArrayF64) -> NDArrayF64:
    """float64[N]: the squared distance from `point` [2] to the polylines xy [N, K, S, 2]
    (their points, and the whole of each last segment). Compiled where the switch is on
    (the same operations)."""
    if compiled.enabled() and xy.shape[1] * xy.shape[2] > 0:
        result = np.empty(xy.shape[0])
        point = np.ascontiguousarray(point, np.float64)
        _closest_squared_kernel(np.ascontiguousarray(xy, np.float64), point, result)
        return result
    offset = xy - point
    squared = offset[..., 0] * offset[..., 0] + offset[..., 1] * offset[..., 1]  # [N, K, S]
    if xy.shape[2] > 1:
        start, direction = offset[:, :, -2], xy[:, :, -1] - xy[:, :, -2]  # [N, K, 2]
        length = (direction * direction).sum(-1)
        along = -(start * direction).sum(-1) / np.maximum(length, 1e-12)
        nearest = start + np.clip(along, 0.0, 1.0)[..., None] * direction
        squared = np.concatenate([squared, (nearest * nearest).sum(-1)[..., None]], -1)
    return squared.reshape(len(xy), -1).min(-1)


@compiled.njit
def _closest_squared_kernel(
    xy: NDArrayF64, point: NDArrayF64, result: NDArrayF64
) -> None:  # pragma: no cover - compiled
    """`_closest_squared`'s numpy operations into result [N]."""
    steps = xy.shape[2]
    for n in range(xy.shape[0]):
        least = np.inf
        for k in range(xy.shape[1]):
            for t in range(steps):
                x, y = xy[n, k, t, 0] - point[0], xy[n, k, t, 1] - point[1]
                least = min(least, x * x + y * y)
            if steps > 1:
                start_x, start_y = (
                    xy[n, k, steps - 2, 0] - point[0],
                    xy[n, k, steps - 2, 1] - point[1],
                )
                dx = xy[n, k, steps - 1, 0] - xy[n, k, steps - 2, 0]
                dy = xy[n, k, steps - 1, 1] - xy[n, k, steps - 2, 1]
                along = -(start_x * dx + start_y * dy) / max(dx * dx + dy * dy, 1e-12)
                along = min(max(along, 0.0), 1.0)
                x, y = start_x + along * dx, start_y + along * dy
                least = min(least, x * x + y * y)
        result[n] = least


def _nothing_seen(
    rows: np.ndarray, times: NDArrayF64, num_modes: int, marginal: bool
) -> Prediction:
    """An all-invalid prediction (uniform probabilities) for `rows` (`marginal`: with a
    marginal forecast)."""
    return Prediction(
        agent_rows=rows,
        times_s=times,
        xy=np.zeros((rows.size, num_modes, times.size, 2)),
        heading=np.zeros((rows.size, num_modes, times.size)),
        probs=np.full(num_modes, 1.0 / num_modes),
        marginal_probs=np.full((rows.size, num_modes), 1.0 / num_modes),
        valid=np.zeros((rows.size, times.size), bool),
        marginal=MarginalForecast(
            np.zeros((rows.size, num_modes, times.size, 2)),
            np.zeros((rows.size, num_modes, times.size)),
            np.full((rows.size, num_modes), 1.0 / num_modes),
        )
        if marginal
        else None,
    )


#: `learned_near`'s `LearnedConfig.hold_still_m`: a car pulling away from rest at 1 m/s^2
#: moves 4.5 m in the model's 3 s; a stopped one's jitter stays well under 1 m.
NEAR_HOLD_STILL_M = 1.0
#: The registry's `learned`: `LearnedConfig.hold_still_m` and `hold_still_mps`. Against none,
#: on real data (AV2 + WOMD + ScenarioNet, 6515 agent-windows) jointMinFDE6 1.385 -> 1.304
#: and box overlap 0.124 -> 0.103; AV2 alone 1.071 -> 0.983; held-out town 0.966 -> 0.968
#: (1.0 m at 0.5 m/s: 1.308 / 0.986 / 0.974; 2.0 m at 0.2 m/s: 1.301 / 0.982 / 0.968).
LEARNED_HOLD_STILL_M, LEARNED_HOLD_STILL_MPS = 1.5, 0.2
#: Agents the model predicts for a planner (`learned_near`): the cap of the default
#: checkpoint's training windows (`default.toml`: max_agents); the farther ones are predicted
#: at constant velocity.
NEAR_AGENTS = 32
#: `learned_near`'s `LearnedConfig.drift_mps`: sideways across the lane at 0.5 m/s, a lane
#: change has begun (town:standard cut_in-007: 0.3 -> 0.7 m/s from 3.2 s).
NEAR_DRIFT_MPS = 0.5
#: `learned_near`'s `LearnedConfig.merge_modes_m`: scene modes within 5 cm of each other for
#: every agent the ego can meet are one future to a planner (on 233 cycles of the town
#: subset, 20 m + the ego's 8 s reach: 5.5 distinct modes of 6 on average, 1 in 6 % of them).
NEAR_MERGE_MODES_M = 0.05


def learned_from_settings(
    settings: object,
    max_model_agents: int | None = None,
    marginal_forecast: bool = True,
    hold_still_m: float | None = LEARNED_HOLD_STILL_M,
    torch_threads: int | None = None,
    separation: SeparationConfig | None = DEFAULT_SEPARATION,
    merge_modes_m: float | None = None,
    hold_still_mps: float = LEARNED_HOLD_STILL_MPS,
    drift_mps: float | None = None,
) -> LearnedPredictor:
    """Factory for the predictor registry: a `PredictorSettings` (horizon_s, dt_s,
    num_modes) -> the default checkpoint (`max_model_agents`, `marginal_forecast`,
    `hold_still_m`, `torch_threads`, `separation`, `merge_modes_m`, `hold_still_mps`,
    `drift_mps`:
    `LearnedConfig`; still agents held by default, unlike `LearnedConfig`'s defaults);
    `UrbandriveError` if its step or modes differ."""
    config = LearnedConfig(
        horizon_s=getattr(settings, "horizon_s", None),
        max_model_agents=max_model_agents,
        marginal_forecast=marginal_forecast,
        hold_still_m=hold_still_m,
        hold_still_mps=hold_still_mps,
        torch_threads=torch_threads,
        separation=separation,
        merge_modes_m=merge_modes_m,
        drift_mps=drift_mps,
    )
    predictor = LearnedPredictor(config=config)
    dt_s, modes = getattr(settings, "dt_s", None), getattr(settings, "num_modes", None)
    if dt_s is not None and not np.isclose(dt_s, predictor.features.dt_s):
        raise UrbandriveError(
            f"the learned model predicts steps of {predictor.features.dt_s} s, not {dt_s} s"
        )
    if modes not in (None, predictor.num_modes):
        raise UrbandriveError(f"the learned model has {predictor.num_modes} modes, not {modes}")
    return predictor


def learned_near_from_settings(settings: object) -> LearnedPredictor:
    """`learned_from_settings` for a planner's closed loop: the model on the `NEAR_AGENTS`
    agents nearest the ego (the far ones at constant velocity), no marginal forecast, the
    still agents' creeping modes held (`NEAR_HOLD_STILL_M`), on one torch thread, no scene
    mode separation (its cost per cycle is not measured in closed loop yet), scene modes that
    agree near the ego merged (`NEAR_MERGE_MODES_M`), a constant-velocity mode for agents
    drifting across their lane that no mode follows (`NEAR_DRIFT_MPS`); modes continued
    straight on past the model's horizon (not `extend_along_lanes`: see there)."""
    return learned_from_settings(
        settings,
        NEAR_AGENTS,
        marginal_forecast=False,
        hold_still_m=NEAR_HOLD_STILL_M,
        torch_threads=1,
        separation=None,
        merge_modes_m=NEAR_MERGE_MODES_M,
        hold_still_mps=0.5,
        drift_mps=NEAR_DRIFT_MPS,
    )
