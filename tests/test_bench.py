"""The benchmark registry refuses duplicates and reports p50 / p99 with baselines."""

import pytest

from urbandrive.bench import registry


def test_duplicate_benchmark_names_are_refused(monkeypatch):
    monkeypatch.setattr(registry, "BENCHMARKS", {})
    registry.benchmark("x")(lambda: registry.Case(run=lambda: None))
    with pytest.raises(ValueError, match="already registered"):
        registry.benchmark("x")(lambda: registry.Case(run=lambda: None))


def test_timer_reports_percentiles_and_baseline_ratio(monkeypatch):
    monkeypatch.setattr(registry, "BENCHMARKS", {})
    monkeypatch.setattr(registry, "_load_modules", lambda: None)
    registry.benchmark("sum")(
        lambda: registry.Case(
            run=lambda: sum(range(100)),
            baseline=lambda: sum(range(10_000)),
            baseline_name="bigger sum",
            repeats=5,
        )
    )
    results = registry.run_benchmarks()
    result = results["sum"]
    assert result["p50_ms"] <= result["p99_ms"]
    assert result["baseline"]["name"] == "bigger sum"
    assert result["speedup_vs_baseline"] > 1.0
    with pytest.raises(KeyError, match="no benchmark matches"):
        registry.run_benchmarks("nothing-like-this")


def test_only_selects_the_names_containing_any_comma_separated_part(monkeypatch):
    monkeypatch.setattr(registry, "BENCHMARKS", {})
    monkeypatch.setattr(registry, "_load_modules", lambda: None)
    for name in ("alpha_one", "beta_two", "gamma"):
        registry.benchmark(name)(lambda: registry.Case(run=lambda: None, repeats=1))
    assert sorted(registry.run_benchmarks("alpha,two")) == ["alpha_one", "beta_two"]
    assert sorted(registry.run_benchmarks("ha_")) == ["alpha_one"]


def test_an_exact_name_selects_that_benchmark_alone(monkeypatch):
    monkeypatch.setattr(registry, "BENCHMARKS", {})
    monkeypatch.setattr(registry, "_load_modules", lambda: None)
    for name in ("cycle", "cycle_learned", "cycle_near", "other"):
        registry.benchmark(name)(lambda: registry.Case(run=lambda: None, repeats=1))
    assert registry.selected_benchmarks("cycle") == ["cycle"]
    assert registry.selected_benchmarks("cycle_,other") == ["cycle_learned", "cycle_near", "other"]
    assert registry.selected_benchmarks("cycle,near") == ["cycle", "cycle_near"]


def test_a_slow_baseline_is_timed_its_own_number_of_times(monkeypatch):
    monkeypatch.setattr(registry, "BENCHMARKS", {})
    monkeypatch.setattr(registry, "_load_modules", lambda: None)
    calls = {"run": 0, "baseline": 0}

    def count(name: str):
        return lambda: calls.__setitem__(name, calls[name] + 1)

    registry.benchmark("x")(
        lambda: registry.Case(
            run=count("run"), baseline=count("baseline"), repeats=5, baseline_repeats=2
        )
    )
    result = registry.run_benchmarks("x")["x"]
    assert calls == {"run": 1 + 5, "baseline": 1 + 2}  # one warm-up call each
    assert result["repeats"] == 5 and result["baseline"]["repeats"] == 2
