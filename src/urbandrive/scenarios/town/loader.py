"""The `town:` scenario loader: `town:SUITE` lists a built-in suite, `town:SUITE/ID` builds
one of its scenarios (e.g. `town:standard/cut_in-003`), deterministically; towns and their
background traffic are cached in-process."""

from __future__ import annotations

from dataclasses import dataclass

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario


@dataclass(frozen=True, slots=True)
class TownLoader:
    """Loads scenarios of the town family suites (`urbandrive.scenarios.suites`)."""

    scheme: str = "town"

    def load(self, location: str) -> Scenario:
        """`SUITE/ID`, e.g. "standard/cut_in-003"; `DataError` naming what is wrong."""
        from urbandrive.scenarios.suites import family_suite

        suite_name, separator, scenario_id = location.partition("/")
        if not separator or not scenario_id:
            raise DataError(f"town:{location}: expected town:SUITE/ID, e.g. town:smoke/cut_in-000")
        return family_suite(suite_name).build(scenario_id)

    def list_scenarios(self, location: str) -> list[str]:
        """Every scenario of suite `location` ("smoke", "standard"), or the one named."""
        from urbandrive.scenarios.suites import family_suite

        suite_name, separator, scenario_id = location.partition("/")
        suite = family_suite(suite_name)
        short = suite.name.removeprefix("town:")
        if separator:
            if scenario_id not in suite.scenario_ids:
                raise DataError(
                    f"town:{location}: suite {suite.name!r} has no scenario {scenario_id!r}"
                )
            return [f"{short}/{scenario_id}"]
        return [f"{short}/{i}" for i in suite.scenario_ids]


LOADER = TownLoader()
