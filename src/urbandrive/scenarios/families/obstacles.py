"""Families about bodies blocking the ego's lane: a double-parked car to nudge around and a
bus pulling out from its stop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from urbandrive.agents.traffic import AgentKind, PathRow
from urbandrive.agents.traffic.paths import resample_path
from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.scenarios.families import criteria
from urbandrive.scenarios.families.build import Context, FamilyBuilder, no_check
from urbandrive.scenarios.families.plan import (
    CAR_SIZE_M,
    Driver,
    Plan,
    Static,
    integrate_speed,
    puppet_from_track,
    smoothstep,
)
from urbandrive.scenarios.families.sites import (
    SiteUnavailableError,
    Stretch,
    curb_offset_m,
    lane_offset_m,
    path_point,
    pick_stretch,
)
from urbandrive.scenarios.families.spec import FamilySpec, register_family
from urbandrive.scenarios.families.vehicles import DT_S, EGO_START_M, NOW_S, _corridor, _ego, _times

OBSTACLE_DURATION_S = 12.0
BUS_SIZE_M = DEFAULT_SIZE_M[AgentType.LARGE_VEHICLE]
#: The bus is back in the lane's centre after this much travel, m.
MERGE_LENGTH_M = 22.0


def _outer_stretch(context: Context, rng: np.random.Generator, min_free_m: float) -> Stretch:
    """A stretch in the outermost lane of a street with two or more lanes each way."""
    for _ in range(12):
        stretch = pick_stretch(context.town_seed, rng, min_free_m, min_lanes=2)
        if stretch.facts.lane_index == stretch.facts.street.num_lanes(stretch.facts.direction) - 1:
            return stretch
    raise SiteUnavailableError("no outer lane of a multi-lane street found")


def nudged_path(path: PathRow, around_m: float, nudge_m: float, length_m: float) -> PathRow:
    """`path` bent `nudge_m` to the left around arc length `around_m` over an obstacle of
    `length_m` (15 m ramps), resampled at the same spacing."""
    s = np.arange(path.xy.shape[0], dtype=np.float64)
    begin, end = around_m - 0.5 * length_m - 17.0, around_m + 0.5 * length_m + 3.0
    offset = nudge_m * (smoothstep((s - begin) / 14.0) - smoothstep((s - end) / 14.0))
    normal = np.stack([-np.sin(path.heading), np.cos(path.heading)], -1)
    xy = path.xy + offset[:, None] * normal
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
    row = resample_path(xy, arc, path.lane_ids, path.speed_limit_mps, path.xy.shape[0])
    return PathRow(
        row.xy,
        row.heading,
        row.curvature,
        row.speed_limit_mps,
        row.lane_ids,
        row.changing,
        path.length_m,
    )


def plan_double_parked(
    context: Context, rng: np.random.Generator, params: dict[str, float]
) -> Plan:
    """A car stands with hazards in the ego's (outer) lane `distance_m` ahead; the expert
    nudges `nudge_m` into the next lane around it."""
    obstacle_m = EGO_START_M + params["distance_m"]
    stretch = _outer_stretch(context, rng, obstacle_m + 35.0)
    ego = _ego(context, stretch.lanes, EGO_START_M, params["speed_mps"])
    xy, heading = path_point(ego.path, obstacle_m, -params["curb_shift_m"])
    blocker = Static(
        "double_parked", xy, float(heading), CAR_SIZE_M, flags=("is_double_parked", "hazard_lights")
    )
    bent = nudged_path(ego.path, obstacle_m, params["nudge_m"], CAR_SIZE_M[0])
    expert = Driver("ego", ego.lanes, bent, ego.s_m, ego.speed_mps, speed_factor=ego.speed_factor)
    inner = lane_offset_m(stretch.facts, stretch.facts.lane_index - 1)
    corridors = (
        _corridor(ego.path, 0.0, obstacle_m + 40.0),
        _corridor(ego.path, obstacle_m - 60.0, obstacle_m + 30.0, inner),
    )
    checks = {"obstacle_xy": xy.tolist(), "heading_rad": float(heading)}
    return Plan(
        expert,
        OBSTACLE_DURATION_S,
        xy,
        params,
        statics=(blocker,),
        corridors=corridors,
        key_actors=("double_parked",),
        checks=checks,
    )


def _passes_obstacle(scenario: Scenario) -> str | None:
    checks = scenario.metadata["checks"]
    past = criteria.ego_front_past_m(scenario, checks["obstacle_xy"], checks["heading_rad"])
    return (
        None
        if past[-1] > 0.5 * CAR_SIZE_M[0] + CAR_SIZE_M[0]
        else "the ego does not get past the obstacle"
    )


def _double_parked_passed(result: Mapping[str, Any], scenario: Scenario) -> bool:
    clearance = criteria.min_clearance_m(scenario, ["double_parked"])
    return criteria.safe(result) and clearance >= 0.3 and _passes_obstacle(scenario) is None


register_family(
    FamilySpec(
        name="double_parked",
        description="a double-parked car with hazards blocks the ego's lane; the ego must nudge around it",
        pass_criterion_text="gets past the car within the scenario, no at-fault collision, min TTC >= 0.95 s, min clearance to it >= 0.3 m",
        build=FamilyBuilder(
            "double_parked",
            {
                "speed_mps": (7.0, 10.0),
                "distance_m": (35.0, 55.0),
                "nudge_m": (2.6, 3.2),
                "curb_shift_m": (0.0, 0.5),
            },
            plan_double_parked,
            _passes_obstacle,
        ),
        passed=_double_parked_passed,
    )
)


def plan_bus_pull_out(context: Context, rng: np.random.Generator, params: dict[str, float]) -> Plan:
    """A bus stands at the curb `behind_m` ahead of where the ego will be and pulls out into
    the ego's lane `go_after_s` after now (`accel_mps2`, merging over its first 22 m), then drives on."""
    times = _times(OBSTACLE_DURATION_S)
    speed, go_s = params["speed_mps"], NOW_S + params["go_after_s"]
    bus_m = EGO_START_M + 0.5 * CAR_SIZE_M[0] + speed * go_s + params["gap_m"] + 0.5 * BUS_SIZE_M[0]
    stretch = _outer_stretch(context, rng, bus_m + 30.0)
    ego = _ego(context, stretch.lanes, EGO_START_M, speed)
    travel, _ = integrate_speed(0.0, np.where(times >= go_s, params["accel_mps2"], 0.0), 9.0)
    start_offset = max(curb_offset_m(stretch.facts) + 0.5 * BUS_SIZE_M[1] + 0.3, -1.4)
    lateral = start_offset * (1.0 - smoothstep(travel / MERGE_LENGTH_M))
    xy, heading = path_point(ego.path, bus_m + travel, lateral)
    release = {
        "release_step": round((go_s + 4.0) / DT_S),
        "release_path": ego.path,
        "release_kind": AgentKind.BUS,
        "release_speed_factor": 0.8,
    }
    bus = puppet_from_track(
        "bus", AgentType.LARGE_VEHICLE, BUS_SIZE_M, xy, float(heading[0]), **release
    )
    corridors = (_corridor(ego.path, 0.0, bus_m + travel[-1] + 30.0),)
    return Plan(
        ego,
        OBSTACLE_DURATION_S,
        xy[0],
        params,
        puppets=(bus,),
        corridors=corridors,
        key_actors=("bus",),
    )


register_family(
    FamilySpec(
        name="bus_pull_out",
        description="a bus at the curb pulls out from its stop into the ego's lane just ahead",
        pass_criterion_text="no at-fault collision, min TTC >= 0.95 s and min clearance to the bus >= 0.5 m",
        build=FamilyBuilder(
            "bus_pull_out",
            {
                "speed_mps": (8.0, 11.0),
                "gap_m": (15.0, 30.0),
                "go_after_s": (0.3, 1.5),
                "accel_mps2": (1.0, 1.6),
            },
            plan_bus_pull_out,
            no_check,
        ),
        passed=lambda result, scenario: (
            criteria.safe(result) and criteria.min_clearance_m(scenario, ["bus"]) >= 0.5
        ),
    )
)
