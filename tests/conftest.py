"""Shared fixtures: where the real data lives (skip with a reason when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """$URBANDRIVE_DATA, else ../shared/data beside the repository."""
    return Path(os.environ.get("URBANDRIVE_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set URBANDRIVE_DATA)")
    return path


@pytest.fixture(scope="session")
def av2_dir(data_dir: Path) -> Path:
    path = data_dir / "av2"
    if not path.is_dir():
        pytest.skip(f"AV2 data not found at {path}")
    return path
