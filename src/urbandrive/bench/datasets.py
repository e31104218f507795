"""Dataset loading benchmarks: AV2 sensor log and forecasting scenario from the shared data.

Registration never touches the disk; a benchmark whose data is absent raises `DataError`
naming the folder (and `URBANDRIVE_DATA`) only when it is run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from urbandrive.bench.registry import Case, benchmark, shared_data_dir
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64
from urbandrive.datasets.av2_forecasting import load_forecasting_scenario
from urbandrive.datasets.av2_map import load_av2_map
from urbandrive.datasets.av2_sensor import (
    ANNOTATIONS_FILE,
    POSES_FILE,
    Cuboids,
    Poses,
    cuboids_to_city,
    find_map_file,
    load_sensor_log,
    read_cuboids,
    read_poses,
    rotation_matrices,
    sensor_scenario,
)


def _data_folder(kind: str) -> Path:
    """The first folder under `<data>/av2/<kind>/`; data = $URBANDRIVE_DATA or ../shared/data."""
    data = shared_data_dir()
    folders = sorted(p for p in (data / "av2" / kind).glob("*") if p.is_dir())
    if not folders:
        raise DataError(f"{data / 'av2' / kind}: no AV2 data here (set URBANDRIVE_DATA)")
    return folders[0]


@benchmark("av2_load_sensor_log")
def av2_load_sensor_log() -> Case:
    """Whole log (feathers + map + transform + grids) vs the same with a per-row transform."""
    folder = _data_folder("logs")
    scenario = load_sensor_log(folder)

    def per_row_baseline() -> object:
        cuboids, poses = read_cuboids(folder / ANNOTATIONS_FILE), read_poses(folder / POSES_FILE)
        map_path = find_map_file(folder)
        xy, heading = _per_row_to_city(cuboids, poses)
        road_map = load_av2_map(map_path)
        return sensor_scenario(folder, cuboids, poses, road_map, map_path), xy, heading

    return Case(
        run=lambda: load_sensor_log(folder),
        baseline=per_row_baseline,
        baseline_name="per-row cuboid transform",
        unit_count=scenario.duration_s,
        unit="log_second",
        repeats=10,
    )


@benchmark("av2_sensor_transform")
def av2_sensor_transform() -> Case:
    """Only the ego->city transform of every cuboid: vectorised vs one row at a time."""
    folder = _data_folder("logs")
    cuboids, poses = read_cuboids(folder / ANNOTATIONS_FILE), read_poses(folder / POSES_FILE)
    step = np.searchsorted(poses.timestamp_ns, cuboids.timestamp_ns)
    rotation, translation = poses.rotation[step], poses.translation[step]
    return Case(
        run=lambda: cuboids_to_city(rotation, translation, cuboids.quaternion, cuboids.translation),
        baseline=lambda: _per_row_to_city(cuboids, poses),
        baseline_name="per-row loop",
        unit_count=float(cuboids.timestamp_ns.size),
        unit="cuboid",
        repeats=10,
    )


@benchmark("av2_load_forecasting")
def av2_load_forecasting() -> Case:
    folder = _data_folder("forecasting")
    return Case(run=lambda: load_forecasting_scenario(folder), unit="scenario", repeats=20)


def _per_row_to_city(cuboids: Cuboids, poses: Poses) -> tuple[NDArrayF64, NDArrayF64]:
    """The naive version: look up the pose and transform each cuboid in a Python loop."""
    pose_row = {int(t): i for i, t in enumerate(poses.timestamp_ns)}
    xy = np.zeros((cuboids.timestamp_ns.size, 2))
    heading = np.zeros(cuboids.timestamp_ns.size)
    for row, t_ns in enumerate(cuboids.timestamp_ns.tolist()):
        pose = pose_row[t_ns]
        rotation = poses.rotation[pose]
        xy[row] = (rotation @ cuboids.translation[row] + poses.translation[pose])[:2]
        forward = rotation @ rotation_matrices(cuboids.quaternion[row : row + 1])[0][:, 0]
        heading[row] = np.arctan2(forward[1], forward[0])
    return xy, heading
