"""`make demo`: the main job on the default data, start to finish.

Today: load a real Argoverse 2 log, summarise and render it, then run the `log` and `idm`
planners in closed loop (reactive agents) over every AV2 log and write their reports. Each run
goes to a new folder under `out_dir`, so nothing from an earlier run is overwritten.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from urbandrive.core.errors import UrbandriveError
from urbandrive.datasets import expand_uris, load_scenario, summarize_scenario
from urbandrive.simulation.batch import BatchConfig
from urbandrive.simulation.engine import SimulationConfig
from urbandrive.simulation.runner import SimulationJob, run_simulations
from urbandrive.viz import render_scenario
from urbandrive.viz.report import write_run_report

Echo = Callable[[str], None]


def run_demo(
    data_dir: Path, out_dir: Path, echo: Echo, planners: tuple[str, ...] = ("log", "idm")
) -> Path:
    """Run the demo; returns the run folder."""
    logs_uri = f"av2:{data_dir / 'av2' / 'logs'}"
    if not (data_dir / "av2" / "logs").is_dir():
        raise UrbandriveError(
            f"{data_dir / 'av2' / 'logs'}: no AV2 logs (pass --data or set URBANDRIVE_DATA)"
        )
    run_dir = out_dir / time.strftime("run-%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=False)
    uris = expand_uris([logs_uri])
    scenario = load_scenario(uris[0])
    summary = summarize_scenario(scenario)
    width = max(len(key) for key in summary)
    for key, value in summary.items():
        echo(f"{key:>{width}}: {value}")
    for suffix in (".png", ".gif"):
        echo(f"wrote {render_scenario(scenario, run_dir / f'{scenario.id}{suffix}')}")
    for planner in planners:
        job = SimulationJob(
            planner=planner, simulation=SimulationConfig(reactive=True, keep_plans=False)
        )
        results = run_simulations(
            uris, job, run_dir / planner, BatchConfig(workers=1, progress=False)
        )
        aggregate = results["aggregate"]
        echo(
            f"closed loop, {planner:>4} planner, reactive: score {aggregate['score']:5.1f}, "
            f"at-fault collision rate {aggregate['collision_rate']:.2f} over {aggregate['num_scenarios']} logs"
        )
        echo(f"wrote {write_run_report(run_dir / planner, results, job, worst_count=2)}")
    return run_dir
