"""Open-loop evaluation of a `Predictor` over sliding windows of logged scenarios.

At each window the predictor sees `history_s` of the past (the current step included) and is
scored on the next `future_s` with `urbandrive.metrics.forecasting`. Scored agents, by
default: every agent observed at the current step (and at `min_valid_history_steps` history
steps) whose future is valid at the last step and at `min_valid_future_fraction` of the
steps, of every type except STATIC objects, and never the ego (each switchable in
`EvaluationConfig`). Invalid future steps are left out of ADE; FDE is at the last step.

Per-agent metrics score the marginal forecast, joint metrics the joint (scene) modes, as
in the Waymo / Argoverse challenges: the marginal forecast is `Prediction.marginal` when the
predictor gives one, else the joint modes with `Prediction.marginal_probs`.

Reported (means over scored agents unless said otherwise; k = `top_k`, default 6):

- minADE{k}, minFDE{k}, MR{k} (min FDE > 2 m), brierMinFDE{k}: over each agent's k most
  probable marginal modes; minADE1, minFDE1: its most probable mode only.
- jointMinADE{k}, jointMinFDE{k}: over the k most probable scene modes, each world's error
  the mean over the window's scored agents; mean over windows (per type: over the windows
  with agents of that type, the world mean over those agents).
  jointMinADE{k}_marginal, jointMinFDE{k}_marginal: the same over the marginal modes
  combined by rank (`MarginalForecast.combined_by_rank`; the joint figures without one).
- overlap_rate: fraction of scored agents whose oriented box (predicted centre and heading,
  the track's length and width) overlaps, with a positive area (touching is not
  overlapping), the box of another predicted agent (seen now) at some step of the most
  probable scene mode: WOMD's box test applied between the agents of one predicted world (a
  scene-consistency figure; the ego is not predicted by default and then not counted).
  overlap_rate_marginal: the same in the world of every agent's most probable marginal mode
  (= overlap_rate without a marginal forecast).
- overlap_rate_centre_1m, overlap_rate_centre_1m_marginal: the same with centres closer than
  `overlap_radius_m` instead of boxes (AV2's world collisions at 1.0 m; our overlap_rate
  before boxes).
- overlap_rate_womd: WOMD's own overlap rate (waymo-open-dataset `ComputeOverlapRate`): the
  agent's box in the most probable scene mode overlaps (positive area) the *true* box of
  any other agent seen now (the ego included) at a step where that one is valid. Unlike
  WOMD: the predicted heading (WOMD: from consecutive predicted centres), one size per track
  (WOMD: the box of that step), per agent (WOMD's interaction challenge: per joint pair).
- overlap_rate_truth: the same test for the agent's true future (its valid steps): how
  often the real futures overlap, a floor for the figures above.
- nll: -log p of the minimum-FDE mode among the k kept (marginal probabilities as given);
  ece: expected calibration error of the top-mode confidence (`ece_bins` bins), pooled.

A predictor with K < k modes is scored as a K-mode prediction; the output says so
(`num_modes`, `modes_scored`, `note`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.observation import Observation, observe
from urbandrive.core.scenario import Scenario
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.datasets.eth_ucy import LOADER
from urbandrive.metrics.forecasting import (
    expected_calibration_error,
    joint_metrics,
    marginal_metrics,
    mode_probability_nll,
    overlaps_with_others,
    top_k_modes,
    world_overlaps,
)
from urbandrive.prediction.interfaces import MarginalForecast, Prediction, Predictor

#: `Observation.ego_index` of scenarios without an ego (e.g. ETH/UCY): outside every row.
NO_EGO_INDEX = -1


@dataclass(frozen=True, slots=True)
class EvaluationConfig:
    """Windows and scoring rules (see the module docstring). Durations in seconds; the step
    counts are round(duration / scenario dt); the history includes the current step."""

    history_s: float = 2.0
    future_s: float = 3.0
    stride_s: float = 1.0
    top_k: int = 6
    miss_threshold_m: float = 2.0
    overlap_radius_m: float = 1.0
    min_valid_history_steps: int = 1
    min_valid_future_fraction: float = 0.5
    include_ego: bool = False
    include_static: bool = False
    ece_bins: int = 10

    def __post_init__(self) -> None:
        if min(self.history_s, self.future_s, self.stride_s) <= 0 or self.top_k < 1:
            raise ValueError(f"durations must be > 0 and top_k >= 1, got {self}")
        if not 0.0 <= self.min_valid_future_fraction <= 1.0 or self.min_valid_history_steps < 1:
            raise ValueError(f"bad validity requirements in {self}")

    def steps(self, dt_s: float) -> tuple[int, int, int]:
        """(history steps incl. now, future steps, stride steps) at time step dt_s."""
        history, future, stride = (
            max(1, round(duration / dt_s))
            for duration in (self.history_s, self.future_s, self.stride_s)
        )
        if self.min_valid_history_steps > history:
            raise ValueError(f"min_valid_history_steps exceeds the {history} history steps")
        return history, future, stride


#: The published ETH/UCY protocol: observe 8 steps (3.2 s), predict 12 (4.8 s) at 2.5 Hz,
#: every start frame, pedestrians present in all 20 frames, best of 20.
ETH_UCY_PROTOCOL = EvaluationConfig(
    history_s=3.2,
    future_s=4.8,
    stride_s=0.4,
    top_k=20,
    min_valid_history_steps=8,
    min_valid_future_fraction=1.0,
)


def window_steps(scenario: Scenario, config: EvaluationConfig) -> NDArrayInt:
    """int64[W]: the current step of every window (full history and future inside the log)."""
    history, future, stride = config.steps(scenario.dt_s)
    return np.arange(history - 1, scenario.num_steps - future, stride, dtype=np.int64)


def scored_agents(scenario: Scenario, step: int, config: EvaluationConfig) -> NDArrayBool:
    """bool[A]: the agents scored at the window whose current step is `step`."""
    history, future, _ = config.steps(scenario.dt_s)
    valid = scenario.tracks.valid
    past = valid[:, step - history + 1 : step + 1]
    ahead = valid[:, step + 1 : step + future + 1]
    scored = valid[:, step] & (past.sum(1) >= config.min_valid_history_steps)
    scored &= ahead[:, -1] & (ahead.mean(1) >= config.min_valid_future_fraction - 1e-9)
    if not config.include_static:
        scored &= scenario.tracks.types != AgentType.STATIC
    if scenario.ego_index is not None and not config.include_ego:
        scored[scenario.ego_index] = False
    return scored


def observation_at(scenario: Scenario, step: int, history_steps: int) -> Observation:
    """`observe`, also for scenarios without an ego (ego_index = NO_EGO_INDEX then)."""
    if scenario.ego_index is not None:
        return observe(scenario, step, history_steps)
    start = max(0, step - history_steps + 1)
    return Observation(
        scenario_id=scenario.id,
        step=step,
        time_s=float(scenario.times_s[step]),
        dt_s=scenario.dt_s,
        history=scenario.tracks.slice_time(start, step + 1),
        ego_index=NO_EGO_INDEX,
        road_map=scenario.road_map,
        traffic_lights=None
        if scenario.traffic_lights is None
        else scenario.traffic_lights.at(step),
        route=scenario.route,
        goal=scenario.goal,
    )


@dataclass(frozen=True, slots=True)
class WindowScores:
    """One window's per-agent scores (n scored agents) and per-type joint scores.

    types: int8[n]; per_agent: metric name -> float64[n]; kept_probs: float64[n, k'] and
    best_kept: int64[n] (for ECE); joint: type name or "all" -> (jointMinADE, jointMinFDE);
    joint_marginal: the same for the marginal modes combined by rank.
    """

    types: NDArrayInt
    per_agent: dict[str, NDArrayF64]
    kept_probs: NDArrayF64
    best_kept: NDArrayInt
    joint: dict[str, tuple[float, float]]
    joint_marginal: dict[str, tuple[float, float]]


def _prediction_positions(
    scenario: Scenario, prediction: Prediction, scored: NDArrayBool, future: int, where: str
) -> NDArrayInt:
    """int64[n]: rows of `prediction` of the scored agents; `DataError` if any is missing or
    the predicted steps do not match the scenario's (dt, 2 dt, ..., >= future steps)."""
    expected = scenario.dt_s * np.arange(1, future + 1)
    times = prediction.times_s[:future]
    if times.size < future or not np.allclose(times, expected, atol=1e-6):
        raise DataError(
            f"{where}: predicted times {prediction.times_s[:3]}... do not cover {future} steps "
            f"of {scenario.dt_s} s; build the predictor with that horizon and step"
        )
    position = np.full(scenario.tracks.num_agents, -1, dtype=np.int64)
    position[prediction.agent_rows] = np.arange(prediction.agent_rows.size)
    wanted = position[scored]
    predicted = wanted >= 0
    predicted[predicted] &= prediction.valid[wanted[predicted], :future].all(1)
    if not predicted.all():
        missing = scenario.tracks.ids[np.flatnonzero(scored)[np.argmin(predicted)]]
        raise DataError(f"{where}: agent {str(missing)!r} is scored but has no valid prediction")
    return wanted


def _marginal_scores(
    pred_xy: NDArrayF64,
    probs: NDArrayF64,
    gt_xy: NDArrayF64,
    gt_valid: NDArrayBool,
    config: EvaluationConfig,
) -> tuple[dict[str, NDArrayF64], NDArrayF64, NDArrayInt]:
    """Per-agent marginal metrics, the kept probabilities [n, k'] and the best kept mode [n]."""
    k = min(config.top_k, probs.shape[-1])
    top = marginal_metrics(pred_xy, probs, gt_xy, gt_valid, k, config.miss_threshold_m)
    first = marginal_metrics(pred_xy, probs, gt_xy, gt_valid, 1, config.miss_threshold_m)
    kept = top_k_modes(probs, k)
    best_kept = np.argmax(kept == top.best_mode[:, None], axis=1)
    suffix = config.top_k
    scores = {
        f"minADE{suffix}": top.min_ade_m,
        f"minFDE{suffix}": top.min_fde_m,
        f"MR{suffix}": top.missed.astype(np.float64),
        "minADE1": first.min_ade_m,
        "minFDE1": first.min_fde_m,
        f"brierMinFDE{suffix}": top.brier_min_fde_m,
        "nll": mode_probability_nll(probs, top.best_mode),
    }
    return scores, np.take_along_axis(probs, kept, 1), best_kept.astype(np.int64)


def _joint_scores(
    pred_xy: NDArrayF64,
    probs: NDArrayF64,
    gt_xy: NDArrayF64,
    gt_valid: NDArrayBool,
    types: NDArrayInt,
    config: EvaluationConfig,
) -> dict[str, tuple[float, float]]:
    """(jointMinADE, jointMinFDE) over the top-k scene modes, for all agents and per type."""
    kept = top_k_modes(probs, min(config.top_k, probs.shape[0]))
    xy, kept_probs = pred_xy[:, kept], probs[kept]
    groups = {"all": np.ones(types.shape, dtype=bool)}
    groups |= {AgentType(t).name: types == t for t in np.unique(types).tolist()}
    result = {}
    for name, mask in groups.items():
        joint = joint_metrics(xy, kept_probs, gt_xy, gt_valid, mask, config.miss_threshold_m)
        result[name] = (float(joint.min_ade_m), float(joint.min_fde_m))
    return result


def _ranked_top_world(marginal: MarginalForecast) -> tuple[NDArrayF64, NDArrayF64]:
    """xy float64[N, H, 2] and heading [N, H] of the most probable world of the marginal modes
    combined by rank (`MarginalForecast.combined_by_rank`: every agent's top mode)."""
    ranked_xy, ranked_probs = marginal.combined_by_rank()
    rank = int(np.argmax(ranked_probs))
    mode = np.argsort(-marginal.probs, axis=1, kind="stable")[:, rank]
    rows = np.arange(mode.size)
    return ranked_xy[:, rank], marginal.heading[rows, mode]


def _overlaps(
    xy: NDArrayF64,
    heading: NDArrayF64,
    size_m: NDArrayF64,
    seen_now: NDArrayBool,
    positions: NDArrayInt,
    radius_m: float,
) -> tuple[NDArrayF64, NDArrayF64]:
    """float64[n] twice: 1 where a scored agent's box overlaps (positive area) another
    predicted agent's box (seen now) at some step of one world, and 1 where its centre comes
    within `radius_m` of another's. xy: [N, H, 2], heading: [N, H], the world's futures;
    size_m: [N, 2]; seen_now: bool[N]; positions: int64[n], rows of the scored agents."""
    seen = np.flatnonzero(seen_now)
    world = xy[seen][:, None]
    boxes = world_overlaps(world, heading=heading[seen][:, None], size_m=size_m[seen])[:, 0]
    centres = world_overlaps(world, radius_m=radius_m)[:, 0]
    result = []
    for overlaps in (boxes, centres):
        lookup = np.zeros(xy.shape[0], dtype=bool)
        lookup[seen] = overlaps
        result.append(lookup[positions].astype(np.float64))
    return result[0], result[1]


def _overlaps_with_truth(
    scenario: Scenario,
    step: int,
    future: int,
    rows: NDArrayInt,
    xy: NDArrayF64,
    heading: NDArrayF64,
    valid: NDArrayBool | None = None,
) -> NDArrayF64:
    """float64[n]: 1 where the box of scored agent rows[i] (xy: [n, H, 2], heading: [n, H],
    at its `valid` steps: bool[n, H], default all) overlaps the true box of another agent of
    the scenario seen at `step`, at a future step where that agent is valid (WOMD's test)."""
    tracks = scenario.tracks
    ahead = slice(step + 1, step + future + 1)
    others = np.flatnonzero(tracks.valid[:, step])
    overlaps = overlaps_with_others(
        xy,
        heading,
        tracks.size_m[rows],
        tracks.xy[others, ahead],
        tracks.heading[others, ahead],
        tracks.size_m[others],
        tracks.valid[others, ahead],
        rows[:, None] == others[None, :],
        valid,
    )
    return overlaps.astype(np.float64)


def _overlap_scores(
    scenario: Scenario,
    step: int,
    prediction: Prediction,
    positions: NDArrayInt,
    future: int,
    config: EvaluationConfig,
) -> dict[str, NDArrayF64]:
    """The overlap figures of the scored agents (rows `positions` of `prediction`), float64[n]
    each (see the module docstring)."""
    seen_now, radius = prediction.valid[:, 0], config.overlap_radius_m
    size = scenario.tracks.size_m[prediction.agent_rows]
    world = int(np.argmax(prediction.probs))
    xy, heading = prediction.xy[:, world, :future], prediction.heading[:, world, :future]
    scores = {}
    scores["overlap_rate"], scores["overlap_rate_centre_1m"] = _overlaps(
        xy, heading, size, seen_now, positions, radius
    )
    if prediction.marginal is None:
        scores["overlap_rate_marginal"] = scores["overlap_rate"]
        scores["overlap_rate_centre_1m_marginal"] = scores["overlap_rate_centre_1m"]
    else:
        top_xy, top_heading = _ranked_top_world(prediction.marginal)
        marginal = _overlaps(
            top_xy[:, :future], top_heading[:, :future], size, seen_now, positions, radius
        )
        scores["overlap_rate_marginal"], scores["overlap_rate_centre_1m_marginal"] = marginal
    rows = prediction.agent_rows[positions]
    scores["overlap_rate_womd"] = _overlaps_with_truth(
        scenario, step, future, rows, xy[positions], heading[positions]
    )
    tracks, ahead = scenario.tracks, slice(step + 1, step + future + 1)
    scores["overlap_rate_truth"] = _overlaps_with_truth(
        scenario,
        step,
        future,
        rows,
        tracks.xy[rows, ahead],
        tracks.heading[rows, ahead],
        tracks.valid[rows, ahead],
    )
    return scores


def score_window(
    scenario: Scenario, step: int, prediction: Prediction, config: EvaluationConfig
) -> WindowScores | None:
    """The scores of one window (None when nobody is scored there)."""
    scored = scored_agents(scenario, step, config)
    if not scored.any():
        return None
    _, future, _ = config.steps(scenario.dt_s)
    where = f"scenario {scenario.id!r} step {step}"
    positions = _prediction_positions(scenario, prediction, scored, future, where)
    pred_xy = prediction.xy[positions, :, :future]
    gt_xy = scenario.tracks.xy[scored, step + 1 : step + future + 1]
    gt_valid = scenario.tracks.valid[scored, step + 1 : step + future + 1]
    types = scenario.tracks.types[scored]
    marginal = prediction.marginal
    per_agent, kept_probs, best_kept = (
        _marginal_scores(pred_xy, prediction.marginal_probs[positions], gt_xy, gt_valid, config)
        if marginal is None
        else _marginal_scores(
            marginal.xy[positions, :, :future], marginal.probs[positions], gt_xy, gt_valid, config
        )
    )
    joint = _joint_scores(pred_xy, prediction.probs, gt_xy, gt_valid, types, config)
    per_agent |= _overlap_scores(scenario, step, prediction, positions, future, config)
    if marginal is None:
        joint_marginal = joint
    else:
        ranked_xy, ranked_probs = marginal.combined_by_rank()
        joint_marginal = _joint_scores(
            ranked_xy[positions, :, :future], ranked_probs, gt_xy, gt_valid, types, config
        )
    return WindowScores(types, per_agent, kept_probs, best_kept, joint, joint_marginal)


def evaluate_predictor(
    scenarios: Iterable[Scenario], predictor: Predictor, config: EvaluationConfig | None = None
) -> dict[str, Any]:
    """Score `predictor` over sliding windows of every scenario (see the module docstring).

    Returns {"aggregate": metrics, "by_type": {type name: metrics}, "config": ...}; every
    metrics dict has the metric names above plus "count" (scored agent-windows).
    """
    config = config or EvaluationConfig()
    windows: list[WindowScores] = []
    num_modes, dt_values, num_scenarios = 0, set(), 0
    for scenario in scenarios:
        num_scenarios += 1
        dt_values.add(scenario.dt_s)
        history, _, _ = config.steps(scenario.dt_s)
        for step in window_steps(scenario, config).tolist():
            prediction = predictor.predict(observation_at(scenario, step, history))
            prediction.validate(f"{predictor.name} on scenario {scenario.id!r} step {step}")
            num_modes = prediction.num_modes
            scores = score_window(scenario, step, prediction, config)
            if scores is not None:
                windows.append(scores)
    summary = summarize_windows(windows, config)
    modes_scored = min(num_modes, config.top_k)
    summary["config"] = {
        **dataclasses.asdict(config),
        "predictor": predictor.name,
        "num_modes": num_modes,
        "modes_scored": modes_scored,
        "num_scenarios": num_scenarios,
        "dt_s": sorted(dt_values),
        "note": (
            f"{predictor.name} predicts {num_modes} mode(s): the *{config.top_k} metrics are "
            f"over its {modes_scored} most probable mode(s)"
        ),
    }
    return summary


def summarize_windows(windows: list[WindowScores], config: EvaluationConfig) -> dict[str, Any]:
    """{"aggregate": ..., "by_type": ...} from the windows' scores (means; NaN -> None)."""
    if not windows:
        return {"aggregate": {"count": 0, "num_windows": 0}, "by_type": {}}
    types = np.concatenate([w.types for w in windows])
    per_agent = {
        name: np.concatenate([w.per_agent[name] for w in windows]) for name in windows[0].per_agent
    }
    kept_probs = np.concatenate([w.kept_probs for w in windows])
    best_kept = np.concatenate([w.best_kept for w in windows])

    def metrics(mask: NDArrayBool, group: str) -> dict[str, Any]:
        joint = np.array([w.joint[group] for w in windows if group in w.joint])
        ranked = np.array([w.joint_marginal[group] for w in windows if group in w.joint])
        result: dict[str, Any] = {"count": int(mask.sum()), "num_windows": int(joint.shape[0])}
        result |= {name: _mean(values[mask]) for name, values in per_agent.items()}
        k = config.top_k
        result[f"jointMinADE{k}"], result[f"jointMinFDE{k}"] = (
            _mean(joint[:, 0]),
            _mean(joint[:, 1]),
        )
        result[f"jointMinADE{k}_marginal"] = _mean(ranked[:, 0])
        result[f"jointMinFDE{k}_marginal"] = _mean(ranked[:, 1])
        result["ece"] = expected_calibration_error(
            kept_probs[mask], best_kept[mask], config.ece_bins
        )
        return result

    by_type = {AgentType(t).name: metrics(types == t, AgentType(t).name) for t in np.unique(types)}
    return {"aggregate": metrics(np.ones(types.shape, dtype=bool), "all"), "by_type": by_type}


def _mean(values: NDArrayF64) -> float | None:
    """The mean of the finite values, None when there are none (JSON has no NaN)."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def evaluate_eth_ucy_fold(
    folder: Path, predictor: Predictor, config: EvaluationConfig = ETH_UCY_PROTOCOL
) -> dict[str, Any]:
    """The published protocol on one ETH/UCY fold split (e.g. `.../eth/test`): every file
    there, windows of observe 8 / predict 12, best of 20 (`ETH_UCY_PROTOCOL`)."""
    files = LOADER.list_scenarios(str(folder))
    return evaluate_predictor((LOADER.load(file) for file in files), predictor, config)
