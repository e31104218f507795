"""A JSON-serialisable summary of one scenario (what `urbandrive inspect` prints)."""

from __future__ import annotations

from typing import Any

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario


def summarize_scenario(scenario: Scenario) -> dict[str, Any]:
    """Counts and extents: agents by type (ego included), steps, duration, map size, ego id.

    Only built-in Python types (str, int, float, bool, None, dict), so `json.dumps` works.
    """
    tracks = scenario.tracks
    road_map = scenario.road_map
    types, counts = np.unique(tracks.types, return_counts=True)
    extent = None
    if road_map is not None:
        x_min, y_min, x_max, y_max = road_map.bounds
        extent = {"x_min": x_min, "y_min": y_min, "x_max": x_max, "y_max": y_max}
    lights = scenario.traffic_lights
    return {
        "id": scenario.id,
        "source": scenario.source,
        "num_agents": tracks.num_agents,
        "num_steps": scenario.num_steps,
        "duration_s": round(scenario.duration_s, 6),
        "dt_s": scenario.dt_s,
        "current_index": scenario.current_index,
        "agents_by_type": {
            AgentType(int(t)).name.lower(): int(n) for t, n in zip(types, counts, strict=True)
        },
        "num_lanes": 0 if road_map is None else len(road_map.lanes),
        "num_crosswalks": 0 if road_map is None else len(road_map.crosswalks),
        "map_extent": extent,
        "ego_id": None if scenario.ego_index is None else str(tracks.ids[scenario.ego_index]),
        "has_traffic_lights": lights is not None and lights.signal_ids.size > 0,
        "city": _plain(scenario.metadata.get("city")),
    }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
