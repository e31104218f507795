"""Scenario URIs `SCHEME:LOCATION` -> loaders. An explicit registry that refuses duplicates.

Add a source: write a class with `scheme`, `load(location)` and `list_scenarios(location)` (see
`ScenarioLoader`), and `register()` an instance of it in `_register_builtin_loaders` below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario

_SCHEME = re.compile(r"^[a-z][a-z0-9_]*$")


class ScenarioLoader(Protocol):
    """Turns the LOCATION part of `SCHEME:LOCATION` into scenarios."""

    @property
    def scheme(self) -> str:
        """The URI prefix this loader answers to, e.g. "av2"."""
        ...

    def load(self, location: str) -> Scenario:
        """The one scenario at `location`; `DataError` naming it if missing or malformed."""
        ...

    def list_scenarios(self, location: str) -> list[str]:
        """Locations (without the scheme) of every scenario at `location`, in a stable order."""
        ...


LOADERS: dict[str, ScenarioLoader] = {}


def register(loader: ScenarioLoader) -> ScenarioLoader:
    """Add `loader` under its scheme; `ValueError` if the scheme is taken or malformed."""
    scheme = loader.scheme
    if not _SCHEME.match(scheme):
        raise ValueError(f"scheme {scheme!r} must match {_SCHEME.pattern}")
    if scheme in LOADERS:
        raise ValueError(f"scheme {scheme!r} is already registered ({LOADERS[scheme]!r})")
    LOADERS[scheme] = loader
    return loader


def known_schemes() -> list[str]:
    return sorted(LOADERS)


def split_uri(uri: str) -> tuple[ScenarioLoader, str]:
    """(loader, location) for `uri`; `DataError` naming the URI and the known schemes."""
    scheme, separator, location = uri.partition(":")
    known = ", ".join(f"{name}:" for name in known_schemes())
    if not separator:
        raise DataError(
            f"{uri!r}: not a scenario URI; expected SCHEME:LOCATION, SCHEME one of {known}"
        )
    if scheme not in LOADERS:
        raise DataError(f"{uri!r}: unknown scheme {scheme!r}; known schemes: {known}")
    return LOADERS[scheme], location


def load_scenario(uri: str) -> Scenario:
    """Load and validate the scenario named by `uri`, e.g. "av2:/data/av2/logs/<log_id>"."""
    loader, location = split_uri(uri)
    scenario = loader.load(location)
    scenario.validate()
    return scenario


def expand_uris(uris: Iterable[str]) -> list[str]:
    """One URI per scenario: a URI naming a folder of many becomes one URI for each."""
    expanded: list[str] = []
    for uri in uris:
        loader, location = split_uri(uri)
        expanded += [f"{loader.scheme}:{found}" for found in loader.list_scenarios(location)]
    return expanded


def _register_builtin_loaders() -> None:
    from urbandrive.datasets.av2 import Av2Loader
    from urbandrive.datasets.commonroad import LOADER as COMMONROAD_LOADER
    from urbandrive.datasets.eth_ucy import LOADER as ETH_UCY_LOADER
    from urbandrive.datasets.scenarionet import LOADER as SCENARIONET_LOADER
    from urbandrive.datasets.womd import LOADER as WOMD_LOADER
    from urbandrive.scenarios.store import LOADER as STORE_LOADER
    from urbandrive.scenarios.town.loader import LOADER as TOWN_LOADER

    register(Av2Loader())
    register(COMMONROAD_LOADER)
    register(ETH_UCY_LOADER)
    register(SCENARIONET_LOADER)
    register(WOMD_LOADER)
    register(STORE_LOADER)
    register(TOWN_LOADER)


_register_builtin_loaders()
