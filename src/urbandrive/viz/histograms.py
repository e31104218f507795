"""Small summary charts of a simulation run as PNG bytes (Agg, no pyplot): the distribution of
scenario scores and, per metric, the fraction of scenarios scoring 1, in between, or 0."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

#: Colours shared with the HTML report: full marks, partial, zero.
GOOD = "#2DA44E"
FAIR = "#D4A72C"
POOR = "#CF222E"
#: Values within this of 1 (or 0) count as exactly 1 (or 0).
LEVEL_TOLERANCE = 1e-9
#: Resolution of the charts; the report shows them at 100 dpi, so they are sharp on HiDPI.
CHART_DPI = 160
#: Scores (0-100) at or above these are drawn in the GOOD / FAIR colour, below in POOR.
GOOD_SCORE = 80.0
FAIR_SCORE = 50.0


def level_fractions(values: Sequence[float]) -> tuple[float, float, float]:
    """(fraction == 1, fraction strictly between, fraction == 0) of metric values in [0, 1]."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return 0.0, 0.0, 0.0
    full = np.abs(array - 1.0) <= LEVEL_TOLERANCE
    zero = np.abs(array) <= LEVEL_TOLERANCE
    partial = ~full & ~zero
    return float(full.mean()), float(partial.mean()), float(zero.mean())


def score_color(score: float) -> str:
    """GOOD, FAIR or POOR colour for a 0-100 score."""
    if score >= GOOD_SCORE:
        return GOOD
    return FAIR if score >= FAIR_SCORE else POOR


def score_histogram_png(scores: Sequence[float]) -> bytes:
    """Histogram of 0-100 scenario scores in bins of 10, the mean marked; PNG bytes."""
    scores_array = np.asarray(scores, dtype=np.float64)
    figure = Figure(figsize=(5.6, 2.9), dpi=CHART_DPI, layout="constrained")
    axes = figure.add_subplot()
    edges = np.linspace(0.0, 100.0, 11)
    counts, _ = np.histogram(np.clip(scores_array, 0.0, 100.0), bins=edges)
    centers = 0.5 * (edges[:-1] + edges[1:])
    colors = [score_color(center) for center in centers]
    axes.bar(centers, counts, width=9.0, color=colors, edgecolor="white")
    if scores_array.size:
        mean = float(scores_array.mean())
        axes.axvline(mean, color="#24292F", linestyle="--", linewidth=1.0)
        axes.annotate(
            f"mean {mean:.1f}",
            (mean, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -12),
            textcoords="offset points",
            fontsize=8,
        )
    axes.set_xlim(0.0, 100.0)
    axes.set_xticks(edges)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("score", fontsize=9)
    axes.set_ylabel("scenarios", fontsize=9)
    _tidy(axes)
    return _png_bytes(figure)


def metric_levels_png(values_by_metric: dict[str, Sequence[float]]) -> bytes:
    """One stacked horizontal bar per metric: share of scenarios at 1 / partial / 0; PNG bytes.

    values_by_metric: display label -> the metric's value per scenario, each in [0, 1].
    """
    labels = list(values_by_metric)
    fractions = np.array([level_fractions(values_by_metric[label]) for label in labels])
    figure = Figure(figsize=(5.6, 0.8 + 0.28 * len(labels)), dpi=CHART_DPI, layout="constrained")
    axes = figure.add_subplot()
    rows = np.arange(len(labels))
    left = np.zeros(len(labels))
    names = ("1", "partial (e.g. 0.5)", "0")
    for column, (name, color) in enumerate(zip(names, (GOOD, FAIR, POOR), strict=True)):
        widths = fractions[:, column] if len(labels) else np.zeros(0)
        axes.barh(rows, widths, left=left, color=color, label=name, height=0.7)
        _label_segments(axes, rows, left, widths)
        left = left + widths
    axes.set_yticks(rows, labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0.0, 1.0)
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.legend(ncols=3, fontsize=8, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    _tidy(axes)
    return _png_bytes(figure)


def _label_segments(axes: Axes, rows: np.ndarray, left: np.ndarray, widths: np.ndarray) -> None:
    """Write each segment's percentage inside it when it is wide enough to hold the text."""
    for row, start, width in zip(rows, left, widths, strict=True):
        if width >= 0.1:
            axes.text(
                start + width / 2,
                row,
                f"{100 * width:.0f}%",
                ha="center",
                va="center",
                fontsize=7,
                color="white",
            )


def _tidy(axes: Axes) -> None:
    """Light axes: no top/right spines, small grey ticks."""
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=8, colors="#57606A")


def _png_bytes(figure: Figure) -> bytes:
    """The figure as PNG bytes, without the 'Software' text chunk (it holds a URL)."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
