"""Where the window looks: the ego's position per step, the scene's extent, fitted limits."""

from __future__ import annotations

import numpy as np

from urbandrive.core.scenario import Scenario
from urbandrive.core.typing import NDArrayF64


def ego_centers(scenario: Scenario) -> NDArrayF64 | None:
    """float64[T, 2], metres, global frame: the ego's centre per step; None without an ego.

    Steps where the ego is not valid borrow the nearest valid step's position; None too if the
    ego is never valid.
    """
    if scenario.ego_index is None:
        return None
    valid = scenario.tracks.valid[scenario.ego_index]
    valid_steps = np.flatnonzero(valid)
    if valid_steps.size == 0:
        return None
    steps = np.arange(valid.shape[0])
    right = np.clip(np.searchsorted(valid_steps, steps), 0, valid_steps.size - 1)
    left = np.clip(right - 1, 0, valid_steps.size - 1)
    use_left = np.abs(valid_steps[left] - steps) < np.abs(valid_steps[right] - steps)
    nearest = np.where(use_left, valid_steps[left], valid_steps[right])
    return scenario.tracks.xy[scenario.ego_index, nearest]


def scene_extent(scenario: Scenario) -> tuple[float, float, float, float]:
    """(x_min, y_min, x_max, y_max), metres: the map's bounds, else every valid agent position.

    An empty scene gives a 20 m square around the origin.
    """
    if scenario.road_map is not None:
        return scenario.road_map.bounds
    points = scenario.tracks.xy[scenario.tracks.valid]
    if points.shape[0] == 0:
        return -10.0, -10.0, 10.0, 10.0
    (x_min, y_min), (x_max, y_max) = points.min(0), points.max(0)
    return float(x_min), float(y_min), float(x_max), float(y_max)


def fit_limits(
    center_xy: NDArrayF64, half_size_m: tuple[float, float], box_aspect: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y limits, metres, centred on `center_xy: float64[2]`, covering at least
    `half_size_m = (half_width, half_height)` and with height / width = `box_aspect` (the axes'
    pixel aspect), so that one metre is as long on x as on y.
    """
    half_width, half_height = max(half_size_m[0], 1.0), max(half_size_m[1], 1.0)
    if half_height / half_width > box_aspect:
        half_width = half_height / box_aspect
    else:
        half_height = half_width * box_aspect
    x, y = float(center_xy[0]), float(center_xy[1])
    return (x - half_width, x + half_width), (y - half_height, y + half_height)
