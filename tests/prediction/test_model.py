"""The joint model: shapes, masks, size, and invariance to moving the whole scene."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch

from urbandrive.core.observation import observe
from urbandrive.core.scenario import Scenario
from urbandrive.maps import RoadMap
from urbandrive.prediction.features import (
    FeatureConfig,
    agent_to_scene,
    collate,
    into_frame,
    observation_features,
    scene_to_global,
    window_features,
)
from urbandrive.prediction.model import (
    JointPredictionModel,
    ModelConfig,
    RelativeAttention,
    _mixed,
    count_parameters,
    nearest_point_distance,
    softmax_last,
)
from urbandrive.testing import straight_road

from .scenes import mixed_scene

FEATURES = FeatureConfig(history_steps=10, future_steps=12, max_polylines=48)


def tiny_model(**changes: object) -> JointPredictionModel:
    torch.manual_seed(0)
    config = ModelConfig(hidden_dim=32, history_steps=10, future_steps=12, num_modes=4)
    return JointPredictionModel(dataclasses.replace(config, **changes)).eval()


def test_outputs_have_the_documented_shapes() -> None:
    batch = collate([window_features(mixed_scene(num_steps=40), 20, FEATURES)])
    output = tiny_model()(batch)
    assert output.joint_xy.shape == (1, 12, 4, 12, 2)
    assert output.joint_scale.shape == (1, 12, 4, 12, 2) and bool((output.joint_scale > 0).all())
    assert output.scene_logits.shape == (1, 4) and output.joint_agent_logits.shape == (1, 12, 4)
    assert output.marginal_xy.shape == (1, 12, 4, 12, 2) and output.marginal_logits.shape == (
        1,
        12,
        4,
    )


def test_padding_and_other_scenes_do_not_change_a_scene_prediction() -> None:
    small = window_features(mixed_scene(seed=1, num_agents=5, num_steps=40), 20, FEATURES)
    big = window_features(mixed_scene(seed=2, num_agents=12, num_steps=40), 20, FEATURES)
    model = tiny_model()
    with torch.no_grad():
        alone, batched = model(collate([small])), model(collate([small, big]))
    torch.testing.assert_close(batched.joint_xy[0, :5], alone.joint_xy[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(batched.scene_logits[0], alone.scene_logits[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(batched.marginal_xy[0, :5], alone.marginal_xy[0], atol=1e-5, rtol=0)


def test_scene_modes_from_marginal_choose_among_each_agents_marginal_modes() -> None:
    batch = collate([window_features(mixed_scene(num_steps=40), 20, FEATURES)])
    model = tiny_model(joint_from_marginal=True)
    last = model.joint_head[-1]
    with torch.no_grad():  # every token chooses marginal mode 2
        last.weight.zero_()
        last.bias.zero_()
        last.bias[2] = 50.0
        output = model(batch)
    chosen = output.marginal_xy[:, :, 2:3].expand_as(output.joint_xy)
    torch.testing.assert_close(output.joint_xy, chosen)
    torch.testing.assert_close(model(batch, scales=False).joint_xy, output.joint_xy)


def _close(first: torch.Tensor, second: torch.Tensor) -> None:
    torch.testing.assert_close(first, second, atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("joint_from_marginal", [False, True])
@pytest.mark.parametrize("with_map", [True, False])
def test_inference_path_gives_the_forward_outputs(
    joint_from_marginal: bool, with_map: bool
) -> None:
    scenes = [
        window_features(mixed_scene(seed=1, num_agents=5, num_steps=40), 20, FEATURES),
        window_features(mixed_scene(seed=2, num_agents=12, num_steps=40), 20, FEATURES),
    ]
    if not with_map:
        scenes = [dataclasses.replace(scene, map_valid=scene.map_valid & False) for scene in scenes]
    batch = collate(scenes)
    model = tiny_model(joint_from_marginal=joint_from_marginal, decoder_neighbours=3)
    with torch.no_grad():
        slow = model(batch, scales=False)
    fast = model.infer(batch)
    cached = model.infer(batch, model.encoded_map(batch))
    real = batch.agent_mask
    for name in ("joint_xy", "marginal_xy", "joint_agent_logits", "marginal_logits"):
        _close(getattr(fast, name)[real], getattr(slow, name)[real])
        _close(getattr(cached, name)[real], getattr(slow, name)[real])
    _close(fast.scene_logits, slow.scene_logits)


def test_attention_inference_matches_forward_with_masks_and_shared_poses() -> None:
    """Random queries over their own neighbour sets (some keys masked, one query with none,
    a neighbourhood shared by 3 modes): `infer` and `infer_all` agree with `forward`."""
    torch.manual_seed(3)
    attention = RelativeAttention(16, 4).eval()
    x, context = torch.randn(2, 3, 7, 16), torch.randn(2, 3, 9, 16)
    neighbours = torch.randint(0, 9, (2, 1, 7, 4))
    neighbours[..., 1] = (neighbours[..., 0] + 1) % 9  # distinct keys, as `nearest` gives
    pose, mask = torch.randn(2, 1, 7, 4, 5), torch.rand(2, 1, 7, 4) > 0.3
    mask[0, 0, 2] = False
    with torch.no_grad():
        expected = attention(x, context, neighbours, pose, mask)
        got = attention.infer(
            x, attention.keys_values(context), neighbours, attention.pose_hidden(pose), mask
        )
        _close(got, expected)
        unshared = attention.infer(
            x,
            attention.keys_values(context),
            neighbours.expand(2, 3, 7, 4),
            attention.pose_hidden(pose.expand(2, 3, 7, 4, 5)),
            mask.expand(2, 3, 7, 4),
        )
        _close(unshared, expected)
        _close(x[0, 0, 2] + attention.ffn(x[0, 0, 2]), expected[0, 0, 2])  # no key: kept
        plain = RelativeAttention(16, 4, use_pose=False).eval()
        every = torch.rand(2, 3, 7, 9) > 0.2
        _close(plain.infer_all(x, context, every), plain(x, context, None, None, every))


def test_default_model_is_well_under_a_million_parameters() -> None:
    assert count_parameters(JointPredictionModel(ModelConfig())) < 1_000_000
    assert (
        count_parameters(JointPredictionModel(ModelConfig(num_modes=20, use_map=False))) < 1_000_000
    )


def _moved_map(road_map: RoadMap, move) -> RoadMap:
    lanes = {
        lane_id: dataclasses.replace(
            lane,
            centerline=move(lane.centerline),
            left_boundary=move(lane.left_boundary),
            right_boundary=move(lane.right_boundary),
        )
        for lane_id, lane in road_map.lanes.items()
    }
    crosswalks = {
        key: dataclasses.replace(crosswalk, polygon=move(crosswalk.polygon))
        for key, crosswalk in road_map.crosswalks.items()
    }
    areas = tuple(move(area) for area in road_map.drivable_areas)
    return RoadMap(lanes=lanes, crosswalks=crosswalks, drivable_areas=areas, source="moved")


def moved_scenario(scenario: Scenario, angle: float, shift: np.ndarray) -> Scenario:
    """The whole scenario (tracks and map) rotated by `angle` about 0 and shifted."""
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, -sin], [sin, cos]])

    def move(points: np.ndarray) -> np.ndarray:
        return points @ rotation.T + shift

    tracks = scenario.tracks
    heading = np.arctan2(np.sin(tracks.heading + angle), np.cos(tracks.heading + angle))
    moved_tracks = dataclasses.replace(
        tracks,
        xy=np.where(tracks.valid[..., None], move(tracks.xy), 0.0),
        heading=np.where(tracks.valid, heading, 0.0),
        velocity=tracks.velocity @ rotation.T,
    )
    assert scenario.road_map is not None
    return dataclasses.replace(
        scenario, tracks=moved_tracks, road_map=_moved_map(scenario.road_map, move)
    )


def global_predictions(model: JointPredictionModel, scenario: Scenario, step: int) -> np.ndarray:
    """float64[A, K, H, 2]: the joint and marginal modes, global frame, stacked on K."""
    scene = observation_features(observe(scenario, step, 10), FEATURES)
    batch = collate([scene])
    with torch.no_grad():
        output = model(batch)
    local = torch.cat([output.joint_xy, output.marginal_xy], dim=2)
    xy = agent_to_scene(local, batch.xy[:, :, -1], batch.heading[:, :, -1])[0].numpy()
    return scene_to_global(xy, scene.origin_xy, scene.origin_heading)


@pytest.mark.parametrize("decoder", [{}, {"joint_from_marginal": True}])
def test_rotating_and_translating_the_scene_leaves_global_predictions_unchanged(
    decoder: dict[str, object],
) -> None:
    # Enough neighbours that no nearest-k cut falls between polylines at equal distances.
    model = tiny_model(map_neighbours=512, residual_to_constant_velocity=True, **decoder)
    # Lanes whose length is not a multiple of the 1 m resampling step: at an exact multiple,
    # float rounding far from the origin can change a piece's point count (vectorize_map).
    scenario = mixed_scene(num_agents=12, num_steps=40)
    scenario = dataclasses.replace(scenario, road_map=straight_road(num_lanes=3, length_m=307.3))
    shift, angle = np.array([4.0e5, -2.5e5]), 2.3
    before = global_predictions(model, scenario, 20)
    after = global_predictions(model, moved_scenario(scenario, angle, shift), 20)
    cos, sin = np.cos(angle), np.sin(angle)
    expected = before @ np.array([[cos, -sin], [sin, cos]]).T + shift
    np.testing.assert_allclose(after, expected, atol=1e-4, rtol=0)


def test_nearest_point_distance_is_cdist_then_the_minimum_over_each_polylines_points() -> None:
    torch.manual_seed(4)
    xy, points = 40.0 * torch.randn(2, 30, 2), 40.0 * torch.randn(2, 7, 5, 2)
    points[1, 3] = 1.0e7  # a padding polyline: far away
    expected = torch.cdist(xy, points.flatten(1, 2)).unflatten(-1, (7, 5)).amin(-1)
    got = nearest_point_distance(xy, points)
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-6)
    assert bool((got[1, :, 3] > 1e6).all())


def test_softmax_last_is_softmax_also_for_masked_rows() -> None:
    scores = torch.randn(3, 5, 8).masked_fill(torch.rand(3, 5, 8) > 0.6, -1e9)
    scores[0, 0] = -1e9  # nothing valid: uniform, as torch.softmax
    torch.testing.assert_close(softmax_last(scores), torch.softmax(scores, -1))


def test_inference_weights_follow_parameter_updates() -> None:
    """`infer` folds weights once; an in-place update (an optimiser step, `load_state_dict`)
    is seen by the next call."""
    batch = collate([window_features(mixed_scene(num_steps=40), 20, FEATURES)])
    model = tiny_model(joint_from_marginal=True)
    model.infer(batch)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
        slow = model(batch, scales=False)
    fast = model.infer(batch)
    real = batch.agent_mask
    _close(fast.joint_xy[real], slow.joint_xy[real])
    _close(fast.marginal_xy[real], slow.marginal_xy[real])
    model.load_state_dict(tiny_model(joint_from_marginal=True).state_dict())
    with torch.no_grad():
        _close(model.infer(batch).scene_logits, model(batch, scales=False).scene_logits)
    twin = copy.deepcopy(model)  # caches copied with the weights, then the twin's change
    with torch.no_grad():
        twin.marginal_head[-1].weight.mul_(1.5)
        _close(twin.infer(batch).marginal_xy[real], twin(batch, scales=False).marginal_xy[real])


def test_inference_plan_follows_new_parameter_tensors() -> None:
    """`load_state_dict(assign=True)` and `.to()` put in new parameter tensors: `infer`'s
    plan is remade from them."""
    batch = collate([window_features(mixed_scene(num_steps=40), 20, FEATURES)])
    model = tiny_model(joint_from_marginal=True)
    model.infer(batch)
    model.load_state_dict(tiny_model(joint_from_marginal=True).state_dict(), assign=True)
    with torch.no_grad():
        _close(model.infer(batch).scene_logits, model(batch, scales=False).scene_logits)
    model.double()
    assert model.inference_plan().mode_queries.dtype == torch.float64


def test_constant_velocity_with_the_shared_turn_is_the_same_bit_for_bit() -> None:
    batch = collate([window_features(mixed_scene(num_steps=40), 20, FEATURES)])
    model = tiny_model()
    given = model.constant_velocity(batch, into_frame(batch.heading[:, :, -1]))
    assert torch.equal(given.view(torch.int32), model.constant_velocity(batch).view(torch.int32))


def test_mixed_modes_are_the_einsum_bit_for_bit() -> None:
    generator = torch.Generator().manual_seed(4)
    choice = torch.softmax(torch.randn(2, 9, 6, 6, generator=generator), -1)
    modes = torch.randn(2, 9, 6, 30, 2, generator=generator) * 20.0
    expected = torch.einsum("bajm,bamhc->bajhc", choice, modes)
    assert torch.equal(_mixed(choice, modes).view(torch.int32), expected.view(torch.int32))
