"""The Intelligent Driver Model (Treiber, Hennecke & Helbing 2000), vectorised.

a = a_max * [1 - (v / v0)^delta - (s* / s)^2],  s* = s0 + max(0, v*T + v*dv / (2*sqrt(a_max*b)))
with v the speed, v0 the desired speed, s the bumper-to-bumper gap to the leader, dv = v -
v_lead the approach rate, T the time headway, s0 the minimum gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64


@dataclass(frozen=True, slots=True)
class IdmConfig:
    """Defaults follow PDM-Closed's IDM (headway 1.5 s, min gap 1 m, a 1.5, b 3.0)."""

    headway_s: float = 1.5
    min_gap_m: float = 1.0
    max_accel_mps2: float = 1.5
    comfortable_decel_mps2: float = 3.0
    max_decel_mps2: float = 8.0
    exponent: float = 4.0

    def __post_init__(self) -> None:
        positive = ("headway_s", "max_accel_mps2", "comfortable_decel_mps2", "max_decel_mps2")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"IdmConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.min_gap_m < 0:
            raise ValueError(f"IdmConfig.min_gap_m must be >= 0, got {self.min_gap_m}")
        if self.max_decel_mps2 < self.comfortable_decel_mps2:
            raise ValueError("IdmConfig.max_decel_mps2 must be >= comfortable_decel_mps2")


def idm_acceleration(
    speed_mps: NDArrayF64,
    desired_speed_mps: NDArrayF64,
    gap_m: NDArrayF64,
    lead_speed_mps: NDArrayF64,
    config: IdmConfig,
) -> NDArrayF64:
    """IDM acceleration, m/s², broadcast over any shape, clipped to [-max_decel, max_accel].

    gap_m = inf means a free road (no leader). A desired speed of 0 asks to stop.
    """
    speed = np.maximum(np.asarray(speed_mps, dtype=np.float64), 0.0)
    desired = np.maximum(np.asarray(desired_speed_mps, dtype=np.float64), 1e-3)
    gap = np.maximum(np.asarray(gap_m, dtype=np.float64), 1e-3)
    approach = speed - np.asarray(lead_speed_mps, dtype=np.float64)
    brake_term = (
        speed * approach / (2.0 * np.sqrt(config.max_accel_mps2 * config.comfortable_decel_mps2))
    )
    desired_gap = config.min_gap_m + np.maximum(0.0, speed * config.headway_s + brake_term)
    interaction = np.where(np.isinf(gap), 0.0, (desired_gap / gap) ** 2)
    free_road = (speed / desired) ** config.exponent
    accel = config.max_accel_mps2 * (1.0 - free_road - interaction)
    return np.clip(accel, -config.max_decel_mps2, config.max_accel_mps2)


def desired_gap(speed_mps: NDArrayF64, lead_speed_mps: NDArrayF64, config: IdmConfig) -> NDArrayF64:
    """IDM's desired gap s* (m): s0 + max(0, v*T + v*(v - v_lead) / (2*sqrt(a_max*b)))."""
    speed = np.maximum(np.asarray(speed_mps, dtype=np.float64), 0.0)
    approach = speed - np.asarray(lead_speed_mps, dtype=np.float64)
    brake_term = (
        speed * approach / (2.0 * np.sqrt(config.max_accel_mps2 * config.comfortable_decel_mps2))
    )
    return config.min_gap_m + np.maximum(0.0, speed * config.headway_s + brake_term)
