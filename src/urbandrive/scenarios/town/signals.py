"""Fixed-time signal phase plans, and the light / walk states they give over time.

Each signalised intersection serves its east-west axis, then its north-south axis. An axis
gets an optional protected-left phase (lefts GREEN, then YELLOW, then all-red) followed by its
through phase: through and right heads GREEN, opposed lefts FLASHING_YELLOW (permissive,
yield to oncoming traffic) or RED where the axis has protected-only lefts; pedestrians
crossing parallel to the axis get WALK, then FLASHING_DONT_WALK for the crossing time; then
YELLOW and all-red. Turning vehicles yield to pedestrians and bikes on their green.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.traffic_light import TrafficLightState as Light
from urbandrive.core.traffic_light import TrafficLightStates
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.scenarios.town.config import SignalTimingConfig
from urbandrive.scenarios.town.intersections import BuiltIntersection, SignalHead
from urbandrive.scenarios.town.records import Arm, Movement, PhasePlan, Town, WalkSignalState

AXIS_ARMS = ((Arm.EAST, Arm.WEST), (Arm.NORTH, Arm.SOUTH))
AXIS_NAMES = ("east-west", "north-south")


@dataclass(frozen=True, slots=True)
class WalkSignals:
    """crosswalk_ids: int64[C] (every crosswalk of the map); states: int8[C, T] (`WalkSignalState`)."""

    crosswalk_ids: NDArrayInt
    states: NDArrayInt


@dataclass(frozen=True, slots=True)
class _Phase:
    name: str
    duration_s: float
    heads: dict[int, Light]  # signal id -> state; missing heads are RED
    walk: WalkSignalState  # state of the crosswalks parallel to the phase's axis
    axis: int


def plan_phases(
    timing: SignalTimingConfig, built: BuiltIntersection, rng: np.random.Generator
) -> PhasePlan:
    """A fixed-time cycle for one signalised intersection, with a random offset."""
    heads = built.heads
    phases: list[_Phase] = []
    protected_axes = []
    for axis in (0, 1):
        lefts = [h for h in heads if h.arm in AXIS_ARMS[axis] and h.movement == Movement.LEFT]
        opposed = [h for h in lefts if _is_opposed(heads, h)]
        can_protect = bool(opposed) and all(built.has_pocket[h.arm] for h in opposed)
        protect = bool(rng.random() < timing.protected_left_probability) and can_protect
        if protect:
            protected_axes.append(axis)
            phases += _protected_left_phases(timing, axis, lefts, rng)
        crossing_m = 2 * built.arm_streets[AXIS_ARMS[1 - axis][0]].half_width_m
        phases += _through_phases(timing, axis, heads, protect, crossing_m, rng)
    return _to_plan(built, phases, tuple(protected_axes), rng)


def _is_opposed(heads: tuple[SignalHead, ...], left: SignalHead) -> bool:
    """Whether traffic comes straight on from the opposite arm (a permissive left yields to it)."""
    opposite = (left.arm + 2) % 4
    return any(h.arm == opposite and h.movement == Movement.STRAIGHT for h in heads)


def _protected_left_phases(
    timing: SignalTimingConfig, axis: int, lefts: list[SignalHead], rng: np.random.Generator
) -> list[_Phase]:
    green_s = float(rng.uniform(timing.left_green_min_s, timing.left_green_max_s))
    name = f"{AXIS_NAMES[axis]} protected left"
    dont_walk = WalkSignalState.DONT_WALK
    return [
        _Phase(name, green_s, {h.signal_id: Light.GREEN for h in lefts}, dont_walk, axis),
        _Phase(
            f"{name} yellow",
            timing.yellow_s,
            {h.signal_id: Light.YELLOW for h in lefts},
            dont_walk,
            axis,
        ),
        _Phase(f"{name} all red", timing.all_red_s, {}, dont_walk, axis),
    ]


def _through_phases(
    timing: SignalTimingConfig,
    axis: int,
    heads: tuple[SignalHead, ...],
    lefts_protected: bool,
    crossing_m: float,
    rng: np.random.Generator,
) -> list[_Phase]:
    """Through green split into walk / clearance / rest, then yellow and all-red."""
    green_states: dict[int, Light] = {}
    for head in heads:
        if head.arm not in AXIS_ARMS[axis]:
            continue
        if head.movement != Movement.LEFT:
            green_states[head.signal_id] = Light.GREEN
        elif not lefts_protected:
            green_states[head.signal_id] = (
                Light.FLASHING_YELLOW if _is_opposed(heads, head) else Light.GREEN
            )
    clearance_s = crossing_m / timing.pedestrian_speed_mps
    green_s = max(
        float(rng.uniform(timing.through_green_min_s, timing.through_green_max_s)),
        timing.walk_s + clearance_s + 1.0,
    )
    yellow_states = dict.fromkeys(green_states, Light.YELLOW)
    name = f"{AXIS_NAMES[axis]} through"
    return [
        _Phase(f"{name} walk", timing.walk_s, green_states, WalkSignalState.WALK, axis),
        _Phase(
            f"{name} pedestrian clearance",
            clearance_s,
            green_states,
            WalkSignalState.FLASHING_DONT_WALK,
            axis,
        ),
        _Phase(
            name,
            green_s - timing.walk_s - clearance_s,
            green_states,
            WalkSignalState.DONT_WALK,
            axis,
        ),
        _Phase(f"{name} yellow", timing.yellow_s, yellow_states, WalkSignalState.DONT_WALK, axis),
        _Phase(f"{name} all red", timing.all_red_s, {}, WalkSignalState.DONT_WALK, axis),
    ]


def _to_plan(
    built: BuiltIntersection,
    phases: list[_Phase],
    protected_axes: tuple[int, ...],
    rng: np.random.Generator,
) -> PhasePlan:
    """Pack phases into the plan's arrays."""
    heads = built.heads
    crosswalk_ids = np.asarray(built.intersection.crosswalk_ids, dtype=np.int64)
    crosswalk_axis = np.array([0 if arm in AXIS_ARMS[1] else 1 for arm in Arm])  # parallel traffic
    signal_states = np.full((len(phases), len(heads)), int(Light.RED), dtype=np.int8)
    walk_states = np.full(
        (len(phases), len(crosswalk_ids)), int(WalkSignalState.DONT_WALK), dtype=np.int8
    )
    for row, phase in enumerate(phases):
        for column, head in enumerate(heads):
            signal_states[row, column] = int(phase.heads.get(head.signal_id, Light.RED))
        walk_states[row, crosswalk_axis == phase.axis] = int(phase.walk)
    durations = np.array([phase.duration_s for phase in phases], dtype=np.float64)
    return PhasePlan(
        intersection_id=built.intersection.id,
        signal_ids=np.array([h.signal_id for h in heads], dtype=np.int64),
        head_arms=np.array([h.arm for h in heads], dtype=np.int8),
        head_movements=np.array([h.movement for h in heads], dtype=np.int8),
        crosswalk_ids=crosswalk_ids,
        phase_names=tuple(phase.name for phase in phases),
        phase_durations_s=durations,
        signal_states=signal_states,
        walk_states=walk_states,
        offset_s=float(rng.uniform(0.0, durations.sum())),
        protected_left_axes=protected_axes,
    )


def light_states(town: Town, times_s: NDArrayF64) -> TrafficLightStates:
    """States of every signal head of the town at `times_s: float64[T]` (seconds).

    Returns signal_ids int64[S] (plans in intersection order) and states int8[S, T].
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    plans = list(town.phase_plans.values())
    if not plans:
        return TrafficLightStates(np.zeros(0, np.int64), np.zeros((0, times_s.shape[0]), np.int8))
    signal_ids = np.concatenate([plan.signal_ids for plan in plans])
    states = np.concatenate([plan.signal_states[plan.phase_index(times_s)].T for plan in plans])
    return TrafficLightStates(signal_ids=signal_ids, states=states.astype(np.int8))


def walk_signals(town: Town, times_s: NDArrayF64) -> WalkSignals:
    """Pedestrian signal of every crosswalk at `times_s: float64[T]`; UNCONTROLLED where none."""
    times_s = np.asarray(times_s, dtype=np.float64)
    crosswalk_ids = town.crosswalk_table.crosswalk_ids
    states = np.full(
        (crosswalk_ids.shape[0], times_s.shape[0]), int(WalkSignalState.UNCONTROLLED), np.int8
    )
    row_of = {int(c): row for row, c in enumerate(crosswalk_ids)}
    for plan in town.phase_plans.values():
        rows = np.array([row_of[int(c)] for c in plan.crosswalk_ids], dtype=np.int64)
        states[rows] = plan.walk_states[plan.phase_index(times_s)].T
    return WalkSignals(crosswalk_ids=crosswalk_ids, states=states)
