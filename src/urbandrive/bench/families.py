"""Scenario family benchmarks: one family scenario built with the towns and their
background traffic cached (the suite's steady state) vs uncached (generate the town and
warm up its traffic every time)."""

from __future__ import annotations

from urbandrive.bench.registry import Case, benchmark
from urbandrive.scenarios.families import FAMILIES
from urbandrive.scenarios.families.background import clear_caches


@benchmark("town_family_build")
def town_family_build() -> Case:
    """Build `cut_in-003` (budget: about 1 s) with the town cached; baseline: caches cleared."""
    build = FAMILIES["cut_in"].build
    build(3, None)

    def uncached() -> object:
        clear_caches()
        return build(3, None)

    return Case(
        run=lambda: build(3, None),
        baseline=uncached,
        baseline_name="town and background traffic generated every call",
        unit_count=1.0,
        unit="scenario",
        repeats=5,
    )
