"""Benchmark registry and timer. Registration refuses duplicate names."""

from __future__ import annotations

import importlib
import os
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, slots=True)
class Case:
    """run: the work to time (called repeatedly); baseline: the same job done a simpler way,
    timed in the same run, or None. unit_count: items per call (e.g. scenario-seconds), so
    throughput can be reported as items per second. baseline_repeats: how often the baseline
    is timed (default `repeats`; fewer for a slow reference)."""

    run: Callable[[], object]
    baseline: Callable[[], object] | None = None
    baseline_name: str = ""
    unit_count: float = 1.0
    unit: str = "call"
    repeats: int = 20
    baseline_repeats: int | None = None


BENCHMARKS: dict[str, Callable[[], Case]] = {}


def shared_data_dir() -> Path:
    """The real data for benchmarks that read it: $URBANDRIVE_DATA, else ../shared/data beside
    the repository (a source checkout)."""
    repository = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("URBANDRIVE_DATA", repository.parent / "shared" / "data"))


def benchmark(name: str) -> Callable[[Callable[[], Case]], Callable[[], Case]]:
    """Register a function that builds a `Case` (setup happens there, untimed)."""

    def register(factory: Callable[[], Case]) -> Callable[[], Case]:
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} is already registered")
        BENCHMARKS[name] = factory
        return factory

    return register


def _load_modules() -> None:
    """Import every module of `urbandrive.bench`: each registers its stage's benchmarks."""
    import urbandrive.bench as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"urbandrive.bench.{module.name}")


def time_calls(function: Callable[[], object], repeats: int) -> dict[str, float]:
    """Call once to warm up, then `repeats` times; return p50 / p99 / mean in milliseconds."""
    function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1e3)
    values = np.asarray(samples)
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p99_ms": float(np.percentile(values, 99)),
        "mean_ms": float(values.mean()),
        "repeats": repeats,
    }


def selected_benchmarks(only: str) -> list[str]:
    """The registered names `only` selects (see `run_benchmarks`), in registration order."""
    parts = [part for part in only.split(",") if part]
    wanted = {
        n
        for part in parts
        for n in BENCHMARKS
        if n == part or (part not in BENCHMARKS and part in n)
    }
    if not wanted:
        raise KeyError(f"no benchmark matches {only!r}; known: {sorted(BENCHMARKS)}")
    return [n for n in BENCHMARKS if n in wanted]


def run_benchmarks(only: str | None = None) -> dict[str, dict[str, object]]:
    """Run every registered benchmark, or those `only` selects: comma-separated parts, each
    a benchmark's exact name (that one alone) or else a piece of names ("a,b" runs `a` if
    it is a name, else every name containing "a"; likewise "b")."""
    _load_modules()
    names = list(BENCHMARKS) if only is None else selected_benchmarks(only)
    results: dict[str, dict[str, object]] = {}
    for name in names:
        case = BENCHMARKS[name]()
        result: dict[str, object] = dict(time_calls(case.run, case.repeats))
        result[f"{case.unit}s_per_s"] = case.unit_count / (result["p50_ms"] * 1e-3)  # type: ignore[operator]
        if case.baseline is not None:
            base = time_calls(case.baseline, case.baseline_repeats or case.repeats)
            result["baseline"] = {"name": case.baseline_name, **base}
            result["speedup_vs_baseline"] = base["p50_ms"] / result["p50_ms"]  # type: ignore[operator]
        results[name] = result
    return results
