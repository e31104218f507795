"""Spawn town traffic: cars, buses, cyclists, pedestrians, dogs, parked and double-parked
cars, each with a path, its events and a sampled driver, as one `TrafficWorld`.

Every draw comes from child generators of `default_rng(seed)`, one per kind, so the same
town, config and seed give the same population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from urbandrive.agents.traffic import (
    PATH_SPACING_M,
    AgentKind,
    DriverSampling,
    EventKind,
    PathRow,
    TrafficMap,
    TrafficWorld,
    initial_world,
    lane_route_path,
    pack_events,
    route_events,
    sample_drivers,
    stack_paths,
)
from urbandrive.agents.traffic.paths import resample_path, static_path
from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64
from urbandrive.geometry.polyline import interpolate_along
from urbandrive.maps.road_map import RoadMap
from urbandrive.maps.routing import NoRouteError
from urbandrive.scenarios.town.config import StreetClass
from urbandrive.scenarios.town.conflicts import conflicting_connector_pairs
from urbandrive.scenarios.town.records import Arm, LaneRole, Movement, Town
from urbandrive.scenarios.town.signals import light_states


def _check_range(name: str, bounds: tuple[float, float]) -> None:
    if not 0.0 < bounds[0] <= bounds[1]:
        raise ValueError(f"PopulationConfig.{name} must satisfy 0 < low <= high, got {bounds}")


@dataclass(frozen=True, slots=True)
class PopulationConfig:
    """How many agents of each kind to spawn, and their speed / dwell ranges."""

    num_vehicles: int = 40
    num_buses: int = 2
    num_cyclists: int = 6
    num_pedestrians: int = 20
    jaywalker_fraction: float = 0.15
    num_dogs: int = 3
    num_parked: int = 30
    num_double_parked: int = 2
    drivers: DriverSampling = field(default_factory=DriverSampling)
    bus_dwell_s: tuple[float, float] = (10.0, 20.0)
    cyclist_speed_mps: tuple[float, float] = (3.5, 6.0)
    pedestrian_speed_mps: tuple[float, float] = (1.1, 1.6)
    dog_speed_mps: tuple[float, float] = (0.8, 1.4)
    min_spawn_gap_m: float = 10.0

    def __post_init__(self) -> None:
        for name in (
            "num_vehicles",
            "num_buses",
            "num_cyclists",
            "num_pedestrians",
            "num_dogs",
            "num_parked",
            "num_double_parked",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"PopulationConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.jaywalker_fraction <= 1.0:
            raise ValueError(f"jaywalker_fraction must be in [0, 1], got {self.jaywalker_fraction}")
        for name in ("bus_dwell_s", "cyclist_speed_mps", "pedestrian_speed_mps", "dog_speed_mps"):
            _check_range(name, getattr(self, name))
        if self.min_spawn_gap_m <= 0:
            raise ValueError(f"min_spawn_gap_m must be > 0, got {self.min_spawn_gap_m}")


@dataclass(frozen=True, slots=True)
class Population:
    """The spawned world plus what the scenario needs: names (str[A]), routes (lane ids per
    agent, empty for agents not on lanes) and per-agent attributes (name -> array[A])."""

    world: TrafficWorld
    names: tuple[str, ...]
    routes: tuple[tuple[int, ...], ...]
    attributes: dict[str, np.ndarray]


@dataclass(slots=True)
class _Spawn:
    """Agents collected so far, in row order."""

    kinds: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    sizes: list[tuple[float, float]] = field(default_factory=list)
    paths: list[PathRow] = field(default_factory=list)
    events: list[list] = field(default_factory=list)
    start_s: list[float] = field(default_factory=list)
    routes: list[tuple[int, ...]] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)
    flags: dict[str, list[bool]] = field(
        default_factory=lambda: {"is_parked": [], "is_double_parked": [], "is_jaywalker": []}
    )
    road_side: list[float] = field(default_factory=list)
    placed_xy: list[NDArrayF64] = field(default_factory=list)

    def add(
        self,
        kind: AgentKind,
        name: str,
        size: tuple[float, float],
        path: PathRow,
        events: list,
        start_s: float,
        route: tuple[int, ...] = (),
        speed: float = 1.0,
        road_side: float = 1.0,
        **flags: bool,
    ) -> None:
        self.kinds.append(int(kind))
        self.names.append(name)
        self.sizes.append(size)
        self.paths.append(path)
        self.events.append(events)
        self.start_s.append(start_s)
        self.routes.append(route)
        self.speeds.append(speed)
        self.road_side.append(road_side)
        for key, values in self.flags.items():
            values.append(flags.get(key, False))

    def is_free(self, xy: NDArrayF64, gap_m: float) -> bool:
        """Whether no lane-bound agent placed so far is within `gap_m` of `xy`."""
        return all(np.linalg.norm(xy - other) >= gap_m for other in self.placed_xy)


def traffic_map(town: Town) -> TrafficMap:
    """The generic traffic view of a town: signal and crosswalk order, connector
    intersections, the connectors unprotected lefts yield to, bus stops."""
    table = town.lane_table
    connectors = table.roles == LaneRole.CONNECTOR
    lane_intersection = {
        int(lane): int(i)
        for lane, i in zip(
            table.lane_ids[connectors], table.intersection_ids[connectors], strict=True
        )
    }
    return TrafficMap(
        road_map=town.road_map,
        signal_ids=light_states(town, np.zeros(1)).signal_ids,
        crosswalk_ids=town.crosswalk_table.crosswalk_ids,
        lane_intersection=lane_intersection,
        num_intersections=len(town.intersections),
        yield_pairs=_left_yield_pairs(town),
        conflict_pairs=np.concatenate(
            [conflicting_connector_pairs(town, i.id) for i in town.intersections]
        ).reshape(-1, 2),
        bus_stop_xy=np.array([stop.xy for stop in town.bus_stops]).reshape(-1, 2),
        bus_stop_lane_ids=np.array([stop.lane_id for stop in town.bus_stops], dtype=np.int64),
    )


def _left_yield_pairs(town: Town) -> np.ndarray:
    """int64[K, 2]: (left connector, oncoming straight / right connector) at every intersection."""
    table, lanes = town.lane_table, town.road_map.lanes
    movement = dict(zip(table.lane_ids.tolist(), table.movements.tolist(), strict=True))
    pairs = []
    for intersection in town.intersections:
        arm_of = {lane: arm for arm in Arm for lane in intersection.approach_lane_ids[arm]}
        arms = {c: arm_of.get(lanes[c].predecessors[0], -1) for c in intersection.connector_ids}
        for left, left_arm in arms.items():
            if movement[left] != Movement.LEFT:
                continue
            pairs += [
                (left, other)
                for other, arm in arms.items()
                if arm == (left_arm + 2) % 4
                and movement[other] in (Movement.STRAIGHT, Movement.RIGHT)
            ]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def populate(town: Town, config: PopulationConfig, seed: int, route_length_m: float) -> Population:
    """Spawn every agent; paths hold `route_length_m` of travel (pad of the path table)."""
    num_points = int(np.ceil(route_length_m / PATH_SPACING_M)) + 1
    rngs = np.random.default_rng(seed).spawn(8)
    tmap = traffic_map(town)
    spawn = _Spawn()
    _spawn_parked(town, config, spawn, num_points, rngs[0])
    _spawn_double_parked(town, config, spawn, num_points, rngs[1])
    _spawn_lane_agents(town, tmap, config, spawn, num_points, rngs[3], AgentKind.BUS)
    _spawn_lane_agents(town, tmap, config, spawn, num_points, rngs[2], AgentKind.CAR)
    _spawn_lane_agents(town, tmap, config, spawn, num_points, rngs[4], AgentKind.CYCLIST)
    _spawn_walkers(town, config, spawn, num_points, rngs[5])
    return _finish(town, tmap, config, spawn, seed, rngs[6])


def _finish(
    town: Town,
    tmap: TrafficMap,
    config: PopulationConfig,
    spawn: _Spawn,
    seed: int,
    rng: np.random.Generator,
) -> Population:
    kinds = np.array(spawn.kinds, dtype=np.int8)
    drivers = sample_drivers(len(kinds), config.drivers, rng)
    own_speed = np.isin(kinds, [AgentKind.CYCLIST, AgentKind.PEDESTRIAN, AgentKind.DOG])
    speed_factor = np.where(own_speed, np.array(spawn.speeds), drivers.speed_factor)
    drivers = type(drivers)(
        **{**{n: getattr(drivers, n) for n in drivers.__slots__}, "speed_factor": speed_factor}
    )
    goal = np.array([route[-1] if route else -1 for route in spawn.routes], dtype=np.int64)
    attributes = {name: np.array(values, dtype=bool) for name, values in spawn.flags.items()}
    attributes["hazard_lights"] = attributes["is_double_parked"].copy()
    attributes["agent_kind"] = kinds.copy()
    world = initial_world(
        kinds,
        np.array(spawn.sizes),
        drivers,
        stack_paths(spawn.paths),
        pack_events(spawn.events),
        np.array(spawn.start_s),
        tmap,
        seed,
        goal_lane=goal,
        is_jaywalker=attributes["is_jaywalker"],
        road_side=np.array(spawn.road_side),
    )
    return Population(world, tuple(spawn.names), tuple(spawn.routes), attributes)


def _spawn_parked(
    town: Town, config: PopulationConfig, spawn: _Spawn, num_points: int, rng: np.random.Generator
) -> None:
    spots = town.parking_spots
    count = min(config.num_parked, spots.xy.shape[0])
    for index, spot in enumerate(np.sort(rng.choice(spots.xy.shape[0], size=count, replace=False))):
        size = DEFAULT_SIZE_M[AgentType.VEHICLE]
        path = static_path(spots.xy[spot], float(spots.heading_rad[spot]), num_points)
        spawn.add(AgentKind.PARKED, f"parked_{index}", size, path, [], 0.0, is_parked=True)


def _spawn_double_parked(
    town: Town, config: PopulationConfig, spawn: _Spawn, num_points: int, rng: np.random.Generator
) -> None:
    """Stopped with hazards in the outer lane of multi-lane streets, away from the ends."""
    table, lanes = town.lane_table, town.road_map.lanes
    outer = [
        int(i)
        for i in table.select(LaneRole.THROUGH)
        if lanes[int(i)].right_neighbor is None
        and lanes[int(i)].left_neighbor is not None
        and not table.is_boundary[table.lane_ids == i][0]
        and lanes[int(i)].length_m > 60.0
    ]
    for index in range(config.num_double_parked):
        if not outer:
            return
        lane = lanes[outer.pop(int(rng.integers(len(outer))))]
        s_m = float(rng.uniform(20.0, lane.length_m - 35.0))
        start = lane.centerline[0]
        direction = (lane.centerline[-1] - start) / lane.length_m
        xy = start + s_m * direction
        heading = float(np.arctan2(direction[1], direction[0]))
        spawn.add(
            AgentKind.PARKED,
            f"double_parked_{index}",
            DEFAULT_SIZE_M[AgentType.VEHICLE],
            static_path(xy, heading, num_points),
            [],
            0.0,
            is_double_parked=True,
        )
        spawn.placed_xy.append(xy)


def _spawn_lane_agents(
    town: Town,
    tmap: TrafficMap,
    config: PopulationConfig,
    spawn: _Spawn,
    num_points: int,
    rng: np.random.Generator,
    kind: AgentKind,
) -> None:
    """Cars, buses or cyclists on routes from free spots of their start lanes."""
    count = {
        AgentKind.CAR: config.num_vehicles,
        AgentKind.BUS: config.num_buses,
        AgentKind.CYCLIST: config.num_cyclists,
    }[kind]
    size = DEFAULT_SIZE_M[
        {
            AgentKind.CAR: AgentType.VEHICLE,
            AgentKind.BUS: AgentType.LARGE_VEHICLE,
            AgentKind.CYCLIST: AgentType.CYCLIST,
        }[kind]
    ]
    starts, goals = _route_lanes(town, kind)
    placed = 0
    for _ in range(count * 30):
        if placed == count or not starts:
            return
        route = _random_route(town, starts, goals, kind, (num_points - 1) * PATH_SPACING_M, rng)
        if route is None:
            continue
        first = town.road_map.lanes[route[0]]
        s_m = float(rng.uniform(0.5 * size[0], max(0.5 * size[0], 0.7 * first.length_m)))
        xy = interpolate_along(first.centerline, np.array([s_m]))[0][0]
        if not spawn.is_free(xy, config.min_spawn_gap_m + 0.5 * size[0]):
            continue
        try:
            path = lane_route_path(tmap, list(route), num_points)
        except DataError:
            continue
        dwell = (
            rng.uniform(*config.bus_dwell_s, size=len(town.bus_stops))
            if kind == AgentKind.BUS
            else None
        )
        speed = float(rng.uniform(*config.cyclist_speed_mps)) / max(first.speed_limit_mps, 0.1)
        spawn.add(
            kind,
            f"{kind.name.lower()}_{placed}",
            size,
            path,
            route_events(tmap, path, dwell),
            s_m,
            route,
            speed,
        )
        spawn.placed_xy.append(xy)
        placed += 1


def _route_lanes(town: Town, kind: AgentKind) -> tuple[list[int], list[int]]:
    """Start and goal lanes: inner lanes for cars, arterial lanes (bus stop lanes first) for
    buses, bike lanes for cyclists; never on the stubs at the map's edge."""
    table = town.lane_table
    inner = ~table.is_boundary
    if kind == AgentKind.CYCLIST:
        bikes = table.lane_ids[inner & (table.roles == LaneRole.BIKE)].tolist()
        return bikes, bikes
    through = inner & (table.roles == LaneRole.THROUGH)
    if kind == AgentKind.CAR:
        lanes = table.lane_ids[through].tolist()
        return lanes, lanes
    arterial = {s.id for s in town.streets if s.street_class == StreetClass.ARTERIAL}
    lanes = table.lane_ids[through & np.isin(table.street_ids, list(arterial))].tolist()
    road_lanes = town.road_map.lanes
    upstream = [
        before
        for stop in town.bus_stops
        for connector in road_lanes[stop.lane_id].predecessors
        for before in road_lanes[connector].predecessors
        if before in lanes
    ]
    return (upstream or lanes), lanes


def _random_route(
    town: Town,
    starts: list[int],
    goals: list[int],
    kind: AgentKind,
    length_m: float,
    rng: np.random.Generator,
) -> tuple[int, ...] | None:
    """Lanes from a random start through random goals until `length_m` is covered."""
    road_map = town.road_map
    if kind == AgentKind.CYCLIST:
        return _bike_route(town, int(starts[rng.integers(len(starts))]), length_m, rng)
    route = [int(starts[rng.integers(len(starts))])]
    total = 0.0
    if kind == AgentKind.BUS:
        stop_lanes = [s.lane_id for s in town.bus_stops]
        served = [lane for lane in stop_lanes if _two_hops(road_map, route[0], lane)]
        if served:
            leg = road_map.route_lanes(route[0], served[0])
            total, route = sum(road_map.lanes[lane].length_m for lane in leg[1:]), leg
    for _ in range(40):
        if total >= length_m:
            break
        try:
            leg = road_map.route_lanes(route[-1], int(goals[rng.integers(len(goals))]))
        except NoRouteError:
            continue
        total += sum(road_map.lanes[lane].length_m for lane in leg[1:])
        route += leg[1:]
    return tuple(route) if total >= min(length_m, 200.0) else None


def _two_hops(road_map: RoadMap, start: int, lane: int) -> bool:
    """Whether `lane` follows `start` through one connector."""
    return any(lane in road_map.lanes[c].successors for c in road_map.lanes[start].successors)


def _bike_route(
    town: Town, start: int, length_m: float, rng: np.random.Generator
) -> tuple[int, ...]:
    """Bike lanes straight on through intersections until the map's edge or `length_m`."""
    lanes, route, total = town.road_map.lanes, [start], 0.0
    while total < length_m and lanes[route[-1]].successors:
        options = [s for s in lanes[route[-1]].successors if s in lanes]
        if not options:
            break
        route.append(int(options[rng.integers(len(options))]))
        total += lanes[route[-1]].length_m
    return tuple(route)


def _spawn_walkers(
    town: Town, config: PopulationConfig, spawn: _Spawn, num_points: int, rng: np.random.Generator
) -> None:
    """Pedestrians (some of them jaywalkers) and dogs on the sidewalk network."""
    graph = WalkwayGraph.from_town(town)
    length_m = (num_points - 1) * PATH_SPACING_M
    num_jaywalkers = round(config.jaywalker_fraction * config.num_pedestrians)
    crosswalk_row = {int(c): row for row, c in enumerate(town.crosswalk_table.crosswalk_ids)}
    for index in range(config.num_pedestrians):
        jaywalker = index < num_jaywalkers
        xy, events = walking_path(graph, rng, length_m, jaywalker, crosswalk_row)
        path = _walk_row(xy, num_points)
        speed = float(rng.uniform(*config.pedestrian_speed_mps))
        start = float(rng.uniform(0.0, 0.5 * min(e[1] for e in events))) if events else 0.0
        spawn.add(
            AgentKind.PEDESTRIAN,
            f"pedestrian_{index}",
            DEFAULT_SIZE_M[AgentType.PEDESTRIAN],
            path,
            events,
            start,
            speed=speed,
            is_jaywalker=jaywalker,
        )
    for index in range(config.num_dogs):
        xy, road_side = dog_path(graph, rng)
        speed = float(rng.uniform(*config.dog_speed_mps))
        spawn.add(
            AgentKind.DOG,
            f"dog_{index}",
            DEFAULT_SIZE_M[AgentType.ANIMAL],
            _walk_row(xy, num_points),
            [],
            0.0,
            speed=speed,
            road_side=road_side,
        )


def _walk_row(xy: NDArrayF64, num_points: int) -> PathRow:
    steps = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    keep = np.r_[True, steps > 1e-6]
    xy = xy[keep]
    s_m = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))]
    if s_m[-1] <= 0:
        raise DataError("town traffic: a walking path has no length")
    return resample_path(
        xy, s_m, np.full(len(xy), -1), np.full(len(xy), 2.0), num_points, smooth=False
    )


# -- the walkway network: corners of every intersection joined by crossings and sidewalks ----

#: Sidewalk paths run this far outside the curb, metres.
SIDEWALK_OFFSET_M = 1.5
#: A node is (intersection id, east side +1 / west side -1, north side +1 / south -1).
Node = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class WalkEdge:
    """From one corner to another: points float64[Q, 2]; crossing: the crosswalk crossed
    (-1: a sidewalk), with the road's span along the edge (metres from its first point)."""

    target: Node
    points: NDArrayF64
    crosswalk_id: int
    road_span_m: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class WalkwayGraph:
    """Corners of the town's intersections and the edges between them."""

    edges: dict[Node, list[WalkEdge]]

    @staticmethod
    def from_town(town: Town) -> WalkwayGraph:
        edges: dict[Node, list[WalkEdge]] = {}
        for intersection in town.intersections:
            for sx in (1, -1):
                for sy in (1, -1):
                    node = (intersection.id, sx, sy)
                    edges[node] = _corner_edges(town, node)
        return WalkwayGraph(edges)


def _port(town: Town, node: Node, along_east_west: bool) -> NDArrayF64:
    """float64[2]: where a node's crossing of the east-west (or north-south) street starts."""
    intersection = town.intersections_by_id[node[0]]
    streets = {s.id: s for s in town.streets}
    half_ew = streets[intersection.east_west_street_id].half_width_m
    half_ns = streets[intersection.north_south_street_id].half_width_m
    config = town.config
    crosswalk_centre = config.crosswalk_gap_m + 0.5 * config.crosswalk_width_m
    cx, cy = intersection.center_xy
    sx, sy = node[1], node[2]
    if along_east_west:
        return np.array(
            [cx + sx * (half_ns + crosswalk_centre), cy + sy * (half_ew + SIDEWALK_OFFSET_M)]
        )
    return np.array(
        [cx + sx * (half_ns + SIDEWALK_OFFSET_M), cy + sy * (half_ew + crosswalk_centre)]
    )


def _corner_edges(town: Town, node: Node) -> list[WalkEdge]:
    """Crossings of both streets at the node's intersection and sidewalks to the neighbours."""
    intersection = town.intersections_by_id[node[0]]
    num_x = town.config.num_blocks_x + 1
    num_y = town.config.num_blocks_y + 1
    i, j = node[0] % num_x, node[0] // num_x
    _, sx, sy = node
    edges = []
    for along_ew, target, arm in (
        (True, (node[0], sx, -sy), Arm.EAST if sx > 0 else Arm.WEST),
        (False, (node[0], -sx, sy), Arm.NORTH if sy > 0 else Arm.SOUTH),
    ):
        start, end = _port(town, node, along_ew), _port(town, target, along_ew)
        length = float(np.linalg.norm(end - start))
        span = (SIDEWALK_OFFSET_M, length - SIDEWALK_OFFSET_M)
        edges.append(
            WalkEdge(target, np.stack([start, end]), intersection.crosswalk_ids[arm], span)
        )
    for along_ew, (ni, nj), target_signs in (
        (True, (i + sx, j), (-sx, sy)),
        (False, (i, j + sy), (sx, -sy)),
    ):
        if 0 <= ni < num_x and 0 <= nj < num_y:
            target = (nj * num_x + ni, *target_signs)
            points = np.stack([_port(town, node, along_ew), _port(town, target, along_ew)])
            edges.append(WalkEdge(target, points, -1, None))
    return edges


def walking_path(
    graph: WalkwayGraph,
    rng: np.random.Generator,
    length_m: float,
    jaywalker: bool,
    crosswalk_row: dict[int, int],
) -> tuple[NDArrayF64, list]:
    """A random walk over the graph (first edge a sidewalk, no U-turns) of at least
    `length_m`: points float64[Q, 2] and its crossing events. Jaywalkers cross half of
    their sidewalk blocks mid-block, straight over the street."""
    nodes = sorted(graph.edges)
    node = nodes[int(rng.integers(len(nodes)))]
    points, events, total, previous = [], [], 0.0, None
    while total < length_m:
        options = [e for e in graph.edges[node] if e.target != previous]
        if not points:
            options = [e for e in options if e.crosswalk_id < 0] or options
        edge = options[int(rng.integers(len(options)))]
        piece, piece_events = _edge_piece(
            graph, edge, node, jaywalker and rng.random() < 0.5, crosswalk_row
        )
        if points and np.linalg.norm(points[-1][-1] - piece[0]) > 1e-6:
            total += float(np.linalg.norm(points[-1][-1] - piece[0]))
        events += [(k, total + a, total + b, ref, -1, -1, 0.0) for k, a, b, ref in piece_events]
        points.append(piece)
        total += float(np.sum(np.linalg.norm(np.diff(piece, axis=0), axis=1)))
        previous, node = node, edge.target
    return np.concatenate(points), events


def _edge_piece(
    graph: WalkwayGraph, edge: WalkEdge, node: Node, jaywalk: bool, crosswalk_row: dict[int, int]
) -> tuple[NDArrayF64, list]:
    """Points of one edge and its events (kind, start, end, ref) relative to its start."""
    if edge.crosswalk_id >= 0:
        assert edge.road_span_m is not None
        return edge.points, [
            (EventKind.CROSSWALK, *edge.road_span_m, crosswalk_row[edge.crosswalk_id])
        ]
    if not jaywalk:
        return edge.points, []
    start, end = edge.points
    middle = 0.5 * (start + end)
    direction = (end - start) / np.linalg.norm(end - start)
    node_xy = _axis_point(graph, node, direction)
    lateral = np.array([-direction[1], direction[0]])
    to_street = float((node_xy - start) @ lateral)
    across = 2.0 * to_street * lateral  # to the same offset on the other side
    width = float(np.linalg.norm(across))
    points = np.stack([start, middle, middle + across, end + across])
    first = float(np.linalg.norm(middle - start))
    span = (first + SIDEWALK_OFFSET_M, first + width - SIDEWALK_OFFSET_M)
    return points, [(EventKind.JAYWALK, *span, -1)]


def _axis_point(graph: WalkwayGraph, node: Node, direction: NDArrayF64) -> NDArrayF64:
    """float64[2]: a point on the axis of the street a sidewalk from `node` along
    `direction` runs beside (the middle of the node's crossing perpendicular to it)."""
    crossings = [e for e in graph.edges[node] if e.crosswalk_id >= 0]
    alignment = [abs(float((e.points[1] - e.points[0]) @ direction)) for e in crossings]
    crossing = crossings[int(np.argmin(alignment))]
    return 0.5 * (crossing.points[0] + crossing.points[1])


def dog_path(graph: WalkwayGraph, rng: np.random.Generator) -> tuple[NDArrayF64, float]:
    """One sidewalk block (points float64[2, 2]) and the side the road is on (+1 left)."""
    nodes = sorted(graph.edges)
    while True:
        node = nodes[int(rng.integers(len(nodes)))]
        runs = [e for e in graph.edges[node] if e.crosswalk_id < 0]
        if runs:
            break
    edge = runs[int(rng.integers(len(runs)))]
    start, end = edge.points
    direction = end - start
    lateral = np.array([-direction[1], direction[0]])
    axis = _axis_point(graph, node, direction / np.linalg.norm(direction))
    road_side = 1.0 if float((axis - start) @ lateral) > 0 else -1.0
    return edge.points, road_side
