"""The URI registry: schemes, refusal of duplicates, errors that name the URI."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.datasets import registry


@dataclass(frozen=True, slots=True)
class FakeLoader:
    scheme: str = "fake"

    def load(self, location: str) -> Scenario:
        raise DataError(f"{location}: fake")

    def list_scenarios(self, location: str) -> list[str]:
        return [f"{location}/a", f"{location}/b"]


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> dict:
    loaders = dict(registry.LOADERS)
    monkeypatch.setattr(registry, "LOADERS", loaders)
    return loaders


def test_av2_is_registered() -> None:
    assert "av2" in registry.known_schemes()


def test_register_refuses_a_duplicate_scheme(isolated_registry: dict) -> None:
    registry.register(FakeLoader())
    with pytest.raises(ValueError, match="already registered"):
        registry.register(FakeLoader())


def test_register_refuses_a_malformed_scheme(isolated_registry: dict) -> None:
    with pytest.raises(ValueError, match="must match"):
        registry.register(FakeLoader(scheme="Bad Scheme"))


def test_unknown_scheme_names_it_and_lists_known_ones() -> None:
    with pytest.raises(DataError, match=r"unknown scheme 'nope'.*av2:"):
        registry.load_scenario("nope:/somewhere")


def test_uri_without_scheme_is_refused() -> None:
    with pytest.raises(DataError, match=r"not a scenario URI.*av2:"):
        registry.load_scenario("/just/a/path")


def test_expand_uris_gives_one_uri_per_scenario(isolated_registry: dict) -> None:
    registry.register(FakeLoader())
    assert registry.expand_uris(["fake:x", "fake:y"]) == [
        "fake:x/a",
        "fake:x/b",
        "fake:y/a",
        "fake:y/b",
    ]
