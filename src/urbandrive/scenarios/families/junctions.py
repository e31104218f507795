"""Families at intersections: a red light to stop at and go on green, an unprotected left
across oncoming traffic, a right turn through crossing pedestrians, a crowd on a crosswalk.
Families that need a light phase let the background run until the phase is near."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from urbandrive.agents.traffic import DT_S
from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.core.traffic_light import TrafficLightState as Light
from urbandrive.scenarios.families import criteria
from urbandrive.scenarios.families.background import MAX_DELAY_S
from urbandrive.scenarios.families.build import Context, FamilyBuilder
from urbandrive.scenarios.families.plan import (
    Driver,
    Plan,
    puppet_from_track,
)
from urbandrive.scenarios.families.sites import (
    ROUTE_LENGTH_M,
    SiteUnavailableError,
    first_s_on_lane,
    path_point,
    route_path,
    straight_on,
)
from urbandrive.scenarios.families.spec import FamilySpec, register_family
from urbandrive.scenarios.families.vehicles import NOW_S, _corridor, _ego
from urbandrive.scenarios.town import Arm, IntersectionControl, Movement, light_states

JUNCTION_DURATION_S = 15.0


def _approaches(
    context: Context, control: IntersectionControl, movement: Movement, min_length_m: float
) -> list[tuple[int, int, int]]:
    """(intersection id, arm, connector) of every `movement` connector at intersections of
    `control` whose approach lanes give at least `min_length_m` before the line."""
    town, lanes = context.town, context.town.road_map.lanes
    table = town.lane_table
    moves = dict(zip(table.lane_ids.tolist(), table.movements.tolist(), strict=True))
    boundary = dict(zip(table.lane_ids.tolist(), table.is_boundary.tolist(), strict=True))
    found = []
    for intersection in town.intersections:
        if intersection.control != control:
            continue
        for arm in Arm:
            for lane in intersection.approach_lane_ids[arm]:
                if boundary[lane]:
                    continue
                for connector in lanes[lane].successors:
                    if (
                        moves.get(connector) == movement
                        and _back_length(context, lane) >= min_length_m
                    ):
                        found.append((intersection.id, int(arm), int(connector)))
    return found


def _back_route(context: Context, lane: int) -> list[int]:
    """`lane` and, when short, the non-connector lane before it."""
    lanes = context.town.road_map.lanes
    before = [p for p in lanes[lane].predecessors if p in lanes and not lanes[p].is_intersection]
    return [before[0], lane] if before and lanes[lane].length_m < 60.0 else [lane]


def _back_length(context: Context, lane: int) -> float:
    lanes = context.town.road_map.lanes
    return float(sum(lanes[i].length_m for i in _back_route(context, lane)))


def _approach_route(context: Context, connector: int) -> tuple[int, ...]:
    lanes = context.town.road_map.lanes
    approach = lanes[connector].predecessors[0]
    exit_lanes = straight_on(context.town, [lanes[connector].successors[0]], ROUTE_LENGTH_M)
    return (*_back_route(context, approach), connector, *exit_lanes)


def _signal_row(context: Context, connector: int) -> int:
    for signal in context.town.road_map.signals.values():
        if connector in signal.lane_ids:
            rows = np.flatnonzero(context.traffic_map.signal_ids == signal.id)
            if rows.size:
                return int(rows[0])
    raise SiteUnavailableError(f"connector {connector} has no signal head")


def _onsets(context: Context, connector: int, state: Light) -> np.ndarray:
    """float64[N]: delays (s after the background's clock, within `MAX_DELAY_S` + 15 s) at
    which the connector's head turns `state`."""
    times = context.clock_s + np.arange(0.0, MAX_DELAY_S + 15.0, DT_S)
    states = light_states(context.town, times).states[_signal_row(context, connector)]
    onset = np.flatnonzero((states[1:] == state) & (states[:-1] != state)) + 1
    return onset * DT_S


def _choose(options: list, rng: np.random.Generator, what: str):
    if not options:
        raise SiteUnavailableError(f"no {what} in this town")
    return options[int(rng.integers(len(options)))]


def _line_checks(ego: Driver, connector: int) -> dict[str, Any]:
    line_m = first_s_on_lane(ego.path, connector)
    xy, heading = path_point(ego.path, line_m)
    return {"line_xy": xy.tolist(), "line_heading_rad": float(heading), "line_m": line_m}


# -- red light: stop, then go on green ---------------------------------------------------------


def plan_red_light(context: Context, rng: np.random.Generator, params: dict[str, float]) -> Plan:
    """The ego approaches (at `speed_mps`, `distance_m` before the line) a red light that
    turns green `green_after_s` after now."""
    wanted = NOW_S + params["green_after_s"]
    options = []
    for _, _, connector in _approaches(
        context, IntersectionControl.TRAFFIC_SIGNAL, Movement.STRAIGHT, params["distance_m"] + 10.0
    ):
        delays = _onsets(context, connector, Light.GREEN) - wanted
        options += [(connector, round(float(d), 1)) for d in delays if 0.0 <= d <= MAX_DELAY_S]
    connector, delay = _choose(options, rng, "signalised approach")
    lanes = _approach_route(context, connector)
    path = route_path(context.town, context.traffic_map, lanes, context.num_points)
    start = first_s_on_lane(path, connector) - params["distance_m"] - 2.35
    ego = _ego(context, lanes, max(start, 2.0), params["speed_mps"])
    checks = {**_line_checks(ego, connector), "green_step": round(wanted / DT_S)}
    corridor = _corridor(ego.path, 0.0, checks["line_m"] + 45.0)
    return Plan(
        ego,
        JUNCTION_DURATION_S,
        np.array(checks["line_xy"]),
        params,
        delay_s=delay,
        corridors=(corridor,),
        checks=checks,
    )


def _red_light_problem(scenario: Scenario) -> str | None:
    checks = scenario.metadata["checks"]
    past = criteria.ego_front_past_m(scenario, checks["line_xy"], checks["line_heading_rad"])
    speed = criteria.ego_speed_mps(scenario)
    green = checks["green_step"]
    if np.any(past[:green] > 0.0):
        return "the ego crosses the line on red"
    if not np.any((speed[:green] < 0.5) & (past[:green] > -15.0)):
        return "the ego does not stop at the line"
    if not np.any(past[green : green + 60] > 0.0):
        return "the ego does not go within 6 s of green"
    return None


register_family(
    FamilySpec(
        name="red_light",
        description="the ego approaches a red light, stops at the line and goes when it turns green",
        pass_criterion_text="red-light compliance 1, no at-fault collision, the ego is stopped before the stop line while red and crosses it within 6 s of green",
        build=FamilyBuilder(
            "red_light",
            {"speed_mps": (8.0, 11.0), "distance_m": (30.0, 42.0), "green_after_s": (6.5, 8.5)},
            plan_red_light,
            _red_light_problem,
        ),
        passed=lambda result, scenario: (
            result["red_light_compliance"] >= 1.0
            and not result["at_fault_collision"]
            and _red_light_problem(scenario) is None
        ),
    )
)


# -- unprotected left across oncoming traffic --------------------------------------------------


def _oncoming(
    context: Context,
    intersection_id: int,
    arm: int,
    rng: np.random.Generator,
    params: dict[str, float],
) -> tuple[Driver, ...]:
    """Cars going straight from the opposite arm, reaching the box over the first seconds."""
    town, lanes = context.town, context.town.road_map.lanes
    moves = dict(
        zip(town.lane_table.lane_ids.tolist(), town.lane_table.movements.tolist(), strict=True)
    )
    intersection = town.intersections_by_id[intersection_id]
    straight = [
        c
        for lane in intersection.approach_lane_ids[(arm + 2) % 4]
        for c in lanes[lane].successors
        if moves.get(c) == Movement.STRAIGHT
    ]
    if not straight:
        raise SiteUnavailableError("no oncoming straight movement")
    connector = int(straight[int(rng.integers(len(straight)))])
    route = _approach_route(context, connector)
    path = route_path(town, context.traffic_map, route, context.num_points)
    line_m, speed = first_s_on_lane(path, connector), params["oncoming_mps"]
    arrivals = [
        params["first_arrival_s"] + k * params["oncoming_gap_s"]
        for k in range(int(params["num_oncoming"]))
    ]
    starts = [line_m - speed * t for t in arrivals]
    factor = speed / float(path.speed_limit_mps[0])
    return tuple(
        Driver(f"oncoming_{k}", route, path, s, speed, speed_factor=factor)
        for k, s in enumerate(starts)
        if s > 3.0
    )


def plan_unprotected_left(
    context: Context, rng: np.random.Generator, params: dict[str, float]
) -> Plan:
    """The ego turns left on a permissive (flashing yellow) light while cars come straight
    from the other side."""
    options = []
    for intersection, arm, connector in _approaches(
        context, IntersectionControl.TRAFFIC_SIGNAL, Movement.LEFT, 45.0
    ):
        try:
            delays = _onsets(context, connector, Light.FLASHING_YELLOW)
        except SiteUnavailableError:
            continue
        options += [
            (intersection, arm, connector, round(float(d), 1)) for d in delays if d <= MAX_DELAY_S
        ]
    intersection, arm, connector, delay = _choose(options, rng, "permissive left")
    lanes = _approach_route(context, connector)
    path = route_path(context.town, context.traffic_map, lanes, context.num_points)
    start = first_s_on_lane(path, connector) - params["distance_m"] - 2.35
    ego = replace(_ego(context, lanes, max(start, 2.0), params["speed_mps"]), critical_gap_s=3.0)
    drivers = _oncoming(context, intersection, arm, rng, params)
    exit_lane = lanes[lanes.index(connector) + 1]
    checks = {
        **_line_checks(ego, connector),
        "exit_xy": _exit_xy(ego, exit_lane),
    }
    corridors = [_corridor(ego.path, 0.0, checks["line_m"] + 40.0)]
    corridors += [_corridor(d.path, 0.0, d.s_m + 60.0, 0.0, 5.5) for d in drivers[:1]]
    return Plan(
        ego,
        JUNCTION_DURATION_S,
        np.array(checks["line_xy"]),
        params,
        delay_s=delay,
        drivers=drivers,
        corridors=tuple(corridors),
        key_actors=tuple(d.name for d in drivers),
        checks=checks,
    )


def _exit_xy(ego: Driver, exit_lane: int) -> list:
    """The ego's path from the start of `exit_lane` on, 150 m, every 2 m (JSON-ready)."""
    start = int(first_s_on_lane(ego.path, exit_lane))
    return ego.path.xy[start : start + 150 : 2].tolist()


def _enters_box_problem(scenario: Scenario) -> str | None:
    """The expert must at least start its turn (front 2 m past the line) before the end."""
    checks = scenario.metadata["checks"]
    past = criteria.ego_front_past_m(scenario, checks["line_xy"], checks["line_heading_rad"])
    return None if past[-1] > 2.0 else "the ego never starts the left turn"


def _left_turn_problem(scenario: Scenario) -> str | None:
    exit_xy = np.asarray(scenario.metadata["checks"]["exit_xy"])
    lateral = criteria.ego_lateral_m(scenario, exit_xy)
    from urbandrive.geometry.polyline import project_points

    assert scenario.ego_index is not None
    s, _, _ = project_points(exit_xy, scenario.tracks.xy[scenario.ego_index, -1:])
    if abs(lateral[-1]) > 1.5 or s[0] < 3.0:
        return "the ego does not complete the left turn"
    return None


register_family(
    FamilySpec(
        name="unprotected_left",
        description="the ego turns left on a permissive light across oncoming traffic",
        pass_criterion_text="completes the left turn (in the exit lane, within 1.5 m of its centre) within 12 s with no collision",
        build=FamilyBuilder(
            "unprotected_left",
            {
                "speed_mps": (6.0, 8.0),
                "distance_m": (12.0, 22.0),
                "oncoming_mps": (8.0, 11.0),
                "first_arrival_s": (0.5, 1.5),
                "oncoming_gap_s": (1.5, 2.5),
                "num_oncoming": (2.0, 3.49),
            },
            plan_unprotected_left,
            _enters_box_problem,
        ),
        passed=lambda result, scenario: (
            criteria.collision_free(result) and _left_turn_problem(scenario) is None
        ),
    )
)


# -- pedestrians on the crosswalk past the box -------------------------------------------------


def _exit_crosswalk(context: Context, ego: Driver, line_m: float) -> tuple[float, float]:
    """(middle s along the ego's path, half length m) of the first crosswalk past the line."""
    from urbandrive.agents.traffic.network import crosswalk_events

    events = crosswalk_events(context.traffic_map, ego.path.xy, ego.path.length_m, 1.0)
    after = sorted((e for e in events if e[1] > line_m), key=lambda e: e[1])
    if not after:
        raise SiteUnavailableError("no crosswalk past the box")
    _kind, start, end, row = after[0][:4]
    crosswalk = context.town.road_map.crosswalks[int(context.traffic_map.crosswalk_ids[row])]
    middle = 0.5 * (start + end)
    centre, heading = path_point(ego.path, middle)
    normal = np.array([-np.sin(heading), np.cos(heading)])
    extent = (crosswalk.polygon - centre) @ normal
    return middle, float(0.5 * (extent.max() - extent.min()))


def _crossers(
    ego: Driver,
    middle_m: float,
    half_m: float,
    rng: np.random.Generator,
    count: int,
    first_s: float,
    spread_s: float,
) -> tuple:
    """`count` pedestrians crossing the crosswalk at `middle_m` from either side, starting
    between `first_s` and `first_s + spread_s`, 1.1-1.6 m/s, waiting on the curb before."""
    times = np.arange(round(JUNCTION_DURATION_S / DT_S) + 1) * DT_S
    puppets = []
    for k in range(count):
        side = 1.0 if rng.random() < 0.5 else -1.0
        walk, start = rng.uniform(1.1, 1.6), first_s + rng.uniform(0.0, spread_s)
        lateral = side * (half_m - 0.5) - side * np.clip(
            (times - start) * walk, 0.0, 2 * half_m - 1.0
        )
        along = middle_m + rng.uniform(-0.9, 0.9)
        xy, heading = path_point(ego.path, np.full(times.shape, along), lateral)
        initial = float(heading[0]) - side * np.pi / 2
        puppets.append(
            puppet_from_track(
                f"pedestrian_{k}",
                AgentType.PEDESTRIAN,
                DEFAULT_SIZE_M[AgentType.PEDESTRIAN],
                xy,
                initial,
            )
        )
    return tuple(puppets)


def plan_right_turn(context: Context, rng: np.random.Generator, params: dict[str, float]) -> Plan:
    """The ego turns right on green while pedestrians cross the street it turns into on WALK."""
    options = []
    for _, _, connector in _approaches(
        context, IntersectionControl.TRAFFIC_SIGNAL, Movement.RIGHT, 35.0
    ):
        delays = _onsets(context, connector, Light.GREEN) - (NOW_S - 1.0)
        options += [(connector, round(float(d), 1)) for d in delays if 0.0 <= d <= MAX_DELAY_S]
    connector, delay = _choose(options, rng, "signalised right turn")
    lanes = _approach_route(context, connector)
    path = route_path(context.town, context.traffic_map, lanes, context.num_points)
    start = first_s_on_lane(path, connector) - params["distance_m"] - 2.35
    ego = _ego(context, lanes, max(start, 2.0), params["speed_mps"])
    checks = _line_checks(ego, connector)
    middle, half = _exit_crosswalk(context, ego, checks["line_m"])
    walkers = _crossers(ego, middle, half, rng, int(params["num_pedestrians"]), NOW_S - 0.5, 2.5)
    corridor = _corridor(ego.path, 0.0, middle + 25.0)
    return Plan(
        ego,
        JUNCTION_DURATION_S,
        np.array(checks["line_xy"]),
        params,
        delay_s=delay,
        puppets=walkers,
        corridors=(corridor,),
        key_actors=tuple(p.name for p in walkers),
        checks=checks,
    )


def _crowd_passed(result: Mapping[str, Any], scenario: Scenario) -> bool:
    names = scenario.metadata["key_actors"]
    return criteria.collision_free(result) and criteria.min_clearance_m(scenario, names) >= 1.0


register_family(
    FamilySpec(
        name="right_turn_pedestrians",
        description="the ego turns right on green while pedestrians cross the street it turns into",
        pass_criterion_text="no collision and min clearance to every crossing pedestrian >= 1.0 m",
        build=FamilyBuilder(
            "right_turn_pedestrians",
            {"speed_mps": (6.0, 8.0), "distance_m": (15.0, 28.0), "num_pedestrians": (2.0, 4.49)},
            plan_right_turn,
            lambda scenario: None,
        ),
        passed=_crowd_passed,
    )
)


def plan_crosswalk_crowd(
    context: Context, rng: np.random.Generator, params: dict[str, float]
) -> Plan:
    """The ego goes straight through an all-way stop while a crowd crosses the far crosswalk."""
    options = _approaches(context, IntersectionControl.ALL_WAY_STOP, Movement.STRAIGHT, 35.0)
    _, _, connector = _choose(options, rng, "all-way stop")
    lanes = _approach_route(context, connector)
    path = route_path(context.town, context.traffic_map, lanes, context.num_points)
    start = first_s_on_lane(path, connector) - params["distance_m"] - 2.35
    ego = _ego(context, lanes, max(start, 2.0), params["speed_mps"])
    checks = _line_checks(ego, connector)
    middle, half = _exit_crosswalk(context, ego, checks["line_m"])
    crowd = _crossers(ego, middle, half, rng, int(params["crowd_size"]), 0.0, params["spread_s"])
    corridor = _corridor(ego.path, 0.0, middle + 25.0)
    return Plan(
        ego,
        JUNCTION_DURATION_S,
        np.array(checks["line_xy"]),
        params,
        puppets=crowd,
        corridors=(corridor,),
        key_actors=tuple(p.name for p in crowd),
        checks=checks,
    )


register_family(
    FamilySpec(
        name="crosswalk_crowd",
        description="a crowd crosses the far crosswalk of an all-way stop the ego drives through",
        pass_criterion_text="no collision and min clearance to every pedestrian of the crowd >= 1.0 m",
        build=FamilyBuilder(
            "crosswalk_crowd",
            {
                "speed_mps": (6.0, 9.0),
                "distance_m": (20.0, 32.0),
                "crowd_size": (5.0, 9.49),
                "spread_s": (2.0, 6.0),
            },
            plan_crosswalk_crowd,
            lambda scenario: None,
        ),
        passed=_crowd_passed,
    )
)
