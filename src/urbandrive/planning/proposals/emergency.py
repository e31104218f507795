"""Emergency stops: brake along the current path (the ego's lateral offset held), at the
largest comfortable deceleration and at the hard limit. The selector falls back to the best of
them when every candidate breaks a hard constraint (PDM's emergency brake)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.planning.proposals.candidates import Candidates, ProposalKind, pack_states
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.proposals.pdm import frenet_trajectory


@dataclass(frozen=True, slots=True)
class EmergencyStopConfig:
    """Decelerations (positive, m/s^2): nuPlan's comfort bound is 4.05, the car's limit ~8."""

    comfortable_decel_mps2: float = 4.0
    hard_decel_mps2: float = 7.0

    def __post_init__(self) -> None:
        if not 0 < self.comfortable_decel_mps2 <= self.hard_decel_mps2:
            raise ValueError("need 0 < comfortable_decel_mps2 <= hard_decel_mps2")


class EmergencyStopGenerator:
    """Two braking candidates along the current path; implements `ProposalGenerator`."""

    name = "emergency_stop"

    def __init__(self, config: EmergencyStopConfig | None = None) -> None:
        self.config = config if config is not None else EmergencyStopConfig()

    def generate(self, context: PlanningContext) -> Candidates:
        decel = np.array([self.config.comfortable_decel_mps2, self.config.hard_decel_mps2])
        s_m, speed, accel = braking_profiles(context, decel)
        d_m = np.full_like(s_m, context.d_now_m)
        trajectory = frenet_trajectory(context, s_m, d_m, speed, accel)
        states = pack_states(trajectory.xy, trajectory.heading, speed, accel, s_m, d_m)
        kind = np.full(decel.size, ProposalKind.EMERGENCY_STOP, dtype=np.int64)
        return Candidates(context.times_s, states, kind, ("stop comfortable", "stop hard"))


def braking_profiles(
    context: PlanningContext, decel_mps2: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """s, speed, acceleration float64[B, H] braking at `decel_mps2[B]` from now to a stop."""
    times = context.times_s[None]
    speed_now = max(context.ego_speed_mps, 0.0)
    stop_time = speed_now / decel_mps2[:, None]
    moving_time = np.minimum(times, stop_time)
    speed = speed_now - decel_mps2[:, None] * moving_time
    s_m = context.s_now_m + speed_now * moving_time - 0.5 * decel_mps2[:, None] * moving_time**2
    accel = np.where(times < stop_time, -decel_mps2[:, None], 0.0)
    return s_m, speed, accel
