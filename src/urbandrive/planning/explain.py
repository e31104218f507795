"""Why did the planner choose this? One cycle's candidates, scores and prediction, as a table
and a picture.

`explain_step` plans at one logged step; `Explanation.table` lists the best candidates' score
breakdown. The picture (`urbandrive.viz.explanation.render_explanation`) lives in `viz`, above
planning in the data flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.observation import observe
from urbandrive.core.scenario import Scenario
from urbandrive.core.typing import NDArrayF64
from urbandrive.planning.interfaces import Plan, Planner
from urbandrive.planning.planner import UrbanPlanner


@dataclass(frozen=True, slots=True)
class Explanation:
    """plan: the planner's output at `step`; labels: one name per candidate (M);
    reason: why the selected one was chosen ("" when the planner does not say)."""

    step: int
    time_s: float
    plan: Plan
    labels: tuple[str, ...]
    reason: str

    @property
    def candidate_xy(self) -> NDArrayF64:
        """float64[M, H, 2]: every candidate (the plan alone when there are none)."""
        if self.plan.candidates is None:
            return self.plan.trajectory.xy[None]
        return self.plan.candidates.xy

    @property
    def total(self) -> NDArrayF64:
        """float64[M]: each candidate's total score (1 for a lone plan)."""
        return np.asarray(self.plan.scores.get("total", np.ones(self.candidate_xy.shape[0])))

    def table(self, top: int = 5) -> str:
        """The `top` candidates by total score with every score term, one line each."""
        names = [name for name in self.plan.scores if name != "total"]
        order = np.argsort(-self.total, kind="stable")[:top]
        width = max([len(label) for label in self.labels] + [9])
        header = f"{'rank':>4}  {'candidate':<{width}} {'total':>6} " + " ".join(
            f"{_short(name):>7}" for name in names
        )
        lines = [header]
        for rank, row in enumerate(order.tolist(), start=1):
            mark = "*" if row == self.plan.selected else " "
            cells = " ".join(f"{float(self.plan.scores[name][row]):7.2f}" for name in names)
            lines.append(
                f"{rank:>3}{mark}  {self.labels[row]:<{width}} {self.total[row]:6.3f} {cells}"
            )
        if self.reason:
            lines.append(f"selected: {self.labels[self.plan.selected or 0]} ({self.reason})")
        return "\n".join(lines)


def _short(name: str) -> str:
    """A column heading of at most 7 characters."""
    words = name.split("_")
    return name[:7] if len(words) == 1 else "".join(word[:3] for word in words)[:7]


def explain_step(planner: Planner, scenario: Scenario, time_s: float) -> Explanation:
    """Plan at the step nearest `time_s` seconds after the scenario's first step."""
    times = scenario.times_s
    if not 0.0 <= time_s <= times[-1]:
        raise DataError(f"scenario {scenario.id!r}: time {time_s} s outside [0, {times[-1]:.1f}] s")
    step = int(np.argmin(np.abs(times - time_s)))
    observation = observe(scenario, step)
    if isinstance(planner, UrbanPlanner):
        cycle = planner.cycle(observation)
        plan = planner.to_plan(cycle)
        return Explanation(
            step,
            float(times[step]),
            plan,
            cycle.candidates.labels,
            cycle.selection.reason.name.lower(),
        )
    plan = planner.plan(observation)
    count = 1 if plan.candidates is None else plan.candidates.batch_shape[0]
    return Explanation(step, float(times[step]), plan, tuple(f"#{i}" for i in range(count)), "")
