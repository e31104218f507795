"""What several proposal generators take from the same cycle, computed once per cycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from urbandrive.core.typing import NDArrayF64
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.proposals.obstacles import (
    ObstacleConfig,
    PathObstacles,
    path_obstacles,
    stop_points,
)

#: The last (function, context, config, value) of `_once`, per function name; the context is
#: held, so identity with it cannot be confused with a later context's.
_LAST: dict[str, tuple[Callable[..., Any], PlanningContext, ObstacleConfig, Any]] = {}


def _once(
    function: Callable[[PlanningContext, ObstacleConfig], Any],
    context: PlanningContext,
    config: ObstacleConfig,
) -> Any:
    """function(context, config), computed once for the same context object and an equal
    config (the PDM paths and the lattice of one cycle)."""
    last = _LAST.get(function.__name__)
    if last is not None and last[0] is function and last[1] is context and last[2] == config:
        return last[3]
    value = function(context, config)
    _LAST[function.__name__] = (function, context, config, value)
    return value


def cycle_path_obstacles(context: PlanningContext, config: ObstacleConfig) -> PathObstacles:
    """`path_obstacles(context, config)`, once per cycle: shared, read it, never write to it."""
    return _once(_path_obstacles_sharing_stops, context, config)


def _path_obstacles_sharing_stops(
    context: PlanningContext, config: ObstacleConfig
) -> PathObstacles:
    return path_obstacles(context, config, cycle_stop_points(context, config))


def cycle_stop_points(context: PlanningContext, config: ObstacleConfig) -> NDArrayF64:
    """`stop_points(context, config)`, once per cycle (read-only)."""
    return _once(_read_only_stop_points, context, config)


def _read_only_stop_points(context: PlanningContext, config: ObstacleConfig) -> NDArrayF64:
    stops = stop_points(context, config)
    stops.flags.writeable = False
    return stops
