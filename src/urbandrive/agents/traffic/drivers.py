"""Per-agent driver parameters (struct of arrays), their sampling, and IDM with per-agent
parameters.

`urbandrive.agents.idm.idm_acceleration` takes one scalar `IdmConfig` for everyone; town traffic
samples headway, minimum gap, acceleration and politeness per driver, so the law is applied
here with arrays in place of the config's scalars (same formula, same clipping).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64, NDArrayInt


@dataclass(frozen=True, slots=True)
class DriverSampling:
    """Uniform ranges `(low, high)` each per-driver parameter is drawn from.

    speed_factor: desired speed as a fraction of the lane's limit. critical_gap_s: smallest
    time gap to oncoming traffic accepted for an unprotected left turn.
    """

    speed_factor: tuple[float, float] = (0.85, 1.1)
    headway_s: tuple[float, float] = (1.0, 2.0)
    min_gap_m: tuple[float, float] = (1.5, 3.0)
    max_accel_mps2: tuple[float, float] = (1.2, 2.2)
    comfortable_decel_mps2: tuple[float, float] = (2.0, 3.5)
    politeness: tuple[float, float] = (0.0, 0.6)
    critical_gap_s: tuple[float, float] = (4.0, 6.0)

    def __post_init__(self) -> None:
        for name in self.__slots__:
            low, high = getattr(self, name)
            if not 0.0 <= low <= high:
                raise ValueError(
                    f"DriverSampling.{name} must satisfy 0 <= low <= high, got {low, high}"
                )
        if self.headway_s[0] <= 0 or self.max_accel_mps2[0] <= 0:
            raise ValueError("DriverSampling: headway_s and max_accel_mps2 must be > 0")
        if self.comfortable_decel_mps2[0] <= 0 or self.speed_factor[0] <= 0:
            raise ValueError("DriverSampling: comfortable_decel_mps2 and speed_factor must be > 0")


@dataclass(frozen=True, slots=True)
class DriverParams:
    """One value per agent, every field float64[A]: units in the names. max_decel_mps2 is the
    emergency limit IDM is clipped to."""

    speed_factor: NDArrayF64
    headway_s: NDArrayF64
    min_gap_m: NDArrayF64
    max_accel_mps2: NDArrayF64
    comfortable_decel_mps2: NDArrayF64
    max_decel_mps2: NDArrayF64
    politeness: NDArrayF64
    critical_gap_s: NDArrayF64

    @property
    def num_agents(self) -> int:
        return int(self.speed_factor.shape[0])

    def select(self, rows: NDArrayInt) -> DriverParams:
        """The drivers at `rows: int[R]`, in that order."""
        return DriverParams(**{name: getattr(self, name)[rows] for name in self.__slots__})


#: Emergency deceleration every driver may use, m/s².
MAX_DECEL_MPS2 = 8.0


def sample_drivers(
    num_agents: int, sampling: DriverSampling, rng: np.random.Generator
) -> DriverParams:
    """Draw `num_agents` drivers; the draws happen in field order, so a seed fixes them all."""
    values = {
        name: rng.uniform(*getattr(sampling, name), size=num_agents)
        for name in DriverSampling.__slots__
    }
    return DriverParams(max_decel_mps2=np.full(num_agents, MAX_DECEL_MPS2), **values)


def idm_accelerations(
    speed_mps: NDArrayF64,
    desired_speed_mps: NDArrayF64,
    gap_m: NDArrayF64,
    lead_speed_mps: NDArrayF64,
    drivers: DriverParams,
) -> NDArrayF64:
    """IDM acceleration per agent, m/s², clipped to [-max_decel, max_accel]; all float64[A].

    gap_m = inf: free road. desired speed 0 asks to stop.
    """
    speed = np.maximum(speed_mps, 0.0)
    desired = np.maximum(desired_speed_mps, 1e-3)
    gap = np.maximum(gap_m, 1e-3)
    accel_max, decel = drivers.max_accel_mps2, drivers.comfortable_decel_mps2
    brake_term = speed * (speed - lead_speed_mps) / (2.0 * np.sqrt(accel_max * decel))
    wanted_gap = drivers.min_gap_m + np.maximum(0.0, speed * drivers.headway_s + brake_term)
    interaction = np.where(np.isinf(gap), 0.0, (wanted_gap / gap) ** 2)
    accel = accel_max * (1.0 - (speed / desired) ** 4 - interaction)
    return np.clip(accel, -drivers.max_decel_mps2, accel_max)
