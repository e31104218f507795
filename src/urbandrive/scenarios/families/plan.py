"""What a family asks the builder for: where the ego drives, which agents to stage (drivers,
walkers, static bodies) and which actors replay a script (puppets), plus the facts its pass
criterion needs. Scripts are sampled on the recording's steps (dt 0.1 s, step 0 = first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from urbandrive.agents.traffic import DT_S, AgentKind, PathRow
from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.typing import NDArrayBool, NDArrayF64
from urbandrive.geometry.angles import wrap_angle

CAR_SIZE_M = DEFAULT_SIZE_M[AgentType.VEHICLE]
#: The ego is judged from this step on (2 s of history).
CURRENT_INDEX = 20


@dataclass(frozen=True, slots=True)
class Driver:
    """A lane-following agent simulated by the traffic model from the first step.

    lanes: its route (lane ids); path: `lane_route_path` of it (or a custom path over them);
    s_m / speed_mps: where and how fast it starts; speed_factor: desired speed / limit;
    critical_gap_s: the gap it accepts for an unprotected left (None: its sampled one)."""

    name: str
    lanes: tuple[int, ...]
    path: PathRow
    s_m: float
    speed_mps: float
    kind: AgentKind = AgentKind.CAR
    size_m: tuple[float, float] = CAR_SIZE_M
    speed_factor: float = 0.95
    critical_gap_s: float | None = None


@dataclass(frozen=True, slots=True)
class Walker:
    """A pedestrian simulated by the walker model: path (points 1 m apart, walkers' corners
    kept), crossing events (see `pack_events`), start `s_m`, walking speed m/s."""

    name: str
    path: PathRow
    events: tuple[tuple, ...]
    s_m: float
    speed_mps: float


@dataclass(frozen=True, slots=True)
class Static:
    """A body that never moves: xy float64[2], heading, size (length, width), its type and
    boolean attributes set True (e.g. "is_parked", "is_double_parked", "hazard_lights")."""

    name: str
    xy: NDArrayF64
    heading_rad: float
    size_m: tuple[float, float]
    agent_type: AgentType = AgentType.VEHICLE
    flags: tuple[str, ...] = ("is_parked",)


@dataclass(frozen=True, slots=True)
class Puppet:
    """An actor replaying a script: xy float64[T, 2], heading / speed float64[T], valid
    bool[T] over the recording's T steps. With `release_lanes`, at `release_step` it becomes
    a driver of `release_kind` along `release_path` (the traffic model drives it from there,
    wanting `release_speed_factor` of the limit)."""

    name: str
    agent_type: AgentType
    size_m: tuple[float, float]
    xy: NDArrayF64
    heading: NDArrayF64
    speed_mps: NDArrayF64
    valid: NDArrayBool
    release_step: int | None = None
    release_path: PathRow | None = None
    release_kind: AgentKind = AgentKind.CAR
    release_speed_factor: float = 0.95


@dataclass(frozen=True, slots=True)
class Corridor:
    """Agents within `half_width_m` of the polyline xy float64[P, 2] when the situation is
    staged are taken off the map (room for the scripted situation)."""

    xy: NDArrayF64
    half_width_m: float


@dataclass(frozen=True, slots=True)
class Plan:
    """A family's situation. delay_s: let the background run this long first (to meet a
    light phase); duration_s: recorded length; anchor_xy: float64[2], the situation's centre;
    key_actors: names of the actors the family is about; checks: JSON-ready facts for its
    pass criterion; params: the parameters used."""

    ego: Driver
    duration_s: float
    anchor_xy: NDArrayF64
    params: dict[str, float]
    delay_s: float = 0.0
    drivers: tuple[Driver, ...] = ()
    walkers: tuple[Walker, ...] = ()
    statics: tuple[Static, ...] = ()
    puppets: tuple[Puppet, ...] = ()
    corridors: tuple[Corridor, ...] = ()
    key_actors: tuple[str, ...] = ()
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        return round(self.duration_s / DT_S) + 1


def integrate_speed(
    speed0_mps: float, accel_mps2: NDArrayF64, max_speed_mps: float = 30.0
) -> tuple[NDArrayF64, NDArrayF64]:
    """Arc length s float64[T] (from 0) and speed float64[T] of a body starting at `speed0_mps`
    under `accel_mps2: float64[T]` (step k's acceleration acts over [k, k + 1]); speed is
    clamped to [0, max_speed_mps]."""
    speed = np.empty_like(accel_mps2)
    speed[0] = speed0_mps
    for index in range(1, accel_mps2.shape[0]):
        speed[index] = min(max(speed[index - 1] + accel_mps2[index - 1] * DT_S, 0.0), max_speed_mps)
    distance = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * DT_S)])
    return distance, speed


def headings_of(xy: NDArrayF64, initial_rad: float) -> NDArrayF64:
    """float64[T]: direction of motion of a track xy float64[T, 2], held where it moves
    less than 1 cm a step (starting from `initial_rad`)."""
    delta = np.gradient(xy, axis=0)
    moving = np.linalg.norm(delta, axis=1) > 1e-2
    raw = np.arctan2(delta[:, 1], delta[:, 0])
    heading = np.empty(xy.shape[0])
    last = initial_rad
    for index in range(xy.shape[0]):
        last = float(raw[index]) if moving[index] else last
        heading[index] = last
    return wrap_angle(heading)


def puppet_from_track(
    name: str,
    agent_type: AgentType,
    size_m: tuple[float, float],
    xy: NDArrayF64,
    initial_heading_rad: float,
    valid: NDArrayBool | None = None,
    **release: Any,
) -> Puppet:
    """A puppet following xy float64[T, 2]: headings from its motion, speeds from finite
    differences."""
    speed = np.linalg.norm(np.gradient(xy, DT_S, axis=0), axis=1)
    heading = headings_of(xy, initial_heading_rad)
    valid = np.ones(xy.shape[0], dtype=bool) if valid is None else valid
    return Puppet(name, agent_type, size_m, xy, heading, speed, valid, **release)


def smoothstep(ratio: NDArrayF64) -> NDArrayF64:
    """0 -> 1 with zero slope at both ends, clipped outside [0, 1]."""
    clipped = np.clip(ratio, 0.0, 1.0)
    return clipped * clipped * (3.0 - 2.0 * clipped)
