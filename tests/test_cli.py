"""`urbandrive inspect` end to end, as a user runs it: one line per error, exit code 1.

Every case runs the installed command in its own process; the processes are started together
(once per module) so the suite pays the interpreter start-up about once, not per case.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

URBANDRIVE = Path(sys.executable).with_name("urbandrive")
Result = subprocess.CompletedProcess[str]


def _av2_files() -> ModuleType:
    path = Path(__file__).parent / "datasets" / "av2_files.py"
    spec = importlib.util.spec_from_file_location("av2_files_cli", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


av2_files = _av2_files()


def _log_with(**changes: object) -> Callable[[Path], list[str]]:
    """A case: write a synthetic log with `changes`, inspect it."""

    def setup(root: Path) -> list[str]:
        return ["inspect", f"av2:{av2_files.write_sensor_log(root, **changes)}"]

    return setup


def _corrupt(
    relative: str, garbage: bytes, forecasting: bool = False
) -> Callable[[Path], list[str]]:
    def setup(root: Path) -> list[str]:
        write = av2_files.write_forecasting_scenario if forecasting else av2_files.write_sensor_log
        folder = write(root)
        target = next(folder.glob(relative))
        target.write_bytes(garbage)
        return ["inspect", f"av2:{folder}"]

    return setup


def _rows_without(column: str) -> dict[str, list[object]]:
    rows = av2_files.annotation_rows()
    del rows[column]
    return rows


def _rows_with_nan() -> dict[str, list[object]]:
    rows = av2_files.annotation_rows()
    rows["tx_m"][0] = float("nan")
    return rows


CASES: dict[str, Callable[[Path], list[str]]] = {
    "json": lambda root: [*_log_with()(root), "--json"],
    "missing_folder": lambda root: ["inspect", f"av2:{root / 'absent'}"],
    "unknown_scheme": lambda root: ["inspect", "nope:somewhere"],
    "debug": lambda root: ["--debug", "inspect", f"av2:{root / 'absent'}"],
    "corrupt_feather": _corrupt("annotations.feather", b"\x89garbage" * 20),
    "corrupt_parquet": _corrupt("scenario_*.parquet", b"PAR1 not really", forecasting=True),
    "corrupt_json": _corrupt("map/*.json", b"[1, 2"),
    "no_lanes": _log_with(road_map=av2_files.straight_lane_map() | {"lane_segments": {}}),
    "short_poses": _log_with(poses={k: v[:2] for k, v in av2_files.pose_rows().items()}),
    "nan_position": _log_with(annotations=_rows_with_nan()),
    "missing_column": _log_with(annotations=_rows_without("track_uuid")),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Run every case's command concurrently; name -> finished process."""
    if not URBANDRIVE.exists():
        pytest.skip(f"{URBANDRIVE} not installed")
    commands = {name: setup(tmp_path_factory.mktemp(name)) for name, setup in CASES.items()}
    running = {
        name: subprocess.Popen(
            [str(URBANDRIVE), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, args in commands.items()
    }
    finished = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=120)
        finished[name] = subprocess.CompletedProcess(
            commands[name], process.returncode, stdout, stderr
        )
    return finished


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_inspect_json_on_a_synthetic_log(results: dict[str, Result]) -> None:
    result = results["json"]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["num_agents"] == 3 and summary["ego_id"] == "ego"
    assert summary["agents_by_type"] == {"vehicle": 2, "static": 1}


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("missing_folder", ("absent", "no such file or folder")),
        ("unknown_scheme", ("unknown scheme 'nope'", "av2:")),
        ("corrupt_feather", ("annotations.feather", "not a readable feather file")),
        ("corrupt_parquet", ("scenario_s1.parquet", "not a readable parquet file")),
        ("corrupt_json", ("log_map_archive_", "not valid JSON")),
        ("no_lanes", ("log_map_archive_", "the map has no lanes")),
        (
            "short_poses",
            ("city_SE3_egovehicle.feather", str(av2_files.START_NS + 2 * av2_files.STEP_NS)),
        ),
        ("nan_position", ("annotations.feather", "column 'tx_m' is nan at row 0")),
        ("missing_column", ("annotations.feather", "column 'track_uuid' missing")),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_1(
    results: dict[str, Result], case: str, fragments: tuple[str, ...]
) -> None:
    assert_one_line_error(results[case], *fragments)


def test_debug_shows_the_traceback(results: dict[str, Result]) -> None:
    assert results["debug"].returncode != 0 and "Traceback" in results["debug"].stderr


@pytest.mark.real_data
def test_inspect_a_real_log(av2_dir: Path) -> None:
    log = sorted((av2_dir / "logs").glob("*"))[0]
    result = subprocess.run(
        [str(URBANDRIVE), "inspect", f"av2:{log}", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["num_steps"] == 156
