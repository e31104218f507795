"""The `av2:PATH` loader: one AV2 sensor log or forecasting scenario, or a folder of many.

PATH may be a log folder (with `annotations.feather`), a scenario folder (with
`scenario_*.parquet`), a file inside either, or any folder above them: `list_scenarios`
then finds every log and scenario up to three levels down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.datasets.av2_forecasting import load_forecasting_scenario, scenario_file
from urbandrive.datasets.av2_sensor import ANNOTATIONS_FILE, is_sensor_log, load_sensor_log

_SEARCH_DEPTH = 3


@dataclass(frozen=True, slots=True)
class Av2Loader:
    """Loads Argoverse 2 sensor logs and motion-forecasting scenarios (detected by content)."""

    scheme: str = "av2"

    def load(self, location: str) -> Scenario:
        """The one log or scenario at `location`; `DataError` if there are none or several."""
        folder = _folder(location)
        if is_sensor_log(folder):
            return load_sensor_log(folder)
        if scenario_file(folder) is not None:
            return load_forecasting_scenario(folder)
        found = find_scenario_folders(folder)
        if not found:
            raise DataError(f"{folder}: not an AV2 log or scenario folder and none found below it")
        raise DataError(
            f"{folder}: holds {len(found)} AV2 logs/scenarios (e.g. {found[0]}); "
            "load one of them, or expand the URI"
        )

    def list_scenarios(self, location: str) -> list[str]:
        """Locations of every log / scenario at or below `location`, sorted."""
        folder = _folder(location)
        found = find_scenario_folders(folder)
        if not found:
            raise DataError(f"{folder}: no AV2 logs or forecasting scenarios found")
        return [str(path) for path in found]


def find_scenario_folders(folder: Path) -> list[Path]:
    """`folder` itself if it is a log / scenario, else those up to three levels below, sorted."""
    if is_sensor_log(folder) or any(folder.glob("scenario_*.parquet")):
        return [folder]
    found: set[Path] = set()
    for depth in range(1, _SEARCH_DEPTH + 1):
        stars = "/".join(["*"] * depth)
        found.update(path.parent for path in folder.glob(f"{stars}/{ANNOTATIONS_FILE}"))
        found.update(path.parent for path in folder.glob(f"{stars}/scenario_*.parquet"))
    return sorted(found)


def _folder(location: str) -> Path:
    """The folder `location` names: a file inside a log / scenario stands for its folder."""
    path = Path(location).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_file():
        return path.parent.parent if path.parent.name == "map" else path.parent
    return path
