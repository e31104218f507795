"""The generators of one cycle share its path obstacles: computed once, equal to a fresh one."""

from __future__ import annotations

import dataclasses

import numpy as np
from tests.planning.scenes import planned_now
from tests.planning.test_broad_phase import _scenes

from urbandrive.planning.proposals.obstacles import ObstacleConfig, path_obstacles, stop_points
from urbandrive.planning.proposals.shared import cycle_path_obstacles, cycle_stop_points


def test_path_obstacles_are_computed_once_per_context_and_config() -> None:
    scenario = _scenes()["crossing"]
    context = planned_now(scenario)[1].context
    config = ObstacleConfig()
    first = cycle_path_obstacles(context, config)
    assert cycle_path_obstacles(context, ObstacleConfig()) is first  # equal config: shared
    fresh = path_obstacles(context, config)
    for field in dataclasses.fields(fresh):
        np.testing.assert_array_equal(getattr(first, field.name), getattr(fresh, field.name))
    other = dataclasses.replace(context, s_now_m=context.s_now_m + 1.0)
    assert cycle_path_obstacles(other, config) is not first  # another context: recomputed
    changed = dataclasses.replace(config, path_margin_m=config.path_margin_m + 0.5)
    assert cycle_path_obstacles(other, changed) is not cycle_path_obstacles(other, config)


def test_stop_points_are_computed_once_per_context_and_read_only() -> None:
    scenario = _scenes()["crossing"]
    context = planned_now(scenario)[1].context
    config = ObstacleConfig()
    first = cycle_stop_points(context, config)
    assert cycle_stop_points(context, ObstacleConfig()) is first
    np.testing.assert_array_equal(first, stop_points(context, config))
    assert not first.flags.writeable
    other = dataclasses.replace(context, s_now_m=context.s_now_m + 1.0)
    np.testing.assert_array_equal(cycle_stop_points(other, config), stop_points(other, config))
