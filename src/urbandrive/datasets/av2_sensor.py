"""Argoverse 2 sensor-dataset logs -> one `Scenario` in the city frame.

A log folder holds `annotations.feather` (3D cuboids, one row per track and sweep, in the ego
frame of that sweep), `city_SE3_egovehicle.feather` (ego poses at a higher rate than the
sweeps) and `map/log_map_archive_*.json`. The ego frame's origin is the centre of the rear axle
(x forward, y left, z up). Each cuboid is moved to the city frame by the ego pose at its
timestamp (exact when logged, else interpolated between the bracketing poses), with full 3D
rotations so that a pitched or rolled ego does not skew far objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.datasets.arrow_io import float_column, int_column, read_table, str_column
from urbandrive.datasets.av2_categories import SENSOR_CATEGORY_TO_TYPE, types_of
from urbandrive.datasets.av2_map import city_from_map_filename, load_av2_map
from urbandrive.datasets.track_grid import RowIndex, finite_difference_velocity, index_rows
from urbandrive.maps.road_map import RoadMap

ANNOTATIONS_FILE = "annotations.feather"
POSES_FILE = "city_SE3_egovehicle.feather"
#: The AV2 ego (2nd-generation Ford Fusion Hybrid): body length and width without mirrors, m.
EGO_SIZE_M = (4.869, 1.852)
#: Box centre ahead of the rear axle (the ego frame's origin), m.
EGO_REAR_AXLE_TO_CENTER_M = 1.339
#: "Now" is the sweep closest to this many seconds after the first: 2 s of history.
HISTORY_S = 2.0
AV2_CITY_NAMES = {
    "ATX": "austin",
    "DTW": "dearborn",
    "MIA": "miami",
    "PAO": "palo-alto",
    "PIT": "pittsburgh",
    "WDC": "washington-dc",
}
_QUATERNION = ("qw", "qx", "qy", "qz")
_TRANSLATION = ("tx_m", "ty_m", "tz_m")
_CUBOID_COLUMNS = ("timestamp_ns", "track_uuid", "category", "length_m", "width_m", "height_m")
_CUBOID_COLUMNS += (*_QUATERNION, *_TRANSLATION, "num_interior_pts")


@dataclass(frozen=True, slots=True)
class Cuboids:
    """N annotation rows. quaternion: float64[N, 4] (w, x, y, z), ego frame; translation:
    float64[N, 3] m, ego frame; size_m: float64[N, 3] (length, width, height)."""

    timestamp_ns: NDArrayInt
    track_uuid: np.ndarray
    category: np.ndarray
    size_m: NDArrayF64
    quaternion: NDArrayF64
    translation: NDArrayF64
    num_interior_pts: NDArrayInt


@dataclass(frozen=True, slots=True)
class Poses:
    """P ego poses `city_SE3_ego`, sorted by time. rotation: float64[P, 3, 3]; translation:
    float64[P, 3], metres, city frame; timestamp_ns: int64[P], strictly increasing."""

    timestamp_ns: NDArrayInt
    rotation: NDArrayF64
    translation: NDArrayF64


def is_sensor_log(folder: Path) -> bool:
    return (folder / ANNOTATIONS_FILE).is_file()


def load_sensor_log(folder: Path) -> Scenario:
    """The log in `folder` as a Scenario: ego (row 0, id "ego") plus every annotated track."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such AV2 log folder")
    map_path = find_map_file(folder)
    cuboids = read_cuboids(folder / ANNOTATIONS_FILE)
    poses = read_poses(folder / POSES_FILE)
    road_map = load_av2_map(map_path)
    return sensor_scenario(folder, cuboids, poses, road_map, map_path)


def sensor_scenario(
    folder: Path, cuboids: Cuboids, poses: Poses, road_map: RoadMap, map_path: Path
) -> Scenario:
    """Assemble the Scenario from parsed tables (the vectorised core of `load_sensor_log`)."""
    step_ns = np.unique(cuboids.timestamp_ns)
    step_rotation, step_translation = poses_at(folder / POSES_FILE, poses, step_ns)
    step_of_row = np.searchsorted(step_ns, cuboids.timestamp_ns)
    xy, heading = cuboids_to_city(
        step_rotation[step_of_row],
        step_translation[step_of_row],
        cuboids.quaternion,
        cuboids.translation,
    )
    index = index_rows(folder / ANNOTATIONS_FILE, cuboids.track_uuid, step_of_row, step_ns.size)
    timestamps_us = step_ns // 1000
    times_s = (step_ns - step_ns[0]).astype(np.float64) * 1e-9
    tracks = _tracks(index, cuboids, xy, heading, step_rotation, step_translation, times_s)
    city_code, map_id = city_from_map_filename(map_path)
    return Scenario(
        id=folder.name,
        source="av2_sensor",
        timestamps_us=timestamps_us,
        dt_s=0.1,
        current_index=int(np.argmin(np.abs(times_s - HISTORY_S))),
        tracks=tracks,
        ego_index=0,
        road_map=road_map,
        metadata={
            "log_id": folder.name,
            "city": AV2_CITY_NAMES.get(city_code, city_code.lower()),
            "city_code": city_code,
            "map_id": map_id,
            "path": str(folder),
        },
    )


def read_cuboids(path: Path) -> Cuboids:
    """The annotation table; `DataError` naming `path` for a missing column, null or NaN."""
    table = read_table(path, _CUBOID_COLUMNS)
    if table.num_rows == 0:
        raise DataError(f"{path}: no annotations")
    floats = {name: float_column(path, table, name) for name in _CUBOID_COLUMNS[3:13]}
    return Cuboids(
        timestamp_ns=int_column(path, table, "timestamp_ns"),
        track_uuid=str_column(path, table, "track_uuid"),
        category=str_column(path, table, "category"),
        size_m=np.stack([floats["length_m"], floats["width_m"], floats["height_m"]], axis=-1),
        quaternion=_unit_quaternions(path, np.stack([floats[n] for n in _QUATERNION], -1)),
        translation=np.stack([floats[name] for name in _TRANSLATION], axis=-1),
        num_interior_pts=int_column(path, table, "num_interior_pts"),
    )


def read_poses(path: Path) -> Poses:
    """The ego poses, sorted by time; `DataError` naming `path` if unusable."""
    table = read_table(path, ("timestamp_ns", *_QUATERNION, *_TRANSLATION))
    timestamp_ns = int_column(path, table, "timestamp_ns")
    if timestamp_ns.size == 0:
        raise DataError(f"{path}: no poses")
    quaternion = np.stack([float_column(path, table, name) for name in _QUATERNION], axis=-1)
    translation = np.stack([float_column(path, table, name) for name in _TRANSLATION], axis=-1)
    order = np.argsort(timestamp_ns, kind="stable")
    timestamp_ns = timestamp_ns[order]
    repeated = np.flatnonzero(np.diff(timestamp_ns) == 0)
    if repeated.size:
        raise DataError(f"{path}: two poses at timestamp {timestamp_ns[repeated[0]]} ns")
    rotation = rotation_matrices(_unit_quaternions(path, quaternion[order]))
    return Poses(timestamp_ns, rotation, translation[order])


def poses_at(path: Path, poses: Poses, query_ns: NDArrayInt) -> tuple[NDArrayF64, NDArrayF64]:
    """Ego rotation float64[N, 3, 3] and translation float64[N, 3] at `query_ns: int64[N]`.

    Exact where a pose has the timestamp, else interpolated (translation linearly, rotation by
    normalised quaternion interpolation). `DataError` naming `path` and the first timestamp
    outside the poses' time range.
    """
    first, last = poses.timestamp_ns[0], poses.timestamp_ns[-1]
    uncovered = np.flatnonzero((query_ns < first) | (query_ns > last))
    if uncovered.size:
        raise DataError(
            f"{path}: ego poses cover [{first}, {last}] ns but annotation timestamp "
            f"{query_ns[uncovered[0]]} ns is outside them"
        )
    upper = np.searchsorted(poses.timestamp_ns, query_ns, side="left")
    exact = poses.timestamp_ns[upper] == query_ns
    lower = np.where(exact, upper, upper - 1)
    span = (poses.timestamp_ns[upper] - poses.timestamp_ns[lower]).astype(np.float64)
    weight = np.divide(
        (query_ns - poses.timestamp_ns[lower]).astype(np.float64),
        span,
        out=np.zeros(span.shape),
        where=span > 0,
    )
    translation = poses.translation[lower] + weight[:, None] * (
        poses.translation[upper] - poses.translation[lower]
    )
    rotation = _interpolate_rotations(poses.rotation[lower], poses.rotation[upper], weight)
    return rotation, translation


def cuboids_to_city(
    ego_rotation: NDArrayF64,
    ego_translation: NDArrayF64,
    quaternion: NDArrayF64,
    translation: NDArrayF64,
) -> tuple[NDArrayF64, NDArrayF64]:
    """Cuboid centres and yaws in the city frame: `city_SE3_ego @ ego_SE3_cuboid`, per row.

    ego_rotation: float64[N, 3, 3] and ego_translation: float64[N, 3] (city_SE3_ego at each
    row's timestamp); quaternion: float64[N, 4] (w, x, y, z) and translation: float64[N, 3],
    ego frame. Returns xy: float64[N, 2] metres, heading: float64[N] radians (the city-frame
    direction of the cuboid's +x axis).
    """
    city_xyz = np.einsum("nij,nj->ni", ego_rotation, translation) + ego_translation
    forward_in_ego = rotation_matrices(quaternion)[:, :, 0]
    forward_in_city = np.einsum("nij,nj->ni", ego_rotation, forward_in_ego)
    return city_xyz[:, :2], np.arctan2(forward_in_city[:, 1], forward_in_city[:, 0])


def rotation_matrices(quaternion: NDArrayF64) -> NDArrayF64:
    """float64[N, 3, 3] from unit quaternions float64[N, 4] (w, x, y, z), Hamilton convention."""
    w, x, y, z = np.moveaxis(quaternion, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def _tracks(
    index: RowIndex,
    cuboids: Cuboids,
    xy: NDArrayF64,
    heading: NDArrayF64,
    ego_rotation: NDArrayF64,
    ego_translation: NDArrayF64,
    times_s: NDArrayF64,
) -> Tracks:
    """Ego (row 0) and the annotated tracks as `(A + 1, T)` arrays; sizes: median per track."""
    num_steps = index.num_steps
    ego_forward = ego_rotation[:, :2, 0] / np.linalg.norm(
        ego_rotation[:, :2, 0], axis=-1, keepdims=True
    )
    ego_xy = ego_translation[:, :2] + EGO_REAR_AXLE_TO_CENTER_M * ego_forward
    valid = np.concatenate([np.ones((1, num_steps), bool), index.valid])
    grid_xy = np.concatenate([ego_xy[None], index.scatter(xy)])
    grid_heading = np.concatenate(
        [np.arctan2(ego_forward[None, :, 1], ego_forward[None, :, 0]), index.scatter(heading)]
    )
    sizes = index.median_per_agent(cuboids.size_m)
    categories = index.first_per_agent(cuboids.category)
    interior = index.scatter(cuboids.num_interior_pts)
    return Tracks.from_arrays(
        ids=["ego", *index.agent_ids.tolist()],
        types=np.concatenate(
            [[int(AgentType.VEHICLE)], types_of(categories, SENSOR_CATEGORY_TO_TYPE)]
        ),
        size_m=np.concatenate([[EGO_SIZE_M], sizes[:, :2]]),
        xy=grid_xy,
        heading=grid_heading,
        velocity=finite_difference_velocity(grid_xy, valid, times_s),
        valid=valid,
        attributes={
            "source_category": np.concatenate([["EGO_VEHICLE"], categories]).astype(str),
            "height_m": np.concatenate([[1.476], sizes[:, 2]]),
            "num_interior_pts": np.concatenate([np.zeros((1, num_steps), np.int64), interior]),
        },
    )


def _interpolate_rotations(lower: NDArrayF64, upper: NDArrayF64, weight: NDArrayF64) -> NDArrayF64:
    """Blend rotation matrices float64[N, 3, 3] by `weight: float64[N]` and re-orthonormalise.

    For the small rotations between consecutive poses (tens of ms apart) this matches slerp to
    well below a millidegree.
    """
    blended = lower + weight[:, None, None] * (upper - lower)
    u, _, vt = np.linalg.svd(blended)
    return u @ vt


def _unit_quaternions(path: Path, quaternion: NDArrayF64) -> NDArrayF64:
    norm = np.linalg.norm(quaternion, axis=-1, keepdims=True)
    bad = np.flatnonzero(norm[:, 0] < 1e-6)
    if bad.size:
        raise DataError(f"{path}: row {int(bad[0])} has a zero quaternion (qw, qx, qy, qz)")
    return quaternion / norm


def find_map_file(folder: Path) -> Path:
    candidates = sorted((folder / "map").glob("log_map_archive_*.json"))
    if len(candidates) != 1:
        found = "none" if not candidates else f"{len(candidates)}"
        raise DataError(f"{folder / 'map'}: expected one log_map_archive_*.json, found {found}")
    return candidates[0]
