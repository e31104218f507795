"""Which connector lanes of an intersection conflict: their paths cross or merge."""

from __future__ import annotations

import numpy as np
import shapely

from urbandrive.core.typing import NDArrayInt
from urbandrive.maps.road_map import LaneType
from urbandrive.scenarios.town.records import Town


def conflicting_connector_pairs(town: Town, intersection_id: int) -> NDArrayInt:
    """int64[K, 2]: vehicle connector id pairs (a < b) of one intersection whose centre lines
    cross or end in the same lane. Connectors diverging from the same lane do not conflict."""
    intersection = town.intersections_by_id[intersection_id]
    lanes = [
        town.road_map.lanes[lane_id]
        for lane_id in intersection.connector_ids
        if town.road_map.lanes[lane_id].lane_type == LaneType.VEHICLE
    ]
    lines = np.array([shapely.LineString(lane.centerline) for lane in lanes], dtype=object)
    first, second = shapely.STRtree(lines).query(lines, predicate="intersects")
    pairs = set()
    for a, b in zip(first.tolist(), second.tolist(), strict=True):
        if a >= b or lanes[a].predecessors == lanes[b].predecessors:
            continue
        pairs.add((lanes[a].id, lanes[b].id))
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
