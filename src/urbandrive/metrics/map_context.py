"""Per-step facts about the ego relative to the map, the inputs several driving metrics need.

Vectorised over any batch of ego trajectories (`xy: float64[*B, T, 2]`): the simulator calls it
on its one rollout, the planner's scorer on its M candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.polyline import resample_by_count
from urbandrive.maps.index import best_lanes_for_poses, project_to_lanes
from urbandrive.maps.road_map import RoadMap

#: A pose farther than this from every lane centerline (m, with the heading cost) is in no lane.
MAX_LANE_MATCH_COST_M = 4.0
#: A corner this far (m) beyond its lane's half width counts as leaving the lane.
LANE_EXIT_TOLERANCE_M = 0.2


@dataclass(frozen=True, slots=True)
class EgoLaneContext:
    """lane_id: int64[*B, T], -1 in no lane; in_intersection, changing_lanes_or_offroad:
    bool[*B, T]; speed_limit_mps: float64[*B, T], NaN in no lane; progress_along_lane_m:
    float64[*B, T], displacement since the last step along the lane's direction (0 at the
    first step, in no lane, and on entering another lane, as nuPlan resets there)."""

    lane_id: NDArrayInt
    in_intersection: NDArrayBool
    changing_lanes_or_offroad: NDArrayBool
    speed_limit_mps: NDArrayF64
    progress_along_lane_m: NDArrayF64


def ego_lane_context(
    road_map: RoadMap, xy: NDArrayF64, heading: NDArrayF64, width_m: float
) -> EgoLaneContext:
    """Match every pose `xy: float64[*B, T, 2]`, `heading: float64[*B, T]` to its lane."""
    shape = heading.shape
    flat_xy, flat_heading = xy.reshape(-1, 2), heading.reshape(-1)
    lane_id, cost = best_lanes_for_poses(road_map.index, flat_xy, flat_heading)
    lane_id = np.where(cost <= MAX_LANE_MATCH_COST_M, lane_id, -1)
    matched = lane_id >= 0
    # Unmatched poses are projected on an arbitrary lane; `matched` masks what that gives.
    rows = road_map.index.rows_of(np.where(matched, lane_id, road_map.lane_ids[0]))
    _, offset_m, lane_heading = project_to_lanes(road_map.index, flat_xy, rows)
    half_width = 0.5 * _lane_widths(road_map, lane_id)
    leaves_lane = offset_m + 0.5 * width_m > half_width + LANE_EXIT_TOLERANCE_M
    lane_id = lane_id.reshape(shape)
    step = np.diff(xy, axis=-2, prepend=xy[..., :1, :])
    direction = np.stack([np.cos(lane_heading), np.sin(lane_heading)], -1).reshape(*shape, 2)
    progress = np.einsum("...d,...d->...", step, direction)
    same_lane = np.concatenate(
        [np.zeros((*shape[:-1], 1), bool), lane_id[..., 1:] == lane_id[..., :-1]], -1
    )
    return EgoLaneContext(
        lane_id=lane_id,
        in_intersection=_lane_attribute(road_map, lane_id, "is_intersection", False).astype(bool),
        changing_lanes_or_offroad=(~matched | leaves_lane).reshape(shape),
        speed_limit_mps=_known_speed_limits(road_map, lane_id),
        progress_along_lane_m=np.where(same_lane & (lane_id >= 0), progress, 0.0),
    )


def _lane_attribute(
    road_map: RoadMap, lane_id: NDArrayInt, name: str, missing: float
) -> NDArrayF64:
    unique, inverse = np.unique(lane_id, return_inverse=True)
    values = np.array(
        [missing if i < 0 else float(getattr(road_map.lanes[int(i)], name)) for i in unique]
    )
    return values[inverse].reshape(lane_id.shape)


def _known_speed_limits(road_map: RoadMap, lane_id: NDArrayInt) -> NDArrayF64:
    """float64[...]: each lane's speed limit, NaN in no lane or where it is only our default."""
    limits = _lane_attribute(road_map, lane_id, "speed_limit_mps", np.nan)
    assumed = _lane_attribute(road_map, lane_id, "speed_limit_is_default", True).astype(bool)
    return np.where(assumed, np.nan, limits)


def _lane_widths(road_map: RoadMap, lane_id: NDArrayInt) -> NDArrayF64:
    """float64[N]: mean width of each lane (distance between its boundaries), inf in no lane."""
    unique, inverse = np.unique(lane_id, return_inverse=True)
    widths = []
    for identifier in unique:
        if identifier < 0:
            widths.append(np.inf)
            continue
        lane = road_map.lanes[int(identifier)]
        left, right = (
            resample_by_count(lane.left_boundary, 20),
            resample_by_count(lane.right_boundary, 20),
        )
        widths.append(float(np.linalg.norm(left - right, axis=-1).mean()))
    return np.asarray(widths)[inverse]
