"""Score terms: each one call of a `urbandrive.metrics` function over all candidates at once.

Every term returns float64[M] (map and rule terms) or float64[M, K] (terms against the K
predicted futures), values in [0, 1], 1 best. Inputs are packed once per cycle in
`ScoringInputs`: the ego as `EgoStates` with batch [M] and [M, 1] (against agents [K, A]).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics import kernels as metric_kernels
from urbandrive.metrics.clearance import (
    vulnerable_road_user_clearance,
)
from urbandrive.metrics.collisions import (
    AtFaultCollisionResult,
    CollisionConfig,
    no_ego_at_fault_collisions,
)
from urbandrive.metrics.comfort import (
    ComfortConfig,
    ComfortSignal,
    comfort_along_heading,
)
from urbandrive.metrics.compliance import (
    DrivableAreaMap,
    drivable_area_compliance,
    driving_direction_compliance,
    ego_corner_distance_outside_drivable_area,
    speed_limit_compliance,
)
from urbandrive.metrics.map_context import EgoLaneContext
from urbandrive.metrics.progress import ego_progress_along_expert_route
from urbandrive.metrics.states import (
    VULNERABLE_TYPES,
    AgentStates,
    EgoStates,
    planar_norm,
    types_in,
)
from urbandrive.metrics.time_to_collision import (
    TimeToCollisionConfig,
    time_to_collision_within_bound,
)
from urbandrive.metrics.traffic_rules import (
    YieldConfig,
    ego_front_center,
    pedestrian_yield_compliance,
    red_light_compliance,
    stop_line_crossings,
)
from urbandrive.planning.proposals.context import PathAgents
from urbandrive.planning.reference import RouteReference


@dataclass(frozen=True, slots=True)
class ScoringInputs:
    """One cycle's arrays. ego: batch [M], T steps, the ego's own box; ego_per_mode: the same
    with batch [M, 1] and the box widened by the collision buffer (for the agent terms);
    agents: batch [K], A agents (the relevant ones), T steps; lanes: per-step lane facts
    [M, T] (`reference_lane_context` of s_m, d_m); s_m, d_m: float64[M, T] along
    `reference`; dt_s: step, seconds; lane_index: int64[M, T], `reference.lane_index_at(s_m)`."""

    ego: EgoStates
    ego_per_mode: EgoStates
    agents: AgentStates
    lanes: EgoLaneContext
    reference: RouteReference
    s_m: NDArrayF64
    d_m: NDArrayF64
    dt_s: float
    lane_index: NDArrayInt


def at_fault_collisions(inputs: ScoringInputs, config: CollisionConfig) -> AtFaultCollisionResult:
    """nuPlan's at-fault collision check of every candidate in every mode: batch [M, K], every
    pair tested (the dense reference of `row_terms.at_fault_collisions`)."""
    lateral = inputs.lanes.changing_lanes_or_offroad[:, None, :]
    return no_ego_at_fault_collisions(inputs.ego_per_mode, inputs.agents, lateral, config)


def time_to_collision(
    inputs: ScoringInputs,
    collisions: AtFaultCollisionResult,
    config: TimeToCollisionConfig,
    step_stride: int = 1,
) -> NDArrayF64:
    """float64[M, K]: 1 where the TTC stays above nuPlan's bound at every `step_stride`-th step,
    every pair tested (the dense reference of `row_terms.time_to_collision`). Only the flag is
    kept, so projections stop at the bound (`score_horizon`): the same flag, fewer boxes."""
    config = score_horizon(config)
    steps = slice(0, None, step_stride)
    ego, agents, lanes = inputs.ego_per_mode, inputs.agents, inputs.lanes
    strided = replace(
        collisions,
        first_collision_step=-(-collisions.first_collision_step // step_stride),
        at_fault_step=collisions.at_fault_step[..., steps],
    )
    strided_ego = EgoStates(
        ego.xy[..., steps, :], ego.heading[..., steps], ego.speed_mps[..., steps], ego.size_m
    )
    strided_agents = AgentStates(
        agents.xy[..., steps, :],
        agents.heading[..., steps],
        agents.velocity[..., steps, :],
        agents.size_m,
        agents.types,
        agents.valid[..., steps],
    )
    lateral = lanes.changing_lanes_or_offroad[:, None, steps]
    junction = lanes.in_intersection[:, None, steps]
    return time_to_collision_within_bound(
        strided_ego, strided_agents, strided, lateral, junction, config
    ).score


@functools.lru_cache(maxsize=16)
def score_horizon(config: TimeToCollisionConfig) -> TimeToCollisionConfig:
    """`config` projecting only up to the first grid time past the bound: TTC values above the
    bound all pass, so the within-bound flag is unchanged (the grid's first times are the same
    floats, `np.arange`)."""
    horizon_s = config.least_min_ttc_s + config.time_step_s
    if horizon_s >= config.time_horizon_s:
        return config
    return replace(config, time_horizon_s=horizon_s)


def vulnerable_clearance(
    inputs: ScoringInputs, required_m: float, floor_m: float = 0.0
) -> NDArrayF64:
    """float64[M, K]: smallest clearance to a pedestrian / cyclist / animal over `required_m`,
    clipped to [0, 1], and 0 below `floor_m` (`clearance_score`), every pair tested (the dense
    reference of `row_terms.vulnerable_clearance`). Only vulnerable agents are passed on (the
    metric ignores the others); with none, 1 (the metric cannot reduce over zero agents)."""
    agents = _only_types(inputs.agents, VULNERABLE_TYPES)
    if agents.num_agents == 0:
        return np.ones(inputs.ego_per_mode.batch_shape[:1] + agents.xy.shape[:1])
    result = vulnerable_road_user_clearance(
        inputs.ego_per_mode, agents, required_m, search_radius_m=required_m
    )
    return clearance_score(result.min_clearance_m, required_m, floor_m)


def clearance_score(clearance_m: NDArrayF64, required_m: float, floor_m: float) -> NDArrayF64:
    """float64[...]: clearance_m / required_m clipped to [0, 1], and 0 where the clearance is
    below floor_m (passing a pedestrian that close scores as touching it)."""
    score = np.clip(clearance_m / required_m, 0.0, 1.0)
    return np.where(clearance_m < floor_m, 0.0, score)


def _only_types(agents: AgentStates, types: tuple[int, ...]) -> AgentStates:
    """The agents of `agents` (batch [K], A agents) whose type is one of `types`."""
    keep = types_in(agents.types, types)
    return AgentStates(
        agents.xy[:, keep],
        agents.heading[:, keep],
        agents.velocity[:, keep],
        agents.size_m[keep],
        agents.types[keep],
        agents.valid[:, keep],
    )


def crosswalk_yield(inputs: ScoringInputs, config: YieldConfig) -> NDArrayF64:
    """float64[M, K]: 0 where the ego drives over a crosswalk a pedestrian is on."""
    polygons = inputs.reference.crosswalk_polygons
    pedestrians = _only_types(inputs.agents, tuple(config.yielding_to))
    if polygons.shape[0] == 0 or pedestrians.num_agents == 0:
        return np.ones(inputs.ego_per_mode.batch_shape[:1] + pedestrians.xy.shape[:1])
    return pedestrian_yield_compliance(inputs.ego_per_mode, pedestrians, polygons, config).score


def drivable_area(inputs: ScoringInputs, area: DrivableAreaMap) -> NDArrayF64:
    """float64[M]: 0 where a corner leaves the drivable area by 0.3 m or more."""
    return drivable_area_compliance(ego_corner_distance_outside_drivable_area(area, inputs.ego))


def driving_direction(inputs: ScoringInputs) -> NDArrayF64:
    """float64[M]: nuPlan's driving-direction multiplier along the route lanes."""
    return driving_direction_compliance(inputs.lanes.progress_along_lane_m, inputs.dt_s)


def red_light(inputs: ScoringInputs, red_stop: np.ndarray) -> NDArrayF64:
    """float64[M]: 0 where the front bumper crosses a red stop on the route (lights held)."""
    reference = inputs.reference
    if not red_stop.any():
        return np.ones(inputs.ego.batch_shape)
    crossed = stop_line_crossings(
        ego_front_center(inputs.ego), reference.stop_line_xy, reference.stop_heading
    )
    return red_light_compliance(crossed, red_stop[:, None]).score


def speed_limit(inputs: ScoringInputs) -> NDArrayF64:
    """float64[M]: nuPlan's speed-limit compliance against the route's limit."""
    limit = inputs.lanes.speed_limit_mps  # reference.speed_limit_at(s_m), made once
    return speed_limit_compliance(inputs.ego.speed_mps, limit, inputs.dt_s)


#: Braking up to this deceleration costs nothing in the `comfort` braking share, m/s^2.
FREE_BRAKING_MPS2 = 2.0


def comfort(
    inputs: ScoringInputs, config: ComfortConfig
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """(comfortable float64[M] in {0, 1}, smoothness float64[M] in [0, 1], braking
    float64[M] in [0, 1]).

    smoothness = 1 - mean over steps and over |longitudinal jerk|, |lateral acceleration| and
    |yaw rate| of each signal's share of its comfort bound (clipped). braking = 1 - the
    hardest (filtered) deceleration's share of the way from `FREE_BRAKING_MPS2` to the comfort
    bound (clipped): a stop put off to the last moment costs before it is uncomfortable, so
    the ego does not keep its speed cycle after cycle and then brake past the bound
    (town:standard animal_crossing-002: 8 m/s to a red stop at 5.5 m/s^2).
    """
    ego = inputs.ego
    result = comfort_along_heading(ego.heading, ego.speed_mps, inputs.dt_s, config)
    shared = [ComfortSignal.LON_JERK, ComfortSignal.LAT_ACCEL, ComfortSignal.YAW_RATE]
    bounds = [
        config.max_abs_lon_jerk_mps3,
        config.max_abs_lat_accel_mps2,
        config.max_abs_yaw_rate_radps,
    ]
    shares = _signal_shares(result.signals, shared, bounds)  # [..., 3, T], C order
    smoothness = 1.0 - np.clip(shares.mean(axis=(-2, -1)), 0.0, 1.0)
    hardest = -result.signals[..., ComfortSignal.LON_ACCEL, :].min(axis=-1)
    bound = -(config.min_lon_accel_mps2 if config.min_lon_accel_mps2 is not None else -4.05)
    braking = 1.0 - np.clip((hardest - FREE_BRAKING_MPS2) / (bound - FREE_BRAKING_MPS2), 0.0, 1.0)
    return result.score, smoothness, braking


def _signal_shares(
    signals: NDArrayF64, shared: list[ComfortSignal], bounds: list[float]
) -> NDArrayF64:
    """float64[M, S, T], C order: |signals[M, shared, T]| over each one's bound, by one
    compiled pass where the kernels run (`scoring.kernels.signal_shares`: numpy's floats)."""
    bound = np.asarray(bounds, np.float64)
    if not metric_kernels.enabled() or signals.ndim != 3:
        shares = np.abs(np.take(signals, shared, axis=-2))
        shares /= bound[:, None]
        return shares
    from urbandrive.planning.scoring.kernels import signal_shares

    shares = np.empty((signals.shape[0], len(shared), signals.shape[-1]))
    signal_shares(signals, np.asarray(shared, np.int64), bound, shares)
    return shares


def progress(inputs: ScoringInputs, safe: np.ndarray) -> NDArrayF64:
    """float64[M]: progress along the route over the best `safe: bool[M]` candidate's (PDM);
    over the best of all when none is safe."""
    gained = inputs.s_m[:, -1] - inputs.s_m[:, 0]
    pool = gained[safe] if safe.any() else gained
    return ego_progress_along_expert_route(gained, float(pool.max()))


def lane_centering(inputs: ScoringInputs) -> NDArrayF64:
    """float64[M]: 1 - the mean over steps of `LANE_CENTRE_SHARE` x the distance to the nearest
    lane centre (own or neighbour) over the lane's half width plus `ROUTE_LANE_SHARE` x the
    distance to the route lane's centre over the lane's width (each clipped to 1, the sum too).

    The first part keeps lane changes brisk (no lingering between lanes, beside the car being
    passed), the second makes a neighbour lane score 0.6: a lane change the route does not ask
    for must pay for itself (dodging a car that cuts in, instead of braking, left the ego
    beside it as it settled: town:standard cut_in-000). At 0.3 the ego left the route for a
    lane beside it to pass a stream at 70 % of its speed limit, and ended the scenario there
    (lane_change_dense-003, -007, -010); at 0.4 it passes a car below ~40 % of the limit."""
    reference = inputs.reference
    lane = inputs.lane_index
    half_width = reference.lane_half_width_m[lane]
    nearest = np.fmin(  # to the nearest of the three centres (NaN: no lane), elementwise
        np.fmin(np.abs(inputs.d_m - 0.0), np.abs(inputs.d_m - reference.left_offset_m[lane])),
        np.abs(inputs.d_m - reference.right_offset_m[lane]),
    )
    cost = LANE_CENTRE_SHARE * np.clip(nearest / half_width, 0.0, 1.0) + ROUTE_LANE_SHARE * np.clip(
        np.abs(inputs.d_m) / (2.0 * half_width), 0.0, 1.0
    )
    return 1.0 - np.clip(cost, 0.0, 1.0).mean(-1)


#: `lane_centering`: the cost share of the distance to the nearest lane centre.
LANE_CENTRE_SHARE = 0.7
#: `lane_centering`: the cost share of the distance to the route lane's centre.
ROUTE_LANE_SHARE = 0.4


def consistency(
    inputs: ScoringInputs, previous_xy: NDArrayF64 | None, horizon_steps: int, scale_m: float
) -> NDArrayF64:
    """float64[M]: exp(-mean distance to the previous plan over the first steps / scale)."""
    if previous_xy is None:
        return np.ones(inputs.ego.batch_shape)
    steps = slice(0, min(horizon_steps, previous_xy.shape[0]))
    gap = np.linalg.norm(inputs.ego.xy[:, steps] - previous_xy[None, steps], axis=-1)
    return np.exp(-gap.mean(-1) / scale_m)


#: Agent types the ego keeps a following distance to.
FOLLOWED_TYPES = (
    AgentType.VEHICLE,
    AgentType.LARGE_VEHICLE,
    AgentType.CYCLIST,
    AgentType.MOTORCYCLIST,
)


@dataclass(frozen=True, slots=True)
class HeadwayConfig:
    """The following distance the ego keeps to an agent ahead of it in its path: bumper gap
    >= min_gap_m + headway_s * ego speed. An agent is in the path where its box and the ego's
    overlap across the reference (plus lateral_margin_m a side) and it moves along it (speed
    along the path >= min_alignment x its speed, or slower than 0.5 m/s). step_stride: the
    term looks at every n-th step."""

    headway_s: float = 1.0
    min_gap_m: float = 2.0
    lateral_margin_m: float = 0.2
    min_alignment: float = 0.7
    step_stride: int = 5
    types: tuple[int, ...] = field(default_factory=lambda: tuple(map(int, FOLLOWED_TYPES)))

    def __post_init__(self) -> None:
        if self.headway_s < 0 or self.min_gap_m <= 0 or self.lateral_margin_m < 0:
            raise ValueError("need headway_s >= 0, min_gap_m > 0 and lateral_margin_m >= 0")
        if self.step_stride < 1:
            raise ValueError(f"step_stride must be >= 1, got {self.step_stride}")


@dataclass(frozen=True, slots=True)
class HeadwayRows:
    """What both forms of `headway` read, at every `step_stride`-th step: the candidates'
    s_e, d_e and speed_e [M, T]; the followed agents near the path, s_a, d_a [N, K, T], live
    [N, K, T] (valid and moving along the path), reach [N] (centre distance across the path
    that counts as in the path) and half_length [N] (half of the two lengths)."""

    s_e: NDArrayF64
    d_e: NDArrayF64
    speed_e: NDArrayF64
    s_a: NDArrayF64
    d_a: NDArrayF64
    live: NDArrayBool
    reach: NDArrayF64
    half_length: NDArrayF64


def headway_rows(
    inputs: ScoringInputs, agents: PathAgents, ego_size_m: NDArrayF64, config: HeadwayConfig
) -> HeadwayRows | None:
    """The `HeadwayRows` of a cycle, None where no followed agent comes near the path."""
    steps = slice(0, None, config.step_stride)
    s_e, d_e = inputs.s_m[:, steps], inputs.d_m[:, steps]  # [M, T]
    followed = types_in(agents.types, config.types)
    reach = 0.5 * (agents.size_m[:, 1] + ego_size_m[1]) + config.lateral_margin_m  # [N]
    d_a = agents.d_m[:, :, steps]  # [N, K, T]
    near = np.abs(d_a).min(axis=(1, 2)) < np.abs(d_e).max() + reach
    keep = np.flatnonzero(followed & near)
    if keep.size == 0:
        return None
    along = agents.speed_along_mps[keep, :, steps]
    velocity = agents.states.velocity[:, keep, steps]  # [K, N, T, 2]
    speed = planar_norm(velocity).transpose(1, 0, 2)  # [N, K, T]
    moving_along = (along >= config.min_alignment * speed) | (speed < 0.5)
    return HeadwayRows(
        s_e=s_e,
        d_e=d_e,
        speed_e=inputs.ego.speed_mps[:, steps],
        s_a=agents.s_m[keep, :, steps],
        d_a=d_a[keep],
        live=moving_along & agents.valid[keep, None, steps],
        reach=reach[keep],
        half_length=0.5 * (agents.size_m[keep, 0] + ego_size_m[0]),
    )


def headway(
    inputs: ScoringInputs, agents: PathAgents, ego_size_m: NDArrayF64, config: HeadwayConfig
) -> NDArrayF64:
    """float64[M, K]: 1 - the mean over steps of the worst shortfall of the following distance
    to an agent ahead in the ego's path, as a share of the wanted distance
    (`HeadwayConfig`). A candidate that closes in on a slower agent (a merging cyclist, a car
    braking ahead) scores lower the longer and the closer it tails it; collisions and TTC only
    see it once too late (town:standard cyclist_merge-001: tailing at 3 m behind a cyclist
    at 9 m/s, then it braked)."""
    rows = headway_rows(inputs, agents, ego_size_m, config)
    if rows is None:
        return np.ones((inputs.s_m.shape[0], agents.mode_probs.shape[0]))
    ahead_m = rows.s_a[None] - rows.s_e[:, None, None]  # [M, N, K, T]
    across = np.abs(rows.d_a[None] - rows.d_e[:, None, None]) < rows.reach[None, :, None, None]
    gap = ahead_m - rows.half_length[None, :, None, None]
    wanted = config.min_gap_m + config.headway_s * rows.speed_e[:, None, None]
    shortfall = np.clip(1.0 - gap / wanted, 0.0, 1.0)
    shortfall = np.where(across & (ahead_m > 0.0) & rows.live[None], shortfall, 0.0)
    return 1.0 - shortfall.max(axis=1).mean(axis=-1)
