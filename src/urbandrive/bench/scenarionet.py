"""ScenarioNet loading benchmarks on the shared Waymo and nuScenes pickles.

Registration never touches the disk; a benchmark whose data is absent raises `DataError`
naming the folder (and `URBANDRIVE_DATA`) only when it is run.
"""

from __future__ import annotations

from pathlib import Path

from urbandrive.bench.registry import Case, benchmark, shared_data_dir
from urbandrive.core.errors import DataError
from urbandrive.datasets.scenarionet import load_scenarionet, read_description


def _data_file(dataset: str) -> Path:
    """The first `.pkl` under `<data>/scenarionet/<dataset>/` (data: $URBANDRIVE_DATA or
    ../shared/data beside the repository)."""
    data = shared_data_dir()
    files = sorted((data / "scenarionet" / dataset).glob("*.pkl"))
    if not files:
        raise DataError(f"{data / 'scenarionet' / dataset}: no pickles (set URBANDRIVE_DATA)")
    return files[-1]


def _load_case(dataset: str) -> Case:
    """Whole load (read + tracks + map + lights) vs only the restricted unpickling."""
    path = _data_file(dataset)
    scenario = load_scenarionet(path)
    return Case(
        run=lambda: load_scenarionet(path),
        baseline=lambda: read_description(path),
        baseline_name="restricted unpickling only (no conversion)",
        unit_count=scenario.duration_s,
        unit="scene_second",
        repeats=10,
    )


@benchmark("scenarionet_load")
def scenarionet_load() -> Case:
    """A Waymo motion scene (9 s, 115 tracks, 442 lanes, 19 signals)."""
    return _load_case("waymo")


@benchmark("scenarionet_load_nuscenes")
def scenarionet_load_nuscenes() -> Case:
    """A nuScenes scene (20 s, 73 tracks, 212 lanes with polygons and connectors)."""
    return _load_case("nuscenes")
