"""Pieces of the families' pass criteria: read from a simulation result dict (metrics,
collisions, ...) and from the simulated scenario's geometry (steps after `current_index`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from urbandrive.core.scenario import Scenario
from urbandrive.core.typing import NDArrayF64
from urbandrive.geometry.boxes import boxes_distance

#: nuPlan's bound: the time to collision must stay at or above this, s.
MIN_TTC_S = 0.95


def safe(result: Mapping[str, Any]) -> bool:
    """No at-fault collision and the time to collision never below `MIN_TTC_S`."""
    return not result["at_fault_collision"] and result["time_to_collision_within_bound"] >= 1.0


def collision_free(result: Mapping[str, Any]) -> bool:
    """No collision of any kind (at fault or not)."""
    return not result["collisions"]


def _rows(scenario: Scenario, names: Sequence[str]) -> list[int]:
    ids = scenario.tracks.ids.tolist()
    return [ids.index(name) for name in names if name in ids]


def min_clearance_m(scenario: Scenario, names: Sequence[str]) -> float:
    """Smallest footprint distance (m) between the ego and the named agents over the steps
    from `current_index` on (inf if none of them is seen)."""
    tracks, ego = scenario.tracks, scenario.ego_index
    assert ego is not None
    rows = _rows(scenario, names)
    if not rows:
        return float("inf")
    steps = slice(scenario.current_index, scenario.num_steps)
    distance = boxes_distance(
        tracks.xy[ego, steps][None],
        tracks.heading[ego, steps][None],
        tracks.size_m[ego][None, None],
        tracks.xy[rows, steps],
        tracks.heading[rows, steps],
        tracks.size_m[rows][:, None],
    )
    seen = tracks.valid[rows, steps] & tracks.valid[ego, steps][None]
    return float(np.min(np.where(seen, distance, np.inf)))


def ego_front_past_m(
    scenario: Scenario, point_xy: Sequence[float], heading_rad: float
) -> NDArrayF64:
    """float64[T]: how far the ego's front bumper is past the line through `point_xy` square
    to `heading_rad` (negative before it), every step."""
    tracks, ego = scenario.tracks, scenario.ego_index
    assert ego is not None
    heading = tracks.heading[ego]
    front = tracks.xy[ego] + 0.5 * tracks.size_m[ego, 0] * np.stack(
        [np.cos(heading), np.sin(heading)], -1
    )
    direction = np.array([np.cos(heading_rad), np.sin(heading_rad)])
    return (front - np.asarray(point_xy)) @ direction


def ego_speed_mps(scenario: Scenario) -> NDArrayF64:
    """float64[T], the ego's speed every step."""
    assert scenario.ego_index is not None
    return scenario.tracks.speed_mps[scenario.ego_index]


def ego_lateral_m(scenario: Scenario, path_xy: Sequence[Sequence[float]]) -> NDArrayF64:
    """float64[T]: signed lateral offset (left +) of the ego from the polyline `path_xy`."""
    from urbandrive.geometry.polyline import project_points

    assert scenario.ego_index is not None
    _, lateral, _ = project_points(
        np.asarray(path_xy, np.float64), scenario.tracks.xy[scenario.ego_index]
    )
    return lateral
