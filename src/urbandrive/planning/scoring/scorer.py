"""The scorer: every term over all candidates (and modes) at once, aggregated into a `ScoreTable`.

Stages: (1) pack the candidates as metric inputs and find the (candidate, mode, agent, step)
pairs that can interact (`pairs.contacts_on_rows`, `pairs.projection_pairs`: boxes over time
blocks, coarse to fine);
(2) hard terms per mode, the exact box tests on those pairs only, aggregated over modes
(expectation or CVaR); (3) progress normalised by the best candidate that keeps every hard
constraint (PDM); (4) soft terms; (5) the table.

`BroadPhase` picks how (1) prunes; every choice gives the same table as `BroadPhase.NONE`
(the dense reference) up to float rounding.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics import kernels as metric_kernels
from urbandrive.metrics.collisions import AtFaultCollisionResult, CollisionConfig
from urbandrive.metrics.comfort import ComfortConfig
from urbandrive.metrics.states import AgentStates, EgoStates, shared_rows
from urbandrive.metrics.time_to_collision import TimeToCollisionConfig
from urbandrive.metrics.traffic_rules import YieldConfig
from urbandrive.planning.proposals.candidates import CandidateIndex, Candidates
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.reference import reference_lane_context
from urbandrive.planning.scoring import fast_terms, row_terms, terms
from urbandrive.planning.scoring import kernels as scoring_kernels
from urbandrive.planning.scoring.drivable_grid import DrivableAreaGrid
from urbandrive.planning.scoring.pairs import (
    contacts_on_rows,
    projection_pairs,
    projection_search,
)
from urbandrive.planning.scoring.risk import RiskMeasure, aggregate_modes
from urbandrive.planning.scoring.table import ScoreTable


class BroadPhase(enum.IntEnum):
    """How the scorer prunes candidate x mode x agent x step before the exact metric tests.

    NONE: every agent to the dense metrics (the reference). AGENTS: only the agents whose swept
    box meets the swept bounding box of all candidates (`relevant_agents`; the previous
    implementation). PAIRS: the sparse pairs of `pairs` (the default).
    """

    NONE = 0
    AGENTS = 1
    PAIRS = 2


HARD_TERMS = (
    "no_at_fault_collision",
    "drivable_area",
    "driving_direction",
    "red_light",
    "crosswalk_yield",
)
SOFT_TERMS = (
    "progress",
    "time_to_collision",
    "speed_limit",
    "comfort",
    "vru_clearance",
    "smoothness",
    "lane_centering",
    "consistency",
    "headway",
    "braking",
)


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """Soft-term weights (nuPlan's for progress, TTC, speed limit and comfort), the risk
    measure over the predicted modes, and the metrics' thresholds.

    collision_buffer_m: (length, width) added to the ego's box in the collision check.
    safe_hard_min: a candidate whose aggregated hard product reaches this counts as safe
    (progress is normalised by the best safe one). ttc_step_stride: TTC is evaluated at
    every n-th step (each evaluation projects 2.9 s ahead, so 0.5 s leaves no gap).
    vru_clearance_floor_m: a clearance to a vulnerable road user below it (from the buffered
    box) scores 0, not its share of required_vru_clearance_m.
    broad_phase: how candidate x mode x agent x step is pruned before the exact tests
    (`BroadPhase`); the choice changes the time, not the scores.
    """

    weights: tuple[tuple[str, float], ...] = (
        ("progress", 5.0),
        ("time_to_collision", 5.0),
        ("speed_limit", 4.0),
        ("comfort", 2.0),
        ("vru_clearance", 2.0),
        ("smoothness", 1.0),
        ("lane_centering", 1.0),
        ("consistency", 1.0),
        ("headway", 0.0),
        ("braking", 0.0),
    )
    risk: RiskMeasure = RiskMeasure.EXPECTATION
    cvar_alpha: float = 0.3
    collision_buffer_m: tuple[float, float] = (0.5, 0.3)
    required_vru_clearance_m: float = 1.5
    vru_clearance_floor_m: float = 0.0
    safe_hard_min: float = 0.5
    ttc_step_stride: int = 5
    broad_phase: BroadPhase = BroadPhase.PAIRS
    consistency_horizon_s: float = 3.0
    consistency_scale_m: float = 2.0
    collision: CollisionConfig = field(default_factory=CollisionConfig)
    time_to_collision: TimeToCollisionConfig = field(default_factory=TimeToCollisionConfig)
    comfort: ComfortConfig = field(default_factory=ComfortConfig)
    crosswalk_yield: YieldConfig = field(default_factory=YieldConfig)
    headway: terms.HeadwayConfig = field(default_factory=terms.HeadwayConfig)

    def __post_init__(self) -> None:
        names = [name for name, _ in self.weights]
        if sorted(names) != sorted(SOFT_TERMS):
            raise ValueError(f"weights must name exactly {SOFT_TERMS}, got {names}")
        if any(weight < 0 for _, weight in self.weights) or sum(w for _, w in self.weights) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        if not 0 < self.cvar_alpha <= 1:
            raise ValueError(f"cvar_alpha must be in (0, 1], got {self.cvar_alpha}")
        if self.ttc_step_stride < 1:
            raise ValueError(f"ttc_step_stride must be >= 1, got {self.ttc_step_stride}")
        if min(self.collision_buffer_m) < 0 or self.required_vru_clearance_m <= 0:
            raise ValueError("collision buffers must be >= 0 and the VRU clearance > 0")
        if not 0 <= self.vru_clearance_floor_m < self.required_vru_clearance_m:
            raise ValueError(
                "vru_clearance_floor_m must be in [0, required_vru_clearance_m), got "
                f"{self.vru_clearance_floor_m}"
            )


@dataclass(frozen=True, slots=True)
class ScoringResult:
    """table: the aggregated terms, batch [M]; per_mode: the [M, K] terms before aggregation;
    time_to_at_fault_collision_s: float64[M], first at-fault collision in any kept mode (inf)."""

    table: ScoreTable
    per_mode: dict[str, NDArrayF64]
    time_to_at_fault_collision_s: NDArrayF64


class Scorer(Protocol):
    """Anything that scores candidates for one cycle."""

    def score(self, context: PlanningContext, candidates: Candidates) -> ScoringResult: ...


class UrbanScorer:
    """Safety, rules, progress, comfort and passenger experience (module doc); `Scorer`."""

    def __init__(
        self, drivable_area: DrivableAreaGrid, config: ScoringConfig | None = None
    ) -> None:
        self.drivable_area = drivable_area
        self.config = config if config is not None else ScoringConfig()

    def score(self, context: PlanningContext, candidates: Candidates) -> ScoringResult:
        """Every term of `candidates`, each distinct trajectory scored once (candidates with
        the same states bit for bit get the same row: every term is a function of the row,
        the progress normalised by a maximum, `distinct_candidates`)."""
        config, probs = self.config, context.agents.mode_probs
        distinct = distinct_candidates(candidates.states)
        if distinct is None:
            scored, inverse = candidates, None
        else:
            keep, inverse = distinct
            scored = Candidates(candidates.times_s, candidates.states[keep], candidates.kind[keep],
                                tuple(candidates.labels[i] for i in keep))  # fmt: skip

        def full(values: NDArrayF64) -> NDArrayF64:
            """A term of the distinct candidates for every candidate."""
            return values if inverse is None else values[inverse]

        inputs = scoring_inputs(context, scored, config)
        if config.broad_phase == BroadPhase.PAIRS:
            collisions, per_mode = self._agent_terms_on_rows(inputs)
        else:
            collisions, per_mode = self._agent_terms(inputs)
        per_mode["headway"] = fast_terms.headway(
            inputs, context.agents, context.ego_size_m, config.headway
        )
        per_mode = {name: full(values) for name, values in per_mode.items()}
        columns = {
            name: aggregate_modes(v, probs, config.risk, config.cvar_alpha)
            for name, v in per_mode.items()
        }
        columns["drivable_area"] = full(fast_terms.drivable_area(inputs, self.drivable_area))
        columns["driving_direction"] = full(terms.driving_direction(inputs))
        columns["red_light"] = full(terms.red_light(inputs, context.red_stop))
        hard = np.prod(np.stack([columns[name] for name in HARD_TERMS]), axis=0)
        safe = hard >= config.safe_hard_min
        columns["progress"] = full(terms.progress(inputs, safe if inverse is None else safe[keep]))
        columns["speed_limit"] = full(terms.speed_limit(inputs))
        comfort, smoothness, braking = terms.comfort(inputs, config.comfort)
        columns["comfort"], columns["smoothness"] = full(comfort), full(smoothness)
        columns["braking"] = full(braking)
        columns["lane_centering"] = full(fast_terms.lane_centering(inputs))
        horizon = round(config.consistency_horizon_s / context.dt_s) + 1
        columns["consistency"] = full(
            terms.consistency(inputs, context.previous_xy, horizon, config.consistency_scale_m)
        )
        table = ScoreTable.from_columns(columns, HARD_TERMS, dict(config.weights))
        return ScoringResult(
            table, per_mode, full(first_at_fault_time(collisions, context.times_s))
        )

    def _agent_terms(
        self, inputs: terms.ScoringInputs
    ) -> tuple[AtFaultCollisionResult, dict[str, NDArrayF64]]:
        """(collisions, the [M, K] terms against the agents) on every mode's agents."""
        config = self.config
        collisions = terms.at_fault_collisions(inputs, config.collision)
        return collisions, {
            "no_at_fault_collision": collisions.multiplier,
            "crosswalk_yield": terms.crosswalk_yield(inputs, config.crosswalk_yield),
            "time_to_collision": terms.time_to_collision(
                inputs, collisions, config.time_to_collision, config.ttc_step_stride
            ),
            "vru_clearance": terms.vulnerable_clearance(
                inputs, config.required_vru_clearance_m, config.vru_clearance_floor_m
            ),
        }

    def _agent_terms_on_rows(
        self, inputs: terms.ScoringInputs
    ) -> tuple[AtFaultCollisionResult, dict[str, NDArrayF64]]:
        """`_agent_terms` on the modes' distinct agent rows (`SharedRows`) and the sparse
        pairs (`pairs.contacts_on_rows`, `pairs.projection_pairs`): the same values."""
        config = self.config
        shared = shared_rows(inputs.agents)
        rows = shared.rows
        ego = row_terms.buffered_ego(inputs)
        agents = AgentStates(rows.xy[None], rows.heading[None], rows.velocity[None],
                             rows.size_m, rows.types, rows.valid[None])  # fmt: skip
        boxes = row_terms.row_boxes(inputs, shared)
        contact, first = contacts_on_rows(ego, rows, config.required_vru_clearance_m, boxes)
        collisions = row_terms.at_fault_collisions(
            inputs, shared, config.collision, contact, first, boxes
        )
        # no pair changes the TTC flag of a (candidate, mode) with an at-fault collision at a
        # TTC step (TTC 0 there)
        stride = config.ttc_step_stride
        # the TTC's steps of the boxes, cut once for the pair search and the TTC
        strided_boxes = None if boxes is None else row_terms.boxes_at_steps(boxes, stride)
        window = _projection_window(terms.score_horizon(config.time_to_collision))
        projection: tuple[NDArrayInt, ...] | Callable[..., None]
        if metric_kernels.enabled():  # the pairs tested as the search finds them
            projection = projection_search(ego, rows, window, stride, strided_boxes)
        else:
            decided = shared.all_modes(collisions.at_fault_step[..., ::stride].any(-1))  # [M, U]
            candidate, _, row, step = projection_pairs(
                ego, agents, window, config.ttc_step_stride, decided[:, None]
            )
            projection = (candidate, row, step)
        return collisions, {
            "no_at_fault_collision": collisions.multiplier,
            "crosswalk_yield": row_terms.crosswalk_yield(
                inputs, shared, config.crosswalk_yield, boxes
            ),
            "time_to_collision": row_terms.time_to_collision(
                inputs, shared, collisions, config.time_to_collision, config.ttc_step_stride,
                projection, first, strided_boxes,
            ),
            "vru_clearance": row_terms.vulnerable_clearance(
                inputs, shared, config.required_vru_clearance_m, contact, collisions,
                config.vru_clearance_floor_m, boxes,
            ),
        }  # fmt: skip


def distinct_candidates(states: NDArrayF64) -> tuple[NDArrayInt, NDArrayInt] | None:
    """(keep int64[D], inverse int64[M]): the first of each set of candidates whose states
    float64[M, H, S] hold the same bits, in order, and the kept one standing for each
    candidate (states[keep][inverse] == states); None when all M differ."""
    num_candidates = states.shape[0]
    if num_candidates < 2:
        return None
    bits = np.ascontiguousarray(states, np.float64).reshape(num_candidates, -1).view(np.int64)
    if metric_kernels.enabled():  # the same rows found in one compiled pass
        keep, inverse = scoring_kernels.distinct_rows(bits)
        return None if keep.shape[0] == num_candidates else (keep, inverse)
    # a hash (the wrapping sum of the bits) proposes the copies; the bits decide
    _, first, inverse = np.unique(bits.sum(-1), return_index=True, return_inverse=True)
    if first.shape[0] == num_candidates:
        return None
    inverse = np.ravel(inverse)
    copy = np.flatnonzero(first[inverse] != np.arange(num_candidates))
    if not np.array_equal(bits[copy], bits[first[inverse[copy]]]):  # a hash collision
        rows = bits.view(np.dtype((np.void, bits.shape[1] * bits.itemsize))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        inverse = np.ravel(inverse)
        if first.shape[0] == num_candidates:
            return None
    order = np.argsort(first)  # the distinct rows in the order of their first candidate
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return first[order], rank[inverse]


def scoring_inputs(
    context: PlanningContext, candidates: Candidates, config: ScoringConfig
) -> terms.ScoringInputs:
    """Pack the candidates (box centres) and the relevant agents as metric inputs. The
    collision buffer widens the ego's box only where it meets agents (`ego_per_mode`:
    collisions, TTC, clearance, yielding), not for the drivable area or the red light."""
    states = candidates.states
    buffered = context.ego_size_m + np.asarray(config.collision_buffer_m)
    xy = metric_kernels.contiguous_pairs(states[..., CandidateIndex.X : CandidateIndex.Y + 1])
    ego = EgoStates(
        xy,
        states[..., CandidateIndex.HEADING],
        states[..., CandidateIndex.SPEED],
        context.ego_size_m,
    )
    ego_buffered = dataclasses.replace(ego, size_m=buffered)
    ego_per_mode = EgoStates(
        ego.xy[:, None], ego.heading[:, None], ego.speed_mps[:, None], buffered
    )
    s_m, d_m = states[..., CandidateIndex.S], states[..., CandidateIndex.D]
    lane = context.reference.lane_index_at(s_m)
    return terms.ScoringInputs(
        ego=ego,
        ego_per_mode=ego_per_mode,
        agents=relevant_agents(
            ego_buffered, context.agents.states, config.time_to_collision.time_horizon_s
        )
        if config.broad_phase == BroadPhase.AGENTS
        else _every_agent(context.agents.states),
        lanes=reference_lane_context(
            context.reference, s_m, d_m, float(context.ego_size_m[1]), lane
        ),
        reference=context.reference,
        s_m=s_m,
        d_m=d_m,
        dt_s=context.dt_s,
        lane_index=lane,
    )


def relevant_agents(ego: EgoStates, agents: AgentStates, lookahead_s: float) -> AgentStates:
    """The agents whose box, swept over `lookahead_s` at its velocity, meets the bounding box
    of all candidates (also swept) at some step and mode; the others cannot collide, come
    close or produce a TTC. Steps where an agent is out of reach are marked invalid."""
    reach = 0.5 * np.hypot(*np.asarray(ego.size_m, np.float64)) + 0.5 * np.hypot(
        agents.size_m[:, 0], agents.size_m[:, 1]
    )
    direction = np.stack([np.cos(ego.heading), np.sin(ego.heading)], -1)
    swept_ego = ego.xy + lookahead_s * ego.speed_mps[..., None] * direction  # [M, T, 2]
    low = np.minimum(ego.xy.min(0), swept_ego.min(0))  # [T, 2]
    high = np.maximum(ego.xy.max(0), swept_ego.max(0))
    swept_agent = agents.xy + lookahead_s * agents.velocity  # [K, A, T, 2]
    agent_low = np.minimum(agents.xy, swept_agent) - reach[:, None, None]
    agent_high = np.maximum(agents.xy, swept_agent) + reach[:, None, None]
    near = np.all((agent_low <= high) & (agent_high >= low), axis=-1) & agents.valid  # [K, A, T]
    keep = near.any(axis=(0, 2))
    return AgentStates(
        xy=agents.xy[:, keep],
        heading=agents.heading[:, keep],
        velocity=agents.velocity[:, keep],
        size_m=agents.size_m[keep],
        types=agents.types[keep],
        valid=near[:, keep],
    )


def _every_agent(agents: AgentStates) -> AgentStates:
    """The agents with `valid` broadcast over the modes: [K, A, T]."""
    valid = np.broadcast_to(agents.valid, agents.xy.shape[:-1]).copy()
    return AgentStates(
        agents.xy, agents.heading, agents.velocity, agents.size_m, agents.types, valid
    )


def _projection_window(config: TimeToCollisionConfig) -> tuple[float, float]:
    """(first, last) TTC projection time, seconds."""
    times = config.projection_times_s
    return float(times[0]), float(times[-1])


def first_at_fault_time(collisions: AtFaultCollisionResult, times_s: NDArrayF64) -> NDArrayF64:
    """float64[M]: earliest at-fault collision time over the modes, inf if none."""
    fault: NDArrayBool = collisions.at_fault_step  # [M, K, T]
    step = metric_kernels.first_true(fault)  # T where none
    first = np.where(step < fault.shape[-1], times_s[np.minimum(step, fault.shape[-1] - 1)], np.inf)
    return first.min(axis=-1)
