"""The closed loop, 10 Hz: observe -> plan -> track -> bicycle step, for the ego; others replay
their log or react (see `urbandrive.agents.reactive`).

Steps before the scenario's `current_index` are the log (history). From there on the ego is
driven by the planner through the tracker and the kinematic bicycle model; the simulated
scenario keeps the log's shape so every metric and renderer reads it like a logged one.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from urbandrive.agents.idm import IdmConfig
from urbandrive.agents.reactive import ReactiveAgents
from urbandrive.control.tracker import TrackerConfig, TrajectoryTracker
from urbandrive.core.errors import DataError
from urbandrive.core.observation import Observation, observation_at
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.trajectory import Trajectory
from urbandrive.core.typing import NDArrayF64
from urbandrive.dynamics.bicycle import (
    BicycleConfig,
    StateIndex,
    center_to_rear_axle,
    make_state,
    rear_axle_to_center,
    step,
)
from urbandrive.planning.interfaces import Plan, Planner


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """reactive: other vehicles yield to a deviating ego (IDM along their logged path);
    history_steps: how much past each observation holds; max_steps: cap on simulated steps
    (None: to the end of the scenario); keep_plans: store every step's Plan (for reports)."""

    reactive: bool = False
    history_steps: int = 20
    max_steps: int | None = None
    keep_plans: bool = True
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    idm: IdmConfig = field(default_factory=IdmConfig)

    def __post_init__(self) -> None:
        if self.history_steps < 1:
            raise ValueError(f"history_steps must be >= 1, got {self.history_steps}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")


@dataclass(frozen=True, slots=True)
class Rollout:
    """What happened. scenario: the simulated scenario (tracks hold the executed ego and the
    agents as simulated); expert: the scenario as logged; start_index / end_index: simulated
    steps are (start_index, end_index]; ego_states: float64[N + 1, S] rear-axle bicycle states;
    plans: the planner's output per step (empty unless keep_plans); planner_ms: float64[N];
    reactive_from: int64[A], step each agent began reacting, -1 if never; chosen: the plan's
    trajectory at every step (always kept: small; open-loop errors are measured on it)."""

    scenario: Scenario
    expert: Scenario
    start_index: int
    end_index: int
    ego_states: NDArrayF64
    planner_name: str
    planner_ms: NDArrayF64
    reactive_from: np.ndarray
    chosen: tuple[Trajectory, ...] = ()
    plans: tuple[Plan, ...] = ()


def simulate(
    scenario: Scenario, planner: Planner, config: SimulationConfig | None = None
) -> Rollout:
    """Run `planner` in closed loop over `scenario` from its current step to its end."""
    config = config if config is not None else SimulationConfig()
    ego = _check_simulatable(scenario)
    vehicle = config.tracker.vehicle
    tracker = TrajectoryTracker(config.tracker)
    start = scenario.current_index
    end = scenario.num_steps - 1
    if config.max_steps is not None:
        end = min(end, start + config.max_steps)
    world = _MutableTracks.copy_of(scenario.tracks)
    reactive = ReactiveAgents(scenario, ego, config.idm) if config.reactive else None
    state = initial_ego_state(scenario, vehicle)
    states, plans, chosen, planner_ms = [state], [], [], []
    for index in range(start, end):
        observation = _observe(scenario, world, index, config.history_steps)
        started = time.perf_counter()
        plan = planner.plan(observation)
        planner_ms.append((time.perf_counter() - started) * 1e3)
        command = tracker.command(state, _rear_axle_reference(plan.trajectory, vehicle), 0.0)
        state = step(state, command, scenario.dt_s, vehicle)
        world.set_ego(ego, index + 1, state, vehicle)
        if reactive is not None:
            reactive.step(world, index + 1, scenario.dt_s)
        states.append(state)
        chosen.append(plan.trajectory)
        if config.keep_plans:
            plans.append(plan)
    simulated = dataclasses.replace(scenario, tracks=world.frozen())
    return Rollout(
        scenario=simulated,
        expert=scenario,
        start_index=start,
        end_index=end,
        ego_states=np.stack(states),
        planner_name=planner.name,
        planner_ms=np.asarray(planner_ms),
        reactive_from=reactive.reactive_from
        if reactive is not None
        else np.full(scenario.tracks.num_agents, -1),
        chosen=tuple(chosen),
        plans=tuple(plans),
    )


def initial_ego_state(scenario: Scenario, vehicle: BicycleConfig) -> NDArrayF64:
    """The ego's bicycle state at the current step, from its log: rear-axle pose, speed along
    the heading, steering from the logged yaw rate (tan(steer) = wheelbase * yaw_rate / v)."""
    ego, now, tracks = scenario.ego_index, scenario.current_index, scenario.tracks
    heading = tracks.heading[ego, now]
    direction = np.array([np.cos(heading), np.sin(heading)])
    speed = max(0.0, float(tracks.velocity[ego, now] @ direction))
    steering = 0.0
    if now > 0 and tracks.valid[ego, now - 1] and speed > 1.0:
        yaw_rate = (
            float(np.angle(np.exp(1j * (heading - tracks.heading[ego, now - 1])))) / scenario.dt_s
        )
        limit = vehicle.max_steering_rad
        steering = float(np.clip(np.arctan(vehicle.wheelbase_m * yaw_rate / speed), -limit, limit))
    rear_axle = center_to_rear_axle(tracks.xy[ego, now], heading, vehicle)
    return make_state(rear_axle, heading, speed, steering)


def _check_simulatable(scenario: Scenario) -> int:
    where = f"scenario {scenario.id!r}"
    if scenario.ego_index is None:
        raise DataError(f"{where}: has no ego to simulate")
    if scenario.road_map is None:
        raise DataError(f"{where}: has no map; closed-loop simulation needs one")
    if scenario.current_index >= scenario.num_steps - 1:
        raise DataError(f"{where}: nothing to simulate after current step {scenario.current_index}")
    if not scenario.tracks.valid[scenario.ego_index, scenario.current_index]:
        raise DataError(f"{where}: the ego is not observed at the current step")
    return scenario.ego_index


def _rear_axle_reference(trajectory: Trajectory, vehicle: BicycleConfig) -> Trajectory:
    """The plan (box centres) as the tracker wants it (rear axle)."""
    rear = center_to_rear_axle(trajectory.xy, trajectory.heading, vehicle)
    return dataclasses.replace(trajectory, xy=rear)


def _observe(
    scenario: Scenario, world: _MutableTracks, index: int, history_steps: int
) -> Observation:
    start = max(0, index - history_steps + 1)
    return observation_at(scenario, index, world.window(start, index + 1))


@dataclass(slots=True)
class _MutableTracks:
    """Working copies of the track arrays the simulation writes into."""

    base: Tracks
    xy: NDArrayF64
    heading: NDArrayF64
    velocity: NDArrayF64
    valid: np.ndarray

    @staticmethod
    def copy_of(tracks: Tracks) -> _MutableTracks:
        return _MutableTracks(
            tracks,
            tracks.xy.copy(),
            tracks.heading.copy(),
            tracks.velocity.copy(),
            tracks.valid.copy(),
        )

    def set_ego(self, ego: int, index: int, state: NDArrayF64, vehicle: BicycleConfig) -> None:
        heading = state[StateIndex.HEADING]
        self.xy[ego, index] = rear_axle_to_center(
            state[[StateIndex.X, StateIndex.Y]], heading, vehicle
        )
        self.heading[ego, index] = heading
        self.velocity[ego, index] = state[StateIndex.SPEED] * np.array(
            [np.cos(heading), np.sin(heading)]
        )
        self.valid[ego, index] = True

    def window(self, start: int, stop: int) -> Tracks:
        """An immutable view of steps [start, stop) (copies: observers cannot write back)."""
        return Tracks(
            info=self.base.info,
            xy=self.xy[:, start:stop].copy(),
            heading=self.heading[:, start:stop].copy(),
            velocity=self.velocity[:, start:stop].copy(),
            valid=self.valid[:, start:stop].copy(),
        )

    def frozen(self) -> Tracks:
        return self.window(0, self.valid.shape[1])
