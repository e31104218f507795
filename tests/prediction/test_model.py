"""The joint model: shapes, masks, size, and invariance to moving the whole scene."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from urbandrive.core.observation import observe
from urbandrive.core.scenario import Scenario
from urbandrive.maps import RoadMap
from urbandrive.prediction.features import (
    Batch,
    FeatureConfig,
    agent_to_scene,
    collate,
    observation_features,
    scene_to_global,
    window_features,
)
from urbandrive.prediction.model import JointPredictionModel, ModelConfig, count_parameters
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


def test_anchored_scene_modes_start_from_the_ranked_marginal_modes() -> None:
    batch = collate([window_features(mixed_scene(num_steps=40), 20, FEATURES)])
    model = tiny_model(joint_anchor=True, decoder_layers=2)
    last = model.joint_head[-1]
    with torch.no_grad():  # a joint head that outputs nothing: scene mode k = rank-k mode
        last.weight.zero_()
        last.bias.zero_()
        output = model(batch)
    order = output.marginal_logits.argsort(-1, descending=True)
    ranked = torch.gather(output.marginal_xy, 2, order[..., None, None].expand_as(output.joint_xy))
    torch.testing.assert_close(output.joint_xy, ranked)
    fast = model(batch, scales=False)  # inference: the same modes and logits, no scales
    torch.testing.assert_close(fast.marginal_xy, output.marginal_xy)
    torch.testing.assert_close(fast.scene_logits, output.scene_logits)


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


def test_mode_overlaps_count_close_neighbours_per_mode_by_hand() -> None:
    """Two agents 10 m apart facing each other; mode 0 meets at x = 5 (both 0.5 m short of
    it in their own frames), mode 1 stays 4 m apart; a third, padded agent is ignored."""
    model = tiny_model(overlap_aware_scores=True, future_steps=3)
    xy = torch.zeros(1, 3, 2, 2)
    xy[0, 1, :, 0] = 10.0
    heading = torch.zeros(1, 3, 2)
    heading[0, 1] = math.pi
    zeros = torch.zeros(1, 0)
    batch = Batch(
        xy,
        heading,
        torch.zeros(1, 3, 2, 2),
        torch.ones(1, 3, 2, dtype=torch.bool),
        torch.tensor([[True, True, False]]),
        torch.zeros(1, 3, dtype=torch.long),
        torch.ones(1, 3),
        torch.zeros(1, 0, 2, 2),
        torch.zeros(1, 0, 2, dtype=torch.bool),
        zeros[..., None],
        zeros.bool(),
    )
    joint = torch.zeros(1, 3, 2, 3, 2)  # (B, A, K, H, 2), each agent's frame
    joint[:, :2, 0, :, 0] = torch.tensor([1.0, 3.0, 4.5])  # only the third step is read
    joint[:, :2, 1, :, 0] = torch.tensor([1.0, 2.0, 3.0])
    index = torch.tensor([[[0, 1], [1, 0], [2, 0]]])
    mask = torch.tensor([[[True, True], [True, True], [False, False]]])
    # Mode 0 ends 1 m apart: relu(1 - 1 / 1) = 0; only closer than 1 m counts.
    assert float(model.mode_overlaps(joint, batch, index, mask).abs().max()) < 1e-5
    joint[:, :2, 0, 2, 0] = 4.75  # 0.5 m apart -> 0.5 each
    counts = model.mode_overlaps(joint, batch, index, mask)
    torch.testing.assert_close(counts[0, :2], torch.tensor([[0.5, 0.0], [0.5, 0.0]]))


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


@pytest.mark.parametrize(
    "decoder",
    [
        {},
        {"joint_anchor": True, "decoder_layers": 2},
        {"joint_from_marginal": True, "overlap_aware_scores": True},
    ],
)
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
