"""Built-in scenario suites over the town families: `town:smoke` (6 short scenarios of 6
families) and `town:standard` (15 fixed seeds of each of the 14 families, 210 scenarios).
One scenario is `SUITE/ID`, e.g. `town:standard/cut_in-003`; ids are `FAMILY-NNN`.

Both are registered as generation suites too (`urbandrive generate --suite town:standard`),
where `build(seed)` picks the family by `seed % number of families`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.scenarios.families import FAMILIES
from urbandrive.scenarios.generation import SUITES, SuiteSpec, register_suite


@dataclass(frozen=True, slots=True)
class FamilySuite:
    """A named list of (family, seed) pairs; scenario ids are `family-NNN` (NNN: index of
    the seed within the family). base_seed offsets the seeds so suites do not share scenes."""

    name: str
    description: str
    families: tuple[str, ...]
    per_family: int
    base_seed: int

    def __post_init__(self) -> None:
        unknown = sorted(set(self.families) - set(FAMILIES))
        if unknown:
            raise ValueError(f"suite {self.name!r}: unknown families {unknown}")
        if self.per_family < 1:
            raise ValueError(f"suite {self.name!r}: per_family must be >= 1")

    @property
    def scenario_ids(self) -> list[str]:
        return [f"{f}-{i:03d}" for f in self.families for i in range(self.per_family)]

    def build(self, scenario_id: str) -> Scenario:
        """The scenario `scenario_id` of this suite; `DataError` naming suite and id."""
        family, _, index = scenario_id.rpartition("-")
        if family not in self.families or not index.isdigit() or int(index) >= self.per_family:
            raise DataError(
                f"suite {self.name!r} has no scenario {scenario_id!r} (e.g. {self.scenario_ids[0]!r})"
            )
        scenario = FAMILIES[family].build(self.base_seed + int(index), None)
        metadata = {**scenario.metadata, "suite": self.name, "suite_index": int(index)}
        return replace(scenario, id=f"{self.name}/{scenario_id}", metadata=metadata)

    def build_from_seed(self, seed: int) -> Scenario:
        """A scenario of this suite's families from any seed (for dataset generation)."""
        family = self.families[seed % len(self.families)]
        scenario = FAMILIES[family].build(seed, None)
        return replace(scenario, metadata={**scenario.metadata, "suite": self.name})


FAMILY_SUITES: dict[str, FamilySuite] = {}


def register_family_suite(suite: FamilySuite) -> FamilySuite:
    """Add `suite` (and its generation suite); `ValueError` if the name is taken."""
    if suite.name in FAMILY_SUITES:
        raise ValueError(f"family suite {suite.name!r} is already registered")
    FAMILY_SUITES[suite.name] = suite
    if suite.name not in SUITES:
        register_suite(SuiteSpec(suite.name, suite.description, _GENERATORS[suite.name]))
    return suite


def family_suite(name: str) -> FamilySuite:
    """The suite `name` (with or without the `town:` prefix); `DataError` listing them."""
    key = name if name.startswith("town:") else f"town:{name}"
    if key not in FAMILY_SUITES:
        raise DataError(f"unknown town suite {name!r}; known: {sorted(FAMILY_SUITES)}")
    return FAMILY_SUITES[key]


def suite_counts(name: str) -> dict[str, int]:
    """Scenarios per family of suite `name`."""
    suite = family_suite(name)
    return {family: suite.per_family for family in suite.families}


SMOKE_FAMILIES = (
    "lead_brakes",
    "cut_in",
    "red_light",
    "jaywalker",
    "double_parked",
    "crosswalk_crowd",
)


def _build_smoke(seed: int) -> Scenario:
    return FAMILY_SUITES["town:smoke"].build_from_seed(seed)


def _build_standard(seed: int) -> Scenario:
    return FAMILY_SUITES["town:standard"].build_from_seed(seed)


_GENERATORS = {"town:smoke": _build_smoke, "town:standard": _build_standard}

register_family_suite(
    FamilySuite(
        "town:smoke",
        "6 short town scenarios, one each of 6 families (a quick closed-loop check)",
        SMOKE_FAMILIES,
        per_family=1,
        base_seed=0,
    )
)
register_family_suite(
    FamilySuite(
        "town:standard",
        "15 fixed seeds of each of the 14 town families (210 scenarios)",
        tuple(sorted(FAMILIES)),
        per_family=15,
        base_seed=1000,
    )
)


def scenarios_catalog() -> dict:
    """JSON-ready: `families` [{name, description, pass_criterion}] and `suites` name ->
    {count, families: {name: count}, description}."""
    families = [
        {"name": f.name, "description": f.description, "pass_criterion": f.pass_criterion_text}
        for f in sorted(FAMILIES.values(), key=lambda f: f.name)
    ]
    suites = {
        name: {
            "count": len(suite.scenario_ids),
            "families": suite_counts(name),
            "description": suite.description,
        }
        for name, suite in FAMILY_SUITES.items()
    }
    return {"families": families, "suites": suites}
