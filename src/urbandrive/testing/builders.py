"""Small synthetic scenes with known answers: a straight multi-lane road, agents on it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.road_map import Crosswalk, Lane, LaneType, RoadMap


def straight_road(
    num_lanes: int = 2,
    length_m: float = 200.0,
    lane_width_m: float = 3.5,
    speed_limit_mps: float = 13.4,
    num_segments: int = 2,
    crosswalk_at_m: float | None = None,
) -> RoadMap:
    """Lanes along +x from x=0, lane i centred at y = i * lane_width_m (0 is the rightmost).

    Each lane is split into `num_segments` consecutive segments with ids `100 * i + j`
    (lane i, segment j), linked as successors; neighbours link lanes of the same segment.
    The drivable area is the rectangle covering all lanes. `crosswalk_at_m` adds a 4 m
    crosswalk across the road at that x.
    """
    segment_length = length_m / num_segments
    lanes: dict[int, Lane] = {}
    for i in range(num_lanes):
        y = i * lane_width_m
        for j in range(num_segments):
            x0, x1 = j * segment_length, (j + 1) * segment_length
            xs = np.linspace(x0, x1, max(2, int(segment_length) + 1))
            line = np.stack([xs, np.full_like(xs, y)], -1)
            lane_id = 100 * i + j
            lanes[lane_id] = Lane(
                id=lane_id,
                centerline=line,
                left_boundary=line + [0.0, lane_width_m / 2],
                right_boundary=line - [0.0, lane_width_m / 2],
                lane_type=LaneType.VEHICLE,
                speed_limit_mps=speed_limit_mps,
                speed_limit_is_default=False,
                successors=(lane_id + 1,) if j + 1 < num_segments else (),
                predecessors=(lane_id - 1,) if j > 0 else (),
                left_neighbor=lane_id + 100 if i + 1 < num_lanes else None,
                right_neighbor=lane_id - 100 if i > 0 else None,
                left_mark_type="DASHED_WHITE" if i + 1 < num_lanes else "SOLID_YELLOW",
                right_mark_type="DASHED_WHITE" if i > 0 else "SOLID_WHITE",
            )
    y_low, y_high = -lane_width_m / 2, (num_lanes - 0.5) * lane_width_m
    drivable = np.array([[0.0, y_low], [length_m, y_low], [length_m, y_high], [0.0, y_high]])
    crosswalks = {}
    if crosswalk_at_m is not None:
        x = crosswalk_at_m
        polygon = np.array([[x - 2, y_low], [x + 2, y_low], [x + 2, y_high], [x - 2, y_high]])
        crosswalks[1] = Crosswalk(id=1, polygon=polygon)
    road_map = RoadMap(
        lanes=lanes, crosswalks=crosswalks, drivable_areas=(drivable,), source="straight_road"
    )
    road_map.validate()
    return road_map


def scenario_from_states(
    xy: NDArrayF64,
    heading: NDArrayF64,
    types: Sequence[AgentType],
    *,
    velocity: NDArrayF64 | None = None,
    valid: np.ndarray | None = None,
    ids: Sequence[str] | None = None,
    size_m: NDArrayF64 | None = None,
    dt_s: float = 0.1,
    current_index: int = 0,
    ego_index: int | None = 0,
    road_map: RoadMap | None = None,
    scenario_id: str = "synthetic",
) -> Scenario:
    """A validated scenario from `xy: float64[A, T, 2]`, `heading: float64[A, T]`.

    velocity defaults to finite differences of xy; sizes to each type's default.
    """
    xy = np.asarray(xy, dtype=np.float64)
    num_agents, num_steps = xy.shape[:2]
    if velocity is None:
        velocity = np.gradient(xy, dt_s, axis=1) if num_steps > 1 else np.zeros_like(xy)
    if size_m is None:
        size_m = np.array([DEFAULT_SIZE_M[AgentType(t)] for t in types], dtype=np.float64)
    tracks = Tracks.from_arrays(
        ids=ids if ids is not None else [f"agent_{i}" for i in range(num_agents)],
        types=[int(t) for t in types],
        size_m=size_m,
        xy=xy,
        heading=heading,
        velocity=velocity,
        valid=valid if valid is not None else np.ones((num_agents, num_steps), dtype=bool),
    )
    scenario = Scenario(
        id=scenario_id,
        source="synthetic",
        timestamps_us=np.arange(num_steps, dtype=np.int64) * round(dt_s * 1e6),
        dt_s=dt_s,
        current_index=current_index,
        tracks=tracks,
        ego_index=ego_index,
        road_map=road_map,
    )
    scenario.validate()
    return scenario
