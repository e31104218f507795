"""Baseline planners: `log` replays the expert; `idm` follows the route centreline with IDM.

The IDM planner is nuPlan's IDM baseline in spirit: speed from IDM towards the lane's speed
limit, the leader being the nearest agent on the route ahead (its current speed held), a red
light on the route ahead or the end of the route acting as a stopped leader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from urbandrive.agents.idm import IdmConfig, idm_acceleration
from urbandrive.core.errors import UrbandriveError
from urbandrive.core.observation import Observation
from urbandrive.core.scenario import Scenario
from urbandrive.core.trajectory import Trajectory
from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.frenet import route_reference_path
from urbandrive.planning.interfaces import Plan

#: Extra lateral room (m) for an agent to count as on the ego's path.
PATH_MARGIN_M = 0.5


class LogPlanner:
    """Replays the expert's logged future (the reference every planner is compared with)."""

    name = "log"

    def __init__(self, scenario: Scenario, horizon_s: float = 8.0) -> None:
        if scenario.ego_index is None:
            raise UrbandriveError(f"scenario {scenario.id!r}: the log planner needs an ego track")
        if scenario.tracks.valid[scenario.ego_index, scenario.current_index + 1 :].sum() < 1:
            raise UrbandriveError(
                f"scenario {scenario.id!r}: the ego has no logged future to replay "
                "(e.g. a CommonRoad planning problem); use another planner"
            )
        self.tracks, self.ego = scenario.tracks, scenario.ego_index
        self.dt_s, self.horizon_steps = scenario.dt_s, round(horizon_s / scenario.dt_s)

    def plan(self, observation: Observation) -> Plan:
        first = observation.step
        last = min(first + self.horizon_steps, self.tracks.num_steps - 1)
        steps = np.arange(first, max(last, first + 1) + 1).clip(max=self.tracks.num_steps - 1)
        steps = steps[self.tracks.valid[self.ego, steps]]
        if steps.size < 2:  # the log ends here: hold the last pose
            steps = np.array([first, first])
        velocity = self.tracks.velocity[self.ego, steps]
        heading = self.tracks.heading[self.ego, steps]
        trajectory = Trajectory(
            times_s=self.dt_s * np.arange(steps.size, dtype=np.float64),
            xy=self.tracks.xy[self.ego, steps].copy(),
            heading=heading.copy(),
            speed_mps=np.einsum(
                "td,td->t", velocity, np.stack([np.cos(heading), np.sin(heading)], -1)
            ),
        )
        return Plan(trajectory=trajectory)


@dataclass(frozen=True, slots=True)
class IdmPlannerConfig:
    horizon_s: float = 8.0
    dt_s: float = 0.1
    lateral_settle_s: float = 2.0
    speed_limit_fraction: float = 1.0
    idm: IdmConfig = field(default_factory=IdmConfig)

    def __post_init__(self) -> None:
        if not 0 < self.dt_s <= self.horizon_s:
            raise ValueError(f"need 0 < dt_s <= horizon_s, got {self.dt_s}, {self.horizon_s}")
        if not 0 < self.speed_limit_fraction <= 1.5:
            raise ValueError(
                f"speed_limit_fraction must be in (0, 1.5], got {self.speed_limit_fraction}"
            )


class IdmPlanner:
    """IDM along the route's reference path; stops for red lights and the route's end."""

    name = "idm"

    def __init__(self, scenario: Scenario, config: IdmPlannerConfig | None = None) -> None:
        if scenario.route is None or scenario.road_map is None:
            raise UrbandriveError(
                f"scenario {scenario.id!r}: the idm planner needs a route and a map"
            )
        self.config = config if config is not None else IdmPlannerConfig()
        self.road_map = scenario.road_map
        self.path = route_reference_path(scenario.road_map, scenario.route)
        self.ego_size_m = scenario.tracks.size_m[scenario.ego_index]

    def plan(self, observation: Observation) -> Plan:
        config = self.config
        s_now, d_now = (v[0] for v in self.path.to_frenet(observation.ego_xy[None]))
        speed = max(0.0, observation.ego_speed_mps)
        lead_s, lead_speed = self._obstacles_ahead(observation, s_now)
        num_steps = round(config.horizon_s / config.dt_s)
        s_values, speeds = np.empty(num_steps + 1), np.empty(num_steps + 1)
        s_values[0], speeds[0] = s_now, speed
        for index in range(num_steps):
            elapsed = index * config.dt_s
            limit = config.speed_limit_fraction * np.interp(
                s_values[index], self.path.s_m, self.path.speed_limit_mps
            )
            gaps = lead_s + lead_speed * elapsed - s_values[index] - 0.5 * self.ego_size_m[0]
            nearest = int(np.argmin(gaps)) if gaps.size else -1
            gap = gaps[nearest] if nearest >= 0 else np.inf
            leader_speed = lead_speed[nearest] if nearest >= 0 else 0.0
            accel = idm_acceleration(speeds[index], limit, gap, leader_speed, config.idm)
            speeds[index + 1] = max(0.0, speeds[index] + accel * config.dt_s)
            s_values[index + 1] = (
                s_values[index] + 0.5 * (speeds[index] + speeds[index + 1]) * config.dt_s
            )
        times = config.dt_s * np.arange(num_steps + 1)
        lateral = d_now * np.clip(1.0 - times / config.lateral_settle_s, 0.0, 1.0)
        xy, heading = self.path.to_cartesian(s_values, lateral)
        return Plan(trajectory=Trajectory(times_s=times, xy=xy, heading=heading, speed_mps=speeds))

    def _obstacles_ahead(
        self, observation: Observation, s_now: float
    ) -> tuple[NDArrayF64, NDArrayF64]:
        """Arc length of the rear of each obstacle ahead on the path and its speed along it."""
        history, ego = observation.history, observation.ego_index
        others = np.flatnonzero(history.valid[:, -1] & (np.arange(history.num_agents) != ego))
        s, d = (
            self.path.to_frenet(history.xy[others, -1])
            if others.size
            else (np.zeros(0), np.zeros(0))
        )
        half_width = 0.5 * (history.size_m[others, 1] + self.ego_size_m[1]) + PATH_MARGIN_M
        ahead = (np.abs(d) < half_width) & (s > s_now) & (s < s_now + 150.0)
        path_heading = np.interp(s[ahead], self.path.s_m, np.unwrap(self.path.heading))
        direction = np.stack([np.cos(path_heading), np.sin(path_heading)], -1)
        speed_along = np.einsum("nd,nd->n", history.velocity[others[ahead], -1], direction)
        rear = s[ahead] - 0.5 * history.size_m[others[ahead], 0]
        stops = self._stops_ahead(observation, s_now)
        return (
            np.concatenate([rear, stops]),
            np.concatenate([np.maximum(speed_along, 0.0), np.zeros(stops.size)]),
        )

    def _stops_ahead(self, observation: Observation, s_now: float) -> NDArrayF64:
        """Arc lengths where the ego must stop: the start of route lanes behind a red signal,
        and the end of the route."""
        stops = [self.path.length_m + 0.5 * self.ego_size_m[0]]
        lights = observation.traffic_lights or {}
        red_lanes = {
            lane
            for signal_id, state in lights.items()
            if state.must_stop and signal_id in self.road_map.signals
            for lane in self.road_map.signals[signal_id].lane_ids
        }
        for lane in red_lanes & set(self.path.lane_ids.tolist()):
            entry = float(self.path.s_m[np.argmax(self.path.lane_ids == lane)])
            if entry > s_now:
                stops.append(entry)
        return np.asarray(stops)
