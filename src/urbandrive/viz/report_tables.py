"""HTML tables of the simulation report: aggregate, per family (or source), per scenario.

Every cell is escaped; numeric cells carry `data-sort` (the raw number, "" when missing) so the
report's script can sort them; metric cells are colour-coded by class `good` / `fair` / `poor`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from urbandrive.metrics.score import NUPLAN_MULTIPLIERS, NUPLAN_WEIGHTS
from urbandrive.viz.histograms import FAIR_SCORE, GOOD_SCORE, LEVEL_TOLERANCE

#: Our extra traffic rules, reported beside nuPlan's metrics.
RULE_METRICS = ("red_light_compliance", "pedestrian_yield_compliance")
#: Every per-scenario metric in [0, 1], in the order the report shows them.
METRIC_NAMES = (*NUPLAN_MULTIPLIERS, *(name for name, _ in NUPLAN_WEIGHTS), *RULE_METRICS)
#: Short column headings (the full name is the heading's tooltip).
SHORT_LABELS = {
    "num_scenarios": "scenarios",
    "no_ego_at_fault_collisions": "no at-fault collision",
    "drivable_area_compliance": "drivable area",
    "driving_direction_compliance": "driving direction",
    "ego_is_making_progress": "making progress",
    "ego_progress_along_expert_route": "progress",
    "time_to_collision_within_bound": "TTC in bound",
    "speed_limit_compliance": "speed limit",
    "ego_is_comfortable": "comfort",
    "red_light_compliance": "red light",
    "pedestrian_yield_compliance": "pedestrian yield",
}
#: Metrics whose value is better when lower (colour-coded inversely).
LOWER_IS_BETTER = ("collision_rate",)
MISSING = "—"
#: Per-scenario extra columns: (result key, heading, decimals).
SCENARIO_EXTRAS = (
    ("min_time_to_collision_s", "min TTC [s]", 2),
    ("min_vru_clearance_m", "min VRU clearance [m]", 2),
    ("open_loop_ade_m", "open-loop ADE [m]", 2),
    ("open_loop_fde_m", "open-loop FDE [m]", 2),
    ("planner_ms_mean", "planner mean [ms]", 1),
    ("planner_ms_p99", "planner p99 [ms]", 1),
    ("duration_s", "duration [s]", 1),
)


def metric_role(name: str) -> str:
    """How a metric enters the score: 'multiplier', 'weight w' or 'reported'."""
    if name in NUPLAN_MULTIPLIERS:
        return "multiplier"
    weights = dict(NUPLAN_WEIGHTS)
    return f"weight {weights[name]:g}" if name in weights else "reported"


def label(name: str) -> str:
    """A metric's (or a per-scenario number's) short readable name."""
    extras = {key: title for key, title, _ in SCENARIO_EXTRAS}
    return SHORT_LABELS.get(name) or extras.get(name) or name.replace("_", " ")


def is_number(value: Any) -> bool:
    """True for finite ints and floats (not bools)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def format_number(value: Any, decimals: int = 2) -> str:
    """Rounded, trailing zeros kept (aligned columns); MISSING for None."""
    return f"{value:.{decimals}f}" if is_number(value) else MISSING


def format_fraction(value: Any) -> str:
    """A [0, 1] metric: '1', '0.5', '0', or two decimals for partial values."""
    if not is_number(value):
        return MISSING
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def format_percent(value: Any) -> str:
    """A rate in [0, 1] as a percentage with one decimal."""
    return f"{100 * value:.1f} %" if is_number(value) else MISSING


def fraction_class(value: Any) -> str:
    """CSS class of a [0, 1] metric: good at 1, fair from 0.5, poor below, none if missing."""
    if not is_number(value):
        return "missing"
    if value >= 1.0 - LEVEL_TOLERANCE:
        return "good"
    return "fair" if value >= 0.5 - LEVEL_TOLERANCE else "poor"


def score_class(score: Any) -> str:
    """CSS class of a 0-100 score (same thresholds as the score histogram)."""
    if not is_number(score):
        return "missing"
    if score >= GOOD_SCORE:
        return "good"
    return "fair" if score >= FAIR_SCORE else "poor"


def cell(text: str, sort_value: Any = None, css_class: str = "", numeric: bool = True) -> str:
    """One `<td>`; numeric cells carry their raw value for sorting ('' when missing), text
    cells without a class are left-aligned."""
    css_class = css_class or ("" if numeric else "text")
    attributes = f' class="{css_class}"' if css_class else ""
    if numeric:
        sort_text = repr(float(sort_value)) if is_number(sort_value) else ""
        attributes += f' data-sort="{sort_text}"'
    return f"<td{attributes}>{escape(text)}</td>"


def heading(text: str, tooltip: str = "", sort: str = "") -> str:
    """One sortable `<th>` (aria-sort marks the initial order)."""
    title = f' title="{escape(tooltip)}"' if tooltip else ""
    order = f' aria-sort="{sort}"' if sort else ""
    return f'<th scope="col"{title}{order}>{escape(text)}</th>'


def table(table_id: str, headings: Sequence[str], rows: Sequence[str], sortable: bool) -> str:
    """A `<table>` with one header row and the given `<tr>` rows."""
    css = ' class="sortable"' if sortable else ""
    return (
        f'<table id="{table_id}"{css}><thead><tr>{"".join(headings)}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def aggregate_value_cell(name: str, value: Any) -> str:
    """An aggregate entry formatted and colour-coded by what it measures."""
    if name == "score":
        return cell(format_number(value, 1), value, score_class(value))
    if name == "num_scenarios":
        return cell(str(value), value)
    if name in LOWER_IS_BETTER:
        good = fraction_class(1.0 - value) if is_number(value) else "missing"
        return cell(format_percent(value), value, good)
    if name in METRIC_NAMES:
        return cell(format_number(value, 3), value, fraction_class(value))
    decimals = 1 if name.endswith("_ms") or "_ms_" in name else 2
    return cell(format_number(value, decimals), value)


def aggregate_table(aggregate: Mapping[str, Any]) -> str:
    """`<table id="aggregate">`: every aggregate entry, headline ones first, then the metrics."""
    first = [name for name in ("score", "collision_rate", "num_scenarios") if name in aggregate]
    metrics = [name for name in METRIC_NAMES if name in aggregate]
    rest = sorted(name for name in aggregate if name not in {*first, *metrics})
    rows = [
        f'<tr><th scope="row" title="{escape(name)}">{escape(label(name))}</th>'
        f"{cell(metric_role(name) if name in METRIC_NAMES else '', numeric=False)}"
        f"{aggregate_value_cell(name, aggregate[name])}</tr>"
        for name in (*first, *metrics, *rest)
    ]
    headings = [heading("entry"), heading("role in score"), heading("value")]
    return table("aggregate", headings, rows, sortable=False)


def group_key(results: Sequence[Mapping[str, Any]]) -> str:
    """'family' when any result names its scenario family, else 'source'."""
    return "family" if any(result.get("family") is not None for result in results) else "source"


def group_row(name: str, members: Sequence[Mapping[str, Any]]) -> str:
    """Count, mean and worst score, collision rate and pass rate of one group."""
    scores = [float(member["score"]) for member in members]
    mean_score = sum(scores) / len(scores)
    collision_rate = sum(bool(m.get("at_fault_collision")) for m in members) / len(members)
    verdicts = [bool(m["passed"]) for m in members if m.get("passed") is not None]
    pass_rate = sum(verdicts) / len(verdicts) if verdicts else None
    pass_class = fraction_class(pass_rate) if pass_rate is not None else "missing"
    return (
        f'<tr><th scope="row">{escape(name)}</th>{cell(str(len(members)), len(members))}'
        f"{cell(format_number(mean_score, 1), mean_score, score_class(mean_score))}"
        f"{cell(format_number(min(scores), 1), min(scores), score_class(min(scores)))}"
        f"{cell(format_percent(collision_rate), collision_rate, fraction_class(1 - collision_rate))}"
        f"{cell(format_percent(pass_rate), pass_rate, pass_class)}</tr>"
    )


def families_table(results: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(`<table id="families">` grouped by family or source, worst mean score first; the key)."""
    key = group_key(results)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for result in results:
        groups.setdefault(str(result.get(key) or "(none)"), []).append(result)
    order = sorted(groups, key=lambda g: (sum(r["score"] for r in groups[g]) / len(groups[g]), g))
    headings = [
        heading(key),
        heading("scenarios"),
        heading("mean score", sort="ascending"),
        heading("worst score"),
        heading("collision rate", "fraction of scenarios with an at-fault collision"),
        heading("pass rate", "fraction of scenarios meeting their family's pass criterion"),
    ]
    rows = [group_row(name, groups[name]) for name in order]
    return table("families", headings, rows, sortable=True), key


def worst_first(results: Sequence[Mapping[str, Any]]) -> list[int]:
    """Positions of `results` by ascending score, ties by id and planner."""
    return sorted(
        range(len(results)),
        key=lambda i: (results[i]["score"], str(results[i]["id"]), str(results[i].get("planner"))),
    )


def collisions_cell(result: Mapping[str, Any]) -> str:
    """Number of collision events; poor when one is the ego's fault."""
    events = result.get("collisions") or []
    at_fault = sum(bool(event.get("at_fault")) for event in events)
    text = f"{len(events)} ({at_fault} at fault)" if at_fault else str(len(events))
    css = "poor" if result.get("at_fault_collision") or at_fault else ""
    return cell(text, len(events), css)


def passed_cell(passed: Any) -> str:
    """'yes' (good), 'no' (poor) or missing."""
    if passed is None:
        return cell(MISSING, None, "missing")
    return cell("yes" if passed else "no", float(bool(passed)), "good" if passed else "poor")


@dataclass(frozen=True, slots=True)
class ScenarioColumns:
    """Optional columns of the per-scenario table: the grouping key (family or source), and
    whether to show the planner (several in the run) and the pass verdict (some given)."""

    group_key: str
    planner: bool
    passed: bool

    @staticmethod
    def of(results: Sequence[Mapping[str, Any]]) -> ScenarioColumns:
        """The columns `results` need."""
        return ScenarioColumns(
            group_key=group_key(results),
            planner=len({str(result.get("planner")) for result in results}) > 1,
            passed=any(result.get("passed") is not None for result in results),
        )

    def headings(self) -> list[str]:
        """The `<th>` cells, in the order `scenario_row` writes its cells."""
        headings = [heading("scenario"), heading(self.group_key)]
        if self.planner:
            headings.append(heading("planner"))
        headings.append(heading("score", "closed-loop score, 0-100", sort="ascending"))
        if self.passed:
            headings.append(heading("passed", "the family's pass criterion"))
        headings += [heading(label(metric), metric) for metric in METRIC_NAMES]
        headings.append(heading("collisions", "collision events (at the ego's fault)"))
        return headings + [heading(title, key) for key, title, _ in SCENARIO_EXTRAS]


def scenario_row(result: Mapping[str, Any], columns: ScenarioColumns, anchor: str | None) -> str:
    """One per-scenario row; the id links to its animation at `anchor` when there is one."""
    name = escape(str(result["id"]))
    link = f'<a href="#{anchor}">{name}</a>' if anchor else name
    cells = [f'<th scope="row">{link}</th>']
    cells.append(cell(str(result.get(columns.group_key) or MISSING), numeric=False))
    if columns.planner:
        cells.append(cell(str(result.get("planner", MISSING)), numeric=False))
    score = result["score"]
    cells.append(cell(format_number(score, 1), score, score_class(score)))
    if columns.passed:
        cells.append(passed_cell(result.get("passed")))
    for metric in METRIC_NAMES:
        value = result.get(metric)
        cells.append(cell(format_fraction(value), value, fraction_class(value)))
    cells.append(collisions_cell(result))
    for key, _, decimals in SCENARIO_EXTRAS:
        cells.append(cell(format_number(result.get(key), decimals), result.get(key)))
    return f"<tr>{''.join(cells)}</tr>"


def scenarios_table(results: Sequence[Mapping[str, Any]], anchors: Mapping[int, str]) -> str:
    """`<table id="scenarios">`, worst first; `anchors`: position in `results` -> the id of its
    animation's section."""
    columns = ScenarioColumns.of(results)
    rows = [
        scenario_row(results[index], columns, anchors.get(index)) for index in worst_first(results)
    ]
    return table("scenarios", columns.headings(), rows, sortable=True)
