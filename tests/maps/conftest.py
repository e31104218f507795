"""Fixtures of the map tests: the synthetic straight road and the real AV2 vector maps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from urbandrive.geometry import midline
from urbandrive.maps import Crosswalk, Lane, LaneType, RoadMap
from urbandrive.testing import straight_road


@pytest.fixture(scope="module")
def road() -> RoadMap:
    """Two lanes along +x (y = 0 and y = 3.5), each in two 100 m segments: ids 0, 1, 100, 101."""
    return straight_road()


def load_av2_map(path: Path) -> RoadMap:
    """A minimal reader of an AV2 `log_map_archive_*.json` (lanes, crossings, drivable areas)."""
    raw = json.loads(path.read_text())

    def xy(points: list[dict[str, float]]) -> np.ndarray:
        return np.array([[p["x"], p["y"]] for p in points], dtype=np.float64)

    lanes = {}
    for item in raw["lane_segments"].values():
        left, right = xy(item["left_lane_boundary"]), xy(item["right_lane_boundary"])
        # Sensor-log archives give no centerline: AV2 defines it as the boundaries' midline.
        centre = xy(item["centerline"]) if "centerline" in item else midline(left, right)
        lanes[int(item["id"])] = Lane(
            id=int(item["id"]),
            centerline=centre,
            left_boundary=left,
            right_boundary=right,
            lane_type=LaneType[item["lane_type"]],
            is_intersection=bool(item["is_intersection"]),
            successors=tuple(item["successors"]),
            predecessors=tuple(item["predecessors"]),
            left_neighbor=item["left_neighbor_id"],
            right_neighbor=item["right_neighbor_id"],
        )
    crosswalks = {
        int(c["id"]): Crosswalk(
            int(c["id"]), np.concatenate([xy(c["edge1"]), xy(c["edge2"])[::-1]])
        )
        for c in raw["pedestrian_crossings"].values()
    }
    areas = tuple(xy(a["area_boundary"]) for a in raw["drivable_areas"].values())
    road_map = RoadMap(lanes=lanes, crosswalks=crosswalks, drivable_areas=areas, source=str(path))
    road_map.validate()
    return road_map


@pytest.fixture(scope="module")
def av2_maps(av2_dir: Path) -> list[RoadMap]:
    """The vector maps of every AV2 log and forecasting scenario in the shared data."""
    paths = sorted(av2_dir.glob("**/log_map_archive_*.json"))
    if not paths:
        pytest.skip(f"no AV2 map archives under {av2_dir}")
    return [load_av2_map(path) for path in paths]


@pytest.fixture(scope="module")
def av2_log_maps(av2_dir: Path) -> list[tuple[Path, RoadMap]]:
    """(log folder, its map) for each AV2 sensor log."""
    logs = sorted(p for p in (av2_dir / "logs").iterdir() if p.is_dir())
    return [(log, load_av2_map(next((log / "map").glob("log_map_archive_*.json")))) for log in logs]
