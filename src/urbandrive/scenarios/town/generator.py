"""`generate_town(config, seed)`: the whole procedural town, in numbered stages."""

from __future__ import annotations

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.road_map import RoadMap
from urbandrive.scenarios.town.config import TownConfig
from urbandrive.scenarios.town.draft import MapDraft
from urbandrive.scenarios.town.intersections import BuiltIntersection, build_intersection
from urbandrive.scenarios.town.lanes import ArmKey, ArmLanes, build_street_lanes
from urbandrive.scenarios.town.layout import plan_grid
from urbandrive.scenarios.town.records import (
    IntersectionControl,
    LaneRole,
    ParkingSpots,
    PhasePlan,
    Town,
)
from urbandrive.scenarios.town.signals import plan_phases
from urbandrive.scenarios.town.surfaces import drivable_areas, road_surface, sidewalks


def generate_town(config: TownConfig, seed: int) -> Town:
    """A seeded grid town: road map, phase plans, bus stops, parking spots and sidewalks.

    Each stage draws from its own child generator of `numpy.random.default_rng(seed)`, so the
    same seed gives the same town bit for bit.
    """
    grid_rng, lane_rng, signal_rng = np.random.default_rng(seed).spawn(3)
    # 1. Street grid: spacing, classes, cross-sections.
    layout = plan_grid(config, grid_rng)
    # 2. Lanes along every street, registered at the intersection arms they meet.
    draft = MapDraft()
    arms: dict[ArmKey, ArmLanes] = {}
    for street in layout.streets:
        build_street_lanes(draft, config, layout, street, arms, lane_rng)
    # 3. Intersections: connectors, stop lines, crosswalks, signal heads.
    built: list[BuiltIntersection] = [
        build_intersection(draft, config, layout, i, j, arms)
        for j in range(layout.num_y)
        for i in range(layout.num_x)
    ]
    # 4. Phase plans of the signalised intersections.
    phase_plans: dict[int, PhasePlan] = {
        b.intersection.id: plan_phases(config.signal_timing, b, signal_rng)
        for b in built
        if b.intersection.control == IntersectionControl.TRAFFIC_SIGNAL
    }
    # 5. Road surface, drivable-area pieces and sidewalks; freeze the map.
    intersections = tuple(b.intersection for b in built)
    surface = road_surface(config, layout.streets)
    areas = drivable_areas(config, surface, intersections, {s.id: s for s in layout.streets})
    road_map = _road_map(
        draft, areas, f"town(seed={seed}, {config.num_blocks_x}x{config.num_blocks_y})"
    )
    return Town(
        config=config,
        seed=seed,
        road_map=road_map,
        streets=layout.streets,
        intersections=intersections,
        lane_table=draft.lane_table(),
        crosswalk_table=draft.crosswalk_table(),
        phase_plans=phase_plans,
        bus_stops=tuple(draft.bus_stops),
        parking_spots=_parking_spots(config, road_map, draft),
        sidewalks=sidewalks(config, surface),
    )


def _road_map(draft: MapDraft, drivable: tuple[NDArrayF64, ...], source: str) -> RoadMap:
    """Freeze the draft into a validated `RoadMap`."""
    road_map = RoadMap(
        lanes={lane_id: lane.freeze() for lane_id, lane in draft.lanes.items()},
        crosswalks={c.crosswalk.id: c.crosswalk for c in draft.crosswalks},
        stop_lines=dict(draft.stop_lines),
        signals=dict(draft.signals),
        drivable_areas=drivable,
        source=source,
    )
    road_map.validate()
    return road_map


def _parking_spots(config: TownConfig, road_map: RoadMap, draft: MapDraft) -> ParkingSpots:
    """Spots of `parking_spot_length_m` along every parking lane, centred on its centre line."""
    xy, heading, lane_ids = [], [], []
    for lane_id, lane_draft in draft.lanes.items():
        if lane_draft.role != LaneRole.PARKING:
            continue
        lane = road_map.lanes[lane_id]
        count = int(lane.length_m // config.parking_spot_length_m)
        start, end = lane.centerline[0], lane.centerline[-1]
        ratios = (np.arange(count) + 0.5) * config.parking_spot_length_m / lane.length_m
        xy.append(start + np.multiply.outer(ratios, end - start))
        heading.append(np.full(count, np.arctan2(*(end - start)[::-1])))
        lane_ids.append(np.full(count, lane_id, dtype=np.int64))
    if not xy:
        return ParkingSpots(np.zeros((0, 2)), np.zeros(0), np.zeros(0, dtype=np.int64))
    return ParkingSpots(np.concatenate(xy), np.concatenate(heading), np.concatenate(lane_ids))
