"""LearnedPredictor: a valid global-frame `Prediction` from a checkpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from urbandrive.core import AgentType, compiled
from urbandrive.core.errors import DataError, UrbandriveError
from urbandrive.core.observation import observe
from urbandrive.metrics.forecasting import world_overlaps
from urbandrive.metrics.states import types_in
from urbandrive.prediction import learned
from urbandrive.prediction.features import collate, observation_features
from urbandrive.prediction.learned import (
    DRIFT_MODE_PROB,
    LearnedConfig,
    LearnedPredictor,
    agents_to_global,
    along_lanes,
    drifting_agents,
    extend_horizon,
    extended_headings,
    heading_bounded,
    headings_along,
    headings_along_reference,
    hold_still,
    lateral_speed,
    merge_modes,
    shipped_checkpoint,
    torch_threads,
    with_drift_mode,
)
from urbandrive.prediction.model import JointPredictionModel, ModelConfig
from urbandrive.prediction.training import (
    TrainConfig,
    config_from_dict,
    config_to_dict,
    load_model,
    load_train_config,
    read_checkpoint,
    save_checkpoint,
)
from urbandrive.testing import scenario_from_states, straight_road

from .scenes import mixed_scene


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    config = ModelConfig(hidden_dim=32, num_modes=3, history_steps=10, future_steps=12)
    path = tmp_path_factory.mktemp("learned") / "tiny.pt"
    save_checkpoint(path, JointPredictionModel(config), None, None, TrainConfig(), 0)
    return path


def road_scene():
    """Ego and three vehicles on a straight road (`scenario_from_states` + `straight_road`);
    agent_3 is not seen at the last step."""
    t = 0.1 * np.arange(20)
    xy = np.stack(
        [np.stack([10.0 + 8.0 * t + 12 * i, np.full_like(t, 3.5 * (i % 2))], -1) for i in range(4)]
    )
    valid = np.ones((4, 20), bool)
    valid[3, -1] = False
    return scenario_from_states(
        xy, np.zeros((4, 20)), [AgentType.VEHICLE] * 4, valid=valid, road_map=straight_road()
    )


def test_predictor_keeps_the_models_plan_and_infer_reads_a_given_one(
    tiny_checkpoint: Path,
) -> None:
    """The predictor makes the model's inference plan once (its model is not trained) and
    passes it to `infer`, which then reads it and does not check the weights."""
    predictor = LearnedPredictor(tiny_checkpoint)
    observation = observe(road_scene(), 19, 10)
    first = predictor.predict(observation)
    plan = predictor._plan
    assert plan is predictor.model.inference_plan()
    again = predictor.predict(observation)
    assert predictor._plan is plan
    np.testing.assert_array_equal(first.xy, again.xy)
    batch = collate([observation_features(observation, predictor.features)])
    moved = dataclasses.replace(plan, mode_queries=plan.mode_queries + 1.0)
    assert not torch.equal(
        predictor.model.infer(batch, plan=moved).joint_xy,
        predictor.model.infer(batch).joint_xy,
    )


def test_prediction_is_valid_and_in_the_global_frame(tiny_checkpoint: Path) -> None:
    predictor = LearnedPredictor(tiny_checkpoint)
    scenario = road_scene()
    prediction = predictor.predict(observe(scenario, 19, 10))
    prediction.validate()
    assert predictor.name == "learned"
    assert prediction.xy.shape == (3, 3, 12, 2) and prediction.agent_rows.tolist() == [1, 2, 3]
    np.testing.assert_allclose(prediction.times_s, 0.1 * np.arange(1, 13))
    assert prediction.probs.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(prediction.marginal_probs.sum(1), 1.0)
    assert prediction.valid[:2].all() and not prediction.valid[2].any()
    # Near the residual constant-velocity prior: within a few metres of the agents.
    first = prediction.xy[0, :, 0]
    assert np.linalg.norm(first - scenario.tracks.xy[1, 19], axis=-1).max() < 5.0
    # The marginal head rides along for per-agent consumers (the metrics score it).
    marginal = prediction.marginal
    assert marginal is not None and marginal.xy.shape == (3, 3, 12, 2)
    assert np.linalg.norm(marginal.xy[0, :, 0] - scenario.tracks.xy[1, 19], axis=-1).max() < 5.0
    heads = LearnedPredictor(tiny_checkpoint, LearnedConfig(mode_source="marginal"))
    as_marginal = heads.predict(observe(scenario, 19, 10))
    np.testing.assert_allclose(as_marginal.xy[:2], marginal.xy[:2])
    np.testing.assert_allclose(as_marginal.marginal_probs[:2], marginal.probs[:2])


def test_longer_horizon_continues_and_marginal_modes_are_available(tiny_checkpoint: Path) -> None:
    config = LearnedConfig(horizon_s=3.0, include_ego=True, mode_source="marginal")
    prediction = LearnedPredictor(tiny_checkpoint, config).predict(observe(road_scene(), 19, 10))
    prediction.validate()
    assert prediction.xy.shape == (4, 3, 30, 2) and prediction.agent_rows[0] == 0
    assert np.isfinite(prediction.heading).all()


def test_observation_at_another_step_is_refused(tiny_checkpoint: Path) -> None:
    scenario = dataclasses.replace(
        mixed_scene(num_steps=30), timestamps_us=np.arange(30, dtype=np.int64) * 400_000, dt_s=0.4
    )
    with pytest.raises(DataError, match=r"expects 0\.1 s"):
        LearnedPredictor(tiny_checkpoint).predict(observe(scenario, 20))


def _headings(xy: np.ndarray, start_heading: float, bounded: bool) -> np.ndarray:
    """headings_along one agent's one mode: xy [H, 2] from (0, 0) now."""
    path = np.asarray(xy, dtype=np.float64)[None, None]
    flags = np.array([bounded])
    return headings_along(path, np.zeros((1, 2)), np.array([start_heading]), flags)[0, 0]


@pytest.mark.parametrize("bounded", [False, True])
def test_headings_of_a_still_agent_with_jitter_hold_the_heading_now(bounded: bool) -> None:
    # +-2 cm in x and y: every step is 5.7 cm long (the old per-step rule turned on it), but
    # every chord (2 or 3 steps) is at most 5.7 cm < 2 x 5 cm.
    jitter = 0.02 * np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0]])
    xy = np.tile(jitter, (5, 1))
    np.testing.assert_allclose(_headings(xy, 0.3, bounded), 0.3)
    still = headings_along(np.zeros((1, 1, 2, 2)), np.zeros((1, 2)), np.array([0.3]))
    np.testing.assert_allclose(still[0, 0], [0.3, 0.3])


@pytest.mark.parametrize("bounded", [False, True])
def test_headings_of_a_straight_mover_follow_its_direction(bounded: bool) -> None:
    # 0.5 m per step: a bounded agent may turn 0.35 x 0.5 = 0.175 rad at once (0.1 needed).
    xy = 0.5 * np.arange(1, 11)[:, None] * np.array([np.cos(1.0), np.sin(1.0)])
    np.testing.assert_allclose(_headings(xy, 1.1, bounded), 1.0)
    assert extend_horizon(xy[None, None], np.zeros((1, 2)), 12).shape == (1, 1, 12, 2)


def test_headings_of_a_stop_then_go_agent() -> None:
    # Still for 4 steps, then 0.3 m per step along +y. A pedestrian turns when the chord of
    # steps 2..5 moves (step 4, about to go); a car turns 0.35 x 0.3 = 0.105 rad per step it
    # moves, from step 5, until it points along +y.
    xy = np.zeros((16, 2))
    xy[4:, 1] = 0.3 * np.arange(1, 13)
    walking = _headings(xy, 0.3, bounded=False)
    np.testing.assert_allclose(walking, [0.3] * 3 + [np.pi / 2] * 13)
    car = _headings(xy, 0.3, bounded=True)
    expected = np.minimum(0.3 + 0.105 * np.maximum(np.arange(1, 17) - 4, 0), np.pi / 2)
    np.testing.assert_allclose(car, expected)


def test_a_reversing_pedestrian_turns_around_and_a_reversing_car_does_not() -> None:
    # 0.2 m per step along +x for 5 steps, then back along -x for 5: the chord of steps
    # 4..7 (0.8 -> 0.6) is the first to point back.
    x = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0])
    xy = np.stack([x, np.zeros_like(x)], -1)
    walking = _headings(xy, 0.0, bounded=False)
    np.testing.assert_allclose(np.cos(walking), [1.0] * 5 + [-1.0] * 5, atol=1e-12)
    np.testing.assert_allclose(_headings(xy, 0.0, bounded=True), 0.0, atol=1e-12)


def test_heading_bounded_spares_the_agents_that_turn_on_the_spot() -> None:
    types = np.array([AgentType.VEHICLE, AgentType.PEDESTRIAN, AgentType.MOTORCYCLIST])
    np.testing.assert_array_equal(heading_bounded(types), [True, False, True])


def _shipped() -> Path:
    try:
        return shipped_checkpoint()
    except DataError as error:
        pytest.skip(str(error))


def test_shipped_default_checkpoint_predicts_a_synthetic_road() -> None:
    _shipped()
    prediction = LearnedPredictor().predict(observe(mixed_scene(num_steps=40), 30))
    prediction.validate()
    assert prediction.num_modes == 6 and prediction.probs.sum() == pytest.approx(1.0)


def test_shipped_default_checkpoint_was_trained_by_its_recipe_and_fills_the_marginal() -> None:
    path = _shipped()
    state = read_checkpoint(path)
    recipe = load_train_config(shipped_checkpoint("default.toml"))
    assert ModelConfig(**state["model_config"]) == recipe.model_config(0.1)
    assert state["train_config"] == config_to_dict(recipe)
    assert path.stat().st_size < 5_000_000
    prediction = LearnedPredictor().predict(observe(mixed_scene(num_steps=40), 30))
    assert prediction.marginal is not None and prediction.marginal.num_modes == 6


def test_shipped_default_checkpoint_on_the_av2_forecasting_scenario(av2_dir: Path) -> None:
    _shipped()
    from urbandrive.datasets import load_scenario

    folders = sorted((av2_dir / "forecasting").glob("*"))
    if not folders:
        pytest.skip(f"no AV2 forecasting scenario under {av2_dir}")
    scenario = load_scenario(f"av2:{folders[0]}")
    prediction = LearnedPredictor().predict(observe(scenario, scenario.current_index, 20))
    prediction.validate()
    seen = prediction.valid[:, 0]
    assert seen.sum() > 5 and np.isfinite(prediction.xy[seen]).all()


def test_checkpoints_naming_retired_options_load_only_with_their_old_values(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    config = ModelConfig(hidden_dim=32, num_modes=3, history_steps=10, future_steps=12)
    path = tmp_path / "old.pt"
    save_checkpoint(path, JointPredictionModel(config), None, None, TrainConfig(), 0)
    state = torch.load(path, weights_only=True)
    state["model_config"] |= {"decoder_layers": 1, "joint_anchor": False}
    state["train_config"] |= {"overlap_aware_scores": False}
    assert load_model(state).config == config
    assert config_from_dict(state["train_config"]) == TrainConfig()
    state["model_config"]["joint_anchor"] = True
    with pytest.raises(DataError, match="joint_anchor"):
        load_model(state)


def test_extended_headings_equal_the_headings_of_the_extended_modes() -> None:
    rng = np.random.default_rng(0)
    xy = np.cumsum(rng.normal(0.0, 0.3, (4, 3, 6, 2)), axis=2)
    xy[0, 0, -2:] = xy[0, 0, -3]  # stops: the extension holds the heading
    start_xy, start_heading = rng.normal(size=(4, 2)), rng.uniform(-3, 3, 4)
    bounded = np.array([True, False, True, False])
    for steps in (3, 6, 15):
        longer = extend_horizon(xy, start_xy, steps)
        expected = headings_along(longer, start_xy, start_heading, bounded)
        got = extended_headings(xy, start_xy, start_heading, steps, bounded)
        np.testing.assert_allclose(got, expected, atol=1e-9)
    held = extended_headings(xy, start_xy, start_heading, 15, bounded)[0, 0]
    np.testing.assert_allclose(held[6:], held[5])


def test_map_cache_encodes_like_the_scene_and_follows_the_map_and_the_view() -> None:
    """The cached map encodings equal the scene-frame route; a predictor that has seen other
    maps and other views predicts what a fresh one does; the cache keeps at most max_maps."""
    _shipped()
    predictor = LearnedPredictor()
    scenario = mixed_scene(num_agents=12, num_steps=60)
    other = dataclasses.replace(scenario, road_map=straight_road(num_lanes=3, length_m=307.3))
    observations = [observe(scenario, 30), observe(other, 30), observe(scenario, 55)]
    for observation in observations:
        scene = observation_features(observation, predictor.features)
        batch = collate([scene])
        cached = predictor.maps.encode(
            observation.road_map, scene.map_piece_ids, scene.origin_xy, scene.origin_heading
        )
        direct = predictor.model.encoded_map(batch)
        real = batch.map_mask[0]
        for name in ("origin", "heading"):
            torch.testing.assert_close(
                getattr(cached, name)[0, real], getattr(direct, name)[0, real], atol=1e-4, rtol=0
            )
        torch.testing.assert_close(
            cached.keys_values[:, 0, real], direct.keys_values[:, 0, real], atol=1e-4, rtol=1e-4
        )
    for observation in observations:
        warm, fresh = predictor.predict(observation), LearnedPredictor().predict(observation)
        np.testing.assert_allclose(warm.xy, fresh.xy, atol=1e-4)
        np.testing.assert_allclose(warm.probs, fresh.probs, atol=1e-5)
    assert len(predictor.maps) == 2
    predictor.maps.max_maps = 1
    third = dataclasses.replace(scenario, road_map=straight_road(num_lanes=2, length_m=211.7))
    predictor.predict(observe(third, 30))
    assert len(predictor.maps) == 1
    with pytest.raises(DataError, match="polyline piece"):
        predictor.maps.encode(scenario.road_map, np.array([10**6]), np.zeros(2), 0.0)


def test_nobody_seen_now_gives_an_all_invalid_prediction(tiny_checkpoint: Path) -> None:
    scenario = road_scene()
    tracks = dataclasses.replace(scenario.tracks, valid=np.zeros((4, 20), bool))
    observation = observe(dataclasses.replace(scenario, tracks=tracks), 19, 10)
    prediction = LearnedPredictor(tiny_checkpoint).predict(observation)
    prediction.validate()
    assert not prediction.valid.any() and prediction.xy.shape == (3, 3, 12, 2)


def test_registry_factory_uses_the_default_checkpoint_and_checks_the_step() -> None:
    _shipped()
    from urbandrive.prediction.learned import learned_from_settings
    from urbandrive.prediction.registry import PredictorSettings

    predictor = learned_from_settings(PredictorSettings(horizon_s=8.0, dt_s=0.1))
    prediction = predictor.predict(observe(mixed_scene(num_steps=40), 30))
    assert prediction.xy.shape[2] == 80 and predictor.name == "learned"
    assert (predictor.config.hold_still_m, predictor.config.hold_still_mps) == (1.5, 0.2)
    with pytest.raises(UrbandriveError, match=r"0\.4 s"):
        learned_from_settings(PredictorSettings(horizon_s=4.8, dt_s=0.4))
    with pytest.raises(UrbandriveError, match="modes"):
        learned_from_settings(PredictorSettings(horizon_s=3.0, dt_s=0.1, num_modes=20))


def test_agents_beyond_max_model_agents_are_predicted_at_constant_velocity(
    tiny_checkpoint: Path,
) -> None:
    scenario = mixed_scene(num_agents=12, num_steps=40)
    observation = observe(scenario, 30, 10)
    config = LearnedConfig(horizon_s=2.0, max_model_agents=5)
    prediction = LearnedPredictor(tiny_checkpoint, config).predict(observation)
    prediction.validate()
    history = observation.history
    assert prediction.valid[:, 0].sum() == history.valid[prediction.agent_rows, -1].sum()
    distance = np.linalg.norm(
        history.xy[prediction.agent_rows, -1] - history.xy[observation.ego_index, -1], axis=-1
    )
    far = np.argsort(distance, kind="stable")[4:]  # the ego takes one of the 5 model slots
    far = far[history.valid[prediction.agent_rows[far], -1]]
    assert far.size
    rows = prediction.agent_rows[far]
    expected = (
        history.xy[rows, -1, None] + history.velocity[rows, -1, None] * prediction.times_s[:, None]
    )
    for modes in (prediction.xy[far], prediction.marginal.xy[far]):
        np.testing.assert_allclose(modes, np.broadcast_to(expected[:, None], modes.shape))
    np.testing.assert_allclose(prediction.marginal_probs[far], 1.0 / 3)
    with pytest.raises(ValueError, match="max_model_agents"):
        LearnedConfig(max_model_agents=0)


def test_registry_has_the_near_variant_for_planners() -> None:
    _shipped()
    from urbandrive.prediction.learned import NEAR_AGENTS
    from urbandrive.prediction.registry import PREDICTORS, PredictorSettings

    predictor = PREDICTORS.create("learned_near", PredictorSettings(horizon_s=8.0))
    assert isinstance(predictor, LearnedPredictor)
    assert predictor.config.max_model_agents == NEAR_AGENTS == 32
    assert predictor.config.torch_threads == 1 and predictor.config.hold_still_m == 1.0
    assert predictor.config.hold_still_mps == 0.5
    assert predictor.config.separation is None
    assert predictor.config.merge_modes_m == 0.05 and predictor.config.drift_mps == 0.5
    prediction = predictor.predict(observe(mixed_scene(num_steps=40), 30))
    prediction.validate()
    assert prediction.marginal is None and prediction.xy.shape[2] == 80


def test_agents_to_global_rotates_by_the_agents_global_heading_about_its_position() -> None:
    """An agent heading +y in the global frame (scene frame turned by pi/4, its own heading
    pi/4 in it): 1 m ahead and 2 m to its left lands at (x - 2, y + 1)."""
    scene = SimpleNamespace(origin_heading=np.pi / 4, heading=np.array([[0.0, np.pi / 4]]))
    local = np.array([[[[1.0, 2.0]]]])  # (A, K, H, 2)
    got = agents_to_global(local, np.array([[10.0, 5.0]]), scene)  # type: ignore[arg-type]
    np.testing.assert_allclose(got[0, 0, 0], [8.0, 6.0], atol=1e-6)


def test_hold_still_pins_the_creeping_modes_of_still_agents_only() -> None:
    """Agent 0 (0.1 m/s): mode 0 creeps 0.4 m (held), mode 1 pulls away 3 m (kept); agent 1
    (5 m/s) creeps 0.4 m in mode 0 (kept: it is not still now)."""
    start = np.array([[0.0, 0.0], [10.0, 0.0]])
    ends = np.array([[[0.4, 0.0], [3.0, 0.0]], [[10.4, 0.0], [13.0, 0.0]]])  # (N, K, 2)
    xy = np.linspace(start[:, None], ends, 3, axis=2)[:, :, 1:]  # (N, K, 2 steps, 2)
    got = hold_still(xy, start, np.array([0.1, 5.0]), max_shift_m=1.0, max_speed=0.5)
    np.testing.assert_array_equal(got[0, 0], [[0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(got[0, 1], xy[0, 1])
    np.testing.assert_array_equal(got[1], xy[1])


def test_a_stopped_car_is_held_over_the_whole_horizon(tiny_checkpoint: Path) -> None:
    """With a threshold no mode reaches, every mode of the parked car (agent_1) stands at its
    position and heading now for all 3 s (extension included); the moving car still moves."""
    t = 0.1 * np.arange(20)
    xy = np.stack([np.stack([10.0 + 8.0 * t, 0.0 * t], -1), np.tile([[30.0, 3.5]], (20, 1))])
    scenario = scenario_from_states(
        xy, np.full((2, 20), 0.2), [AgentType.VEHICLE] * 2, road_map=straight_road()
    )
    config = LearnedConfig(horizon_s=3.0, hold_still_m=1e6)
    prediction = LearnedPredictor(tiny_checkpoint, config).predict(observe(scenario, 19, 10))
    parked = int(np.flatnonzero(prediction.agent_rows == 1)[0])
    np.testing.assert_array_equal(prediction.xy[parked], np.broadcast_to([30.0, 3.5], (3, 30, 2)))
    np.testing.assert_allclose(prediction.heading[parked], 0.2)
    with pytest.raises(ValueError, match="hold_still_m"):
        LearnedConfig(hold_still_m=0.0)


def test_torch_threads_are_set_for_the_block_and_restored() -> None:
    before = torch.get_num_threads()
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(before + 1):
        raise RuntimeError("restored even so")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="torch_threads"):
        LearnedConfig(torch_threads=0)


def test_scene_mode_separation_removes_overlaps_and_keeps_the_rest() -> None:
    _shipped()
    scenario = mixed_scene(2, num_agents=30, num_steps=40)
    observation = observe(scenario, 30)
    on = LearnedPredictor().predict(observation)
    off = LearnedPredictor(config=LearnedConfig(separation=None)).predict(observation)
    size = scenario.tracks.size_m[on.agent_rows]

    def overlapping(prediction) -> int:
        xy, heading = prediction.xy[:, :, :30], prediction.heading[:, :, :30]
        return int(world_overlaps(xy, heading=heading, size_m=size).sum())

    assert overlapping(on) < overlapping(off)
    assert not np.array_equal(on.xy, off.xy)
    np.testing.assert_array_equal(on.probs, off.probs)
    np.testing.assert_array_equal(on.marginal.xy, off.marginal.xy)


def test_merge_modes_joins_a_mode_to_the_first_more_probable_one_within_the_gap() -> None:
    """Two agents, three modes (probs 0.2, 0.5, 0.3): mode 0 is 1 cm from mode 2 and 1 m from
    mode 1, so 1 and 2 are kept and 0 joins 2; with no agent, every mode joins mode 1."""
    xy = np.zeros((2, 3, 4, 2))
    xy[:, 1, :, 0] = 1.0
    xy[1, 0, -1, 1] = 0.01
    probs = np.array([0.2, 0.5, 0.3])
    np.testing.assert_array_equal(merge_modes(xy, probs, 0.05), [2, 1, 2])
    np.testing.assert_array_equal(merge_modes(xy, probs, 0.005), [0, 1, 2])
    np.testing.assert_array_equal(merge_modes(xy, probs, 2.0), [1, 1, 1])
    np.testing.assert_array_equal(merge_modes(xy[:0], probs, 0.05), [1, 1, 1])


def test_merged_scene_modes_sum_their_probabilities(tiny_checkpoint: Path) -> None:
    """The tiny model's modes differ by metres: a 100 m gap merges all three into the most
    probable (probability 1, its own positions); a 1 mm gap keeps them; with no reach beyond
    the ego's own (8 m/s x 1.2 s) the agents, 12 m ahead and more, cannot tell them apart."""
    observation = observe(road_scene(), 19, 10)
    plain = LearnedPredictor(tiny_checkpoint).predict(observation)
    top = int(np.argmax(plain.probs))
    merged = LearnedPredictor(tiny_checkpoint, LearnedConfig(merge_modes_m=100.0))
    one = merged.predict(observation)
    one.validate()
    assert one.xy.shape == (3, 1, 12, 2) and one.probs.tolist() == [1.0]
    np.testing.assert_allclose(one.xy[:, 0], plain.xy[:, top])
    np.testing.assert_allclose(one.heading[:, 0], plain.heading[:, top])
    np.testing.assert_allclose(one.marginal_probs, 1.0)
    kept = LearnedPredictor(tiny_checkpoint, LearnedConfig(merge_modes_m=0.001))
    np.testing.assert_array_equal(kept.predict(observation).xy, plain.xy)
    blind = LearnedConfig(merge_modes_m=0.001, merge_reach_m=0.0)
    assert LearnedPredictor(tiny_checkpoint, blind).predict(observation).xy.shape[1] == 1
    with pytest.raises(ValueError, match="merge_modes_m"):
        LearnedConfig(merge_modes_m=0.0)


def test_closest_squared_distance_reaches_inside_the_last_segment() -> None:
    """Points (0, 0), (10, 0) and the ego at (5, 3): 3 m from the segment between them, not
    the 5.8 m to either point; a polyline of one point is its point."""
    from urbandrive.prediction.learned import _closest_squared

    xy = np.array([[[[0.0, 0.0], [10.0, 0.0]]]])  # [N, K, S, 2]
    np.testing.assert_allclose(_closest_squared(xy, np.array([5.0, 3.0])), [9.0])
    np.testing.assert_allclose(_closest_squared(xy[:, :, :1], np.array([5.0, 3.0])), [34.0])


def test_bounded_headings_compiled_equal_the_numpy_reference() -> None:
    rng = np.random.default_rng(3)
    xy = np.cumsum(rng.normal(0.0, 0.2, (5, 4, 20, 2)), axis=2)
    start_xy, start_heading = rng.normal(size=(5, 2)), rng.uniform(-3, 3, 5)
    xy[1] = start_xy[1]  # still: held
    bounded = np.array([True, True, False, True, True])
    got = headings_along(xy, start_xy, start_heading, bounded)
    with compiled.numpy_reference():
        expected = headings_along(xy, start_xy, start_heading, bounded)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_allclose(got[1], start_heading[1])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.booleans())
def test_compiled_headings_equal_the_numpy_reference_bit_for_bit(
    seed: int, steps: int, some_bounded: bool
) -> None:
    """Chords, holds (still agents, short steps) and bounded turns: the kernels around
    numpy's arctan2 give `headings_along_reference`'s floats."""
    rng = np.random.default_rng(seed)
    xy = np.cumsum(rng.normal(0.0, rng.choice([0.01, 0.3]), (6, 3, steps, 2)), axis=2)
    start_xy, start_heading = rng.normal(size=(6, 2)), rng.uniform(-np.pi, np.pi, 6)
    xy[0] = start_xy[0]  # standing still: every step held
    xy[1] += start_xy[1]  # small steps from where it is now
    bounded = rng.random(6) < 0.5 if some_bounded else None
    got = headings_along(xy, start_xy, start_heading, bounded)
    np.testing.assert_array_equal(
        got, headings_along_reference(xy, start_xy, start_heading, bounded)
    )
    np.testing.assert_array_equal(got[0], np.broadcast_to(start_heading[0], got[0].shape))


def drift_scene(road_map: bool = True):
    """Ego and two cars along +x at 8 m/s on `straight_road`; agent_1, heading 0.1 rad, also
    moves +y at 1 m/s (into the left lane), agent_2 keeps its lane; a pedestrian crosses at
    1 m/s."""
    t = 0.1 * np.arange(20)
    xy = np.stack(
        [
            np.stack([10.0 + 8.0 * t, np.zeros_like(t)], -1),
            np.stack([25.0 + 8.0 * t, 0.2 + 1.0 * t], -1),
            np.stack([40.0 + 8.0 * t, np.full_like(t, 3.5)], -1),
            np.stack([60.0 + 0.0 * t, -2.0 + 1.0 * t], -1),
        ]
    )
    heading = np.zeros((4, 20))
    heading[1], heading[3] = 0.1, np.pi / 2
    types = [AgentType.VEHICLE] * 3 + [AgentType.PEDESTRIAN]
    return scenario_from_states(xy, heading, types, road_map=straight_road() if road_map else None)


def test_lateral_speed_is_across_the_matched_lane_or_else_across_the_heading() -> None:
    """agent_1's velocity (8, 1) across the lanes along +x: 1 m/s (left positive); without a
    map, across its heading of 0.1 rad: cos(0.1) * 1 - sin(0.1) * 8."""
    rows = np.array([1, 2])
    on_map = lateral_speed(observe(drift_scene(), 19, 10), rows)
    np.testing.assert_allclose(on_map, [1.0, 0.0], atol=1e-9)
    no_map = lateral_speed(observe(drift_scene(road_map=False), 19, 10), rows)
    np.testing.assert_allclose(no_map, [np.cos(0.1) - 8.0 * np.sin(0.1), 0.0], atol=1e-9)


def test_drifting_agents_are_vehicles_across_their_lane_and_followed_by_the_near_modes() -> None:
    """Two modes at 2 s: mode 0 keeps every agent in its lane, mode 1 puts agent_1 0.5 m from
    its constant-velocity position (56.2, 4.1): agent_1 drifts, followed by mode 1's 0.3; the
    pedestrian's 1 m/s is not a drift (not a vehicle); nor is agent_1's beyond a reach of
    10 m from the ego (15 m away)."""
    observation = observe(drift_scene(), 19, 10)
    rows = np.array([1, 2, 3])
    times = 0.1 * np.arange(1, 31)
    now = observation.history.xy[rows, -1]
    xy = np.repeat((now[:, None] + [8.0, 0.0] * times[:, None])[:, None], 2, 1)  # [3, 2, 30, 2]
    xy[0, 1, 19] = [56.2, 4.1 + 0.5]
    drifting, followed = drifting_agents(observation, rows, xy, np.array([0.7, 0.3]), times, 0.5)
    np.testing.assert_array_equal(drifting, [True, False, False])
    assert followed[0] == pytest.approx(0.3)
    assert not drifting_agents(observation, rows, xy, np.array([0.7, 0.3]), times, 1.5)[0].any()
    far = drifting_agents(observation, rows, xy, np.array([0.7, 0.3]), times, 0.5, reach_m=10.0)
    assert not far[0].any()
    probs = np.array([0.7, 0.3])
    for among, below, expected in (
        (np.array([False, True, True]), None, False),
        (None, 0.3, False),  # followed by 0.3: not below 0.3
        (np.array([True, False, False]), 0.31, True),
    ):
        got, followed_again = drifting_agents(
            observation, rows, xy, probs, times, 0.5, among=among, followed_below=below
        )
        np.testing.assert_array_equal(got, [expected, False, False])
        np.testing.assert_array_equal(followed_again, followed)


def test_the_drift_mode_is_the_top_mode_with_the_drifters_at_constant_velocity() -> None:
    """Modes followed by 0.2 get p = (0.5 - 0.2) / (1 - 0.2) = 0.375: probs (0.8, 0.2) ->
    (0.5, 0.125, 0.375), so the following modes carry 0.125 + 0.375 = 0.5."""
    observation = observe(drift_scene(), 19, 10)
    rows, times = np.array([1, 2]), 0.1 * np.arange(1, 4)
    xy = np.arange(2 * 2 * 3 * 2, dtype=np.float64).reshape(2, 2, 3, 2)
    heading = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    marginal = np.array([[0.6, 0.4], [0.9, 0.1]])
    modes = (xy, heading, np.array([0.8, 0.2]), marginal)
    new_xy, new_heading, probs, new_marginal = with_drift_mode(
        observation, rows, np.array([True, False]), 0.2, modes, times
    )
    assert DRIFT_MODE_PROB == 0.5
    np.testing.assert_allclose(probs, [0.5, 0.125, 0.375])
    np.testing.assert_allclose(new_marginal, [[0.375, 0.25, 0.375], [0.5625, 0.0625, 0.375]])
    np.testing.assert_array_equal(new_xy[:, :2], xy)
    np.testing.assert_allclose(
        new_xy[0, 2], [[25.0 + 8.0 * (1.9 + t), 0.2 + 1.9 + t] for t in times]
    )
    np.testing.assert_array_equal(new_xy[1, 2], xy[1, 0])
    np.testing.assert_allclose(new_heading[:, 2], [[0.1] * 3, heading[1, 0]])


def test_a_drifting_car_gets_its_constant_velocity_mode_only_with_drift_mps(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tiny model stays near its constant-velocity prior, so its modes follow agent_1's
    drift: nothing is added. Where no mode counts as following (`DRIFT_FOLLOWED_M` 0) the
    top mode with agent_1 at constant velocity is added at probability 0.5."""
    observation = observe(drift_scene(), 19, 10)
    plain = LearnedPredictor(tiny_checkpoint).predict(observation)
    with_drift = LearnedPredictor(tiny_checkpoint, LearnedConfig(drift_mps=0.5))
    np.testing.assert_array_equal(with_drift.predict(observation).xy, plain.xy)
    monkeypatch.setattr(learned, "DRIFT_FOLLOWED_M", 0.0)
    prediction = with_drift.predict(observation)
    prediction.validate()
    assert prediction.num_modes == plain.num_modes + 1
    np.testing.assert_array_equal(prediction.xy[:, :-1], plain.xy)
    np.testing.assert_allclose(prediction.probs, np.r_[0.5 * plain.probs, 0.5])
    kinematic = observation.history.xy[1, -1] + [8.0, 1.0] * plain.times_s[:, None]
    np.testing.assert_allclose(prediction.xy[0, -1], kinematic, atol=1e-9)
    np.testing.assert_array_equal(prediction.xy[1:, -1], plain.xy[1:, np.argmax(plain.probs)])
    with pytest.raises(ValueError, match="drift_mps"):
        LearnedConfig(drift_mps=0.0)


def test_a_longer_horizon_continues_at_the_given_step() -> None:
    """Two steps (1, 0), (2, 1), then 2 more at the given (0.5, 0) per step, or at the last
    step (1, 1) by default."""
    xy = np.array([[[[1.0, 0.0], [2.0, 1.0]]]])
    start = np.zeros((1, 2))
    np.testing.assert_array_equal(
        extend_horizon(xy, start, 4, np.array([[[0.5, 0.0]]]))[0, 0],
        [[1.0, 0.0], [2.0, 1.0], [2.5, 1.0], [3.0, 1.0]],
    )
    np.testing.assert_array_equal(
        extend_horizon(xy, start, 4)[0, 0], [[1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [4.0, 3.0]]
    )


def test_along_lanes_drops_a_vehicles_drift_across_its_lane() -> None:
    """On `straight_road` (lanes along +x): agent_1's last step (0.8, 0.1) -> (0.8, 0); a step
    turned 45 degrees from every lane, the pedestrian's and a stopped car's stay as they are,
    and every step where there is no map."""
    observation = observe(drift_scene(), 19, 10)
    rows = np.array([1, 2, 3])
    types = observation.history.types[rows]
    ends = np.array([[60.0, 3.0], [70.0, 3.5], [60.0, 0.0]])
    steps = np.array([[[0.8, 0.1], [0.5, 0.5]], [[0.0, 0.0], [0.8, 0.0]], [[0.0, 0.1]] * 2])
    xy = np.stack([ends[:, None] - steps, np.broadcast_to(ends[:, None], steps.shape)], 2)
    got = along_lanes(observation, xy, observation.history.xy[rows, -1], types)
    want = steps.copy()
    want[0, 0] = [0.8, 0.0]
    np.testing.assert_allclose(got, want, atol=1e-12)
    no_map = observe(drift_scene(road_map=False), 19, 10)
    np.testing.assert_allclose(along_lanes(no_map, xy, ends, types), steps, atol=1e-12)


def test_extend_along_lanes_changes_only_the_vehicles_steps_past_the_models_horizon(
    tiny_checkpoint: Path,
) -> None:
    """With a 3 s horizon (the tiny model's 1.2 s continued): the model's steps and the
    pedestrian are as before; every vehicle mode goes on along +x (no y motion) or, turned
    from its lane, as before (here every vehicle mode changes)."""
    observation = observe(drift_scene(), 19, 10)
    plain = LearnedPredictor(tiny_checkpoint, LearnedConfig(horizon_s=3.0)).predict(observation)
    config = LearnedConfig(horizon_s=3.0, extend_along_lanes=True)
    prediction = LearnedPredictor(tiny_checkpoint, config).predict(observation)
    prediction.validate()
    np.testing.assert_array_equal(prediction.xy[:, :, :12], plain.xy[:, :, :12])
    pedestrian = list(prediction.agent_rows).index(3)
    np.testing.assert_array_equal(prediction.xy[pedestrian], plain.xy[pedestrian])
    changed = 0
    for n in np.flatnonzero(prediction.agent_rows != 3):
        for k in range(prediction.num_modes):
            y = prediction.xy[n, k, 11:, 1]
            same = np.array_equal(prediction.xy[n, k], plain.xy[n, k])
            assert np.allclose(y, y[0]) or same
            changed += not same
    assert changed == 2 * prediction.num_modes


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(0, 4), st.integers(0, 8))
def test_compiled_hold_and_extend_equals_hold_still_then_extend_horizon_bit_for_bit(
    seed: int, steps: int, held_modes: int, extra_steps: int
) -> None:
    """Still and moving agents, slow and fast, held modes and not (the marginal ones), one
    model step or several: the compiled pass gives numpy's floats."""
    rng = np.random.default_rng(seed)
    start_xy = rng.normal(size=(5, 2))
    xy = start_xy[:, None, None] + np.cumsum(
        rng.normal(0.0, rng.choice([0.05, 0.5]), (5, 4, steps, 2)), 2
    )
    speed = rng.uniform(0.0, 1.0, 5)
    arguments = (start_xy, steps + extra_steps, speed, held_modes, 0.3, 0.5)
    got = learned.hold_and_extend(xy, *arguments)
    with compiled.numpy_reference():
        expected = learned.hold_and_extend(xy, *arguments)
    np.testing.assert_array_equal(got, expected)
    held = min(held_modes, 4)
    reference = extend_horizon(
        np.concatenate([hold_still(xy[:, :held], start_xy, speed, 0.3, 0.5), xy[:, held:]], 1),
        start_xy,
        steps + extra_steps,
    )
    np.testing.assert_array_equal(got, reference)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5), st.integers(1, 4))
def test_compiled_merge_and_closest_equal_the_numpy_reference_bit_for_bit(
    seed: int, steps: int, agents: int
) -> None:
    """Modes that agree within the gap for some agents or steps only, equal probabilities
    (ties: lower index), still polylines (a zero last segment): `merge_modes` and
    `_closest_squared` compiled give numpy's results."""
    rng = np.random.default_rng(seed)
    base = np.cumsum(rng.normal(0.0, 1.0, (agents, 1, steps, 2)), 2)
    xy = base + rng.choice([0.0, 0.01, 0.04, 0.2], (agents, 6, 1, 1)) * rng.normal(
        size=(agents, 6, steps, 2)
    )
    xy[:, 5] = xy[:, 5, :1]  # standing still
    probs = rng.choice([0.1, 0.2, 0.3], 6)
    point = rng.normal(size=2)
    got = merge_modes(xy, probs, 0.05), learned._closest_squared(xy, point)
    with compiled.numpy_reference():
        expected = merge_modes(xy, probs, 0.05), learned._closest_squared(xy, point)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("lead", [(), (2,)])
def test_compiled_agents_to_global_equals_the_numpy_reference_bit_for_bit(lead: tuple) -> None:
    rng = np.random.default_rng(5)
    scene = SimpleNamespace(
        origin_heading=0.7, heading=rng.uniform(-3, 3, (4, 20)).astype(np.float32)
    )
    local = rng.normal(0.0, 20.0, (*lead, 4, 3, 30, 2)).astype(np.float32)
    now_xy = rng.normal(0.0, 1000.0, (4, 2))
    got = agents_to_global(local, now_xy, scene)  # type: ignore[arg-type]
    with compiled.numpy_reference():
        expected = agents_to_global(local, now_xy, scene)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got, expected)


def test_type_membership_is_np_isin() -> None:
    """The predictor's type sets through `metrics.states.types_in`, out-of-range types too."""
    types = np.random.default_rng(6).integers(-2, 10, 300)
    for kinds in (learned.DRIFT_TYPES, learned._TURN_ON_THE_SPOT):
        expected = np.isin(types, np.asarray(kinds, np.int64))
        np.testing.assert_array_equal(types_in(types, kinds), expected)
    np.testing.assert_array_equal(
        learned.heading_bounded(types), ~np.isin(types, learned._TURN_ON_THE_SPOT)
    )
    assert types_in(types[:0], learned.DRIFT_TYPES).shape == (0,)


def test_compiled_all_agents_equals_the_numpy_reference_bit_for_bit() -> None:
    """Model agents, constant-velocity agents (seen now, beyond the model's) and agents not
    seen now, interleaved."""
    history = observe(mixed_scene(num_steps=40), 30).history
    rng = np.random.default_rng(7)
    rows = np.arange(history.num_agents)
    seen_now = history.valid[rows, -1].copy()
    seen_now[::4] = False
    seen = seen_now & (rng.random(rows.size) < 0.5)
    picked = rng.normal(size=(int(seen.sum()), 3, 12, 2)), rng.normal(size=(int(seen.sum()), 3, 12))
    times = 0.1 * np.arange(1, 13)
    got = learned.all_agents(history, rows, seen, seen_now, picked, times)
    with compiled.numpy_reference():
        expected = learned.all_agents(history, rows, seen, seen_now, picked, times)
    for got_field, expected_field in zip(got, expected, strict=True):
        np.testing.assert_array_equal(got_field, expected_field)
    assert (seen_now & ~seen).any() and (~seen_now).any() and seen.any()
