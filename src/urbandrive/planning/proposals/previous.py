"""The previous cycle's plan, continued: one candidate that keeps a manoeuvre as planned.

Every generator plans from now, so a lane change or nudge re-planned each cycle starts over
with its whole duration and zero lateral acceleration: kept by hysteresis, it never finishes
in the time its first plan (the one scored safe) promised. On town:standard double_parked-002
the ego, committed to "left lane T3", was still only 1.4 m across after 2.4 s and clipped the
parked car. Offering the previous plan itself (re-timed, its tail extended at its last speed,
its start pulled onto the ego's actual pose over `blend_s`) lets the selection keep it. The
planner keeps the plan it continues (not the continuation, whose straight extension would
drift off a curved reference), up to `max_age_s`.
Only a plan that still has to move the ego sideways (by `min_lateral_move_m`) is offered: kept by hysteresis
and scoring full consistency, a plain speed profile held on too long (the ego kept its old
speed plan into a right turn while a pedestrian stepped out: right_turn_pedestrians-000).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.planning.proposals.candidates import Candidates, ProposalKind, pack_states
from urbandrive.planning.proposals.context import PlanningContext

#: The label of the continued plan (the hysteresis matches on it).
PREVIOUS_LABEL = "previous plan"


@dataclass(frozen=True, slots=True)
class PreviousPlanConfig:
    """blend_s: the gap between the ego now and the old plan's pose now closes linearly over
    this time; max_age_s: an older plan is not offered; min_lateral_move_m: nor one whose
    lateral offset changes less than this over the horizon."""

    blend_s: float = 1.0
    max_age_s: float = 5.0
    min_lateral_move_m: float = 0.5

    def __post_init__(self) -> None:
        if self.blend_s <= 0 or self.max_age_s <= 0 or self.min_lateral_move_m < 0:
            raise ValueError("blend_s and max_age_s must be > 0, min_lateral_move_m >= 0")


class PreviousPlanGenerator:
    """The previous plan continued (module doc); implements `ProposalGenerator`."""

    name = "previous"

    def __init__(self, config: PreviousPlanConfig | None = None) -> None:
        self.config = config if config is not None else PreviousPlanConfig()

    def generate(self, context: PlanningContext) -> Candidates:
        plan = context.previous_plan
        times = context.times_s
        if plan is None or not 0 < context.previous_age_s <= self.config.max_age_s:
            return Candidates(times, np.zeros((0, times.size, 7)), np.zeros(0, np.int64), ())
        xy, heading, speed, accel = continued(plan_arrays(plan), times + context.previous_age_s)
        blend = np.clip(1.0 - times / self.config.blend_s, 0.0, 1.0)[:, None]
        xy = xy + blend * (context.ego_center_xy - xy[0])
        if remaining_lateral_move_m(context) < self.config.min_lateral_move_m:
            return Candidates(times, np.zeros((0, times.size, 7)), np.zeros(0, np.int64), ())
        s_m, d_m = context.reference.path.to_frenet(xy)
        states = pack_states(xy, heading, speed, accel, s_m, d_m)
        return Candidates(times, states[None], np.array([ProposalKind.PREVIOUS]), (PREVIOUS_LABEL,))


def remaining_lateral_move_m(context: PlanningContext) -> float:
    """How far (m, across the reference) the previous plan still moves the ego: from its offset
    now to the plan's at its own end (not its straight-on extension, which drifts across a
    curved reference and kept a finished lane change alive on AV2 log adcf7d18)."""
    plan = context.previous_plan
    assert plan is not None
    _, d_end = context.reference.path.to_frenet(plan.xy[-1:])
    return float(abs(d_end[0] - context.d_now_m))


def plan_arrays(plan) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64]:
    """(times [T], xy [T, 2], heading [T], speed [T], accel [T]) of a batch-() `Trajectory`."""
    accel = plan.accel_mps2 if plan.accel_mps2 is not None else np.zeros_like(plan.speed_mps)
    return plan.times_s, plan.xy, plan.heading, plan.speed_mps, accel


def continued(
    arrays: tuple[NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64],
    query_s: NDArrayF64,
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64, NDArrayF64]:
    """xy [N, 2], heading, speed, accel [N] of the plan at `query_s[N]` (its own clock):
    interpolated inside it, beyond its end straight on at its last heading and speed."""
    times, xy, heading, speed, accel = arrays
    inside = np.clip(query_s, times[0], times[-1])
    out_xy = np.stack([np.interp(inside, times, xy[:, k]) for k in range(2)], -1)
    unwrapped = np.unwrap(heading)
    out_heading = np.angle(np.exp(1j * np.interp(inside, times, unwrapped)))
    out_speed = np.interp(inside, times, speed)
    out_accel = np.interp(inside, times, accel)
    beyond = np.maximum(query_s - times[-1], 0.0)
    direction = np.array([np.cos(heading[-1]), np.sin(heading[-1])])
    out_xy = out_xy + (beyond * speed[-1])[:, None] * direction
    return out_xy, out_heading, out_speed, np.where(beyond > 0, 0.0, out_accel)
