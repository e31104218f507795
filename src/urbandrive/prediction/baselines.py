"""Simple predictors: the baselines every learned model must beat.

- `cv`: constant velocity, one mode.
- `cv_sampled`: constant velocity with the direction (and optionally the speed) perturbed
  by Gaussian noise, N equally likely samples (Schöller et al. 2020, "OUR-S": 25 degrees).
- `ctra`: constant turn rate and acceleration fitted robustly on the last ~1 s, one mode.
- `lane`: map-aware lane sequences x speed profiles for vehicles, kinematic fans for the
  rest (see `LanePredictor`).

Everything is float64 in the global frame and vectorised over agents (and modes and steps).
An observation whose `ego_index` is outside `[0, A)` has no ego (e.g. ETH/UCY): every agent
is then predicted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.observation import Observation
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.angles import wrap_angle
from urbandrive.maps.frenet import ReferencePath
from urbandrive.maps.index import lanes_within_radius, project_to_lanes
from urbandrive.maps.road_map import RoadMap
from urbandrive.prediction.interfaces import Prediction

#: Below this speed the direction of motion is the box heading, not the velocity's.
_MIN_SPEED_FOR_DIRECTION_MPS = 0.2


def _check_horizon(horizon_s: float, dt_s: float) -> None:
    if not (horizon_s > 0 and dt_s > 0 and horizon_s >= dt_s):
        raise ValueError(f"need 0 < dt_s <= horizon_s, got dt_s={dt_s}, horizon_s={horizon_s}")


def future_times(horizon_s: float, dt_s: float) -> NDArrayF64:
    """float64[H]: dt, 2 dt, ..., horizon (seconds after now), H = round(horizon / dt)."""
    return dt_s * np.arange(1, round(horizon_s / dt_s) + 1, dtype=np.float64)


def predicted_rows(observation: Observation, include_ego: bool) -> NDArrayInt:
    """int64[N]: rows of `observation.history` to predict (all but the ego unless included)."""
    rows = np.arange(observation.history.num_agents, dtype=np.int64)
    if include_ego:
        return rows
    return rows[rows != observation.ego_index]


def motion_direction(history: Tracks, rows: NDArrayInt) -> NDArrayF64:
    """float64[N] radians: direction of the velocity now, the box heading when nearly still."""
    velocity = history.velocity[rows, -1]
    speed = np.linalg.norm(velocity, axis=-1)
    moving = speed >= _MIN_SPEED_FOR_DIRECTION_MPS
    return np.where(moving, np.arctan2(velocity[:, 1], velocity[:, 0]), history.heading[rows, -1])


def _single_mode(
    rows: NDArrayInt, times_s: NDArrayF64, xy: NDArrayF64, heading: NDArrayF64, seen: NDArrayBool
) -> Prediction:
    """A one-mode prediction from xy: float64[N, H, 2] and heading: float64[N, H]."""
    return Prediction(
        agent_rows=rows,
        times_s=times_s,
        xy=xy[:, None],
        heading=heading[:, None],
        probs=np.ones(1),
        marginal_probs=np.ones((rows.size, 1)),
        valid=np.repeat(seen[:, None], times_s.size, axis=1),
    )


# -- constant velocity ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConstantVelocityConfig:
    """horizon_s, dt_s: the predicted steps (seconds); include_ego: predict the ego too."""

    horizon_s: float = 8.0
    dt_s: float = 0.1
    include_ego: bool = False

    def __post_init__(self) -> None:
        _check_horizon(self.horizon_s, self.dt_s)


class ConstantVelocityPredictor:
    """One mode per scene: every agent keeps its current velocity; heading held.

    Agents not observed now are predicted invalid.
    """

    name = "cv"

    def __init__(self, config: ConstantVelocityConfig | None = None) -> None:
        self.config = config or ConstantVelocityConfig()

    def predict(self, observation: Observation) -> Prediction:
        history = observation.history
        rows = predicted_rows(observation, self.config.include_ego)
        times_s = future_times(self.config.horizon_s, self.config.dt_s)
        velocity = history.velocity[rows, -1]
        xy = history.xy[rows, -1][:, None, :] + velocity[:, None, :] * times_s[None, :, None]
        heading = np.repeat(history.heading[rows, -1][:, None], times_s.size, axis=1)
        return _single_mode(rows, times_s, xy, heading, history.valid[rows, -1])


@dataclass(frozen=True, slots=True)
class SampledConstantVelocityConfig:
    """num_samples equally likely modes; each rotates the current velocity by an angle drawn
    from N(0, angle_std_deg) and scales it by max(0, 1 + N(0, speed_std_fraction)).

    The generator is seeded by (seed, observation step): the same observation gives the same
    samples whatever was predicted before.
    """

    horizon_s: float = 8.0
    dt_s: float = 0.1
    num_samples: int = 20
    angle_std_deg: float = 25.0
    speed_std_fraction: float = 0.0
    seed: int = 0
    include_ego: bool = False

    def __post_init__(self) -> None:
        _check_horizon(self.horizon_s, self.dt_s)
        if self.num_samples < 1 or self.angle_std_deg < 0 or self.speed_std_fraction < 0:
            raise ValueError(f"need num_samples >= 1 and non-negative noise, got {self}")


class SampledConstantVelocityPredictor:
    """Constant velocity with angular / speed noise: best-of-N baseline (Schöller et al.)."""

    name = "cv_sampled"

    def __init__(self, config: SampledConstantVelocityConfig | None = None) -> None:
        self.config = config or SampledConstantVelocityConfig()

    def predict(self, observation: Observation) -> Prediction:
        config, history = self.config, observation.history
        rows = predicted_rows(observation, config.include_ego)
        times_s = future_times(config.horizon_s, config.dt_s)
        shape = (rows.size, config.num_samples)
        rng = np.random.default_rng([config.seed, max(observation.step, 0)])
        angle = np.deg2rad(config.angle_std_deg) * rng.standard_normal(shape)
        scale = np.maximum(1.0 + config.speed_std_fraction * rng.standard_normal(shape), 0.0)
        velocity = history.velocity[rows, -1][:, None, :]  # [N, 1, 2]
        cos, sin = np.cos(angle), np.sin(angle)
        rotated = (
            np.stack(
                [
                    cos * velocity[..., 0] - sin * velocity[..., 1],
                    sin * velocity[..., 0] + cos * velocity[..., 1],
                ],
                axis=-1,
            )
            * scale[..., None]
        )  # [N, K, 2]
        xy = history.xy[rows, -1][:, None, None, :] + rotated[:, :, None, :] * times_s[:, None]
        heading = np.broadcast_to(
            np.arctan2(rotated[..., 1], rotated[..., 0])[..., None], xy.shape[:3]
        ).copy()
        num = config.num_samples
        return Prediction(
            agent_rows=rows,
            times_s=times_s,
            xy=xy,
            heading=heading,
            probs=np.full(num, 1.0 / num),
            marginal_probs=np.full(shape, 1.0 / num),
            valid=np.repeat(history.valid[rows, -1][:, None], times_s.size, axis=1),
        )


# -- constant turn rate and acceleration ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class CtraConfig:
    """Constant turn rate and acceleration, fitted on the last `fit_window_s` of history.

    Turn rate and acceleration are Theil-Sen slopes (median of pairwise slopes: robust to an
    outlier step) of the velocity direction and of the speed over the valid steps; the turn
    rate only uses steps at least `min_speed_for_turn_mps` fast and is 0 below that speed now.
    Clamps: |turn rate| <= max_yaw_rate_radps and <= max_lateral_accel_mps2 / speed;
    acceleration in [-max_decel_mps2, max_accel_mps2]; speed never below 0 (no reversing)
    nor above max(now, max_speed_mps).
    """

    horizon_s: float = 8.0
    dt_s: float = 0.1
    fit_window_s: float = 1.0
    min_speed_for_turn_mps: float = 1.0
    max_yaw_rate_radps: float = 0.8
    max_lateral_accel_mps2: float = 4.0
    max_accel_mps2: float = 2.0
    max_decel_mps2: float = 4.0
    max_speed_mps: float = 30.0
    include_ego: bool = False

    def __post_init__(self) -> None:
        _check_horizon(self.horizon_s, self.dt_s)
        limits = (self.fit_window_s, self.max_yaw_rate_radps, self.max_lateral_accel_mps2)
        if min(limits) <= 0 or min(self.max_accel_mps2, self.max_decel_mps2) < 0:
            raise ValueError(f"CTRA window and limits must be positive, got {self}")


def theil_sen_slope(values: NDArrayF64, times_s: NDArrayF64, usable: NDArrayBool) -> NDArrayF64:
    """float64[N]: median of the pairwise slopes (values_j - values_i) / (t_j - t_i), i < j,
    over pairs of usable steps; 0 where fewer than one pair. values, usable: [N, W]; times: [W].

    Pairwise differences are wrapped to (-pi, pi] by the caller when values are angles.
    """
    width = times_s.size
    upper = np.triu(np.ones((width, width), dtype=bool), k=1)
    gap = times_s[None, :] - times_s[:, None]
    pair_ok = usable[:, :, None] & usable[:, None, :] & upper
    slope = (values[:, None, :] - values[:, :, None]) / np.where(upper, gap, 1.0)
    return _masked_median(slope.reshape(len(values), -1), pair_ok.reshape(len(values), -1))


def _masked_median(values: NDArrayF64, mask: NDArrayBool) -> NDArrayF64:
    """float64[N]: median of each row's masked entries of values: [N, M]; 0 for empty rows."""
    ordered = np.sort(np.where(mask, values, np.inf), axis=-1)
    count = mask.sum(-1)
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[:, None], -1)[:, 0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[:, None], -1)[:, 0]
    return np.where(count > 0, 0.5 * (low + high), 0.0)


def fit_turn_rate_and_accel(
    history: Tracks, rows: NDArrayInt, dt_s: float, config: CtraConfig
) -> tuple[NDArrayF64, NDArrayF64]:
    """(turn rate rad/s, acceleration m/s^2), float64[N] each, clamped (see `CtraConfig`)."""
    width = min(history.num_steps, round(config.fit_window_s / dt_s) + 1)
    times = dt_s * np.arange(width, dtype=np.float64)
    valid = history.valid[rows, -width:]
    velocity = history.velocity[rows, -width:]
    speed = np.linalg.norm(velocity, axis=-1)
    direction = np.arctan2(velocity[..., 1], velocity[..., 0])
    # Unwrap relative to the last step so pairwise differences of angles are small.
    direction = direction[:, -1:] + wrap_angle(direction - direction[:, -1:])
    fast = valid & (speed >= config.min_speed_for_turn_mps)
    yaw_rate = theil_sen_slope(direction, times, fast)
    accel = theil_sen_slope(speed, times, valid)
    speed_now = speed[:, -1]
    yaw_limit = np.minimum(
        config.max_yaw_rate_radps, config.max_lateral_accel_mps2 / np.maximum(speed_now, 1e-6)
    )
    yaw_rate = np.where(speed_now >= config.min_speed_for_turn_mps, yaw_rate, 0.0)
    yaw_rate = np.clip(yaw_rate, -yaw_limit, yaw_limit)
    return yaw_rate, np.clip(accel, -config.max_decel_mps2, config.max_accel_mps2)


def travelled_distance(
    speed_mps: NDArrayF64, accel_mps2: NDArrayF64, cap_mps: NDArrayF64, times_s: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64]:
    """Distance along the path, float64[N, T], from speed v0 with constant acceleration until
    the speed reaches 0 (braking) or `cap_mps` (accelerating), then held.

    speed, accel, cap: float64[N]; times_s: float64[T], seconds from now. Also returns the
    time spent accelerating, float64[N, T] (saturates when the speed does).
    """
    bound = np.where(accel_mps2 < 0, 0.0, np.maximum(cap_mps, speed_mps))[:, None]
    safe_accel = np.where(accel_mps2 == 0, 1.0, accel_mps2)[:, None]
    saturation = np.where(
        accel_mps2[:, None] == 0, np.inf, (bound - speed_mps[:, None]) / safe_accel
    )
    moving_time = np.minimum(times_s[None, :], np.maximum(saturation, 0.0))
    distance = (
        speed_mps[:, None] * moving_time
        + 0.5 * accel_mps2[:, None] * moving_time**2
        + bound * (times_s[None, :] - moving_time)
    )
    return distance, moving_time


def ctra_rollout(
    xy: NDArrayF64,
    direction: NDArrayF64,
    speed_mps: NDArrayF64,
    yaw_rate_radps: NDArrayF64,
    accel_mps2: NDArrayF64,
    times_s: NDArrayF64,
    max_speed_mps: float = np.inf,
) -> tuple[NDArrayF64, NDArrayF64]:
    """Exact CTRA positions: float64[N, H, 2] and heading float64[N, H] at `times_s: [H]`.

    xy: float64[N, 2]; direction, speed, yaw rate, accel: float64[N]. Speed is clamped to
    [0, max(speed, max_speed_mps)]: the agent stops (and stops turning) or cruises.
    Each step moves along the chord of its arc (chord = arc * sinc(turn / 2)), so a constant
    speed and turn rate follow the circle exactly.
    """
    cap = np.full_like(speed_mps, max_speed_mps)
    distance, moving_time = travelled_distance(speed_mps, accel_mps2, cap, np.r_[0.0, times_s])
    stopped = (accel_mps2 < 0)[:, None] & (moving_time < np.r_[0.0, times_s][None, :])
    turning_time = np.where(stopped, moving_time, np.r_[0.0, times_s][None, :])
    heading = direction[:, None] + yaw_rate_radps[:, None] * turning_time
    step_distance, step_turn = np.diff(distance, axis=1), np.diff(heading, axis=1)
    chord = step_distance * np.sinc(step_turn / (2.0 * np.pi))
    mid = heading[:, :-1] + 0.5 * step_turn
    steps = chord[..., None] * np.stack([np.cos(mid), np.sin(mid)], axis=-1)
    return xy[:, None, :] + np.cumsum(steps, axis=1), wrap_angle(heading[:, 1:])


class CtraPredictor:
    """One mode: constant turn rate and acceleration from the recent history (`CtraConfig`)."""

    name = "ctra"

    def __init__(self, config: CtraConfig | None = None) -> None:
        self.config = config or CtraConfig()

    def predict(self, observation: Observation) -> Prediction:
        config, history = self.config, observation.history
        rows = predicted_rows(observation, config.include_ego)
        times_s = future_times(config.horizon_s, config.dt_s)
        yaw_rate, accel = fit_turn_rate_and_accel(history, rows, observation.dt_s, config)
        speed = np.linalg.norm(history.velocity[rows, -1], axis=-1)
        xy, heading = ctra_rollout(
            history.xy[rows, -1],
            motion_direction(history, rows),
            speed,
            yaw_rate,
            accel,
            times_s,
            config.max_speed_mps,
        )
        return _single_mode(rows, times_s, xy, heading, history.valid[rows, -1])


# -- kinematic fan ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FanConfig:
    """Candidate motions for agents that do not follow lanes: candidate i turns the current
    velocity by angles_deg[i] and scales it by speed_scales[i] (0: stop), prior log weight
    log_weights[i]. The top-K candidates by weight are the modes, probabilities the softmax of
    their weights."""

    angles_deg: tuple[float, ...] = (0.0, 0.0, 20.0, -20.0, 0.0, 0.0, 45.0, -45.0, 90.0, -90.0)
    speed_scales: tuple[float, ...] = (1.0, 0.6, 1.0, 1.0, 1.4, 0.0, 0.9, 0.9, 0.8, 0.8)
    log_weights: tuple[float, ...] = (0.0, -0.7, -0.9, -0.9, -1.0, -1.2, -1.8, -1.8, -2.5, -2.5)

    def __post_init__(self) -> None:
        sizes = {len(self.angles_deg), len(self.speed_scales), len(self.log_weights)}
        if len(sizes) != 1 or not self.angles_deg or min(self.speed_scales) < 0:
            raise ValueError(
                f"fan needs equal-length, non-empty candidates and scales >= 0: {self}"
            )


#: Vehicles far from any lane (parking lots, driveways): smaller turns.
VEHICLE_FAN = FanConfig(
    angles_deg=(0.0, 0.0, 0.0, 10.0, -10.0, 0.0, 25.0, -25.0),
    speed_scales=(1.0, 0.6, 1.3, 1.0, 1.0, 0.0, 0.9, 0.9),
    log_weights=(0.0, -0.8, -1.0, -1.0, -1.0, -1.2, -2.0, -2.0),
)


def kinematic_fan(
    xy: NDArrayF64,
    velocity: NDArrayF64,
    direction: NDArrayF64,
    times_s: NDArrayF64,
    fan: FanConfig,
    num_modes: int,
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """Straight-line modes around the current velocity, the same ranked candidates for all.

    xy, velocity: float64[N, 2]; direction: float64[N] (radians, used when nearly still).
    Returns xy: float64[N, K, H, 2], heading: float64[N, K, H], probs: float64[K] (ranked,
    descending). With fewer candidates than K the last modes repeat the best with probability 0.
    """
    order = np.argsort(-np.asarray(fan.log_weights), kind="stable")
    order = np.r_[order, np.full(max(num_modes - order.size, 0), order[0])][:num_modes]
    weights = np.asarray(fan.log_weights)[order]
    weights[len(fan.log_weights) :] = -np.inf
    probs = np.exp(weights - weights.max())
    probs /= probs.sum()
    speed = np.linalg.norm(velocity, axis=-1)
    angle = direction[:, None] + np.deg2rad(np.asarray(fan.angles_deg))[order][None, :]  # [N, K]
    mode_speed = speed[:, None] * np.asarray(fan.speed_scales)[order][None, :]
    step = mode_speed[..., None] * np.stack([np.cos(angle), np.sin(angle)], axis=-1)  # [N, K, 2]
    mode_xy = xy[:, None, None, :] + step[:, :, None, :] * times_s[:, None]
    heading = np.broadcast_to(wrap_angle(angle)[..., None], mode_xy.shape[:3]).copy()
    return mode_xy, heading, probs


# -- lane-following (map-aware) --------------------------------------------------------------

#: Speed profiles along a lane path, in this order: keep speed, accelerate, slow down, stop.
PROFILE_NAMES = ("keep", "accelerate", "slow", "stop")
_PATH_CACHE_KEY = "urbandrive.prediction.lane_path"
_LENGTH_CACHE_KEY = "urbandrive.prediction.lane_lengths"


@dataclass(frozen=True, slots=True)
class LaneConfig:
    """The `lane` baseline (see `LanePredictor`). Weights are log-probability units.

    Start lanes: lanes whose centerline passes within lane_search_radius_m of the agent with a
    heading error under max_heading_error_deg, the best max_start_lanes by match cost
    (distance m + heading_weight_m_per_rad * error rad). Paths: successor sequences long
    enough for the fastest profile (at most max_sequences per start lane), and, with
    consider_lane_changes, the same from the start lane's same-direction neighbours.
    Profiles (PROFILE_NAMES): accelerate at accel_mps2 up to the lane's speed limit (or the
    current speed if higher), slow at slow_decel_mps2, stop at stop_decel_mps2.
    Score = profile_log_weights[p] - match_cost_weight * match cost - turn_weight_per_rad *
    |heading change over max(distance, turn_lookahead_m)| + lane_change_log_weight (if any).
    Lateral offset from the path decays to 0 (smoothstep) over the distance the agent would
    cover at its current speed in offset_decay_s (lane_change_duration_s for a lane change),
    at least min_decay_distance_m, counted along each profile: an agent that does not move
    keeps its offset (parked cars stay at the kerb).
    a lane change) with a smoothstep. Modes: greedy by score, skipping a candidate whose end
    point is closer than min_mode_separation_m to a chosen one; probabilities: softmax of
    score / temperature over the chosen.
    """

    horizon_s: float = 8.0
    dt_s: float = 0.1
    num_modes: int = 6
    include_ego: bool = False
    lane_search_radius_m: float = 3.0
    max_heading_error_deg: float = 50.0
    heading_weight_m_per_rad: float = 4.0
    max_start_lanes: int = 3
    max_sequences: int = 12
    consider_lane_changes: bool = True
    accel_mps2: float = 1.0
    slow_decel_mps2: float = 1.0
    stop_decel_mps2: float = 3.0
    profile_log_weights: tuple[float, float, float, float] = (0.0, -1.0, -0.8, -1.5)
    match_cost_weight: float = 0.5
    turn_weight_per_rad: float = 0.5
    turn_lookahead_m: float = 20.0
    lane_change_log_weight: float = -2.0
    offset_decay_s: float = 3.0
    lane_change_duration_s: float = 4.0
    min_decay_distance_m: float = 5.0
    temperature: float = 1.0
    min_mode_separation_m: float = 1.0
    lane_following_types: tuple[AgentType, ...] = (
        AgentType.VEHICLE,
        AgentType.LARGE_VEHICLE,
        AgentType.MOTORCYCLIST,
        AgentType.CYCLIST,
    )
    pedestrian_fan: FanConfig = field(default_factory=FanConfig)
    vehicle_fan: FanConfig = VEHICLE_FAN

    def __post_init__(self) -> None:
        _check_horizon(self.horizon_s, self.dt_s)
        if self.num_modes < 1 or self.max_start_lanes < 1 or self.max_sequences < 1:
            raise ValueError(f"num_modes, max_start_lanes, max_sequences must be >= 1: {self}")
        if min(self.accel_mps2, self.slow_decel_mps2, self.stop_decel_mps2) <= 0:
            raise ValueError(f"profile accelerations must be > 0: {self}")
        if self.temperature <= 0 or min(self.offset_decay_s, self.lane_change_duration_s) <= 0:
            raise ValueError(f"temperature and decay times must be > 0: {self}")


@dataclass(frozen=True, slots=True)
class StartLanes:
    """Candidate lanes under the agents, M pairs: agent: int64[M] (position among the agents
    asked for), lane_id: int64[M], cost: float64[M] (match cost, metres-equivalent),
    s_m: float64[M] (arc length of the agent's projection on the lane's centerline)."""

    agent: NDArrayInt
    lane_id: NDArrayInt
    cost: NDArrayF64
    s_m: NDArrayF64


def start_lanes(
    road_map: RoadMap, xy: NDArrayF64, heading: NDArrayF64, config: LaneConfig
) -> StartLanes:
    """The best `max_start_lanes` lanes per pose (xy: float64[N, 2], heading: float64[N])."""
    index = road_map.index
    point, lane_ids, distance = lanes_within_radius(index, xy, config.lane_search_radius_m)
    rows = index.rows_of(lane_ids)
    s_m, _, lane_heading = project_to_lanes(index, xy[point], rows)
    error = np.abs(wrap_angle(heading[point] - lane_heading))
    keep = error <= np.deg2rad(config.max_heading_error_deg)
    point, lane_ids, s_m = point[keep], lane_ids[keep], s_m[keep]
    cost = distance[keep] + config.heading_weight_m_per_rad * error[keep]
    order = np.lexsort((cost, point))
    point, lane_ids, cost, s_m = point[order], lane_ids[order], cost[order], s_m[order]
    first = np.r_[True, np.diff(point) != 0]
    rank = np.arange(point.size) - np.maximum.accumulate(np.where(first, np.arange(point.size), 0))
    best = rank < config.max_start_lanes
    return StartLanes(point[best].astype(np.int64), lane_ids[best], cost[best], s_m[best])


def _lane_lengths(road_map: RoadMap) -> dict[int, float]:
    """Lane id -> centerline length in metres, computed once per map."""
    cache = road_map.query_cache
    if _LENGTH_CACHE_KEY not in cache:
        cache[_LENGTH_CACHE_KEY] = {i: lane.length_m for i, lane in road_map.lanes.items()}
    return cache[_LENGTH_CACHE_KEY]


def lane_sequences(
    road_map: RoadMap, start_lane: int, distance_m: float, max_sequences: int
) -> list[tuple[int, ...]]:
    """Successor sequences from `start_lane` (depth first) until each covers `distance_m`
    (counted from the start lane's beginning) or ends; at most `max_sequences`, no loops."""
    lengths = _lane_lengths(road_map)
    stack = [((start_lane,), lengths[start_lane])]
    done: list[tuple[int, ...]] = []
    while stack and len(done) < max_sequences:
        sequence, covered = stack.pop()
        following = [
            lane
            for lane in road_map.lanes[sequence[-1]].successors
            if lane in road_map.lanes and lane not in sequence
        ]
        if covered >= distance_m or not following:
            done.append(sequence)
            continue
        stack += [(sequence + (lane,), covered + lengths[lane]) for lane in reversed(following)]
    return done


def same_direction_neighbours(road_map: RoadMap, lane_id: int) -> list[int]:
    """Left / right neighbours of `lane_id` present in the map and running the same way."""
    lane = road_map.lanes[lane_id]
    heading = lane.centerline[-1] - lane.centerline[0]
    found = []
    for other in (lane.left_neighbor, lane.right_neighbor):
        if other is not None and other in road_map.lanes:
            line = road_map.lanes[other].centerline
            if float(np.dot(heading, line[-1] - line[0])) > 0:
                found.append(other)
    return found


def cached_reference_path(road_map: RoadMap, lane_ids: tuple[int, ...]) -> ReferencePath | None:
    """`road_map.reference_path(lane_ids)`, cached on the map; None if it cannot be built."""
    cache = road_map.query_cache
    key = (_PATH_CACHE_KEY, lane_ids)
    if key not in cache:
        try:
            cache[key] = road_map.reference_path(lane_ids)
        except ValueError:  # DataError: a degenerate lane or an unlinked pair
            cache[key] = None
    return cache[key]


@dataclass(frozen=True, slots=True)
class Candidates:
    """C candidate futures of one agent: xy: float64[C, H, 2], heading: float64[C, H],
    log_weight: float64[C]."""

    xy: NDArrayF64
    heading: NDArrayF64
    log_weight: NDArrayF64


def _smooth_decay(distance_m: NDArrayF64, length_m: float) -> NDArrayF64:
    """float64[...]: 1 at distance 0 falling to 0 at `length_m` (smoothstep), 0 after;
    both broadcast (metres)."""
    x = np.clip(distance_m / length_m, 0.0, 1.0)
    return 1.0 - x * x * (3.0 - 2.0 * x)


#: Path requests of one predict call: (agent, lane ids, is a lane change, base log weight).
PathRequest = tuple[int, tuple[int, ...], bool, float]


def path_requests(
    road_map: RoadMap,
    lanes: StartLanes,
    speed_mps: NDArrayF64,
    horizon_s: float,
    config: LaneConfig,
) -> list[PathRequest]:
    """Every (agent, lane sequence) to try: successor sequences from each start lane and, with
    lane changes, from its same-direction neighbours; long enough for the fastest profile."""
    requests: list[PathRequest] = []
    reach = speed_mps * horizon_s + 0.5 * config.accel_mps2 * horizon_s**2 + 5.0  # [N]
    for agent, lane_id, cost, s_m in zip(
        lanes.agent.tolist(),
        lanes.lane_id.tolist(),
        lanes.cost.tolist(),
        lanes.s_m.tolist(),
        strict=True,
    ):
        starts = [(lane_id, False)]
        if config.consider_lane_changes:
            starts += [(other, True) for other in same_direction_neighbours(road_map, lane_id)]
        base = -config.match_cost_weight * cost
        for first, lane_change in starts:
            distance = s_m + float(reach[agent])
            for sequence in lane_sequences(road_map, first, distance, config.max_sequences):
                requests.append((agent, sequence, lane_change, base))
    return requests


def profile_distances(
    speed_mps: NDArrayF64, speed_limit_mps: NDArrayF64, times_s: NDArrayF64, config: LaneConfig
) -> NDArrayF64:
    """float64[N, 4, H]: distance travelled by each profile of PROFILE_NAMES at times_s, for
    agents at speed_mps: float64[N] on lanes limited to speed_limit_mps: float64[N] (NaN:
    5 m/s over the current speed)."""
    accel = np.array([0.0, config.accel_mps2, -config.slow_decel_mps2, -config.stop_decel_mps2])
    limit = np.where(np.isfinite(speed_limit_mps), speed_limit_mps, speed_mps + 5.0)
    num_agents = speed_mps.size
    distance, _ = travelled_distance(
        np.repeat(speed_mps, 4), np.tile(accel, num_agents), np.repeat(limit, 4), times_s
    )
    return distance.reshape(num_agents, 4, times_s.size)


def path_candidates(
    path: ReferencePath,
    xy: NDArrayF64,
    speed_mps: NDArrayF64,
    times_s: NDArrayF64,
    base_weight: NDArrayF64,
    lane_change: NDArrayBool,
    config: LaneConfig,
) -> Candidates:
    """The 4 speed profiles along one path for n agents at xy: float64[n, 2] (speed, base
    weight, lane change: [n]); returns n * 4 candidates, agent-major (see `LaneConfig`)."""
    s_now, d_now = path.to_frenet(xy)
    start = np.clip(np.searchsorted(path.s_m, s_now), 0, path.s_m.size - 1)
    distance = profile_distances(speed_mps, path.speed_limit_mps[start], times_s, config)
    decay_s = np.where(lane_change, config.lane_change_duration_s, config.offset_decay_s)
    length = np.maximum(speed_mps * decay_s, config.min_decay_distance_m)[:, None, None]
    offset = d_now[:, None, None] * _smooth_decay(distance, length)
    lookahead = np.maximum(distance[:, 0, -1], config.turn_lookahead_m)
    query_s = np.r_[(s_now[:, None, None] + distance).ravel(), s_now, s_now + lookahead]
    query_d = np.r_[offset.ravel(), np.zeros(2 * s_now.size)]
    points, heading = path.to_cartesian(query_s, query_d)
    num = offset.size
    turn = np.abs(wrap_angle(heading[num + s_now.size :] - heading[num : num + s_now.size]))
    weight = base_weight - config.turn_weight_per_rad * turn
    weight = weight + np.where(lane_change, config.lane_change_log_weight, 0.0)
    weight = weight[:, None] + np.asarray(config.profile_log_weights)[None, :]
    return Candidates(
        points[:num].reshape(*distance.shape, 2), heading[:num].reshape(distance.shape), weight
    )


def lane_candidates(
    road_map: RoadMap,
    requests: list[PathRequest],
    xy: NDArrayF64,
    speed_mps: NDArrayF64,
    times_s: NDArrayF64,
    config: LaneConfig,
) -> tuple[NDArrayInt, Candidates]:
    """All candidates of all requests, computed once per distinct path for all its agents.

    xy: float64[N, 2], speed: float64[N]. Returns the agent of each candidate int64[C] and
    the candidates (C = 4 per request whose path could be built).
    """
    by_path: dict[tuple[int, ...], list[PathRequest]] = {}
    for request in requests:
        by_path.setdefault(request[1], []).append(request)
    agents, chunks = [], []
    for sequence, group in by_path.items():
        path = cached_reference_path(road_map, sequence)
        if path is None:
            continue
        agent = np.array([r[0] for r in group], dtype=np.int64)
        lane_change = np.array([r[2] for r in group], dtype=bool)
        base = np.array([r[3] for r in group])
        found = path_candidates(
            path, xy[agent], speed_mps[agent], times_s, base, lane_change, config
        )
        agents.append(np.repeat(agent, 4))
        chunks.append(found)
    if not chunks:
        return np.zeros(0, dtype=np.int64), Candidates(
            np.zeros((0, times_s.size, 2)), np.zeros((0, times_s.size)), np.zeros(0)
        )
    return np.concatenate(agents), Candidates(
        np.concatenate([c.xy.reshape(-1, times_s.size, 2) for c in chunks]),
        np.concatenate([c.heading.reshape(-1, times_s.size) for c in chunks]),
        np.concatenate([c.log_weight.reshape(-1) for c in chunks]),
    )


def select_modes(
    candidates: Candidates, num_modes: int, min_separation_m: float, temperature: float
) -> tuple[NDArrayInt, NDArrayF64]:
    """Indices int64[K] of the chosen candidates and their probabilities float64[K], ranked.

    Greedy by weight, skipping candidates whose end point is within `min_separation_m` of a
    chosen one; then the skipped ones fill up; if still short, the best repeats with p = 0.
    """
    order = np.argsort(-candidates.log_weight, kind="stable")
    ends = candidates.xy[:, -1]
    gap = np.linalg.norm(ends[:, None] - ends[None, :], axis=-1)
    chosen: list[int] = []
    for index in order.tolist():
        if len(chosen) < num_modes and (not chosen or gap[index, chosen].min() >= min_separation_m):
            chosen.append(index)
    chosen += [i for i in order.tolist() if i not in chosen][: num_modes - len(chosen)]
    chosen = sorted(chosen, key=lambda i: -candidates.log_weight[i])
    padding = num_modes - len(chosen)
    weights = np.r_[candidates.log_weight[chosen] / temperature, np.full(padding, -np.inf)]
    probs = np.exp(weights - weights.max())
    return np.array(chosen + [chosen[0]] * padding, dtype=np.int64), probs / probs.sum()


def joint_from_marginals(marginal_probs: NDArrayF64, moving: NDArrayBool) -> NDArrayF64:
    """float64[K]: scene mode k's probability = mean over moving agents of their k-th ranked
    marginal probability (uniform if none). marginal_probs: [N, K] ranked; moving: bool[N]."""
    num_modes = marginal_probs.shape[1]
    if not moving.any():
        return np.full(num_modes, 1.0 / num_modes)
    mean = marginal_probs[moving].mean(0)
    return mean / mean.sum()


class LanePredictor:
    """Map-aware multi-modal baseline, K modes (`LaneConfig.num_modes`, default 6).

    - Vehicles, motorcyclists and cyclists with a matching lane: candidate paths = successor
      sequences from the matched start lanes (turns at junctions included) and lane changes
      to same-direction neighbours, x 4 speed profiles; positions by
      `ReferencePath.to_cartesian` with the current lateral offset decaying; the best K
      distinct candidates, probabilities a softmax of the score (`LaneConfig`).
    - Pedestrians, animals, unknowns, and the above with no matching lane: a kinematic fan
      (`FanConfig`; `LaneConfig.vehicle_fan` for motor vehicles).
    - Static objects and agents not seen now stay put (modes identical, uniform marginal;
      the latter invalid).

    Joint scene mode k = every agent's k-th most likely marginal mode: agents are consistent
    within a scene mode only through this ranking (no interaction reasoning); probs[k] = the
    normalised mean over moving agents of their k-th marginal probability (a product would
    collapse to the first mode in busy scenes).
    """

    name = "lane"

    def __init__(self, config: LaneConfig | None = None) -> None:
        self.config = config or LaneConfig()

    def predict(self, observation: Observation) -> Prediction:
        config, history = self.config, observation.history
        rows = predicted_rows(observation, config.include_ego)
        times_s = future_times(config.horizon_s, config.dt_s)
        num_agents, num_modes = rows.size, config.num_modes
        xy_now = history.xy[rows, -1]
        types = history.types[rows]
        moving = history.valid[rows, -1] & (types != AgentType.STATIC)
        xy = np.broadcast_to(
            xy_now[:, None, None, :], (num_agents, num_modes, times_s.size, 2)
        ).copy()
        heading = np.broadcast_to(history.heading[rows, -1][:, None, None], xy.shape[:3]).copy()
        marginal = np.full((num_agents, num_modes), 1.0 / num_modes)
        on_lane = moving & np.isin(types, [int(t) for t in config.lane_following_types])
        if observation.road_map is not None and on_lane.any():
            on_lane = self._predict_on_lanes(
                observation, rows, on_lane, times_s, (xy, heading, marginal)
            )
        fan = moving & ~on_lane
        self._predict_fans(history, rows, fan, times_s, (xy, heading, marginal))
        return Prediction(
            agent_rows=rows,
            times_s=times_s,
            xy=xy,
            heading=heading,
            probs=joint_from_marginals(marginal, moving),
            marginal_probs=marginal,
            valid=np.repeat(history.valid[rows, -1][:, None], times_s.size, axis=1),
        )

    def _predict_on_lanes(
        self,
        observation: Observation,
        rows: NDArrayInt,
        candidates_mask: NDArrayBool,
        times_s: NDArrayF64,
        out: tuple[NDArrayF64, NDArrayF64, NDArrayF64],
    ) -> NDArrayBool:
        """Fill `out` (xy, heading, marginal) for agents with lane paths; returns who got one."""
        config, history, road_map = self.config, observation.history, observation.road_map
        assert road_map is not None
        positions = np.flatnonzero(candidates_mask)
        xy_now = history.xy[rows[positions], -1]
        lanes = start_lanes(road_map, xy_now, history.heading[rows[positions], -1], config)
        speed = np.linalg.norm(history.velocity[rows[positions], -1], axis=-1)
        requests = path_requests(road_map, lanes, speed, float(times_s[-1]), config)
        agent_of, found = lane_candidates(road_map, requests, xy_now, speed, times_s, config)
        handled = np.zeros_like(candidates_mask)
        if agent_of.size == 0:
            return handled
        order = np.argsort(agent_of, kind="stable")
        agents, first = np.unique(agent_of[order], return_index=True)
        for local, chunk in zip(agents.tolist(), np.split(order, first[1:]), strict=True):
            mine = Candidates(found.xy[chunk], found.heading[chunk], found.log_weight[chunk])
            chosen, probs = select_modes(
                mine, config.num_modes, config.min_mode_separation_m, config.temperature
            )
            agent = positions[local]
            out[0][agent], out[1][agent], out[2][agent] = (
                mine.xy[chosen],
                mine.heading[chosen],
                probs,
            )
            handled[agent] = True
        return handled

    def _predict_fans(
        self,
        history: Tracks,
        rows: NDArrayInt,
        fan: NDArrayBool,
        times_s: NDArrayF64,
        out: tuple[NDArrayF64, NDArrayF64, NDArrayF64],
    ) -> None:
        """Fill `out` for the agents in `fan`: the vehicle fan for motor vehicles, else the
        pedestrian fan."""
        types = history.types[rows]
        vehicles = np.isin(
            types, [AgentType.VEHICLE, AgentType.LARGE_VEHICLE, AgentType.MOTORCYCLIST]
        )
        for group, fan_config in (
            (fan & vehicles, self.config.vehicle_fan),
            (fan & ~vehicles, self.config.pedestrian_fan),
        ):
            if not group.any():
                continue
            chosen = rows[group]
            mode_xy, mode_heading, probs = kinematic_fan(
                history.xy[chosen, -1],
                history.velocity[chosen, -1],
                motion_direction(history, chosen),
                times_s,
                fan_config,
                self.config.num_modes,
            )
            out[0][group], out[1][group], out[2][group] = mode_xy, mode_heading, probs
