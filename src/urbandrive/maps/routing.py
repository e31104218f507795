"""Routing over the lane graph: shortest lane sequences and map-matching of driven paths.

The graph's nodes are the map's lanes. Edges: lane -> each successor (cost: the lane's length,
metres) and lane -> its left / right neighbour when it runs the same way (a lane change, cost
`RoutingConfig.lane_change_cost_m`). Ids naming lanes outside this map's crop are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.maps.index import LaneIndex, PoseMatchConfig, best_lanes_for_poses, pose_candidates

if TYPE_CHECKING:
    from urbandrive.maps.road_map import RoadMap

SUCCESSOR_EDGE = 1
LANE_CHANGE_EDGE = 2
#: csgraph reads a stored zero as "no edge"; every edge weighs at least this, metres.
_MIN_EDGE_COST_M = 1e-6


class NoRouteError(DataError):
    """No lane sequence joins the requested start and goal; the message names both."""


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """lane_change_cost_m: cost of a lane-change edge, metres of driving it is worth."""

    lane_change_cost_m: float = 30.0

    def __post_init__(self) -> None:
        if not self.lane_change_cost_m > 0:
            raise ValueError(f"lane_change_cost_m must be > 0, got {self.lane_change_cost_m}")


@dataclass(frozen=True, slots=True)
class MapMatchConfig:
    """Costs of `match_path_to_lanes` (a Viterbi decode over candidate lanes per pose).

    pose: per-pose emission cost (distance + heading error, metres-equivalent).
    successor_cost_m / lane_change_cost_m: cost of each edge crossed between two poses.
    max_transition_cost_m: transitions dearer than this are not considered.
    min_step_for_heading_m: without given headings, poses that moved less than this between
        neighbouring steps get no heading term (a stopped car's heading is noise).
    """

    pose: PoseMatchConfig = field(default_factory=PoseMatchConfig)
    successor_cost_m: float = 1.0
    lane_change_cost_m: float = 5.0
    max_transition_cost_m: float = 20.0
    min_step_for_heading_m: float = 0.2


@dataclass(frozen=True, slots=True)
class LaneGraph:
    """The lane graph of one map (`RoadMap.lane_graph`); row r is lane_ids[r] as in `LaneIndex`.

    cost: csr float64[L, L], edge cost in metres (successor: length of the source lane).
    kind: csr int8[L, L] with the same sparsity, SUCCESSOR_EDGE or LANE_CHANGE_EDGE.
    """

    source: str
    lane_ids: NDArrayInt
    cost: csr_matrix
    kind: csr_matrix

    def hop_costs(self, successor_cost_m: float, lane_change_cost_m: float) -> csr_matrix:
        """The graph re-weighted per edge kind (for map-matching): csr float64[L, L]."""
        weights = np.where(self.kind.data == SUCCESSOR_EDGE, successor_cost_m, lane_change_cost_m)
        weights = np.maximum(weights, _MIN_EDGE_COST_M)
        return csr_matrix((weights, self.kind.indices, self.kind.indptr), shape=self.kind.shape)


def build_lane_graph(road_map: RoadMap, index: LaneIndex, config: RoutingConfig) -> LaneGraph:
    """Successor and same-direction lane-change edges between the lanes present in the map."""
    edges = _lane_edges(road_map, index, config)
    pairs = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
    values = np.array(list(edges.values()), dtype=np.float64).reshape(-1, 2)
    shape = (index.lane_ids.shape[0],) * 2
    return LaneGraph(
        source=road_map.source,
        lane_ids=index.lane_ids,
        cost=csr_matrix((values[:, 0], (pairs[:, 0], pairs[:, 1])), shape=shape),
        kind=csr_matrix((values[:, 1].astype(np.int8), (pairs[:, 0], pairs[:, 1])), shape=shape),
    )


def _lane_edges(
    road_map: RoadMap, index: LaneIndex, config: RoutingConfig
) -> dict[tuple[int, int], tuple[float, int]]:
    """(source row, target row) -> (cost in metres, edge kind); absent lanes are skipped."""
    row_of = {int(lane_id): row for row, lane_id in enumerate(index.lane_ids)}
    edges: dict[tuple[int, int], tuple[float, int]] = {}
    for lane in road_map.lanes.values():
        source = row_of[lane.id]
        length_m = max(lane.length_m, _MIN_EDGE_COST_M)
        for successor in lane.successors:
            if successor in row_of:
                edges[(source, row_of[successor])] = (length_m, SUCCESSOR_EDGE)
        for neighbour in (lane.left_neighbor, lane.right_neighbor):
            if neighbour is None or neighbour not in row_of:
                continue
            other = road_map.lanes[neighbour].centerline
            if (source, row_of[neighbour]) not in edges and _same_direction(lane.centerline, other):
                edges[(source, row_of[neighbour])] = (config.lane_change_cost_m, LANE_CHANGE_EDGE)
    return edges


def _same_direction(centerline: NDArrayF64, other: NDArrayF64) -> bool:
    """Whether two centerlines (float64[P, 2]) run within 90 degrees of each other, end to end."""
    return float(np.dot(centerline[-1] - centerline[0], other[-1] - other[0])) > 0.0


def route_lanes(graph: LaneGraph, index: LaneIndex, start_lane: int, goal_lane: int) -> list[int]:
    """Cheapest lane sequence from `start_lane` to `goal_lane` (both included).

    Raises `DataError` for an unknown lane and `NoRouteError` naming both when unreachable.
    """
    start, goal = (int(row) for row in index.rows_of(np.array([start_lane, goal_lane])))
    _, predecessors = dijkstra(graph.cost, indices=start, return_predecessors=True)
    rows = _walk_back(predecessors, start, goal)
    if rows is None:
        raise NoRouteError(
            f"map {graph.source!r}: no route from lane {start_lane} to lane {goal_lane}"
        )
    return [int(graph.lane_ids[row]) for row in rows]


def _walk_back(predecessors: NDArrayInt, start: int, goal: int) -> list[int] | None:
    """Rows from start to goal following a csgraph predecessor row, or None if unreachable."""
    rows = [goal]
    while rows[-1] != start:
        previous = int(predecessors[rows[-1]])
        if previous < 0:
            return None
        rows.append(previous)
    return rows[::-1]


def route_between_poses(
    graph: LaneGraph,
    index: LaneIndex,
    start_xy: NDArrayF64,
    start_heading: float,
    goal_xy: NDArrayF64,
    goal_heading: float | None = None,
    pose_config: PoseMatchConfig | None = None,
) -> list[int]:
    """Cheapest lane sequence from a start pose to a goal position (and heading, if given).

    start_xy, goal_xy: float64[2], metres, map frame; headings in radians. The start lane is
    the best match of the start pose; the goal lane is, among the goal's candidates whose match
    cost is within 2 m of the best, the one reached most cheaply.
    """
    pose_config = PoseMatchConfig() if pose_config is None else pose_config
    start_lane = best_lanes_for_poses(
        index, np.reshape(start_xy, (1, 2)), np.array([start_heading]), pose_config
    )[0]
    heading = np.nan if goal_heading is None else goal_heading
    _, goal_rows, goal_cost = pose_candidates(
        index, np.reshape(goal_xy, (1, 2)), np.array([heading]), pose_config
    )
    goal_rows = goal_rows[goal_cost <= goal_cost.min() + 2.0]
    start = int(index.rows_of(start_lane)[0])
    distance, predecessors = dijkstra(graph.cost, indices=start, return_predecessors=True)
    if not np.any(np.isfinite(distance[goal_rows])):
        names = [int(i) for i in index.lane_ids[goal_rows]]
        raise NoRouteError(
            f"map {graph.source!r}: no route from lane {int(start_lane[0])} to lanes {names} at the goal"
        )
    goal = int(goal_rows[np.argmin(distance[goal_rows])])
    rows = _walk_back(predecessors, start, goal)
    assert rows is not None  # reachable: checked above
    return [int(graph.lane_ids[row]) for row in rows]


def match_path_to_lanes(
    graph: LaneGraph,
    index: LaneIndex,
    xy: NDArrayF64,
    heading: NDArrayF64 | None = None,
    config: MapMatchConfig | None = None,
) -> list[int]:
    """The connected lane sequence that best explains a driven path (map-matching).

    xy: float64[T, 2], metres, map frame, one pose per step; heading: float64[T] radians, or
    None to take it from the path. Each pose's candidate lanes are scored as in
    `best_lanes_for_poses`, moves between them cost the graph edges crossed, and a Viterbi
    decode picks the cheapest assignment; the result is its lanes in order, gaps filled with
    the lanes in between. Raises `NoRouteError` naming the steps where the path leaves the graph.
    """
    config = MapMatchConfig() if config is None else config
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] == 0:
        raise DataError(f"map {graph.source!r}: a path must be float[T >= 1, 2], got {xy.shape}")
    if heading is None:
        heading = _path_headings(xy, config.min_step_for_heading_m)
    step, rows, emission = pose_candidates(index, xy, heading, config.pose)
    candidates = np.unique(rows)
    hop = graph.hop_costs(config.successor_cost_m, config.lane_change_cost_m)
    transition, predecessors = dijkstra(
        hop, indices=candidates, return_predecessors=True, limit=config.max_transition_cost_m
    )
    position = np.searchsorted(candidates, rows)
    chosen = _viterbi(graph, step, rows, emission, transition[position], xy.shape[0])
    return _connect(graph, chosen, candidates, predecessors)


def _path_headings(xy: NDArrayF64, min_step_m: float) -> NDArrayF64:
    """float64[T]: direction of travel along `xy: float64[T, 2]`, NaN where it barely moved."""
    if xy.shape[0] < 2:
        return np.full(xy.shape[0], np.nan)
    velocity = np.gradient(xy, axis=0)
    moving = np.linalg.norm(velocity, axis=-1) >= min_step_m
    return np.where(moving, np.arctan2(velocity[:, 1], velocity[:, 0]), np.nan)


def _viterbi(
    graph: LaneGraph,
    step: NDArrayInt,
    rows: NDArrayInt,
    emission: NDArrayF64,
    transition: NDArrayF64,
    num_steps: int,
) -> NDArrayInt:
    """Lane row per step minimising emission + transition costs.

    step, rows, emission: [M] candidates sorted by step; transition: float64[M, L], cost from
    each candidate's lane to every lane (inf: unreachable). Returns int64[num_steps].
    """
    bounds = np.searchsorted(step, np.arange(num_steps + 1))
    cost = emission[bounds[0] : bounds[1]]
    backpointers = []
    for t in range(1, num_steps):
        previous, current = slice(bounds[t - 1], bounds[t]), slice(bounds[t], bounds[t + 1])
        total = cost[:, None] + transition[previous][:, rows[current]]
        best_previous = np.argmin(total, axis=0)
        cost = total[best_previous, np.arange(total.shape[1])] + emission[current]
        if not np.any(np.isfinite(cost)):
            names = sorted({int(i) for i in graph.lane_ids[rows[previous]]})
            raise NoRouteError(
                f"map {graph.source!r}: the path leaves the lane graph between steps {t - 1} "
                f"and {t} (no lane near step {t} is reachable from lanes {names})"
            )
        backpointers.append(best_previous)
    chosen = [int(np.argmin(cost))]
    for best_previous in reversed(backpointers):
        chosen.append(int(best_previous[chosen[-1]]))
    chosen.reverse()
    return np.array([rows[bounds[t] + k] for t, k in enumerate(chosen)], dtype=np.int64)


def _connect(
    graph: LaneGraph, chosen: NDArrayInt, candidates: NDArrayInt, predecessors: NDArrayInt
) -> list[int]:
    """Lane ids of the distinct consecutive rows of `chosen`, joined through the graph."""
    distinct = chosen[np.r_[True, chosen[1:] != chosen[:-1]]]
    route = [int(distinct[0])]
    for row in distinct[1:]:
        position = int(np.searchsorted(candidates, route[-1]))
        hops = _walk_back(predecessors[position], route[-1], int(row))
        assert hops is not None  # the Viterbi decode only keeps reachable moves
        route.extend(hops[1:])
    return [int(graph.lane_ids[row]) for row in route]
