"""Fixtures of the map tests: the synthetic straight road and the real AV2 vector maps."""

from __future__ import annotations

from pathlib import Path

import pytest

from urbandrive.datasets.av2_map import load_av2_map
from urbandrive.maps import RoadMap
from urbandrive.testing import straight_road


@pytest.fixture(scope="module")
def road() -> RoadMap:
    """Two lanes along +x (y = 0 and y = 3.5), each in two 100 m segments: ids 0, 1, 100, 101."""
    return straight_road()


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
