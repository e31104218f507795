"""Town suites: sizes and ids, the `town:` loader, generation suites, `scenarios list --json`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from urbandrive.core.errors import DataError
from urbandrive.datasets import registry
from urbandrive.scenarios.families import FAMILIES
from urbandrive.scenarios.generation import SUITES
from urbandrive.scenarios.suites import FAMILY_SUITES, family_suite, suite_counts
from urbandrive.scenarios.town.loader import LOADER


def test_smoke_suite_is_six_scenarios_of_six_families() -> None:
    ids = LOADER.list_scenarios("smoke")
    assert len(ids) == 6
    assert len({i.split("/")[1].rsplit("-", 1)[0] for i in ids}) == 6
    assert all(i.startswith("smoke/") and i.endswith("-000") for i in ids)


def test_standard_suite_covers_all_families_with_at_least_200() -> None:
    ids = LOADER.list_scenarios("standard")
    assert len(ids) >= 200 and len(set(ids)) == len(ids)
    counts = suite_counts("town:standard")
    assert set(counts) == set(FAMILIES) and sum(counts.values()) == len(ids)
    assert "standard/cut_in-003" in ids


def test_loader_builds_a_scenario_deterministically() -> None:
    first = LOADER.load("standard/cut_in-003")
    again = LOADER.load("standard/cut_in-003")
    assert first.id == "town:standard/cut_in-003"
    assert first.metadata["suite"] == "town:standard" and first.metadata["family"] == "cut_in"
    assert np.array_equal(first.tracks.xy, again.tracks.xy)


@pytest.mark.parametrize(
    "location", ["standard", "standard/cut_in-999", "nope/cut_in-000", "smoke/red_light-001"]
)
def test_loader_names_what_is_wrong(location: str) -> None:
    with pytest.raises(DataError):
        LOADER.load(location)


def test_town_uris_load_through_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.LOADERS, "town", LOADER)
    uris = registry.expand_uris(["town:smoke"])
    assert uris[0] == "town:smoke/lead_brakes-000" and len(uris) == 6
    scenario = registry.load_scenario("town:smoke/lead_brakes-000")
    assert scenario.metadata["family"] == "lead_brakes"


def test_suites_are_generation_suites_too() -> None:
    for name in ("town:smoke", "town:standard"):
        assert name in SUITES and name in FAMILY_SUITES
    scenario = SUITES["town:smoke"].build(7)
    assert scenario.metadata["suite"] == "town:smoke"
    assert scenario.metadata["family"] == family_suite("smoke").families[7 % 6]


def test_scenarios_list_json_shape() -> None:
    from urbandrive.cli import app

    result = CliRunner().invoke(app, ["scenarios", "list", "--json"])
    assert result.exit_code == 0, result.output
    catalog = json.loads(result.output)
    assert len(catalog["families"]) == 14
    assert set(catalog["families"][0]) == {"name", "description", "pass_criterion"}
    standard = catalog["suites"]["town:standard"]
    assert standard["count"] >= 200 and sum(standard["families"].values()) == standard["count"]
    assert catalog["suites"]["town:smoke"]["count"] == 6
