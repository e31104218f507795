"""The `urbandrive` command: parse, call, print — nothing else."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from urbandrive.core.errors import UrbandriveError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="urbandrive: load driving scenes, predict, plan, simulate, evaluate and render.",
)
_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def inspect(
    uri: Annotated[str, typer.Argument(help="Scenario URI, e.g. av2:PATH.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print a summary of one scenario: agents by type, steps, duration, map size."""
    from urbandrive.datasets import load_scenario, summarize_scenario

    summary = summarize_scenario(load_scenario(uri))
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        for key, value in summary.items():
            typer.echo(f"{key:>16}: {value}")


@app.command()
def render(
    uri: Annotated[str, typer.Argument(help="Scenario URI, e.g. av2:PATH.")],
    out: Annotated[Path, typer.Option("--out", help="Output .png, .gif or .mp4.")],
    time_s: Annotated[
        float | None, typer.Option("--time", help="Seconds from the start (PNG); default: now.")
    ] = None,
    whole_map: Annotated[
        bool, typer.Option("--whole-map", help="Show the whole map instead of following the ego.")
    ] = False,
    radius_m: Annotated[
        float, typer.Option("--radius", help="Half-width of the ego window, m.")
    ] = 60.0,
    stride: Annotated[int, typer.Option("--stride", help="Animate every n-th step.")] = 1,
    dpi: Annotated[
        int, typer.Option("--dpi", help="Pixels per inch (the picture is 8 in wide).")
    ] = 100,
) -> None:
    """Draw a bird's-eye view: a PNG at one time, or a GIF / MP4 of the whole scenario."""
    from urbandrive.datasets import load_scenario
    from urbandrive.viz import RenderConfig, ViewMode, render_scenario

    config = RenderConfig(
        view=ViewMode.WHOLE_MAP if whole_map else ViewMode.FOLLOW_EGO,
        view_radius_m=radius_m,
        frame_stride=stride,
        dpi=dpi,
    )
    path = render_scenario(load_scenario(uri), out, time_s=time_s, config=config)
    typer.echo(f"wrote {path}")


@app.command()
def demo(
    data: Annotated[Path, typer.Option(help="The shared data folder.")] = Path("../shared/data"),
    out: Annotated[Path, typer.Option(help="Where runs go (a new folder each time).")] = Path(
        "out/demo"
    ),
) -> None:
    """The main job: the built-in town animated and the whole stack in closed loop over
    town:smoke (urban and idm planners), then the real AV2 logs when present; HTML reports."""
    from urbandrive.demo import run_demo

    run_dir = run_demo(data, out, typer.echo)
    typer.echo(f"demo finished: {run_dir}")


@app.command()
def simulate(
    uris: Annotated[list[str], typer.Argument(help="Scenario URIs (folders expand to many).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for metrics, config and report.")],
    planner: Annotated[
        str | None, typer.Option(help="Planner name (urban, idm, log); default: urban.")
    ] = None,
    predictor: Annotated[
        str | None, typer.Option(help="Predictor the planner uses (cv, ctra, lane, ...).")
    ] = None,
    reactive: Annotated[
        bool, typer.Option("--reactive", help="Other vehicles react to the ego (IDM).")
    ] = False,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 1,
    ray: Annotated[
        str | None, typer.Option("--ray", help="Run on Ray: 'local' or a cluster address.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run in --out.")
    ] = False,
    max_steps: Annotated[
        int | None, typer.Option(help="Simulate at most this many steps per scenario.")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write report.html with animations.")
    ] = True,
    worst: Annotated[int, typer.Option(help="Animate this many worst scenarios.")] = 3,
) -> None:
    """Run a planner in closed loop over scenarios; write metrics.json, metrics.parquet and
    report.html."""
    from urbandrive.datasets import expand_uris
    from urbandrive.planning.registry import DEFAULT_PLANNER, PLANNERS
    from urbandrive.simulation.batch import BatchConfig
    from urbandrive.simulation.engine import SimulationConfig
    from urbandrive.simulation.runner import SimulationJob, run_simulations

    planner = planner if planner is not None else DEFAULT_PLANNER
    if planner not in PLANNERS.names:
        raise UrbandriveError(f"unknown planner {planner!r}; known: {PLANNERS.names}")
    job = SimulationJob(
        planner=planner,
        predictor=predictor,
        simulation=SimulationConfig(reactive=reactive, max_steps=max_steps, keep_plans=False),
    )
    batch = BatchConfig(workers=workers, ray_address=ray, resume=resume)
    summary = run_simulations(expand_uris(uris), job, out, batch)
    _print_score_table(summary)
    typer.echo(f"wrote {out / 'metrics.json'}")
    if report and summary["scenarios"]:
        from urbandrive.viz.report import write_run_report

        typer.echo(f"wrote {write_run_report(out, summary, job, worst_count=worst)}")
    if summary["failed"]:
        for failure in summary["failed"]:
            typer.echo(f"failed: {failure['uri']}: {failure['error']}", err=True)
        raise typer.Exit(1)


def _print_score_table(summary: dict) -> None:
    """One line per scenario, then the aggregate."""
    typer.echo(
        f"{'scenario':<40} {'score':>7} {'collision':>9} {'progress':>8} {'ttc':>4} "
        f"{'comfort':>7} {'passed':>6}"
    )
    for result in sorted(summary["scenarios"], key=lambda r: r["score"]):
        passed = result.get("passed")
        typer.echo(
            f"{result['id'][:40]:<40} {result['score']:7.1f} {result['at_fault_collision']!s:>9} "
            f"{result['ego_progress_along_expert_route']:8.2f} "
            f"{result['time_to_collision_within_bound']:4.0f} {result['ego_is_comfortable']:7.0f} "
            f"{'-' if passed is None else str(passed):>6}"
        )
    aggregate = summary["aggregate"]
    if aggregate is not None:
        typer.echo(
            f"{'aggregate (' + str(aggregate['num_scenarios']) + ' scenarios)':<40} "
            f"{aggregate['score']:7.1f}   collision rate {aggregate['collision_rate']:.2f}"
            + (
                ""
                if aggregate.get("pass_rate") is None
                else f"   pass rate {aggregate['pass_rate']:.2f}"
            )
        )
    if summary["failed"]:
        typer.echo(f"{len(summary['failed'])} scenario(s) could not be simulated (listed below)")


@app.command()
def bench(
    only: Annotated[
        str | None,
        typer.Option(
            help="Run this benchmark, or those whose name contains it (a,b: either).",
        ),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write results here.")
    ] = None,
) -> None:
    """Time the hot paths (p50 / p99 in ms, with a baseline timed in the same run)."""
    from urbandrive.bench import run_benchmarks

    results = run_benchmarks(only)
    for name, result in results.items():
        line = f"{name:>28}: p50 {result['p50_ms']:9.3f} ms  p99 {result['p99_ms']:9.3f} ms"
        rates = [key for key in result if key.endswith("s_per_s") and key != "calls_per_s"]
        if rates:
            line += f"  {result[rates[0]]:,.0f} {rates[0].removesuffix('_per_s')}/s"
        if "speedup_vs_baseline" in result:
            line += f"  {result['speedup_vs_baseline']:.1f}x vs {result['baseline']['name']}"
        typer.echo(line)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2))
        typer.echo(f"wrote {json_path}")


@app.command("evaluate-prediction")
def evaluate_prediction(
    uris: Annotated[list[str], typer.Argument(help="Scenario URIs (folders expand to many).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for metrics.json.")],
    predictor: Annotated[
        str, typer.Option(help="Predictor name (learned, lane, cv, ctra, ...).")
    ] = "learned",
    history_s: Annotated[float, typer.Option("--history-s", help="History seen, s.")] = 2.0,
    future_s: Annotated[float, typer.Option("--future-s", help="Horizon scored, s.")] = 3.0,
    stride_s: Annotated[float, typer.Option("--stride-s", help="Between windows, s.")] = 1.0,
    num_modes: Annotated[
        int | None, typer.Option("--num-modes", help="Modes (default: the predictor's).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite metrics.json.")] = False,
) -> None:
    """Score a predictor over sliding windows (minADE/minFDE/MR, joint, overlap, NLL, ECE)."""
    from urbandrive.datasets import expand_uris, load_scenario
    from urbandrive.prediction.evaluation import EvaluationConfig, evaluate_predictor
    from urbandrive.prediction.registry import PREDICTORS, PredictorSettings

    path = out / "metrics.json"
    if path.exists() and not force:
        raise UrbandriveError(f"{path} exists; pass --force to overwrite it")
    found = expand_uris(uris)
    if not found:
        raise UrbandriveError(f"no scenarios found in {uris}")
    first = load_scenario(found[0])
    settings = PredictorSettings(horizon_s=future_s, dt_s=first.dt_s, num_modes=num_modes)
    model = PREDICTORS.create(predictor, settings)
    config = EvaluationConfig(history_s=history_s, future_s=future_s, stride_s=stride_s)
    scenarios = (first if i == 0 else load_scenario(uri) for i, uri in enumerate(found))
    result = evaluate_predictor(scenarios, model, config)
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    _print_prediction_table(result)
    typer.echo(f"wrote {path}")


def _print_prediction_table(result: dict) -> None:
    """One line per agent type, then all agents; the note on the number of modes. Per-agent
    columns score the marginal forecast, joint ones the scene modes; "overlap_marg": the
    marginal modes' top world (`prediction.evaluation`)."""
    names = ["minADE6", "minFDE6", "MR6", "minFDE1", "brierMinFDE6", "jointMinFDE6"]
    names += ["overlap_rate", "overlap_rate_marginal"]
    titles = [*names[:-1], "overlap_marg"]
    typer.echo(f"{'type':<14} {'count':>6} " + " ".join(f"{n:>12}" for n in titles))
    rows = [*result["by_type"].items(), ("all", result["aggregate"])]
    for group, metrics in rows:
        values = " ".join(
            f"{'-':>12}" if metrics.get(n) is None else f"{metrics[n]:12.3f}" for n in names
        )
        typer.echo(f"{group:<14} {metrics['count']:>6} {values}")
    typer.echo(result["config"]["note"])


@app.command()
def generate(
    suite: Annotated[str, typer.Option("--suite", help="Scenario suite, e.g. town:empty-roads.")],
    count: Annotated[int, typer.Option("--count", help="Number of scenarios.")],
    out: Annotated[Path, typer.Option("--out", help="Store folder (appended to if it exists).")],
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 1,
    noise: Annotated[
        str, typer.Option(help="Perception noise preset: none, typical or heavy.")
    ] = "none",
    seed: Annotated[int, typer.Option(help="Dataset seed (same seed, same scenarios).")] = 0,
    shard_size: Annotated[int, typer.Option(help="Scenarios per Parquet shard.")] = 64,
) -> None:
    """Generate scenarios of a suite into a Parquet scenario store (load with store:OUT#ID)."""
    from urbandrive.scenarios.generation import generate_dataset, suite_factories
    from urbandrive.scenarios.noise import PerceptionNoiseConfig

    try:
        factories = suite_factories(suite, count, seed)
        noise_config = None if noise == "none" else PerceptionNoiseConfig.preset(noise)
    except ValueError as error:
        raise UrbandriveError(str(error)) from error
    result = generate_dataset(factories, out, workers, shard_size, noise_config, seed)
    typer.echo(f"wrote {len(result.scenario_ids)} scenarios of {suite} to {result.out_dir}")
    typer.echo(
        f"load one with: urbandrive inspect 'store:{result.out_dir}#{result.scenario_ids[0]}'"
    )


@app.command()
def explain(
    uri: Annotated[str, typer.Argument(help="Scenario URI, e.g. av2:PATH.")],
    time_s: Annotated[float, typer.Option("--time", help="Seconds from the start.")],
    out: Annotated[Path, typer.Option("--out", help="Output .png.")],
    planner: Annotated[str, typer.Option(help="Planner name (urban, idm, ...).")] = "urban",
    top: Annotated[int, typer.Option(help="How many candidates to list.")] = 5,
) -> None:
    """Plan at one step: draw every candidate coloured by score, list the best ones' terms."""
    from urbandrive.datasets import load_scenario
    from urbandrive.planning.explain import explain_step
    from urbandrive.planning.registry import PLANNERS
    from urbandrive.simulation.runner import with_route
    from urbandrive.viz.explanation import render_explanation

    scenario = with_route(load_scenario(uri))
    explanation = explain_step(PLANNERS.create(planner, scenario), scenario, time_s)
    typer.echo(explanation.table(top))
    typer.echo(f"wrote {render_explanation(scenario, explanation, out)}")


@app.command()
def train(
    data: Annotated[
        list[str] | None, typer.Option("--data", help="Scenario URIs to train on (repeat).")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Run folder: checkpoint, metrics.jsonl.")
    ] = Path("out/train"),
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: the config's).")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the checkpoint in --out.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file of TrainConfig settings.")
    ] = None,
) -> None:
    """Train the learned joint predictor; a checkpoint and metrics every epoch."""
    from urbandrive.prediction.training import load_train_config
    from urbandrive.prediction.training import train as run_training

    settings = load_train_config(config, epochs=epochs, data=tuple(data) if data else None)
    result = run_training(settings, out, resume=resume, log=typer.echo)
    typer.echo(f"wrote {result.checkpoint} and {out / 'metrics.jsonl'}")


benchmark_app = typer.Typer(no_args_is_help=True, help="Published benchmarks of the learned model.")
app.add_typer(benchmark_app, name="benchmark")


@benchmark_app.command("eth-ucy")
def benchmark_eth_ucy(
    data: Annotated[Path, typer.Option("--data", help="ETH/UCY folder with the five folds.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for metrics.json and runs.")],
    pretrained: Annotated[
        bool, typer.Option("--pretrained", help="Score the shipped per-fold checkpoints.")
    ] = False,
) -> None:
    """Train (or load) one model per ETH/UCY fold; best-of-20 ADE/FDE beside published."""
    from urbandrive.prediction.eth_ucy_benchmark import format_table, run_benchmark

    result = run_benchmark(data, out, pretrained=pretrained, log=typer.echo)
    for line in format_table(result):
        typer.echo(line)
    typer.echo(f"wrote {out / 'metrics.json'}")


scenarios_app = typer.Typer(no_args_is_help=True, help="Built-in scenario families and suites.")
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("list")
def scenarios_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the town scenario families (with pass criteria) and the suites built on them."""
    from urbandrive.scenarios.suites import scenarios_catalog

    catalog = scenarios_catalog()
    if as_json:
        typer.echo(json.dumps(catalog, indent=2))
        return
    for family in catalog["families"]:
        typer.echo(f"{family['name']:<24} {family['description']}")
        typer.echo(f"{'':<24} pass: {family['pass_criterion']}")
    for name, suite in catalog["suites"].items():
        typer.echo(f"{name:<24} {suite['count']:>4} scenarios  {suite['description']}")


def main() -> None:
    """Entry point: one clear line and a non-zero exit for errors we raise on purpose."""
    try:
        app()
    except UrbandriveError as error:
        if _state["debug"]:
            raise
        typer.echo(f"error: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
