"""Writers of tiny synthetic AV2 logs / scenarios on disk, for the adapter tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as parquet

LOG_ID = "00000000-test-log"
STEP_NS = 100_000_000
START_NS = 315_966_000_000_000_000


def straight_lane_map() -> dict[str, Any]:
    """One 100 m lane along +x (y in [-1.75, 1.75]) and one crosswalk."""

    def points(*xy: tuple[float, float]) -> list[dict[str, float]]:
        return [{"x": x, "y": y, "z": 0.0} for x, y in xy]

    lane = {
        "id": 1,
        "is_intersection": False,
        "lane_type": "VEHICLE",
        "left_lane_boundary": points((0.0, 1.75), (100.0, 1.75)),
        "right_lane_boundary": points((0.0, -1.75), (50.0, -1.75), (100.0, -1.75)),
        "left_lane_mark_type": "DASHED_WHITE",
        "right_lane_mark_type": "SOLID_WHITE",
        "successors": [99],
        "predecessors": [],
        "left_neighbor_id": None,
        "right_neighbor_id": 7,
    }
    crossing = {"id": 5, "edge1": points((60, -3), (60, 3)), "edge2": points((63, -3), (63, 3))}
    area = {"id": 3, "area_boundary": points((0, -5), (100, -5), (100, 5), (0, 5), (0, -5))}
    return {
        "lane_segments": {"1": lane},
        "pedestrian_crossings": {"5": crossing},
        "drivable_areas": {"3": area},
    }


def annotation_rows(num_steps: int = 5) -> dict[str, list[Any]]:
    """Track "car": 10 m ahead of the ego, facing the same way; "cone": one sweep only."""
    rows: dict[str, list[Any]] = {name: [] for name in ANNOTATION_COLUMNS}
    for step in range(num_steps):
        _add(rows, START_NS + step * STEP_NS, "car", "REGULAR_VEHICLE", (10.0, 0.0), 4.5)
    _add(rows, START_NS, "cone", "CONSTRUCTION_CONE", (5.0, 3.0), 0.4)
    return rows


ANNOTATION_COLUMNS = (
    "timestamp_ns", "track_uuid", "category", "length_m", "width_m", "height_m",
    "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m", "num_interior_pts",
)  # fmt: skip


def _add(
    rows: dict[str, list[Any]], t_ns: int, track: str, category: str, xy: tuple, length: float
) -> None:
    values = (t_ns, track, category, length, 2.0, 1.5, 1.0, 0.0, 0.0, 0.0, xy[0], xy[1], 0.5, 40)
    for name, value in zip(ANNOTATION_COLUMNS, values, strict=True):
        rows[name].append(value)


def pose_rows(num_steps: int = 5, speed_mps: float = 5.0, stride: int = 1) -> dict[str, list[Any]]:
    """The ego driving along +x at `speed_mps` from x = 0, y = 0; a pose every STEP_NS / stride."""
    offsets = np.round(np.arange((num_steps - 1) * stride + 1) * STEP_NS / stride)
    times = START_NS + offsets.astype(np.int64)
    x = (times - START_NS) * 1e-9 * speed_mps
    ones, zeros = np.ones_like(x), np.zeros_like(x)
    return {
        "timestamp_ns": times.tolist(), "qw": ones.tolist(), "qx": zeros.tolist(),
        "qy": zeros.tolist(), "qz": zeros.tolist(), "tx_m": x.tolist(), "ty_m": zeros.tolist(),
        "tz_m": zeros.tolist(),
    }  # fmt: skip


def write_sensor_log(
    root: Path,
    annotations: dict[str, list[Any]] | None = None,
    poses: dict[str, list[Any]] | None = None,
    road_map: dict[str, Any] | None = None,
) -> Path:
    """A log folder under `root`; returns it."""
    folder = root / LOG_ID
    (folder / "map").mkdir(parents=True, exist_ok=True)
    feather.write_feather(
        pa.table(annotations or annotation_rows()), folder / "annotations.feather"
    )
    feather.write_feather(pa.table(poses or pose_rows()), folder / "city_SE3_egovehicle.feather")
    map_name = f"log_map_archive_{LOG_ID}____PIT_city_1234.json"
    (folder / "map" / map_name).write_text(json.dumps(road_map or straight_lane_map()))
    return folder


def write_forecasting_scenario(root: Path, num_steps: int = 110) -> Path:
    """Scenario "s1": the AV and a pedestrian "7" (first 20 steps) along +x."""
    folder = root / "s1"
    folder.mkdir(parents=True, exist_ok=True)
    steps = np.arange(num_steps)
    rows = {
        "observed": np.concatenate([steps < 50, steps[:20] < 50]),
        "track_id": ["AV"] * num_steps + ["7"] * 20,
        "object_type": ["vehicle"] * num_steps + ["pedestrian"] * 20,
        "object_category": [1] * num_steps + [3] * 20,
        "timestep": np.concatenate([steps, steps[:20]]),
        "position_x": np.concatenate([steps * 1.0, steps[:20] * 0.1]),
        "position_y": np.zeros(num_steps + 20),
        "heading": np.zeros(num_steps + 20),
        "velocity_x": np.concatenate([np.full(num_steps, 10.0), np.ones(20)]),
        "velocity_y": np.zeros(num_steps + 20),
    }
    total = num_steps + 20
    rows |= {
        "scenario_id": ["s1"] * total, "start_timestamp": [float(START_NS)] * total,
        "end_timestamp": [float(START_NS + (num_steps - 1) * STEP_NS)] * total,
        "num_timestamps": [num_steps] * total, "focal_track_id": ["7"] * total,
        "city": ["austin"] * total,
    }  # fmt: skip
    parquet.write_table(pa.table(rows), folder / "scenario_s1.parquet")
    (folder / "log_map_archive_s1.json").write_text(json.dumps(straight_lane_map()))
    return folder
