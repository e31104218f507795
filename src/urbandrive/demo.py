"""`make demo`: the main job, start to finish, on the built-in town (nothing downloaded).

1. The town: a seeded procedural town with reactive traffic, animated following one car.
2. The whole stack in closed loop over `town:smoke` (reactive agents) with each planner:
   score table, metrics.json and an HTML report per planner.
3. When the real data is there (`data_dir/av2/logs`): a real Argoverse 2 log summarised and
   rendered, and the same planners in closed loop over every AV2 log.

Each run goes to a new folder under `out_dir`, so nothing from an earlier run is overwritten.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from urbandrive.datasets import expand_uris, load_scenario, summarize_scenario
from urbandrive.scenarios.town import TownConfig, generate_town
from urbandrive.scenarios.town.population import PopulationConfig
from urbandrive.scenarios.town.traffic import TrafficConfig, simulate_town_traffic
from urbandrive.simulation.batch import BatchConfig
from urbandrive.simulation.engine import SimulationConfig
from urbandrive.simulation.runner import SimulationJob, run_simulations
from urbandrive.viz import RenderConfig, render_scenario
from urbandrive.viz.report import write_run_report

Echo = Callable[[str], None]
#: A busy small town: 70 cars, 50 pedestrians, 8 cyclists (plus buses, dogs, parked cars).
BUSY_TOWN = PopulationConfig(num_vehicles=70, num_pedestrians=50, num_cyclists=8)


def run_demo(
    data_dir: Path, out_dir: Path, echo: Echo, planners: Sequence[str] = ("urban", "idm")
) -> Path:
    """Run the demo; returns the run folder."""
    run_dir = out_dir / time.strftime("run-%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=False)
    echo("1. the built-in town")
    town_gif = render_busy_town(run_dir / "town.gif")
    echo(f"   wrote {town_gif}")
    table = {"town:smoke": closed_loop(["town:smoke"], planners, run_dir / "town-smoke", echo)}
    logs = data_dir / "av2" / "logs"
    if logs.is_dir():
        echo(f"3. real data: {logs}")
        uris = expand_uris([f"av2:{logs}"])
        show_real_log(uris[0], run_dir, echo)
        table["av2 logs"] = closed_loop(uris, ("log", *planners), run_dir / "av2-logs", echo)
    else:
        echo(f"3. real data: {logs} not found (set --data): skipped")
    print_scores(table, echo)
    return run_dir


def render_busy_town(out: Path, seed: int = 3) -> Path:
    """20 s of reactive town traffic around one car, animated."""
    town = generate_town(TownConfig.small(), seed=seed)
    traffic = TrafficConfig(population=BUSY_TOWN, ego_vehicle=5)
    scenario = simulate_town_traffic(town, traffic, seed=seed, duration_s=20.0)
    return render_scenario(scenario, out, config=RenderConfig(view_radius_m=45.0, frame_stride=2))


def closed_loop(
    uris: Sequence[str], planners: Sequence[str], out_dir: Path, echo: Echo
) -> dict[str, dict[str, Any]]:
    """Each planner over `uris` (reactive); a report per planner; aggregates by planner."""
    uris = expand_uris(uris)
    echo(f"2. closed loop over {len(uris)} scenarios: {', '.join(planners)}")
    aggregates = {}
    for planner in planners:
        job = SimulationJob(
            planner=planner, simulation=SimulationConfig(reactive=True, keep_plans=False)
        )
        summary = run_simulations(uris, job, out_dir / planner, BatchConfig(progress=False))
        aggregates[planner] = summary["aggregate"]
        for failure in summary["failed"]:
            echo(f"   failed: {failure['uri']}: {failure['error']}")
        if summary["scenarios"]:
            echo(f"   wrote {write_run_report(out_dir / planner, summary, job, worst_count=2)}")
    return aggregates


def show_real_log(uri: str, run_dir: Path, echo: Echo) -> None:
    """Summary of one real log and its picture and animation."""
    scenario = load_scenario(uri)
    summary = summarize_scenario(scenario)
    width = max(len(key) for key in summary)
    for key, value in summary.items():
        echo(f"   {key:>{width}}: {value}")
    for suffix in (".png", ".gif"):
        echo(f"   wrote {render_scenario(scenario, run_dir / f'{scenario.id}{suffix}')}")


def print_scores(table: dict[str, dict[str, dict[str, Any] | None]], echo: Echo) -> None:
    """planner x suite: closed-loop score (0-100) and at-fault collision rate."""
    echo(f"{'suite':<12} {'planner':<8} {'score':>6} {'collisions':>10} {'scenarios':>9}")
    for suite, by_planner in table.items():
        for planner, aggregate in by_planner.items():
            if aggregate is None:
                echo(f"{suite:<12} {planner:<8} {'-':>6} {'-':>10} {0:>9}")
                continue
            echo(
                f"{suite:<12} {planner:<8} {aggregate['score']:6.1f} "
                f"{aggregate['collision_rate']:10.2f} {aggregate['num_scenarios']:>9}"
            )
