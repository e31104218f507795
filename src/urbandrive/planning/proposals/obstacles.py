"""Obstacles along the reference as arc-length intervals over time, for the IDM and the lattice.

Two kinds, packed together as O obstacles over H steps: predicted agents (one obstacle per
agent and distinct mode, modes below `min_mode_probability` left out) and stops (red lights on
the route, crosswalks with a pedestrian on or about to step on them, the end of the route),
which do not move and cover every lateral offset. The front bumper must stay behind `rear_s_m`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics import kernels
from urbandrive.metrics.states import types_in
from urbandrive.planning.proposals.context import PlanningContext, first_equal_mode

#: Agent types a crosswalk is kept clear for.
CROSSING_TYPES = (AgentType.PEDESTRIAN, AgentType.CYCLIST, AgentType.ANIMAL)


@dataclass(frozen=True, slots=True)
class ObstacleConfig:
    """path_margin_m: extra lateral room for an agent to block a path; crosswalk_margin_m:
    a crossing agent within this distance (along and across) of a crosswalk occupies it, and
    the ego stops this far before it; crosswalk_lookahead_s: predicted occupation that counts;
    stop_passed_m: a stop whose line is already this far behind the front bumper is ignored."""

    path_margin_m: float = 0.5
    min_mode_probability: float = 0.05
    crosswalk_margin_m: float = 1.5
    crosswalk_lookahead_s: float = 4.0
    stop_passed_m: float = 0.5

    def __post_init__(self) -> None:
        if self.path_margin_m < 0 or self.crosswalk_margin_m < 0 or self.stop_passed_m < 0:
            raise ValueError("ObstacleConfig margins must be >= 0")
        if not 0 <= self.min_mode_probability < 1:
            raise ValueError(
                f"min_mode_probability must be in [0, 1), got {self.min_mode_probability}"
            )


@dataclass(frozen=True, slots=True)
class PathObstacles:
    """O obstacles over H steps.

    rear_s_m: float64[O, H], arc length the ego's front bumper must stay behind;
    center_s_m: float64[O, H], the obstacle's centre (an obstacle counts once the ego's
    centre is behind it); d_m: float64[O, H]; half_width_m: float64[O] (inf for stops);
    speed_mps: float64[O, H], speed along the path (>= 0); valid: bool[O, H].
    """

    rear_s_m: NDArrayF64
    center_s_m: NDArrayF64
    d_m: NDArrayF64
    half_width_m: NDArrayF64
    speed_mps: NDArrayF64
    valid: NDArrayBool

    def blocking(
        self, offsets_m: NDArrayF64, ego_half_width_m: float, margin_m: float
    ) -> NDArrayBool:
        """bool[P, O, H]: obstacle o lies across a path at lateral offset `offsets_m[P]`."""
        reach = self.half_width_m[:, None] + ego_half_width_m + margin_m  # [O, 1]
        across = np.abs(self.d_m[None] - offsets_m[:, None, None]) < reach[None]
        return across & self.valid[None]


def path_obstacles(
    context: PlanningContext, config: ObstacleConfig, stops: NDArrayF64 | None = None
) -> PathObstacles:
    """The agents' predicted modes and the stops ahead, as `PathObstacles`; stops: the
    `stop_points` of (context, config) where already computed, else None.

    One obstacle per agent and distinct kept mode, agent-major: a mode whose s, d and speed
    rows equal an earlier kept mode's bit for bit (a constant-velocity agent's modes) is the
    same obstacle, left out. Its users take the first of equal nearest obstacles, so they
    find the same values as with every mode."""
    agents = context.agents
    keep = agents.mode_probs >= config.min_mode_probability
    stops = stop_points(context, config) if stops is None else stops
    kept = np.flatnonzero(keep)
    if kernels.enabled():
        return _path_obstacles_compiled(context, kept, stops)
    agent, mode = _distinct_modes(agents.s_m, agents.d_m, agents.speed_along_mps, kept)
    s_m, d_m = agents.s_m[agent, mode], agents.d_m[agent, mode]  # [R, H]
    half_length = 0.5 * agents.size_m[agent, 0]
    half_width = 0.5 * agents.size_m[agent, 1]
    speed = np.maximum(agents.speed_along_mps[agent, mode], 0.0)
    valid = agents.valid[agent]
    stop_s = np.repeat(stops[:, None], context.num_steps, 1)
    zeros = np.zeros_like(stop_s)
    return PathObstacles(
        rear_s_m=np.concatenate([s_m - half_length[:, None], stop_s]),
        center_s_m=np.concatenate([s_m, stop_s]),
        d_m=np.concatenate([d_m, zeros]),
        half_width_m=np.concatenate([half_width, np.full(stops.shape[0], np.inf)]),
        speed_mps=np.concatenate([speed, zeros]),
        valid=np.concatenate([valid, np.ones(stop_s.shape, bool)]),
    )


def _distinct_modes(
    s_m: NDArrayF64, d_m: NDArrayF64, speed: NDArrayF64, kept: NDArrayInt
) -> tuple[NDArrayInt, NDArrayInt]:
    """(agent, mode) int64[R], agent-major: each agent's modes among `kept` whose rows of
    s_m, d_m and speed float64[N, K, H] differ, bit for bit, from every earlier kept mode's."""
    if kept.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows = [np.ascontiguousarray(values[:, kept]).view(np.int64) for values in (s_m, d_m, speed)]
    first = first_equal_mode(np.concatenate(rows, -1))  # [N, K'], <= k
    agent, position = np.nonzero(first == np.arange(kept.size))
    return agent, kept[position]


def _path_obstacles_compiled(
    context: PlanningContext, kept: NDArrayInt, stops: NDArrayF64
) -> PathObstacles:
    """`path_obstacles` by `proposals.kernels.first_equal_modes` and `pack_obstacles`: the
    same arrays."""
    from urbandrive.planning.proposals.kernels import first_equal_modes, pack_obstacles

    agents, num_steps = context.agents, context.num_steps
    s_m, d_m = np.ascontiguousarray(agents.s_m), np.ascontiguousarray(agents.d_m)
    speed_along = np.ascontiguousarray(agents.speed_along_mps)
    fields = (s_m.view(np.int64), d_m.view(np.int64), speed_along.view(np.int64))
    _, unique = first_equal_modes(fields, kept)  # n * K' + position, agent-major
    num_kept = max(kept.size, 1)  # (unique is empty when no mode is kept)
    agent, mode = unique // num_kept, kept[unique % num_kept]
    num_rows = agent.shape[0] + stops.shape[0]
    rear, center, d_out, speed = (np.empty((num_rows, num_steps)) for _ in range(4))
    half_width, valid = np.empty(num_rows), np.empty((num_rows, num_steps), bool)
    pack_obstacles(
        s_m, d_m, speed_along, np.ascontiguousarray(agents.valid),
        np.ascontiguousarray(0.5 * agents.size_m[:, 0]),
        np.ascontiguousarray(0.5 * agents.size_m[:, 1]), agent, mode,
        np.ascontiguousarray(stops, np.float64), rear, center, d_out, half_width, speed, valid,
    )  # fmt: skip
    return PathObstacles(rear, center, d_out, half_width, speed, valid)


def stop_points(context: PlanningContext, config: ObstacleConfig) -> NDArrayF64:
    """float64[Q]: arc lengths ahead where the front bumper must stop, sorted."""
    reference = context.reference
    front_s = context.s_now_m + 0.5 * context.ego_size_m[0]
    red = reference.stop_s_m[context.red_stop]
    crosswalks = reference.crosswalk_s_m[occupied_crosswalks(context, config), 0]
    stops = np.concatenate([red, crosswalks - config.crosswalk_margin_m, [reference.length_m]])
    return np.sort(stops[stops > front_s - config.stop_passed_m])


def occupied_crosswalks(context: PlanningContext, config: ObstacleConfig) -> NDArrayBool:
    """bool[C]: a crossing agent is on the route's crosswalk c or predicted on it soon."""
    reference, agents = context.reference, context.agents
    if reference.crosswalk_s_m.shape[0] == 0 or agents.num_agents == 0:
        return np.zeros(reference.crosswalk_s_m.shape[0], bool)
    crossing = types_in(agents.types, CROSSING_TYPES)
    soon = context.times_s <= config.crosswalk_lookahead_s
    corridor = 2.0 * reference.lane_half_width_m.max() + config.crosswalk_margin_m
    if kernels.enabled():
        from urbandrive.planning.proposals.kernels import crosswalks_occupied

        return crosswalks_occupied(
            np.ascontiguousarray(agents.s_m), np.ascontiguousarray(agents.d_m),
            np.ascontiguousarray(agents.valid), crossing, soon,
            reference.crosswalk_s_m[:, 0] - config.crosswalk_margin_m,
            reference.crosswalk_s_m[:, 1] + config.crosswalk_margin_m, float(corridor),
        )  # fmt: skip
    s_m, d_m = agents.s_m[crossing][..., soon], agents.d_m[crossing][..., soon]  # [N, K, T]
    valid = agents.valid[crossing][:, None, soon]
    start = reference.crosswalk_s_m[:, 0, None, None, None] - config.crosswalk_margin_m
    end = reference.crosswalk_s_m[:, 1, None, None, None] + config.crosswalk_margin_m
    on = (s_m >= start) & (s_m <= end) & (np.abs(d_m) <= corridor) & valid  # [C, N, K, T]
    return on.any(axis=(1, 2, 3))
