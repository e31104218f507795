"""The picture of `urbandrive explain`: one planning cycle drawn over the scene.

The predicted modes (alpha by probability), every candidate coloured by its total score (with
a colour bar) and the chosen trajectory highlighted. The numbers come from
`urbandrive.planning.explain.explain_step`; only the drawing lives here, above planning in the
data flow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from urbandrive.core.scenario import Scenario
from urbandrive.planning.explain import Explanation
from urbandrive.viz.layer import Layer
from urbandrive.viz.render import render_scenario
from urbandrive.viz.trajectories_layer import TrajectoriesLayer

PREDICTION_COLOR = "#1F78B4"
CHOSEN_COLOR = "#FF00FF"


def explanation_layers(explanation: Explanation) -> list[Layer]:
    """Prediction modes, candidates by score (best on top) and the chosen plan, as layers."""
    layers: list[Layer] = []
    prediction = explanation.plan.prediction
    if prediction is not None and prediction.xy.shape[0]:
        num_agents, num_modes = prediction.xy.shape[:2]
        alpha = 0.15 + 0.6 * prediction.probs / prediction.probs.max()
        layers.append(
            TrajectoriesLayer(
                prediction.xy.reshape(num_agents * num_modes, -1, 2),
                valid=np.repeat(prediction.valid, num_modes, axis=0),
                colors=PREDICTION_COLOR,
                alpha=np.tile(alpha, num_agents),
                linewidth_pt=1.0,
                zorder=2.2,
            )
        )
    order = np.argsort(explanation.total)  # best drawn last, on top
    layers.append(
        TrajectoriesLayer(
            explanation.candidate_xy[order],
            values=explanation.total[order],
            value_range=(0.0, 1.0),
            colorbar_label="candidate score",
            cmap="RdYlGn",
            alpha=0.8,
            linewidth_pt=1.0,
        )
    )
    layers.append(
        TrajectoriesLayer(
            explanation.plan.trajectory.xy[None], colors=CHOSEN_COLOR, linewidth_pt=3.0, zorder=2.8
        )
    )
    return layers


def render_explanation(scenario: Scenario, explanation: Explanation, out: str | Path) -> Path:
    """Draw the scene at the explained step with the modes, the candidates and the choice."""
    layers = explanation_layers(explanation)
    return render_scenario(scenario, out, time_s=explanation.time_s, extra_layers=layers)
