"""The closed-loop simulation report: one self-contained HTML file (inline CSS, script and
base64 pictures; it opens offline) presenting `evaluate_rollout` results.

`write_report(out_dir, results, aggregate)` writes `out_dir/report.html`: a header with the
resolved config, the aggregate table, a per-family (or per-source) table, metric charts, a
sortable per-scenario table (worst first) and the animations of the worst scenarios, which
`render_worst(rollouts, out_dir, count)` renders with the bird's-eye renderer.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from urbandrive.core.errors import UrbandriveError
from urbandrive.viz.config import RenderConfig
from urbandrive.viz.histograms import metric_levels_png, score_histogram_png
from urbandrive.viz.layer import Layer
from urbandrive.viz.output import atomic_output
from urbandrive.viz.render import render_scenario
from urbandrive.viz.report_tables import (
    METRIC_NAMES,
    MISSING,
    aggregate_table,
    cell,
    families_table,
    format_fraction,
    format_number,
    format_percent,
    fraction_class,
    is_number,
    label,
    metric_role,
    scenarios_table,
    score_class,
    worst_first,
)
from urbandrive.viz.trajectories_layer import TrajectoriesLayer

if TYPE_CHECKING:
    from urbandrive.simulation.engine import Rollout
    from urbandrive.simulation.runner import SimulationJob

REPORT_NAME = "report.html"
#: Media types of the animations the report can embed, by file suffix.
MEDIA_TYPES = {
    ".gif": "image/gif",
    ".png": "image/png",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}
#: Small, every second step: the worst-case animations are embedded in the report.
WORST_RENDER_CONFIG = RenderConfig(
    view_radius_m=40.0, figure_size_in=(5.0, 5.5), dpi=80, frame_stride=2
)
#: Colours of the overlays `render_worst` adds: each step's plan, the last step's candidates.
PLAN_COLOR = "#E7298A"
CANDIDATE_COLOR = "#1F78B4"

STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa;
  --good: #116329; --good-bg: #dafbe1; --fair: #7d4e00; --fair-bg: #fff1c2;
  --poor: #a40e26; --poor-bg: #ffe2e0; --link: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 18px; margin: 40px 0 12px; padding-bottom: 6px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 12px; }
h4 { font-size: 13px; margin: 16px 0 6px; color: var(--muted); }
p.meta, p.note { color: var(--muted); margin: 0 0 12px; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
nav { margin: 12px 0; } nav a { margin-right: 18px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 18px;
  min-width: 150px; background: var(--panel); }
.card .name { color: var(--muted); font-size: 11px; text-transform: uppercase;
  letter-spacing: .05em; }
.card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card.good .value { color: var(--good); } .card.fair .value { color: var(--fair); }
.card.poor .value { color: var(--poor); }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  padding: 12px; overflow: auto; max-height: 420px; font-size: 12px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right;
  white-space: nowrap; }
th[scope=row], td.text, thead th:first-child { text-align: left; }
th[scope=row] { font-weight: 500; }
thead th { position: sticky; top: 0; z-index: 2; background: #fff; font-size: 12px;
  font-weight: 600; color: var(--muted); vertical-align: bottom; white-space: normal;
  min-width: 62px; box-shadow: inset 0 -1px 0 var(--line); }
table.sortable thead th { cursor: pointer; user-select: none; }
table.sortable thead th:hover { color: var(--ink); }
th[aria-sort=ascending]::after { content: " \\25B2"; font-size: 9px; }
th[aria-sort=descending]::after { content: " \\25BC"; font-size: 9px; }
tbody tr:hover td, tbody tr:hover th { filter: brightness(0.96); }
td.good { background: var(--good-bg); color: var(--good); }
td.fair { background: var(--fair-bg); color: var(--fair); }
td.poor { background: var(--poor-bg); color: var(--poor); font-weight: 600; }
td.missing { color: var(--muted); }
.scroll { overflow: auto; max-height: 78vh; border: 1px solid var(--line); border-radius: 6px; }
.scroll tbody th[scope=row] { position: sticky; left: 0; z-index: 1; background: #fff; }
.scroll thead th:first-child { left: 0; z-index: 3; }
.charts { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
figure { margin: 0; } figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
img { max-width: 100%; height: auto; }
.badge { display: inline-block; border-radius: 6px; padding: 1px 8px; margin-right: 8px;
  font-variant-numeric: tabular-nums; }
.badge.good { background: var(--good-bg); color: var(--good); }
.badge.fair { background: var(--fair-bg); color: var(--fair); }
.badge.poor { background: var(--poor-bg); color: var(--poor); }
.worst { border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
  margin: 16px 0; }
.worst h3 small { color: var(--muted); font-weight: 400; margin-left: 8px; }
.worst-body { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.worst-body figure img, .worst-body figure video { border: 1px solid var(--line);
  border-radius: 6px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px;
  margin: 12px 0 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0;
  font-variant-numeric: tabular-nums; }
"""

#: Click a heading of a `table.sortable` to sort by it (again to reverse); cells with
#: `data-sort` sort as numbers ('' = missing, always last), others by their text.
SCRIPT = """
(function () {
  function key(cell) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { return cell.textContent.trim().toLowerCase(); }
    return raw === "" ? NaN : Number(raw);
  }
  function sortBy(table, column, ascending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (first, second) {
      var a = key(first.cells[column]), b = key(second.cells[column]);
      var missingA = a !== a, missingB = b !== b;
      if (missingA || missingB) { return missingA - missingB; }
      var order = a < b ? -1 : (a > b ? 1 : 0);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var headings = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headings, function (heading, column) {
      heading.addEventListener("click", function () {
        var ascending = heading.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headings, function (h) { h.removeAttribute("aria-sort"); });
        heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        sortBy(table, column, ascending);
      });
    });
    table.setAttribute("data-sort-ready", "true");
  });
})();
"""


def write_report(
    out_dir: Path,
    results: Sequence[Mapping[str, Any]],
    aggregate: Mapping[str, Any],
    animations: Mapping[str, Path] | None = None,
    config: Mapping[str, Any] | None = None,
    title: str = "urbandrive simulation",
    overwrite: bool = False,
) -> Path:
    """Write `out_dir/report.html` and return its path.

    results: one `evaluate_rollout` dict per scenario (optionally with `family` and `passed`).
    aggregate: the run's summary (`score`, `collision_rate`, metric means, `num_scenarios`).
    animations: scenario id -> a GIF (or PNG / MP4) embedded in the worst-scenarios section.
    config: the resolved run configuration, shown collapsed in the header.
    An existing report is replaced only with `overwrite=True`.
    """
    out_dir = Path(out_dir)
    path = out_dir / REPORT_NAME
    check_results(results)
    results = [with_timing_lifted(result) for result in results]
    if not isinstance(aggregate, Mapping):
        raise UrbandriveError(f"aggregate must be a mapping, got {type(aggregate).__name__}")
    files = embedded_animations(results, animations or {})
    if out_dir.exists() and not out_dir.is_dir():
        raise UrbandriveError(f"{out_dir}: is a file; the report needs a folder")
    if path.exists() and not overwrite:
        raise UrbandriveError(f"{path}: already exists; pass overwrite=True to replace it")
    page = report_html(results, aggregate, files, config, title)
    with atomic_output(path) as temporary:
        temporary.write_text(page, encoding="utf-8")
    return path


def check_results(results: Sequence[Mapping[str, Any]]) -> None:
    """Raise `UrbandriveError` naming the scenario and key if a result cannot be shown."""
    if isinstance(results, Mapping | str) or len(results) == 0:
        raise UrbandriveError("results must be a non-empty list of per-scenario dicts")
    for index, result in enumerate(results):
        if not isinstance(result, Mapping) or "id" not in result:
            raise UrbandriveError(f"results[{index}]: not a scenario result (no 'id')")
        where = f"results[{index}] (scenario {result['id']!r})"
        if not is_number(result.get("score")):
            raise UrbandriveError(
                f"{where}: 'score' must be a finite number, got {result.get('score')!r}"
            )
        for name in METRIC_NAMES:
            value = result.get(name)
            if value is not None and not is_number(value):
                raise UrbandriveError(f"{where}: {name!r} must be a number, got {value!r}")
        if not isinstance(result.get("collisions", []), list):
            raise UrbandriveError(f"{where}: 'collisions' must be a list of events")


def with_timing_lifted(result: Mapping[str, Any]) -> Mapping[str, Any]:
    """The result with the keys of its nested `timing` dict (planner_ms_mean, planner_ms_p99;
    `evaluate_rollout` keeps them apart) at the top level, where the tables read them."""
    timing = result.get("timing")
    if not isinstance(timing, Mapping):
        return result
    return {**timing, **{key: value for key, value in result.items() if key != "timing"}}


def embedded_animations(
    results: Sequence[Mapping[str, Any]], animations: Mapping[str, Path]
) -> dict[int, Path]:
    """Position in `results` of the worst result of each animated id -> its file, worst first."""
    worst_position: dict[str, int] = {}
    for index in worst_first(results):
        worst_position.setdefault(str(results[index]["id"]), index)
    unknown = sorted(set(map(str, animations)) - set(worst_position))
    if unknown:
        raise UrbandriveError(f"animations for scenarios not in the results: {unknown}")
    files = {worst_position[str(i)]: Path(file) for i, file in animations.items()}
    for index, file in files.items():
        if file.suffix.lower() not in MEDIA_TYPES:
            raise UrbandriveError(
                f"{file}: cannot embed {file.suffix or 'a file without suffix'!r}; "
                f"use {', '.join(MEDIA_TYPES)}"
            )
        if not file.is_file():
            raise UrbandriveError(
                f"{file}: animation of scenario {results[index]['id']!r} not found"
            )
    return {index: files[index] for index in worst_first(results) if index in files}


def report_html(
    results: Sequence[Mapping[str, Any]],
    aggregate: Mapping[str, Any],
    animations: Mapping[int, Path],
    config: Mapping[str, Any] | None,
    title: str,
) -> str:
    """The whole page as one string; `animations`: position in `results` -> file, worst first."""
    anchors = {index: f"worst-{rank}" for rank, index in enumerate(animations, 1)}
    group_table, group_key = families_table(results)
    sections = [
        header_html(results, aggregate, config, title, bool(anchors)),
        '<h2 id="summary">Aggregate</h2>' + aggregate_table(aggregate),
        f'<h2 id="groups">Per {group_key}</h2>' + group_table,
        '<h2 id="charts">Metric distributions</h2>' + charts_html(results),
        '<h2 id="all">Scenarios</h2><p class="note">Worst first; click a heading to sort.</p>'
        '<div class="scroll">' + scenarios_table(results, anchors) + "</div>",
    ]
    if anchors:
        sections.append(worst_html(results, animations, anchors))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(sections)}</main><script>{SCRIPT}</script></body></html>\n"
    )


def header_html(
    results: Sequence[Mapping[str, Any]],
    aggregate: Mapping[str, Any],
    config: Mapping[str, Any] | None,
    title: str,
    has_animations: bool,
) -> str:
    """Title, planners, scenario count, headline cards, the collapsible config and the index."""
    planners = sorted({str(result.get("planner", MISSING)) for result in results})
    label_planners = "planner" if len(planners) == 1 else "planners"
    links = [("summary", "aggregate"), ("groups", "groups"), ("charts", "charts")]
    links += [("all", "scenarios")] + ([("worst", "worst scenarios")] if has_animations else [])
    config_text = json.dumps(config, indent=2, sort_keys=True, default=str) if config else ""
    return (
        f'<header><h1>{escape(title)}</h1><p class="meta">{label_planners}: '
        f"<strong>{escape(', '.join(planners))}</strong> &middot; {len(results)} scenarios</p>"
        f"{cards_html(results, aggregate)}"
        + (
            f"<details><summary>Resolved configuration</summary><pre>{escape(config_text)}</pre>"
            "</details>"
            if config
            else ""
        )
        + "<nav>"
        + "".join(f'<a href="#{anchor}">{name}</a>' for anchor, name in links)
        + "</nav></header>"
    )


def cards_html(results: Sequence[Mapping[str, Any]], aggregate: Mapping[str, Any]) -> str:
    """Headline numbers: suite score, collision rate, scenario count, pass rate if known."""
    score = aggregate.get("score")
    collision_rate = aggregate.get("collision_rate")
    verdicts = [bool(r["passed"]) for r in results if r.get("passed") is not None]
    cards = [
        ("score", format_number(score, 1), score_class(score)),
        (
            "collision rate",
            format_percent(collision_rate),
            fraction_class(1 - collision_rate) if is_number(collision_rate) else "",
        ),
        ("scenarios", str(aggregate.get("num_scenarios", len(results))), ""),
    ]
    if verdicts:
        pass_rate = sum(verdicts) / len(verdicts)
        cards.append(("pass rate", format_percent(pass_rate), fraction_class(pass_rate)))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {css}"><div class="name">{name}</div>'
            f'<div class="value">{escape(value)}</div></div>'
            for name, value, css in cards
        )
        + "</div>"
    )


def charts_html(results: Sequence[Mapping[str, Any]]) -> str:
    """The score histogram and the per-metric level bars, side by side."""
    values = {
        label(name): [float(r[name]) for r in results if is_number(r.get(name))]
        for name in METRIC_NAMES
    }
    score_png = score_histogram_png([float(result["score"]) for result in results])
    levels_png = metric_levels_png(values)
    return (
        '<div class="charts">'
        f"<figure>{image_tag(score_png, 'image/png', 'histogram of scenario scores', 560)}"
        "<figcaption>Scenario scores (0-100).</figcaption></figure>"
        f"<figure>{image_tag(levels_png, 'image/png', 'share of scenarios per metric level', 560)}"
        "<figcaption>Share of scenarios scoring 1, partially, or 0 on each metric."
        "</figcaption></figure></div>"
    )


def image_tag(data: bytes, media_type: str, alt: str, width_px: int | None = None) -> str:
    """An `<img>` (or a looping muted `<video>`) holding `data` inline as base64."""
    source = f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
    width = f' width="{width_px}"' if width_px else ""
    if media_type.startswith("video/"):
        return f'<video src="{source}"{width} autoplay loop muted playsinline controls></video>'
    return f'<img src="{source}" alt="{escape(alt)}"{width}>'


def worst_html(
    results: Sequence[Mapping[str, Any]],
    animations: Mapping[int, Path],
    anchors: Mapping[int, str],
) -> str:
    """One card per animated scenario, in the order of `animations` (worst first)."""
    cards = [worst_card(results[index], anchors[index], file) for index, file in animations.items()]
    return '<h2 id="worst">Worst scenarios</h2>' + "".join(cards)


def worst_card(result: Mapping[str, Any], anchor: str, file: Path) -> str:
    """The animation beside the score breakdown, key numbers and the collision list."""
    score = result["score"]
    context = " &middot; ".join(
        escape(str(result[key])) for key in ("family", "source", "planner") if result.get(key)
    )
    animation = image_tag(
        file.read_bytes(), MEDIA_TYPES[file.suffix.lower()], f"animation of {result['id']}"
    )
    return (
        f'<article class="worst" id="{anchor}"><h3><span class="badge {score_class(score)}">'
        f"{format_number(score, 1)}</span>{escape(str(result['id']))}<small>{context}</small>"
        f'</h3><div class="worst-body"><figure>{animation}</figure><div>'
        f"{breakdown_table(result)}{facts_html(result)}"
        f"<h4>Collisions</h4>{collisions_table(result.get('collisions') or [])}"
        "</div></div></article>"
    )


def breakdown_table(result: Mapping[str, Any]) -> str:
    """Each metric of one scenario with its role in the score, colour-coded."""
    rows = [
        f'<tr><th scope="row" title="{name}">{escape(label(name))}</th>'
        f"{cell(metric_role(name), numeric=False)}"
        f"{cell(format_fraction(result.get(name)), None, fraction_class(result.get(name)), False)}"
        "</tr>"
        for name in METRIC_NAMES
    ]
    return (
        '<table class="breakdown"><thead><tr><th>metric</th><th>role</th><th>value</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def facts_html(result: Mapping[str, Any]) -> str:
    """Key numbers of one scenario as a definition list."""
    facts = [
        ("min time to collision", format_number(result.get("min_time_to_collision_s")), "s"),
        ("min VRU clearance", format_number(result.get("min_vru_clearance_m")), "m"),
        (
            "open-loop ADE / FDE",
            f"{format_number(result.get('open_loop_ade_m'))} / "
            f"{format_number(result.get('open_loop_fde_m'))}",
            "m",
        ),
        (
            "planner mean / p99",
            f"{format_number(result.get('planner_ms_mean'), 1)} / "
            f"{format_number(result.get('planner_ms_p99'), 1)}",
            "ms",
        ),
        (
            "simulated",
            f"{result.get('num_steps', MISSING)} steps, "
            f"{format_number(result.get('duration_s'), 1)}",
            "s",
        ),
    ]
    if result.get("passed") is not None:
        facts.append(("family criterion", "passed" if result["passed"] else "failed", ""))
    items = "".join(
        f"<dt>{name}</dt><dd>{escape(value)}{' ' + unit if MISSING not in value else ''}</dd>"
        for name, value, unit in facts
    )
    return f'<dl class="facts">{items}</dl>'


def collisions_table(events: Sequence[Mapping[str, Any]]) -> str:
    """Step, other agent, its type and fault of each collision event; 'none' when empty."""
    if not events:
        return '<p class="note">none</p>'
    rows = [
        "<tr>"
        + cell(str(event.get("step", MISSING)), event.get("step"))
        + cell(str(event.get("agent_id", MISSING)), numeric=False)
        + cell(str(event.get("agent_type", MISSING)), numeric=False)
        + cell(
            "yes" if event.get("at_fault") else "no",
            None,
            "poor" if event.get("at_fault") else "",
            False,
        )
        + "</tr>"
        for event in events
    ]
    return (
        '<table class="collisions"><thead><tr><th>step</th><th>agent</th><th>type</th>'
        f"<th>at fault</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render_worst(
    rollouts: Sequence[Rollout],
    out_dir: Path,
    count: int,
    scores: Sequence[float] | None = None,
    config: RenderConfig | None = None,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Render the `count` lowest-scoring rollouts to `out_dir/worst_<rank>_<id>.gif`.

    scores: one 0-100 score per rollout (default: `evaluate_rollout` of each).
    config: framing of the animations (default `WORST_RENDER_CONFIG`: small, every 2nd step).
    Each animation shows every step's plan and the last plan's candidates when it has them.
    Returns scenario id -> GIF path, worst first (pass it to `write_report` as `animations`).
    Existing GIFs are replaced only with `overwrite=True`.
    """
    if count < 1:
        raise UrbandriveError(f"render_worst: count must be >= 1, got {count}")
    if scores is None:
        from urbandrive.simulation.evaluation import evaluate_rollout

        scores = [evaluate_rollout(rollout)["score"] for rollout in rollouts]
    if len(scores) != len(rollouts):
        raise UrbandriveError(f"render_worst: {len(scores)} scores for {len(rollouts)} rollouts")
    chosen = [rollouts[int(i)] for i in np.argsort(np.asarray(scores), kind="stable")[:count]]
    ids = [rollout.scenario.id for rollout in chosen]
    if len(set(ids)) != len(ids):
        raise UrbandriveError(f"render_worst: a scenario is rolled out twice among {ids}")
    paths = [
        Path(out_dir) / f"worst_{rank:02d}_{file_stem(i)}.gif" for rank, i in enumerate(ids, 1)
    ]
    existing = [str(path) for path in paths if path.exists()]
    if existing and not overwrite:
        raise UrbandriveError(f"{existing[0]}: already exists; pass overwrite=True to replace it")
    for rollout, path in zip(chosen, paths, strict=True):
        render_scenario(
            rollout.scenario,
            path,
            config=config or WORST_RENDER_CONFIG,
            extra_layers=plan_layers(rollout),
        )
    return dict(zip(ids, paths, strict=True))


def file_stem(scenario_id: str) -> str:
    """A scenario id made safe as a file name (at most 60 characters)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", scenario_id)[-60:] or "scenario"


def plan_layers(rollout: Rollout) -> list[Layer]:
    """The last plan's candidates (fixed) and each simulated step's chosen plan (per step)."""
    if not rollout.plans:
        return []
    layers: list[Layer] = []
    candidates = rollout.plans[-1].candidates
    if candidates is not None:
        candidate_xy = candidates.xy.reshape(-1, *candidates.xy.shape[-2:])
        layers.append(
            TrajectoriesLayer(candidate_xy, colors=CANDIDATE_COLOR, alpha=0.35, linewidth_pt=1.0)
        )
    horizon = max(plan.trajectory.xy.shape[-2] for plan in rollout.plans)
    plan_xy = np.full((rollout.scenario.num_steps, 1, horizon, 2), np.nan)
    for offset, plan in enumerate(rollout.plans):
        xy = plan.trajectory.xy.reshape(-1, 2)
        plan_xy[rollout.start_index + offset, 0, : xy.shape[0]] = xy
    layers.append(TrajectoriesLayer(plan_xy, colors=PLAN_COLOR, linewidth_pt=2.0, zorder=2.6))
    return layers


def write_run_report(
    out_dir: Path, summary: Mapping[str, Any], job: SimulationJob, worst_count: int = 3
) -> Path:
    """`out_dir/report.html` for a finished `urbandrive simulate` run (replaced if present).

    The `worst_count` lowest-scoring scenarios are simulated again with their plans kept (the
    loop is deterministic, so this is the same rollout) and animated; planner timings come back
    from `timings.json`.
    """
    timings_path, config_path = out_dir / "timings.json", out_dir / "config.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    results = [
        {**r, "timing": timings[r["id"]]} if r["id"] in timings else r for r in summary["scenarios"]
    ]
    worst = sorted(results, key=lambda result: result["score"])[:worst_count]
    replay = dataclasses.replace(
        job, simulation=dataclasses.replace(job.simulation, keep_plans=True)
    )
    rollouts = [replay.rollout(result["uri"]) for result in worst]
    animations = render_worst(
        rollouts,
        out_dir / "animations",
        count=len(rollouts),
        scores=[r["score"] for r in worst],
        overwrite=True,
    )
    config = json.loads(config_path.read_text()) if config_path.exists() else None
    title = f"urbandrive simulation: {job.planner}"
    return write_report(
        out_dir, results, summary["aggregate"], animations, config, title=title, overwrite=True
    )
