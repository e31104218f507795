"""Model inputs: shapes, frames, masks, padding and the errors for bad scenes."""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest
import torch

from urbandrive.core import AgentType, compiled
from urbandrive.core.errors import DataError
from urbandrive.core.observation import observe
from urbandrive.core.tracks import Tracks
from urbandrive.maps.vectorize import NUM_MAP_FEATURES
from urbandrive.prediction.features import (
    FeatureConfig,
    _check_finite,
    agent_arrays,
    agent_step_inputs,
    collate,
    into_frame,
    observation_features,
    relative_pose,
    rotate_scene,
    scene_to_global,
    vector_length,
    window_features,
)
from urbandrive.testing import scenario_from_states

from .scenes import mixed_scene

CONFIG = FeatureConfig(history_steps=20, future_steps=30, max_polylines=64)


def test_observation_features_have_the_documented_shapes_and_dtypes() -> None:
    scenario = mixed_scene(num_agents=12, num_steps=60)
    scene = observation_features(observe(scenario, 30, 20), CONFIG)
    assert scene.num_agents == 12
    assert scene.xy.shape == (12, 20, 2) and scene.xy.dtype == np.float32
    assert scene.heading.shape == (12, 20) and scene.velocity.shape == (12, 20, 2)
    assert scene.valid.all() and scene.types.dtype == np.int64
    assert scene.map_points.shape == (64, 20, 2) and scene.map_points.dtype == np.float32
    assert scene.map_features.shape == (64, NUM_MAP_FEATURES)
    assert scene.map_valid.any() and scene.future_xy is None
    np.testing.assert_allclose(scene.confidence, 1.0)


def test_scene_frame_is_the_ego_pose_now() -> None:
    scenario = mixed_scene(num_agents=6, num_steps=40)
    scene = observation_features(observe(scenario, 25, 20), CONFIG)
    ego_row = int(np.flatnonzero(scene.agent_rows == scenario.ego_index)[0])
    np.testing.assert_allclose(scene.xy[ego_row, -1], 0.0, atol=1e-6)
    np.testing.assert_allclose(scene.origin_xy, scenario.tracks.xy[scenario.ego_index, 25])


def test_short_history_is_left_padded_with_invalid_steps() -> None:
    scene = observation_features(observe(mixed_scene(num_steps=40), 4, 20), CONFIG)
    assert not scene.valid[:, :15].any() and scene.valid[:, 15:].all()
    assert np.all(scene.xy[:, :15] == 0.0)


def test_window_targets_are_the_logged_future_in_the_scene_frame() -> None:
    scenario = mixed_scene(num_steps=60)
    scene = window_features(scenario, 40, CONFIG)
    assert scene.future_valid is not None and scene.future_xy is not None
    assert scene.future_valid[:, :19].all() and not scene.future_valid[:, 19:].any()
    back = scene_to_global(scene.future_xy[:, :19], scene.origin_xy, scene.origin_heading)
    np.testing.assert_allclose(back, scenario.tracks.xy[scene.agent_rows, 41:60], atol=1e-4)


def test_category_confidence_is_read_when_present() -> None:
    scenario = mixed_scene(num_agents=5, num_steps=30)
    confidence = np.linspace(0.5, 0.9, 5).astype(np.float32)
    info = dataclasses.replace(scenario.tracks.info, attributes={"category_confidence": confidence})
    tracks = dataclasses.replace(scenario.tracks, info=info)
    scene = observation_features(observe(dataclasses.replace(scenario, tracks=tracks), 20), CONFIG)
    np.testing.assert_allclose(scene.confidence, confidence[scene.agent_rows])


def test_agents_not_seen_now_are_left_out_and_max_agents_keeps_the_nearest() -> None:
    scenario = mixed_scene(num_agents=8, num_steps=30)
    valid = scenario.tracks.valid.copy()
    valid[3, 20] = False
    tracks = dataclasses.replace(scenario.tracks, valid=valid)
    observation = observe(dataclasses.replace(scenario, tracks=tracks), 20)
    scene = observation_features(observation, CONFIG)
    assert 3 not in scene.agent_rows and scene.num_agents == 7
    few = observation_features(observation, dataclasses.replace(CONFIG, max_agents=3))
    distance = np.linalg.norm(observation.history.xy[few.agent_rows, -1] - few.origin_xy, axis=1)
    assert few.num_agents == 3 and np.all(np.diff(distance) >= 0)


def test_empty_scene_wrong_step_and_nan_states_raise_data_error() -> None:
    scenario = mixed_scene(num_agents=4, num_steps=30)
    empty = dataclasses.replace(
        scenario, tracks=dataclasses.replace(scenario.tracks, valid=np.zeros((4, 30), bool))
    )
    with pytest.raises(DataError, match="no agent is observed"):
        observation_features(observe(empty, 10), CONFIG)
    with pytest.raises(DataError, match=r"expects 0\.4 s"):
        observation_features(observe(scenario, 10), dataclasses.replace(CONFIG, dt_s=0.4))
    broken_xy = scenario.tracks.xy.copy()
    broken_xy[2, 10] = np.nan
    broken = Tracks(
        scenario.tracks.info,
        broken_xy,
        scenario.tracks.heading,
        scenario.tracks.velocity,
        scenario.tracks.valid,
    )
    with pytest.raises(DataError, match="agent_2"):
        observation_features(observe(dataclasses.replace(scenario, tracks=broken), 10), CONFIG)


def test_collate_pads_agents_and_polylines_with_masks() -> None:
    big = window_features(mixed_scene(num_agents=12, num_steps=60), 30, CONFIG)
    xy = np.stack([np.stack([np.arange(30.0), np.zeros(30)], -1)] * 2)
    pedestrians = scenario_from_states(
        xy, np.zeros((2, 30)), [AgentType.PEDESTRIAN] * 2, ego_index=None
    )
    small = window_features(pedestrians, 15, CONFIG)
    assert small.map_valid.shape == (0,)
    batch = collate([big, small])
    assert batch.xy.shape == (2, 12, 20, 2) and batch.map_points.shape == (2, 64, 20, 2)
    assert batch.agent_mask.sum(1).tolist() == [12, 2]
    assert not batch.map_mask[1].any() and not batch.valid[1, 2:].any()
    assert batch.future_xy is not None and batch.future_xy.shape == (2, 12, 30, 2)


def test_rotate_scene_keeps_global_positions() -> None:
    scene = window_features(mixed_scene(num_steps=60), 25, CONFIG)
    moved = rotate_scene(scene, 1.1, np.array([30.0, -7.0]))
    for name in ("xy", "future_xy"):
        before = scene_to_global(getattr(scene, name), scene.origin_xy, scene.origin_heading)
        after = scene_to_global(getattr(moved, name), moved.origin_xy, moved.origin_heading)
        np.testing.assert_allclose(after, before, atol=1e-4)


def test_agent_frame_inputs_and_relative_poses_do_not_depend_on_the_scene_frame() -> None:
    scene = window_features(mixed_scene(num_steps=60), 30, CONFIG)
    moved = rotate_scene(scene, -2.0, np.array([5.0, 40.0]))
    first, second = collate([scene]), collate([moved])
    torch.testing.assert_close(
        agent_step_inputs(first), agent_step_inputs(second), atol=1e-4, rtol=0
    )

    def poses(batch):
        xy, heading = batch.xy[0, :, -1], batch.heading[0, :, -1]
        return relative_pose(xy[:, None], heading[:, None], xy[None], heading[None])

    torch.testing.assert_close(poses(first), poses(second), atol=1e-4, rtol=0)


@pytest.mark.parametrize("steps", [5, 12, 40])
def test_compiled_agent_arrays_equal_the_numpy_reference_bit_for_bit(steps: int) -> None:
    """Histories shorter and longer than the model's, gaps with junk (NaN) where not valid."""
    history = observe(mixed_scene(num_steps=40), 30).history
    rng = np.random.default_rng(10)
    valid = history.valid & (rng.random(history.valid.shape) < 0.8)
    junk = np.where(valid[..., None], history.xy, np.nan)
    history = dataclasses.replace(history, valid=valid, xy=junk)
    rows = np.flatnonzero(history.valid[:, -1])[::-1]
    origin, heading = np.array([3.0, -2.0]), 0.4
    got = agent_arrays(history, rows, origin, heading, steps)
    with compiled.numpy_reference():
        expected = agent_arrays(history, rows, origin, heading, steps)
    for name in got:
        assert got[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(got[name].view(np.uint8), expected[name].view(np.uint8))


@pytest.mark.parametrize("field", ["xy", "heading", "velocity"])
def test_compiled_finite_check_names_the_same_agent_as_the_numpy_reference(field: str) -> None:
    """A non-finite value at a valid step raises naming the first such row of `rows` (rows in
    any order); at an invalid step, or in an agent not in `rows`, it is ignored."""
    history = observe(mixed_scene(num_steps=40), 30).history
    rows = np.flatnonzero(history.valid[:, -1])[::-1]
    for bad, row, step in ((np.nan, rows[2], 7), (np.inf, rows[1], -1), (-np.inf, rows[3], 0)):
        values = getattr(history, field).copy()
        values[row, step] = bad
        broken = dataclasses.replace(history, **{field: values})
        messages = []
        for reference in (False, True):
            switch = compiled.numpy_reference() if reference else contextlib.nullcontext()
            with switch, pytest.raises(DataError) as error:
                _check_finite(broken, rows, "here")
            messages.append(str(error.value))
        assert messages[0] == messages[1] and repr(str(history.ids[row])) in messages[0]
        hidden = dataclasses.replace(broken, valid=history.valid.copy())
        hidden.valid[row, step] = False
        _check_finite(hidden, rows, "here")
        with compiled.numpy_reference():
            _check_finite(hidden, rows, "here")
        _check_finite(broken, np.setdiff1d(rows, [row]), "here")


def test_the_shared_turn_now_gives_the_same_inputs_and_poses_bit_for_bit() -> None:
    """`agent_step_inputs` and `relative_pose` with `into_frame` of the headings now given
    equal the ones that compute it (the inference shares one)."""
    batch = collate([observation_features(observe(mixed_scene(), 25), CONFIG)])
    turn = into_frame(batch.heading[:, :, -1])
    same = agent_step_inputs(batch), agent_step_inputs(batch, turn)
    xy, heading = batch.xy[:, :, -1], batch.heading[:, :, -1]
    for given in (None, turn[:, :, None]):
        poses = relative_pose(
            xy[:, :, None], heading[:, :, None], xy[:, None], heading[:, None], given
        )
        same += (poses,)
    assert torch.equal(same[0].view(torch.int32), same[1].view(torch.int32))
    assert torch.equal(same[2].view(torch.int32), same[3].view(torch.int32))


def test_vector_length_is_numpys_norm_over_the_last_axis_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 7, 2)) * 10.0 ** rng.integers(-200, 200, size=(50, 7, 1))
    vectors[0, :3] = [[np.inf, 1.0], [np.nan, 0.0], [-0.0, 0.0]]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        got, expected = vector_length(vectors), np.linalg.norm(vectors, axis=-1)
    np.testing.assert_array_equal(got.view(np.uint64), expected.view(np.uint64))
