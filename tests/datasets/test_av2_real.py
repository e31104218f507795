"""The AV2 adapters on the real fixture files (skipped when ../shared/data is absent)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.feather as feather
import pyarrow.parquet as parquet
import pytest
import shapely

from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.datasets import summarize_scenario
from urbandrive.datasets.av2_categories import SENSOR_CATEGORY_TO_TYPE
from urbandrive.datasets.av2_sensor import EGO_REAR_AXLE_TO_CENTER_M

pytestmark = pytest.mark.real_data


def test_sensor_counts_match_the_feather(
    av2_log_dirs: list[Path], sensor_scenarios: list[Scenario]
) -> None:
    for folder, scenario in zip(av2_log_dirs, sensor_scenarios, strict=True):
        table = feather.read_table(folder / "annotations.feather")
        num_tracks = len(pc.unique(table.column("track_uuid")))
        num_sweeps = len(pc.unique(table.column("timestamp_ns")))
        assert scenario.tracks.num_agents == num_tracks + 1  # + the ego
        assert scenario.num_steps == num_sweeps
        assert int(scenario.tracks.valid[1:].sum()) == table.num_rows  # no row dropped
        expected: dict[str, int] = {"vehicle": 1}  # the ego
        per_track = table.group_by("track_uuid").aggregate([("category", "min")])
        for category in per_track.column("category_min").to_pylist():
            name = SENSOR_CATEGORY_TO_TYPE[category].name.lower()
            expected[name] = expected.get(name, 0) + 1
        assert summarize_scenario(scenario)["agents_by_type"] == expected


def test_one_cuboid_transformed_by_hand(
    av2_log_dirs: list[Path], sensor_scenarios: list[Scenario]
) -> None:
    folder, scenario = av2_log_dirs[0], sensor_scenarios[0]
    cuboid = feather.read_table(folder / "annotations.feather").slice(100, 1).to_pylist()[0]
    poses = feather.read_table(folder / "city_SE3_egovehicle.feather")
    at = pc.equal(poses.column("timestamp_ns"), cuboid["timestamp_ns"])
    pose = poses.filter(at).to_pylist()[0]  # the fixtures log a pose at every sweep
    w, x, y, z = pose["qw"], pose["qx"], pose["qy"], pose["qz"]
    # city_R_ego rows 0 and 1 from the unit quaternion (Hamilton, w first)
    row0 = (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y))
    row1 = (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x))
    t_ego = (cuboid["tx_m"], cuboid["ty_m"], cuboid["tz_m"])
    city_x = sum(r * t for r, t in zip(row0, t_ego, strict=True)) + pose["tx_m"]
    city_y = sum(r * t for r, t in zip(row1, t_ego, strict=True)) + pose["ty_m"]
    ego_yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    qw, qx, qy, qz = cuboid["qw"], cuboid["qx"], cuboid["qy"], cuboid["qz"]
    cuboid_yaw = math.atan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz))
    tracks = scenario.tracks
    agent = tracks.index_of(cuboid["track_uuid"])
    step = int(np.searchsorted(scenario.timestamps_us, cuboid["timestamp_ns"] // 1000))
    np.testing.assert_allclose(tracks.xy[agent, step], [city_x, city_y], atol=1e-9)
    yaw_error = math.remainder(tracks.heading[agent, step] - (ego_yaw + cuboid_yaw), math.tau)
    assert abs(yaw_error) < 0.01  # ego roll / pitch are small: yaws add up to ~0.5 degree


def test_ego_heading_agrees_with_its_direction_of_travel(sensor_scenarios: list[Scenario]) -> None:
    for scenario in sensor_scenarios:
        tracks, ego = scenario.tracks, scenario.ego_index
        heading = tracks.heading[ego]
        # the rear axle moves along the heading (the box centre also swings when turning)
        rear_axle = tracks.xy[ego] - EGO_REAR_AXLE_TO_CENTER_M * np.stack(
            [np.cos(heading), np.sin(heading)], axis=-1
        )
        step = np.diff(rear_axle, axis=0)
        moving = np.linalg.norm(step, axis=-1) / np.diff(scenario.times_s) > 2.0
        assert moving.sum() > 20
        travel = np.arctan2(step[moving, 1], step[moving, 0])
        mid_heading = heading[:-1][moving] + 0.5 * np.angle(np.exp(1j * np.diff(heading)[moving]))
        error = np.abs(np.angle(np.exp(1j * (travel - mid_heading))))
        assert np.degrees(error).max() < 3.0


def test_moving_vehicles_drive_on_lanes(sensor_scenarios: list[Scenario]) -> None:
    """Fast vehicle positions within 50 m of the ego (well inside the map crop) are on a lane
    or within 2 m of a centerline: all but a few (one car turns off into a driveway)."""
    for scenario in sensor_scenarios:
        on_road = _lane_area(scenario)
        tracks = scenario.tracks
        vehicles = np.isin(tracks.types, [AgentType.VEHICLE, AgentType.LARGE_VEHICLE])
        fast = (tracks.speed_mps > 2.0) & tracks.valid
        moving = vehicles & (fast.sum(1) > 0.5 * tracks.valid.sum(1))
        near_ego = np.linalg.norm(tracks.xy - tracks.xy[scenario.ego_index], axis=-1) < 50.0
        checked = fast & near_ego & moving[:, None]
        assert moving.sum() >= 5 and checked.sum() > 500
        inside = np.zeros_like(checked)
        xy = tracks.xy[checked]
        inside[checked] = shapely.contains_xy(on_road, xy[:, 0], xy[:, 1])
        assert inside.sum() / checked.sum() > 0.95
        per_vehicle = inside.sum(1)[moving] / np.maximum(checked.sum(1)[moving], 1)
        assert np.all(per_vehicle[checked.sum(1)[moving] > 0] > 0.7)


def _lane_area(scenario: Scenario) -> shapely.Geometry:
    """The union of lane polygons and 2 m around every centerline."""
    lanes = scenario.road_map.lanes.values()
    outlines = [np.concatenate([lane.left_boundary, lane.right_boundary[::-1]]) for lane in lanes]
    polygons = shapely.make_valid([shapely.Polygon(outline) for outline in outlines])
    centerlines = shapely.MultiLineString([lane.centerline for lane in lanes])
    return shapely.union_all([shapely.buffer(centerlines, 2.0), *polygons])


def test_sensor_scenario_shape(sensor_scenarios: list[Scenario]) -> None:
    for scenario in sensor_scenarios:
        summary = summarize_scenario(scenario)
        assert summary["ego_id"] == "ego" and summary["source"] == "av2_sensor"
        assert 15.0 < summary["duration_s"] < 16.0 and summary["num_steps"] > 150
        assert abs(scenario.times_s[scenario.current_index] - 2.0) < 0.06
        assert summary["num_lanes"] > 100 and summary["num_crosswalks"] > 0
        assert scenario.metadata["city"] == "pittsburgh"
        assert not summary["has_traffic_lights"]


def test_forecasting_scenario_matches_the_parquet(
    forecasting_dir: Path, forecasting_scenario: Scenario
) -> None:
    table = parquet.read_table(next(forecasting_dir.glob("scenario_*.parquet")))
    scenario, tracks = forecasting_scenario, forecasting_scenario.tracks
    assert tracks.num_agents == 58 == len(pc.unique(table.column("track_id")))
    assert scenario.num_steps == 110 and scenario.current_index == 49
    assert int(tracks.valid.sum()) == table.num_rows
    assert tracks.ids[scenario.ego_index] == "AV"
    focal = tracks.index_of(scenario.metadata["focal_track_id"])
    assert tracks.info.attributes["object_category"][focal] == 3
    counts = summarize_scenario(scenario)["agents_by_type"]
    assert counts == {"vehicle": 32, "pedestrian": 12, "static": 14}  # static: 8 + 4 bikes + 2 bg
    assert scenario.metadata["city"] == "austin" and scenario.metadata["num_observed_steps"] == 50
    assert scenario.duration_s == pytest.approx(10.9, abs=1e-6)
