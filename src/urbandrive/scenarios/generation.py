"""Generate scenario datasets: factories -> (perception noise) -> the Parquet store, in parallel.

A `ScenarioFactory` is a picklable callable `() -> Scenario`. Suites are named families of
scenarios built from a seed (`SuiteSpec`, registered in `SUITES`); `suite_factories(name,
count, seed)` makes the factories of one dataset. `generate_dataset` runs the factories over
worker processes and writes shards as results arrive, in factory order, so the same factories,
noise and seed give the same store whatever the number of workers.

Built-in suite: `town:empty-roads` (`urbandrive.scenarios.empty_roads`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.scenarios.noise import PerceptionNoiseConfig, apply_perception_noise
from urbandrive.scenarios.store import ScenarioStoreWriter, is_store, stored_ids

ScenarioFactory = Callable[[], Scenario]


@dataclass(frozen=True, slots=True)
class SuiteSpec:
    """A named family of scenarios. build: seed -> scenario; a module-level function, so
    factories naming the suite can be sent to worker processes."""

    name: str
    description: str
    build: Callable[[int], Scenario]


SUITES: dict[str, SuiteSpec] = {}


def register_suite(spec: SuiteSpec) -> SuiteSpec:
    """Add `spec` under its name; `ValueError` if the name is taken."""
    if spec.name in SUITES:
        raise ValueError(f"suite {spec.name!r} is already registered")
    SUITES[spec.name] = spec
    return spec


@dataclass(frozen=True, slots=True)
class SuiteScenario:
    """A factory: `SUITES[suite].build(seed)`, renamed `scenario_id`."""

    suite: str
    seed: int
    scenario_id: str

    def __call__(self) -> Scenario:
        return replace(suite_spec(self.suite).build(self.seed), id=self.scenario_id)


def suite_spec(name: str) -> SuiteSpec:
    """The registered suite `name`; `ValueError` listing the known ones."""
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; known: {sorted(SUITES)}")
    return SUITES[name]


def suite_factories(name: str, count: int, seed: int) -> list[SuiteScenario]:
    """`count` factories of suite `name`, ids `NAME/SEED/INDEX`, seeds drawn from `seed`."""
    suite_spec(name)
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    seeds = np.random.SeedSequence(seed).generate_state(count, dtype=np.uint32)
    return [
        SuiteScenario(name, int(scenario_seed), f"{name}/{seed}/{index:06d}")
        for index, scenario_seed in enumerate(seeds)
    ]


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """What `generate_dataset` wrote: the store folder and the new scenario ids, in order."""

    out_dir: Path
    scenario_ids: tuple[str, ...]


def generate_dataset(
    factories: Sequence[ScenarioFactory],
    out_dir: Path | str,
    workers: int = 1,
    shard_size: int = 64,
    noise: PerceptionNoiseConfig | None = None,
    seed: int = 0,
    progress: bool = True,
) -> GenerationResult:
    """Build every factory's scenario (noised with `noise` when given, with a seed drawn from
    `seed` and the factory's index) and append them to the store at `out_dir`.

    Shards are written as soon as the scenarios before them are done; a failing factory
    stops the run (shards already written stay, complete).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    _refuse_stored_ids(factories, Path(out_dir))
    noise_seeds = np.random.SeedSequence(seed).generate_state(max(len(factories), 1), np.uint32)
    jobs = [(f, noise, int(s)) for f, s in zip(factories, noise_seeds, strict=False)]
    results = _run_in_order(jobs, workers)
    with ScenarioStoreWriter(out_dir, shard_size) as writer:
        for scenario in tqdm(results, total=len(jobs), unit="scenario", disable=not progress):
            writer.add(scenario)
    return GenerationResult(Path(out_dir), tuple(writer.written_ids))


def _refuse_stored_ids(factories: Sequence[ScenarioFactory], out_dir: Path) -> None:
    """`DataError` before any work if a factory's `scenario_id` is already in the store."""
    if not is_store(out_dir):
        return
    stored = set(stored_ids(out_dir))
    clash = [i for f in factories if (i := getattr(f, "scenario_id", None)) in stored]
    if clash:
        raise DataError(
            f"{out_dir}: already holds {len(clash)} of these scenarios (e.g. {clash[0]!r}); "
            "choose another seed or output folder"
        )


Job = tuple[ScenarioFactory, PerceptionNoiseConfig | None, int]


def build_scenario(
    factory: ScenarioFactory, noise: PerceptionNoiseConfig | None, noise_seed: int
) -> Scenario:
    """`factory()`, validated and noised when `noise` is given (runs in a worker)."""
    scenario = factory()
    scenario.validate()
    return scenario if noise is None else apply_perception_noise(scenario, noise, noise_seed)


def _run_in_order(jobs: list[Job], workers: int) -> Iterator[Scenario]:
    """The jobs' scenarios in job order, built over `workers` processes (1: here)."""
    if workers == 1:
        yield from (build_scenario(*job) for job in jobs)
        return
    finished: dict[int, Scenario] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: dict[Future, int] = {}
        submitted = next_index = 0
        while next_index < len(jobs):
            while submitted < len(jobs) and len(pending) < 4 * workers:
                pending[pool.submit(build_scenario, *jobs[submitted])] = submitted
                submitted += 1
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                finished[pending.pop(future)] = future.result()
            while next_index in finished:
                yield finished.pop(next_index)
                next_index += 1


def _register_builtin_suites() -> None:
    from urbandrive.scenarios import empty_roads

    register_suite(
        SuiteSpec(empty_roads.SUITE_NAME, empty_roads.DESCRIPTION, empty_roads.build_empty_roads)
    )
    import urbandrive.scenarios.suites  # noqa: F401  (registers town:smoke and town:standard)


_register_builtin_suites()
