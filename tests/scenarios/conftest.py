"""Towns shared by the scenario tests (generation is deterministic, so caching is safe)."""

from __future__ import annotations

import pytest

from urbandrive.scenarios.town import Town, TownConfig, generate_town

SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="session", params=SEEDS, ids=[f"small-seed{s}" for s in SEEDS])
def small_town(request: pytest.FixtureRequest) -> Town:
    return generate_town(TownConfig.small(), seed=request.param)


@pytest.fixture(scope="session")
def standard_town() -> Town:
    return generate_town(TownConfig.standard(), seed=7)


@pytest.fixture(scope="session", params=["small", "standard"])
def any_town(request: pytest.FixtureRequest, standard_town: Town) -> Town:
    if request.param == "standard":
        return standard_town
    return generate_town(TownConfig.small(), seed=11)
