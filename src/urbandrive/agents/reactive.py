"""Reactive vehicles for closed-loop simulation (nuPlan's reactive mode, as a policy).

Every vehicle replays its log until a deviating ego (one the log never saw) is ahead on its
path, inside IDM's desired gap and closer than the logged ego was (by more than
`DEVIATION_TOLERANCE_M`), or within the minimum gap. From then on it follows its logged path
with IDM — desired speed: its logged speed at that time — yielding to whatever is ahead on the
path (the ego or other agents). Pedestrians, cyclists, animals, static objects and scripted
actors (per-agent attribute `is_scripted`, e.g. a scenario family's key actor) replay.
All reacting agents move together with array operations; paths are padded to `[R, P, 2]`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from urbandrive.agents.idm import IdmConfig, desired_gap, idm_acceleration
from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.angles import wrap_angle

#: Extra lateral clearance (m) for a body to count as on an agent's path.
PATH_MARGIN_M = 0.3
#: How much closer than the logged ego the simulated one must be before agents react (m).
DEVIATION_TOLERANCE_M = 0.5
#: Straight road added past the end of each logged path, for agents running late (m).
PATH_EXTENSION_M = 30.0
_VEHICLE_TYPES = [int(t) for t in AgentType if t.is_vehicle]


class WorldArrays(Protocol):
    """The simulation's working track arrays, `[A, T, ...]`, written in place."""

    xy: NDArrayF64
    heading: NDArrayF64
    velocity: NDArrayF64
    valid: NDArrayBool


class ReactiveAgents:
    """The vehicles of `scenario` (all but the ego, row `ego`) that may react to the ego."""

    def __init__(self, scenario: Scenario, ego: int, config: IdmConfig) -> None:
        tracks, now = scenario.tracks, scenario.current_index
        candidate = np.isin(tracks.types, _VEHICLE_TYPES) & tracks.valid[:, now]
        scripted = tracks.info.attributes.get("is_scripted")
        if scripted is not None:
            candidate &= ~np.asarray(scripted, dtype=bool)
        candidate[ego] = False
        self.rows: NDArrayInt = np.flatnonzero(candidate)
        self.ego, self.config = ego, config
        self.length_m, self.width_m = tracks.size_m[:, 0], tracks.size_m[:, 1]
        self.log_speed, self.log_valid = tracks.speed_mps, tracks.valid
        self.log_xy, self.log_velocity = tracks.xy, tracks.velocity
        self.paths, self.path_heading, self.path_s = padded_paths(
            tracks.xy[self.rows, now:],
            tracks.heading[self.rows, now:],
            tracks.valid[self.rows, now:],
        )
        self.s_m = np.zeros(self.rows.size)
        self.speed_mps = self.log_speed[self.rows, now].copy()
        self.reacting = np.zeros(self.rows.size, dtype=bool)
        self.reactive_from = np.full(tracks.num_agents, -1, dtype=np.int64)

    def step(self, world: WorldArrays, index: int, dt_s: float) -> None:
        """Write the agents' states at `index`; the ego's state there must already be written."""
        if self.rows.size == 0:
            return
        previous_s, previous_speed = self.s_m.copy(), self.speed_mps.copy()
        self._follow_log(world, index)
        intrudes = self._log_intrudes_on_ego(world, index, previous_s)
        if intrudes.any():
            self.reacting |= intrudes
            self.reactive_from[self.rows[intrudes]] = index
            self.s_m[intrudes] = previous_s[intrudes]  # back to where they were at index - 1
            self.speed_mps[intrudes] = previous_speed[intrudes]
        if self.reacting.any():
            self._advance_reacting(world, index, dt_s)

    def _follow_log(self, world: WorldArrays, index: int) -> None:
        replaying = ~self.reacting & self.log_valid[self.rows, index]
        if replaying.any():
            xy = world.xy[self.rows[replaying], index][:, None]  # [R, 1, 2]: one point per path
            s_now, _ = project_onto_paths(self.paths[replaying], self.path_s[replaying], xy)
            self.s_m[replaying] = s_now[:, 0]
            self.speed_mps[replaying] = self.log_speed[self.rows[replaying], index]

    def _log_intrudes_on_ego(
        self, world: WorldArrays, index: int, previous_s: NDArrayF64
    ) -> NDArrayBool:
        """bool[R]: replaying agents that must start reacting to the simulated ego now."""
        ego, agents = np.array([self.ego]), np.arange(self.rows.size)
        gap, _ = self._gap_ahead(agents, world.xy[ego, index], ego, previous_s, self.s_m)
        logged_gap = np.full(self.rows.size, np.inf)
        if self.log_valid[self.ego, index]:
            logged_gap, _ = self._gap_ahead(
                agents, self.log_xy[ego, index], ego, previous_s, self.s_m
            )
        ego_speed = np.linalg.norm(world.velocity[self.ego, index])
        wanted = desired_gap(self.speed_mps, ego_speed, self.config)
        deviated = (gap < wanted) & (gap < logged_gap - DEVIATION_TOLERANCE_M)
        too_close = gap < self.config.min_gap_m
        return ~self.reacting & self.log_valid[self.rows, index] & (deviated | too_close)

    def _advance_reacting(self, world: WorldArrays, index: int, dt_s: float) -> None:
        active = np.flatnonzero(self.reacting)
        rows = self.rows[active]
        others = np.arange(world.xy.shape[0])
        # Everyone where they are now; reacting agents move together, so use their last step.
        xy, velocity, valid = (
            world.xy[:, index].copy(),
            world.velocity[:, index].copy(),
            world.valid[:, index].copy(),
        )
        xy[rows], velocity[rows], valid[rows] = (
            world.xy[rows, index - 1],
            world.velocity[rows, index - 1],
            world.valid[rows, index - 1],
        )
        gap, lead = self._gap_ahead(
            active,
            xy[valid],
            others[valid],
            self.s_m,
            self.s_m,
            np.linalg.norm(velocity[valid], axis=-1),
        )
        desired = np.where(
            self.log_valid[rows, index], self.log_speed[rows, index], self.speed_mps[active]
        )
        accel = idm_acceleration(self.speed_mps[active], desired, gap, lead, self.config)
        new_speed = np.maximum(0.0, self.speed_mps[active] + accel * dt_s)
        travelled = 0.5 * (self.speed_mps[active] + new_speed) * dt_s
        end_s = self.path_s[active, -1]
        self.s_m[active] = np.minimum(self.s_m[active] + travelled, end_s)
        self.speed_mps[active] = new_speed
        new_xy, heading = interpolate_paths(
            self.paths[active], self.path_heading[active], self.path_s[active], self.s_m[active]
        )
        world.xy[rows, index], world.heading[rows, index] = new_xy, heading
        world.velocity[rows, index] = new_speed[:, None] * np.stack(
            [np.cos(heading), np.sin(heading)], -1
        )
        world.valid[rows, index] = self.s_m[active] < end_s - 1e-3

    def _gap_ahead(
        self,
        agents: NDArrayInt,
        obstacle_xy: NDArrayF64,
        obstacle_rows: NDArrayInt,
        from_s: NDArrayF64,
        own_s: NDArrayF64,
        obstacle_speed: NDArrayF64 | None = None,
    ) -> tuple[NDArrayF64, NDArrayF64]:
        """Bumper gap (m; inf if none) from each agent at `own_s` to the nearest obstacle on its
        path ahead of `from_s`, and that obstacle's speed: float64[R] each. Agents never see
        themselves."""
        s_obstacle, lateral = project_onto_paths(
            self.paths[agents], self.path_s[agents], obstacle_xy[None]
        )
        rows = self.rows[agents][:, None]
        half_lengths = 0.5 * (self.length_m[rows] + self.length_m[obstacle_rows][None])
        half_widths = 0.5 * (self.width_m[rows] + self.width_m[obstacle_rows][None])
        usable = (lateral < half_widths + PATH_MARGIN_M) & (s_obstacle > from_s[agents][:, None])
        usable &= obstacle_rows[None] != rows
        gap = np.where(usable, s_obstacle - own_s[agents][:, None] - half_lengths, np.inf)
        nearest = np.argmin(gap, axis=1)
        picked = np.arange(gap.shape[0])
        speed = np.zeros(gap.shape[0]) if obstacle_speed is None else obstacle_speed[nearest]
        return gap[picked, nearest], speed


def padded_paths(
    xy: NDArrayF64, heading: NDArrayF64, valid: NDArrayBool
) -> tuple[NDArrayF64, NDArrayF64, NDArrayF64]:
    """Each agent's valid logged poses as a path, padded by repeating the last one and extended
    `PATH_EXTENSION_M` straight ahead.

    xy: float64[R, T, 2], heading: float64[R, T], valid: bool[R, T] (each row valid at least once).
    Returns path xy float64[R, T + 1, 2], heading float64[R, T + 1], arc length float64[R, T + 1].
    """
    num_agents, num_steps = valid.shape
    order = np.argsort(~valid, axis=1, kind="stable")  # valid steps first, in time order
    count = np.maximum(valid.sum(1), 1)
    source = np.take_along_axis(
        order, np.minimum(np.arange(num_steps)[None], count[:, None] - 1), 1
    )
    path_xy = np.take_along_axis(xy, source[..., None], 1)
    path_heading = np.take_along_axis(heading, source, 1)
    last_heading = path_heading[:, -1]
    tip = path_xy[:, -1] + PATH_EXTENSION_M * np.stack(
        [np.cos(last_heading), np.sin(last_heading)], -1
    )
    path_xy = np.concatenate([path_xy, tip[:, None]], axis=1)
    path_heading = np.concatenate([path_heading, last_heading[:, None]], axis=1)
    steps = np.linalg.norm(np.diff(path_xy, axis=1), axis=-1)
    path_s = np.concatenate([np.zeros((num_agents, 1)), np.cumsum(steps, axis=1)], axis=1)
    return path_xy, path_heading, path_s


def project_onto_paths(
    paths: NDArrayF64, path_s: NDArrayF64, points: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64]:
    """Arc length and unsigned distance of the closest path point, for every (path, point).

    paths: float64[R, P, 2]; path_s: float64[R, P]; points: float64[R or 1, B, 2].
    Returns float64[R, B] each. Memory R x B x P.
    """
    start, delta = paths[:, :-1], np.diff(paths, axis=1)  # [R, S, 2]
    length_sq = np.einsum("rsd,rsd->rs", delta, delta)
    offset = points[:, :, None, :] - start[:, None]  # [R, B, S, 2]
    ratio = np.einsum("rbsd,rsd->rbs", offset, delta) / np.maximum(length_sq, 1e-12)[:, None]
    ratio = np.clip(ratio, 0.0, 1.0)
    distance_sq = np.sum((offset - ratio[..., None] * delta[:, None]) ** 2, axis=-1)
    segment = np.argmin(distance_sq, axis=-1)[..., None]  # [R, B, 1]
    seg_ratio = np.take_along_axis(ratio, segment, -1)[..., 0]
    seg_length = np.sqrt(np.take_along_axis(length_sq, segment[..., 0], axis=1))
    s = np.take_along_axis(path_s, segment[..., 0], axis=1) + seg_ratio * seg_length
    return s, np.sqrt(np.take_along_axis(distance_sq, segment, -1)[..., 0])


def interpolate_paths(
    paths: NDArrayF64, path_heading: NDArrayF64, path_s: NDArrayF64, s_m: NDArrayF64
) -> tuple[NDArrayF64, NDArrayF64]:
    """Positions float64[R, 2] and headings float64[R] at arc lengths `s_m: float64[R]`."""
    segment = np.clip((path_s <= s_m[:, None]).sum(1) - 1, 0, paths.shape[1] - 2)
    rows = np.arange(paths.shape[0])
    length = path_s[rows, segment + 1] - path_s[rows, segment]
    ratio = np.divide(
        s_m - path_s[rows, segment], length, out=np.zeros_like(s_m), where=length > 1e-9
    )
    xy = paths[rows, segment] + ratio[:, None] * (paths[rows, segment + 1] - paths[rows, segment])
    turn = wrap_angle(path_heading[rows, segment + 1] - path_heading[rows, segment])
    return xy, wrap_angle(path_heading[rows, segment] + ratio * turn)
