"""Fixtures for the dataset adapter tests: synthetic AV2 files and the real ones, loaded once."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from urbandrive.core.scenario import Scenario


def load_av2_files() -> ModuleType:
    """The `av2_files` writer module beside this file (tests are not a package)."""
    spec = importlib.util.spec_from_file_location(
        "av2_files", Path(__file__).with_name("av2_files.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def av2_files() -> ModuleType:
    return load_av2_files()


@pytest.fixture(scope="session")
def av2_log_dirs(av2_dir: Path) -> list[Path]:
    logs = sorted(path for path in (av2_dir / "logs").glob("*") if path.is_dir())
    if not logs:
        pytest.skip(f"no AV2 sensor logs under {av2_dir / 'logs'}")
    return logs


@pytest.fixture(scope="session")
def sensor_scenarios(av2_log_dirs: list[Path]) -> list[Scenario]:
    from urbandrive.datasets import load_scenario

    return [load_scenario(f"av2:{path}") for path in av2_log_dirs]


@pytest.fixture(scope="session")
def forecasting_dir(av2_dir: Path) -> Path:
    folders = sorted(path for path in (av2_dir / "forecasting").glob("*") if path.is_dir())
    if not folders:
        pytest.skip(f"no AV2 forecasting scenarios under {av2_dir / 'forecasting'}")
    return folders[0]


@pytest.fixture(scope="session")
def forecasting_scenario(forecasting_dir: Path) -> Scenario:
    from urbandrive.datasets import load_scenario

    return load_scenario(f"av2:{forecasting_dir}")
