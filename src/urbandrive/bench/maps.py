"""HD-map query benchmarks: nearest lane, drivable area, Frenet projection, model polylines.

They run on the largest AV2 log map in the shared data ($URBANDRIVE_DATA or ../shared/data)
when it is there, else on the synthetic `straight_road`. Each times a per-point baseline in
the same run. Index building happens at setup (untimed): it is once per map.
"""

from __future__ import annotations

import numpy as np
import shapely

from urbandrive.bench.registry import Case, benchmark, shared_data_dir
from urbandrive.core.typing import NDArrayF64
from urbandrive.datasets.av2_map import load_av2_map
from urbandrive.geometry.polyline import project_points
from urbandrive.maps.road_map import RoadMap
from urbandrive.maps.vectorize import vectorize_map
from urbandrive.testing.builders import straight_road


def _bench_map() -> RoadMap:
    """The AV2 log map with the most lanes, or an 8-lane straight road without the data."""
    data = shared_data_dir()
    paths = sorted((data / "av2" / "logs").glob("*/map/log_map_archive_*.json"))
    if not paths:
        return straight_road(num_lanes=8, length_m=400.0, num_segments=8, crosswalk_at_m=200.0)
    return max((load_av2_map(path) for path in paths), key=lambda road_map: len(road_map.lanes))


def _points_around(road_map: RoadMap, count: int, margin_m: float = 10.0) -> NDArrayF64:
    """float64[count, 2]: uniform points over the map's bounds grown by margin_m (seed 0)."""
    x_min, y_min, x_max, y_max = road_map.bounds
    low, high = [x_min - margin_m, y_min - margin_m], [x_max + margin_m, y_max + margin_m]
    return np.random.default_rng(0).uniform(low, high, size=(count, 2))


@benchmark("map_nearest_lane_1k")
def map_nearest_lane_1k() -> Case:
    """1000 points -> nearest lane: STRtree query vs a loop of per-point distances to all lanes."""
    road_map = _bench_map()
    points = _points_around(road_map, 1000)
    road_map.nearest_lanes(points[:1])  # build the index
    lines = road_map.index.centerlines

    def per_point() -> object:
        return [int(np.argmin(shapely.distance(lines, shapely.Point(p)))) for p in points]

    return Case(
        run=lambda: road_map.nearest_lanes(points),
        baseline=per_point,
        baseline_name="per-point shapely distance to every lane",
        unit_count=1000.0,
        unit="point",
    )


@benchmark("map_drivable_area_10k")
def map_drivable_area_10k() -> Case:
    """10^4 points near lanes (like agents' box corners; ~5 % outside) -> distance outside the
    drivable area, vs per-point shapely on the union."""
    road_map = _bench_map()
    rng = np.random.default_rng(0)
    centerline_points = np.concatenate([lane.centerline for lane in road_map.lanes.values()])
    points = centerline_points[rng.integers(0, len(centerline_points), 10_000)]
    points = points + rng.normal(0.0, 1.5, size=points.shape)
    road_map.distance_outside_drivable_area(points[:1])
    area = shapely.union_all([shapely.Polygon(p) for p in road_map.drivable_areas])

    def per_point() -> object:
        return [area.distance(shapely.Point(p)) for p in points]

    return Case(
        run=lambda: road_map.distance_outside_drivable_area(points),
        baseline=per_point,
        baseline_name="per-point shapely distance to the union",
        unit_count=10_000.0,
        unit="point",
        repeats=5,
    )


@benchmark("map_to_frenet_10k")
def map_to_frenet_10k() -> Case:
    """10^4 points near a route -> (s, d): tree + sectors vs brute-force segment projection."""
    road_map = _bench_map()
    lane_id = max(road_map.lanes, key=lambda i: road_map.lanes[i].length_m)
    route = [lane_id]
    while len(route) < 6 and (
        successors := [s for s in road_map.lanes[route[-1]].successors if s in road_map.lanes]
    ):
        route.append(successors[0])
    path = road_map.reference_path(route)
    rng = np.random.default_rng(0)
    points = path.xy[rng.integers(0, len(path.xy), 10_000)] + rng.uniform(-3.0, 3.0, (10_000, 2))
    path.to_frenet(points[:1])
    return Case(
        run=lambda: path.to_frenet(points),
        baseline=lambda: project_points(path.xy, points),
        baseline_name="geometry.project_points (points x segments)",
        unit_count=10_000.0,
        unit="point",
        repeats=10,
    )


@benchmark("map_vectorize_16_agents")
def map_vectorize_16_agents() -> Case:
    """Model polylines (50 m, 256 x 20) around 16 agents: cached pieces vs re-cut per agent."""
    road_map = _bench_map()
    centres = _points_around(road_map, 16, margin_m=-5.0)

    def every_agent(cached: bool) -> object:
        results = []
        for centre in centres:
            if not cached:
                road_map.query_cache.clear()
            results.append(vectorize_map(road_map, centre, 0.5))
        return results

    return Case(
        run=lambda: every_agent(cached=True),
        baseline=lambda: every_agent(cached=False),
        baseline_name="map elements resampled and cut again for every agent",
        unit_count=16.0,
        unit="agent",
        repeats=5,
    )
