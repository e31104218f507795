"""Selection: the best total score, with hysteresis and PDM's emergency stop.

1. If every candidate breaks a hard constraint (aggregated hard product below
   `min_hard_product`), take the best emergency stop: the highest hard product, then the
   latest predicted at-fault collision, then the soft terms.
2. PDM's rule: if the chosen candidate has an at-fault collision within
   `emergency_collision_horizon_s` while the ego is no faster than `emergency_max_speed_mps`,
   take the best emergency stop instead.
3. Otherwise the best total, unless the candidate with the previous cycle's label is within
   `hysteresis_margin` of it: then keep that one (no flicker between near-equal manoeuvres).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.planning.proposals.candidates import CandidateIndex, Candidates, ProposalKind
from urbandrive.planning.scoring.table import ScoreTable


class SelectionReason(enum.IntEnum):
    BEST_SCORE = 0
    KEPT_PREVIOUS = 1
    ALL_UNSAFE = 2
    IMMINENT_COLLISION = 3


@dataclass(frozen=True, slots=True)
class SelectionConfig:
    hysteresis_margin: float = 0.03
    min_hard_product: float = 0.5
    emergency_collision_horizon_s: float = 2.0
    emergency_max_speed_mps: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.hysteresis_margin < 1 or not 0 < self.min_hard_product <= 1:
            raise ValueError("need 0 <= hysteresis_margin < 1 and 0 < min_hard_product <= 1")
        if self.emergency_collision_horizon_s < 0 or self.emergency_max_speed_mps < 0:
            raise ValueError("emergency thresholds must be >= 0")


@dataclass(frozen=True, slots=True)
class Selection:
    index: int
    reason: SelectionReason


def select(
    table: ScoreTable,
    candidates: Candidates,
    time_to_at_fault_collision_s: NDArrayF64,
    ego_speed_mps: float,
    previous_label: str | None,
    config: SelectionConfig,
) -> Selection:
    """The candidate to drive (rules: module doc)."""
    total = table.total()
    if table.hard_product().max() < config.min_hard_product:
        return Selection(
            best_emergency_stop(table, candidates, time_to_at_fault_collision_s),
            SelectionReason.ALL_UNSAFE,
        )
    best = int(np.argmax(total))
    imminent = time_to_at_fault_collision_s[best] <= config.emergency_collision_horizon_s
    if imminent and ego_speed_mps <= config.emergency_max_speed_mps:
        return Selection(
            best_emergency_stop(table, candidates, time_to_at_fault_collision_s),
            SelectionReason.IMMINENT_COLLISION,
        )
    if previous_label is not None and previous_label in candidates.labels:
        kept = candidates.labels.index(previous_label)
        if total[kept] >= total[best] - config.hysteresis_margin and total[kept] > 0:
            return Selection(kept, SelectionReason.KEPT_PREVIOUS)
    return Selection(best, SelectionReason.BEST_SCORE)


def best_emergency_stop(
    table: ScoreTable,
    candidates: Candidates,
    time_to_at_fault_collision_s: NDArrayF64 | None = None,
) -> int:
    """Row of the emergency stop with the best hard product, then the latest at-fault collision
    (`time_to_at_fault_collision_s: float64[M]`, inf for none; None: not compared), then the
    slowest at that collision, then the best soft score; the last row if there is none (then
    the caller's candidates lack stops). A comfortable stop that still hits is not taken over a
    hard one that hits later or not at all (town:standard cyclist_merge-001: the ego braked at
    3.5 m/s^2 into a cyclist it could have stopped short of), nor over one that hits at the
    same step more slowly (cut_in-003: both stops hit 0.2 s ahead in the buffered check, the
    comfortable one won on comfort and the ego hit the car at 8.7 m/s)."""
    stops = np.flatnonzero(candidates.kind == ProposalKind.EMERGENCY_STOP)
    if stops.size == 0:
        return int(np.argmax(table.total()))
    later = np.zeros(stops.size)
    slower = np.zeros(stops.size)
    if time_to_at_fault_collision_s is not None:
        later = time_to_at_fault_collision_s[stops]
        hits = np.isfinite(later)
        dt_s = float(candidates.times_s[1] - candidates.times_s[0])
        step = np.round(np.where(hits, later, 0.0) / dt_s).astype(np.int64)
        step = np.minimum(step, candidates.times_s.shape[0] - 1)
        speed = candidates.states[stops, step, CandidateIndex.SPEED]
        slower = np.where(hits, -speed, 0.0)
    soft = table.soft_score()[stops]
    order = np.lexsort((soft, slower, later, table.hard_product()[stops]))
    return int(stops[order[-1]])
