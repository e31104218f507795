"""Families about other vehicles in the ego's way: a lead braking hard, a cut-in, a
stop-and-go queue, a lane change into dense traffic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.scenarios.families import criteria
from urbandrive.scenarios.families.build import Context, FamilyBuilder, no_check
from urbandrive.scenarios.families.plan import (
    CAR_SIZE_M,
    CURRENT_INDEX,
    Corridor,
    Driver,
    Plan,
    Puppet,
    integrate_speed,
    puppet_from_track,
    smoothstep,
)
from urbandrive.scenarios.families.sites import (
    ROUTE_LENGTH_M,
    SiteUnavailableError,
    lane_offset_m,
    path_point,
    pick_stretch,
    route_path,
    straight_on,
)
from urbandrive.scenarios.families.spec import FamilySpec, register_family

DT_S = 0.1
NOW_S = CURRENT_INDEX * DT_S
EGO_START_M = 6.0


def _times(duration_s: float) -> np.ndarray:
    return np.arange(round(duration_s / DT_S) + 1) * DT_S


def _corridor(
    path, start_m: float, end_m: float, offset_m: float = 0.0, half_width_m: float = 2.0
) -> Corridor:
    s = np.arange(max(start_m, 0.0), max(end_m, start_m + 2.0), 1.0)
    xy, _ = path_point(path, s, offset_m)
    return Corridor(xy, half_width_m)


def _ego(context: Context, lanes: tuple[int, ...], s_m: float, speed_mps: float) -> Driver:
    path = route_path(context.town, context.traffic_map, lanes, context.num_points)
    limit = float(path.speed_limit_mps[int(s_m)])
    return Driver(
        "ego", lanes, path, s_m, speed_mps, speed_factor=min(1.05, max(speed_mps, 6.0) / limit)
    )


def _along(
    path, s_m: np.ndarray, offset_m: np.ndarray | float, name: str, **release: Any
) -> Puppet:
    xy, heading = path_point(path, s_m, offset_m)
    return puppet_from_track(name, AgentType.VEHICLE, CAR_SIZE_M, xy, float(heading[0]), **release)


# -- lead vehicle brakes hard ------------------------------------------------------------------

LEAD_DURATION_S = 10.0


def plan_lead_brakes(context: Context, rng: np.random.Generator, params: dict[str, float]) -> Plan:
    """The ego follows a lead at `speed_mps` with `headway_s`; `brake_after_s` after now the
    lead brakes at `decel_mps2` to a stop and stays."""
    speed, decel = params["speed_mps"], params["decel_mps2"]
    gap_m = 2.0 + speed * params["headway_s"]
    times = _times(LEAD_DURATION_S)
    accel = np.where(times >= NOW_S + params["brake_after_s"], -decel, 0.0)
    travel, _lead_speed = integrate_speed(speed, accel)
    lead_start = EGO_START_M + CAR_SIZE_M[0] + gap_m
    stretch = pick_stretch(context.town_seed, rng, lead_start + travel[-1] + 15.0)
    ego = _ego(context, stretch.lanes, EGO_START_M, speed)
    lead = _along(ego.path, lead_start + travel, 0.0, "lead")
    return Plan(
        ego=ego,
        duration_s=LEAD_DURATION_S,
        anchor_xy=lead.xy[0],
        params=params,
        puppets=(lead,),
        corridors=(_corridor(ego.path, 0.0, lead_start + travel[-1] + 30.0),),
        key_actors=("lead",),
    )


def passed_lead_brakes(result: Mapping[str, Any], scenario: Scenario) -> bool:
    return criteria.safe(result) and criteria.min_clearance_m(scenario, ["lead"]) > 0.0


register_family(
    FamilySpec(
        name="lead_brakes",
        description="the lead vehicle brakes hard (5.5-7.5 m/s^2) to a stop in front of the ego",
        pass_criterion_text="no at-fault collision, min TTC >= 0.95 s, and the ego never touches the lead",
        build=FamilyBuilder(
            "lead_brakes",
            {
                "speed_mps": (8.0, 12.0),
                "headway_s": (1.2, 2.0),
                "decel_mps2": (5.5, 7.5),
                "brake_after_s": (0.5, 2.0),
            },
            plan_lead_brakes,
            no_check,
        ),
        passed=passed_lead_brakes,
    )
)


# -- cut-in ------------------------------------------------------------------------------------

CUT_IN_DURATION_S = 10.0


def _neighbour_index(facts, rng: np.random.Generator) -> int:
    count = facts.street.num_lanes(facts.direction)
    options = [i for i in (facts.lane_index - 1, facts.lane_index + 1) if 0 <= i < count]
    return int(options[int(rng.integers(len(options)))])


def plan_cut_in(context: Context, rng: np.random.Generator, params: dict[str, float]) -> Plan:
    """A car in the next lane, `ahead_m` ahead of the ego's front, moves into the ego's lane
    over `lateral_time_s` starting `start_after_s` after now, at `speed_ratio` of the ego's
    speed; then it drives on as traffic."""
    speed, times = params["speed_mps"], _times(CUT_IN_DURATION_S)
    cut_speed = params["speed_ratio"] * speed
    start_s = NOW_S + params["start_after_s"]
    end_s = start_s + params["lateral_time_s"]
    cut_start = EGO_START_M + start_s * (speed - cut_speed) + CAR_SIZE_M[0] + params["ahead_m"]
    travel = cut_speed * times
    stretch = pick_stretch(
        context.town_seed, rng, cut_start + cut_speed * (end_s + 1.0) + 10.0, min_lanes=2
    )
    ego = _ego(context, stretch.lanes, EGO_START_M, speed)
    offset = lane_offset_m(stretch.facts, _neighbour_index(stretch.facts, rng))
    lateral = offset * (1.0 - smoothstep((times - start_s) / params["lateral_time_s"]))
    release = round((end_s + 1.0) / DT_S)
    cut_in = _along(
        ego.path, cut_start + travel, lateral, "cut_in", release_step=release, release_path=ego.path
    )
    corridors = (
        _corridor(ego.path, 0.0, cut_start + travel[-1] + 30.0),
        _corridor(ego.path, cut_start - 20.0, cut_start + travel[release] + 10.0, offset),
    )
    checks = {
        "lane_offset_m": offset,
        "start_step": round(start_s / DT_S),
        "end_step": round(end_s / DT_S),
    }
    return Plan(
        ego,
        CUT_IN_DURATION_S,
        cut_in.xy[0],
        params,
        puppets=(cut_in,),
        corridors=corridors,
        key_actors=("cut_in",),
        checks=checks,
    )


register_family(
    FamilySpec(
        name="cut_in",
        description="a car in the next lane cuts into the ego's lane just ahead, slower than the ego",
        pass_criterion_text="no at-fault collision and min TTC >= 0.95 s",
        build=FamilyBuilder(
            "cut_in",
            {
                "speed_mps": (9.0, 13.0),
                "speed_ratio": (0.75, 0.95),
                "ahead_m": (3.0, 8.0),
                "start_after_s": (0.3, 1.5),
                "lateral_time_s": (1.8, 3.0),
            },
            plan_cut_in,
            no_check,
        ),
        passed=lambda result, scenario: criteria.safe(result),
    )
)


# -- stop-and-go queue -------------------------------------------------------------------------

QUEUE_DURATION_S = 14.0


def stop_and_go_accel(times: np.ndarray, peak_mps: float, dwell_s: float) -> np.ndarray:
    """float64[T]: a queue head's cycle: stand `dwell_s`, speed up at 1.5 m/s² to `peak_mps`,
    hold 1 s, brake at 2.5 m/s² to a stop, repeat."""
    cycle = [(dwell_s, 0.0), (peak_mps / 1.5, 1.5), (1.0, 0.0), (peak_mps / 2.5, -2.5)]
    period = sum(length for length, _ in cycle)
    phase = np.mod(times, period)
    accel = np.zeros_like(times)
    start = 0.0
    for length, value in cycle:
        accel[(phase >= start) & (phase < start + length)] = value
        start += length
    return accel


def plan_stop_and_go(context: Context, rng: np.random.Generator, params: dict[str, float]) -> Plan:
    """The ego comes up (at `speed_mps`, `approach_m` behind) on a queue of `num_followers`
    cars behind a head that stops and goes (`peak_mps`, standing `dwell_s`)."""
    times = _times(QUEUE_DURATION_S)
    travel, _ = integrate_speed(
        0.0, stop_and_go_accel(times, params["peak_mps"], params["dwell_s"])
    )
    followers = round(params["num_followers"])
    spacing = CAR_SIZE_M[0] + 3.0
    head_start = EGO_START_M + CAR_SIZE_M[0] + params["approach_m"] + followers * spacing
    stretch = pick_stretch(context.town_seed, rng, head_start + travel[-1] + 12.0)
    ego = _ego(context, stretch.lanes, EGO_START_M, params["speed_mps"])
    head = _along(ego.path, head_start + travel, 0.0, "queue_head")
    drivers = tuple(
        Driver(
            f"queue_car_{k}",
            ego.lanes,
            ego.path,
            head_start - (k + 1) * spacing,
            0.0,
            speed_factor=0.8,
        )
        for k in range(followers)
    )
    corridor = _corridor(ego.path, 0.0, head_start + travel[-1] + 30.0)
    names = ("queue_head", *(d.name for d in drivers))
    return Plan(
        ego,
        QUEUE_DURATION_S,
        head.xy[0],
        params,
        drivers=drivers,
        puppets=(head,),
        corridors=(corridor,),
        key_actors=names,
    )


register_family(
    FamilySpec(
        name="stop_and_go",
        description="the ego joins a queue whose head stops and goes every few seconds",
        pass_criterion_text="no at-fault collision and min TTC >= 0.95 s",
        build=FamilyBuilder(
            "stop_and_go",
            {
                "speed_mps": (7.0, 10.0),
                "approach_m": (14.0, 26.0),
                "num_followers": (1.0, 2.49),
                "peak_mps": (4.0, 7.0),
                "dwell_s": (1.5, 3.0),
            },
            plan_stop_and_go,
            no_check,
        ),
        passed=lambda result, scenario: criteria.safe(result),
    )
)


# -- lane change in dense traffic --------------------------------------------------------------

DENSE_DURATION_S = 12.0


def plan_lane_change_dense(
    context: Context, rng: np.random.Generator, params: dict[str, float]
) -> Plan:
    """The ego's route moves to the next lane mid-block, where cars run `gap_m` apart at
    the ego's speed, with one opening of `opening_m` beside the ego."""
    stretch = pick_stretch(context.town_seed, rng, 80.0, min_lanes=2)
    target = _neighbour_index(stretch.facts, rng)
    neighbours = context.town.road_map.lanes[stretch.lanes[0]]
    target_lane = (
        neighbours.left_neighbor if target < stretch.facts.lane_index else neighbours.right_neighbor
    )
    if target_lane is None:
        raise SiteUnavailableError("no neighbour lane to change into")
    lanes = (stretch.lanes[0], *straight_on(context.town, [int(target_lane)], ROUTE_LENGTH_M))
    speed = params["speed_mps"]
    ego = _ego(context, lanes, EGO_START_M, speed)
    target_path = route_path(context.town, context.traffic_map, lanes[1:], context.num_points)
    changing = np.flatnonzero(ego.path.changing)
    if changing.size == 0:
        raise SiteUnavailableError("the route has no lane change")
    ego_start_on_target = float(EGO_START_M)
    centre = ego_start_on_target + params["opening_shift_m"]
    spacing = CAR_SIZE_M[0] + params["gap_m"]
    half_opening = 0.5 * (params["opening_m"] + CAR_SIZE_M[0])
    positions = [centre + half_opening + k * spacing for k in range(3)]
    positions += [centre - half_opening - k * spacing for k in range(3)]
    positions = [p for p in positions if p > 2.0]
    factor = ego.speed_factor
    drivers = tuple(
        Driver(f"dense_car_{k}", lanes[1:], target_path, p, speed, speed_factor=factor)
        for k, p in enumerate(positions)
    )
    offset = float(lane_offset_m(stretch.facts, target))
    corridors = (
        _corridor(ego.path, 0.0, 40.0),
        _corridor(ego.path, 0.0, max(positions) + 30.0, offset),
    )
    checks = {"target_path_xy": target_path.xy[: int(target_path.length_m) : 2].tolist()}
    return Plan(
        ego,
        DENSE_DURATION_S,
        ego.path.xy[int(changing[0])],
        params,
        drivers=drivers,
        corridors=corridors,
        key_actors=tuple(d.name for d in drivers),
        checks=checks,
    )


def _ends_in_target_lane(scenario: Scenario) -> str | None:
    lateral = criteria.ego_lateral_m(scenario, scenario.metadata["checks"]["target_path_xy"])
    return (
        None if abs(lateral[-1]) < 1.0 else f"the ego ends {lateral[-1]:.1f} m off the target lane"
    )


register_family(
    FamilySpec(
        name="lane_change_dense",
        description="the ego's route changes lane mid-block into a dense stream of cars",
        pass_criterion_text="ends in the target lane (within 1 m of its centre), no at-fault collision, min TTC >= 0.95 s",
        build=FamilyBuilder(
            "lane_change_dense",
            {
                "speed_mps": (7.0, 10.0),
                "gap_m": (8.0, 14.0),
                "opening_m": (18.0, 26.0),
                "opening_shift_m": (2.0, 10.0),
            },
            plan_lane_change_dense,
            _ends_in_target_lane,
        ),
        passed=lambda result, scenario: (
            criteria.safe(result) and _ends_in_target_lane(scenario) is None
        ),
    )
)
