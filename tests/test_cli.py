"""`urbandrive inspect` end to end, as a user runs it: one line per error, exit code 1."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

URBANDRIVE = Path(sys.executable).with_name("urbandrive")


def _av2_files() -> ModuleType:
    path = Path(__file__).parent / "datasets" / "av2_files.py"
    spec = importlib.util.spec_from_file_location("av2_files_cli", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


av2_files = _av2_files()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    if not URBANDRIVE.exists():
        pytest.skip(f"{URBANDRIVE} not installed")
    return subprocess.run([str(URBANDRIVE), *args], capture_output=True, text=True, timeout=60)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_inspect_json_on_a_synthetic_log(tmp_path: Path) -> None:
    folder = av2_files.write_sensor_log(tmp_path)
    result = run_cli("inspect", f"av2:{folder}", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["num_agents"] == 3 and summary["ego_id"] == "ego"
    assert summary["agents_by_type"] == {"vehicle": 2, "static": 1}


def test_missing_folder(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("inspect", f"av2:{tmp_path / 'absent'}"), "absent", "no such")


def test_unknown_scheme_lists_known_ones() -> None:
    assert_one_line_error(run_cli("inspect", "nope:somewhere"), "unknown scheme 'nope'", "av2:")


def test_corrupt_feather(tmp_path: Path) -> None:
    folder = av2_files.write_sensor_log(tmp_path)
    (folder / "annotations.feather").write_bytes(b"\x89garbage" * 20)
    assert_one_line_error(
        run_cli("inspect", f"av2:{folder}"), "annotations.feather", "not a readable"
    )


def test_corrupt_parquet(tmp_path: Path) -> None:
    folder = av2_files.write_forecasting_scenario(tmp_path)
    (folder / "scenario_s1.parquet").write_bytes(b"PAR1 not really")
    assert_one_line_error(run_cli("inspect", f"av2:{folder}"), "scenario_s1.parquet", "parquet")


def test_corrupt_map_json(tmp_path: Path) -> None:
    folder = av2_files.write_sensor_log(tmp_path)
    next((folder / "map").glob("*.json")).write_text("[1, 2")
    assert_one_line_error(run_cli("inspect", f"av2:{folder}"), "log_map_archive_", "not valid JSON")


def test_map_without_lanes(tmp_path: Path) -> None:
    road_map = av2_files.straight_lane_map() | {"lane_segments": {}}
    folder = av2_files.write_sensor_log(tmp_path, road_map=road_map)
    assert_one_line_error(run_cli("inspect", f"av2:{folder}"), "log_map_archive_", "no lanes")


def test_poses_not_covering_annotations(tmp_path: Path) -> None:
    poses = {name: values[:2] for name, values in av2_files.pose_rows().items()}
    folder = av2_files.write_sensor_log(tmp_path, poses=poses)
    first = av2_files.START_NS + 2 * av2_files.STEP_NS
    assert_one_line_error(
        run_cli("inspect", f"av2:{folder}"), "city_SE3_egovehicle.feather", str(first)
    )


def test_nan_position(tmp_path: Path) -> None:
    rows = av2_files.annotation_rows()
    rows["tx_m"][0] = float("nan")
    folder = av2_files.write_sensor_log(tmp_path, annotations=rows)
    assert_one_line_error(
        run_cli("inspect", f"av2:{folder}"), "annotations.feather", "'tx_m' is nan"
    )


def test_missing_column(tmp_path: Path) -> None:
    rows = av2_files.annotation_rows()
    del rows["track_uuid"]
    folder = av2_files.write_sensor_log(tmp_path, annotations=rows)
    assert_one_line_error(run_cli("inspect", f"av2:{folder}"), "column 'track_uuid' missing")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run_cli("--debug", "inspect", f"av2:{tmp_path / 'absent'}")
    assert result.returncode != 0 and "Traceback" in result.stderr


@pytest.mark.real_data
def test_inspect_a_real_log(av2_dir: Path) -> None:
    log = sorted((av2_dir / "logs").glob("*"))[0]
    result = run_cli("inspect", f"av2:{log}", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["num_steps"] == 156
