"""The generators of one cycle share its path obstacles: computed once, equal to a fresh one."""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
from tests.planning.scenes import planned_now
from tests.planning.test_broad_phase import _scenes

from urbandrive.metrics import kernels
from urbandrive.planning.proposals.obstacles import ObstacleConfig, path_obstacles, stop_points
from urbandrive.planning.proposals.pdm import idm_profiles, path_offsets
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


def test_an_agents_repeated_modes_are_one_obstacle_and_change_no_profile() -> None:
    """Every mode doubled (probabilities halved) gives the same obstacles, compiled and
    numpy; the IDM profiles from obstacles holding every mode, or every mode twice (the
    repeats after the originals), equal those from the distinct ones."""
    scenario = _scenes()["busy"]
    planner, cycle = planned_now(scenario)
    context = cycle.context
    agents = context.agents
    doubled = dataclasses.replace(
        agents,
        s_m=np.concatenate([agents.s_m, agents.s_m], 1),
        d_m=np.concatenate([agents.d_m, agents.d_m], 1),
        speed_along_mps=np.concatenate([agents.speed_along_mps] * 2, 1),
        mode_probs=np.concatenate([agents.mode_probs, agents.mode_probs]) / 2,
    )
    config = ObstacleConfig(min_mode_probability=0.0)
    distinct = path_obstacles(context, config)
    for reference in (kernels.numpy_reference(), contextlib.nullcontext()):
        with reference:
            found = path_obstacles(dataclasses.replace(context, agents=doubled), config)
        for field in dataclasses.fields(distinct):
            np.testing.assert_array_equal(getattr(found, field.name), getattr(distinct, field.name))
    num_modes, num_agents = agents.s_m.shape[1], agents.num_agents
    repeats = np.r_[np.arange(num_agents * num_modes), np.arange(num_agents * num_modes)]
    assert distinct.rear_s_m.shape[0] > num_agents  # the busy scene's modes differ
    every = _every_mode(context, config)
    twice = dataclasses.replace(
        every,
        **{
            field.name: np.concatenate(
                [
                    getattr(every, field.name)[: num_agents * num_modes][repeats],
                    getattr(every, field.name)[num_agents * num_modes :],
                ]
            )
            for field in dataclasses.fields(every)
        },
    )
    pdm = planner.config.pdm
    offsets, _ = path_offsets(context, pdm)
    offset = np.repeat(offsets, len(pdm.speed_fractions))
    target = np.tile(np.asarray(pdm.speed_fractions), offsets.size)
    expected = idm_profiles(context, distinct, offset, target, pdm)
    for obstacles in (every, twice):
        for value, want in zip(
            idm_profiles(context, obstacles, offset, target, pdm), expected, strict=True
        ):
            np.testing.assert_array_equal(value, want)


def _every_mode(context, config: ObstacleConfig):
    """`path_obstacles` with one row per agent and mode (none left out), agent-major."""
    agents, num_steps = context.agents, context.num_steps
    num_modes = agents.s_m.shape[1]
    stops = stop_points(context, config)
    s_m = agents.s_m.reshape(-1, num_steps)
    half_length = np.repeat(0.5 * agents.size_m[:, 0], num_modes)
    stop_s = np.repeat(stops[:, None], num_steps, 1)
    return dataclasses.replace(
        path_obstacles(context, config),
        rear_s_m=np.concatenate([s_m - half_length[:, None], stop_s]),
        center_s_m=np.concatenate([s_m, stop_s]),
        d_m=np.concatenate([agents.d_m.reshape(-1, num_steps), 0 * stop_s]),
        half_width_m=np.r_[np.repeat(0.5 * agents.size_m[:, 1], num_modes), [np.inf] * len(stops)],
        speed_mps=np.concatenate(
            [np.maximum(agents.speed_along_mps.reshape(-1, num_steps), 0.0), 0 * stop_s]
        ),
        valid=np.concatenate([np.repeat(agents.valid, num_modes, 0), stop_s == stop_s]),
    )


def test_first_equal_modes_over_fields_and_kept_modes_is_the_numpy_reference() -> None:
    """The compiled kernel, over a tuple of bit fields and a subset of the modes, finds the
    same first equal mode as `context.first_equal_mode` on the fields side by side."""
    from urbandrive.planning.proposals.context import first_equal_mode
    from urbandrive.planning.proposals.kernels import first_equal_modes

    rng = np.random.default_rng(3)
    base = rng.integers(0, 3, (7, 6, 4))  # few values: many equal modes
    fields = tuple(
        np.ascontiguousarray(base + shift) for shift in (0, rng.integers(0, 2, base.shape))
    )
    row, unique = first_equal_modes(fields, np.zeros(0, np.int64))
    assert row.shape == (7, 0) and unique.shape == (0,)
    for kept in (np.arange(6), np.array([0, 2, 3, 5]), np.array([4])):
        row, unique = first_equal_modes(fields, kept)
        first = first_equal_mode(np.concatenate([field[:, kept] for field in fields], -1))
        agent, position = np.nonzero(first == np.arange(kept.size))
        np.testing.assert_array_equal(unique, agent * kept.size + position)
        expected_row = np.zeros_like(first)
        expected_row[agent, position] = np.arange(agent.size)
        np.testing.assert_array_equal(row, expected_row[np.arange(7)[:, None], first])
