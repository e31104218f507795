"""The prediction benchmark builds its busy scene and runs both predictors once."""

from urbandrive.bench.prediction import NUM_AGENTS, busy_road_scene, prediction_lane_64_agents


def test_lane_benchmark_case_runs_on_64_agents():
    assert busy_road_scene().tracks.num_agents == NUM_AGENTS == 64
    case = prediction_lane_64_agents()
    lane, cv = case.run(), case.baseline()
    assert lane.xy.shape[:2] == (63, 6) and cv.xy.shape[:2] == (63, 1)


def test_inference_benchmark_without_separation_runs_the_model_on_the_busy_scene():
    from urbandrive.bench.prediction_model import prediction_inference_no_separation

    case = prediction_inference_no_separation()
    prediction = case.run()
    assert prediction.xy.shape[:2] == (63, 6)
