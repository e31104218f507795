"""Families about vulnerable road users: a jaywalker stepping out between parked cars, a
pedestrian hidden by a stopped truck, an animal darting across, a cyclist merging in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from urbandrive.agents.traffic import AgentKind
from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.scenarios.families import criteria
from urbandrive.scenarios.families.build import Context, FamilyBuilder, no_check
from urbandrive.scenarios.families.plan import (
    CAR_SIZE_M,
    Plan,
    Static,
    puppet_from_track,
    smoothstep,
)
from urbandrive.scenarios.families.sites import (
    SiteUnavailableError,
    curb_offset_m,
    curb_strip_offset_m,
    far_curb_offset_m,
    lane_offset_m,
    path_point,
    pick_stretch,
)
from urbandrive.scenarios.families.spec import FamilySpec, register_family
from urbandrive.scenarios.families.vehicles import (
    DT_S,
    EGO_START_M,
    NOW_S,
    _corridor,
    _ego,
    _neighbour_index,
    _times,
)
from urbandrive.scenarios.town import CurbUse

VRU_DURATION_S = 10.0
#: The sidewalk's walking line is this far beyond the curb, m.
SIDEWALK_M = 1.5
#: Half of a lane plus a body's half width: where a crosser enters the ego's lane, m.
LANE_EDGE_M = 2.0


def _crossing(
    context: Context,
    rng: np.random.Generator,
    params: dict[str, float],
    start_offset_m: float,
    end_offset_m: float,
    speed_key: str,
) -> tuple[float, np.ndarray]:
    """Where along the ego's path a crosser crosses (s, m) and its left offset float64[T]:
    it enters the ego's lane `emerge_after_s` after now, when the ego (at `speed_mps`) is
    `ttc_s` away; it waits before and after."""
    times = _times(VRU_DURATION_S)
    speed, walk = params["speed_mps"], params[speed_key]
    enter_s = NOW_S + params["emerge_after_s"]
    direction = np.sign(end_offset_m - start_offset_m)
    edge = -direction * LANE_EDGE_M
    start_s = enter_s - abs(edge - start_offset_m) / walk
    crossing_m = EGO_START_M + 0.5 * CAR_SIZE_M[0] + speed * (enter_s + params["ttc_s"])
    moved = np.clip((times - start_s) * walk, 0.0, abs(end_offset_m - start_offset_m))
    return crossing_m, start_offset_m + direction * moved


def _crosser(path, crossing_m: float, lateral: np.ndarray, name: str, agent_type: AgentType):
    xy, heading = path_point(path, np.full(lateral.shape, crossing_m), lateral)
    initial = float(heading[0]) + np.pi / 2 * np.sign(lateral[-1] - lateral[0])
    return puppet_from_track(name, agent_type, DEFAULT_SIZE_M[agent_type], xy, initial)


def _vru_passed(result: Mapping[str, Any], scenario: Scenario) -> bool:
    names = scenario.metadata["key_actors"][:1]
    return criteria.collision_free(result) and criteria.min_clearance_m(scenario, names) >= 1.0


# -- jaywalker between parked cars -------------------------------------------------------------


def plan_jaywalker(context: Context, rng: np.random.Generator, params: dict[str, float]) -> Plan:
    """Two cars parked `gap_m` apart beside the ego's lane; a pedestrian steps out from the
    sidewalk between them and crosses the street."""
    stretch = pick_stretch(context.town_seed, rng, 75.0, curb=int(CurbUse.PARKING))
    facts = stretch.facts
    start, end = curb_offset_m(facts) - SIDEWALK_M, far_curb_offset_m(facts) + SIDEWALK_M
    crossing_m, lateral = _crossing(context, rng, params, start, end, "walk_mps")
    if crossing_m > stretch.free_m - 10.0:
        raise SiteUnavailableError("the block is too short for the jaywalker")
    ego = _ego(context, stretch.lanes, EGO_START_M, params["speed_mps"])
    walker = _crosser(ego.path, crossing_m, lateral, "jaywalker", AgentType.PEDESTRIAN)
    half = 0.5 * (params["gap_m"] + CAR_SIZE_M[0])
    parked_xy, parked_heading = path_point(
        ego.path, np.array([crossing_m - half, crossing_m + half]), curb_strip_offset_m(facts)
    )
    parked = tuple(
        Static(f"gap_car_{k}", parked_xy[k], float(parked_heading[k]), CAR_SIZE_M) for k in range(2)
    )
    corridors = (
        _corridor(ego.path, 0.0, crossing_m + 30.0),
        _corridor(
            ego.path, crossing_m - 40.0, crossing_m + 40.0, far_curb_offset_m(facts) - 2.0, 2.5
        ),
    )
    return Plan(
        ego,
        VRU_DURATION_S,
        walker.xy[0],
        params,
        statics=parked,
        puppets=(walker,),
        corridors=corridors,
        key_actors=("jaywalker", "gap_car_0", "gap_car_1"),
    )


register_family(
    FamilySpec(
        name="jaywalker",
        description="a pedestrian steps out between two parked cars and crosses mid-block",
        pass_criterion_text="no collision and min clearance to the pedestrian >= 1.0 m",
        build=FamilyBuilder(
            "jaywalker",
            {
                "speed_mps": (8.0, 11.0),
                "walk_mps": (1.3, 2.0),
                "ttc_s": (2.8, 3.8),
                "emerge_after_s": (0.5, 1.5),
                "gap_m": (1.2, 2.0),
            },
            plan_jaywalker,
            no_check,
        ),
        passed=_vru_passed,
    )
)


# -- pedestrian occluded by a stopped truck ----------------------------------------------------

TRUCK_SIZE_M = (8.0, 2.5)


def plan_occluded_pedestrian(
    context: Context, rng: np.random.Generator, params: dict[str, float]
) -> Plan:
    """A truck stands with hazards in the next lane; a pedestrian walks out in front of it
    into the ego's lane."""
    stretch = pick_stretch(context.town_seed, rng, 75.0, min_lanes=2)
    facts = stretch.facts
    truck_lane = _neighbour_index(facts, rng)
    truck_offset = lane_offset_m(facts, truck_lane)
    if truck_offset > 0:  # truck on the left: the pedestrian comes from beyond it
        start, end = truck_offset + 2.6, curb_offset_m(facts) - SIDEWALK_M
    else:
        start, end = curb_offset_m(facts) - SIDEWALK_M, far_curb_offset_m(facts) + SIDEWALK_M
    crossing_m, lateral = _crossing(context, rng, params, start, end, "walk_mps")
    if crossing_m > stretch.free_m - 10.0:
        raise SiteUnavailableError("the block is too short for the occluded pedestrian")
    ego = _ego(context, stretch.lanes, EGO_START_M, params["speed_mps"])
    walker = _crosser(ego.path, crossing_m, lateral, "pedestrian", AgentType.PEDESTRIAN)
    truck_xy, truck_heading = path_point(
        ego.path, crossing_m - 1.2 - 0.5 * TRUCK_SIZE_M[0], truck_offset
    )
    truck = Static(
        "truck",
        truck_xy,
        float(truck_heading),
        TRUCK_SIZE_M,
        AgentType.LARGE_VEHICLE,
        ("hazard_lights",),
    )
    corridors = (
        _corridor(ego.path, 0.0, crossing_m + 30.0),
        _corridor(ego.path, crossing_m - 50.0, crossing_m + 30.0, truck_offset, 2.0),
        _corridor(ego.path, crossing_m - 40.0, crossing_m + 40.0, end, 3.0),
    )
    return Plan(
        ego,
        VRU_DURATION_S,
        walker.xy[0],
        params,
        statics=(truck,),
        puppets=(walker,),
        corridors=corridors,
        key_actors=("pedestrian", "truck"),
    )


register_family(
    FamilySpec(
        name="occluded_pedestrian",
        description="a pedestrian walks out in front of a truck stopped in the next lane",
        pass_criterion_text="no collision and min clearance to the pedestrian >= 1.0 m",
        build=FamilyBuilder(
            "occluded_pedestrian",
            {
                "speed_mps": (8.0, 11.0),
                "walk_mps": (1.3, 1.9),
                "ttc_s": (2.8, 3.8),
                "emerge_after_s": (0.5, 1.5),
            },
            plan_occluded_pedestrian,
            no_check,
        ),
        passed=_vru_passed,
    )
)


# -- animal crossing ---------------------------------------------------------------------------


def plan_animal_crossing(
    context: Context, rng: np.random.Generator, params: dict[str, float]
) -> Plan:
    """A dog darts from one sidewalk across the street at `dart_mps`."""
    stretch = pick_stretch(context.town_seed, rng, 70.0)
    facts = stretch.facts
    near, far = curb_offset_m(facts) - SIDEWALK_M, far_curb_offset_m(facts) + SIDEWALK_M
    start, end = (near, far) if rng.random() < 0.5 else (far, near)
    crossing_m, lateral = _crossing(context, rng, params, start, end, "dart_mps")
    if crossing_m > stretch.free_m - 10.0:
        raise SiteUnavailableError("the block is too short for the animal")
    ego = _ego(context, stretch.lanes, EGO_START_M, params["speed_mps"])
    dog = _crosser(ego.path, crossing_m, lateral, "dog", AgentType.ANIMAL)
    corridors = (
        _corridor(ego.path, 0.0, crossing_m + 30.0),
        _corridor(ego.path, crossing_m - 40.0, crossing_m + 40.0, far - SIDEWALK_M - 2.0, 2.5),
    )
    return Plan(
        ego,
        VRU_DURATION_S,
        dog.xy[0],
        params,
        puppets=(dog,),
        corridors=corridors,
        key_actors=("dog",),
    )


register_family(
    FamilySpec(
        name="animal_crossing",
        description="a dog darts across the street in front of the ego",
        pass_criterion_text="no collision and min clearance to the animal >= 1.0 m",
        build=FamilyBuilder(
            "animal_crossing",
            {
                "speed_mps": (8.0, 11.0),
                "dart_mps": (2.5, 4.5),
                "ttc_s": (2.6, 3.6),
                "emerge_after_s": (0.5, 1.5),
            },
            plan_animal_crossing,
            no_check,
        ),
        passed=_vru_passed,
    )
)


# -- cyclist merging ---------------------------------------------------------------------------

CYCLIST_SIZE_M = DEFAULT_SIZE_M[AgentType.CYCLIST]


def plan_cyclist_merge(
    context: Context, rng: np.random.Generator, params: dict[str, float]
) -> Plan:
    """A cyclist in the bike lane `ahead_m` ahead of the ego's front swerves into the ego's
    lane `merge_after_s` after now (over 2 s) and rides on in it."""
    stretch = pick_stretch(context.town_seed, rng, 70.0, curb=int(CurbUse.BIKE))
    facts = stretch.facts
    times = _times(VRU_DURATION_S)
    speed, ride = params["speed_mps"], params["ride_mps"]
    merge_s = NOW_S + params["merge_after_s"]
    ego_front = EGO_START_M + 0.5 * CAR_SIZE_M[0] + speed * merge_s
    start_m = ego_front + params["ahead_m"] + 0.5 * CYCLIST_SIZE_M[0] - ride * merge_s
    strip = curb_strip_offset_m(facts)
    lateral = strip + (-0.6 - strip) * smoothstep((times - merge_s) / 2.0)
    ego = _ego(context, stretch.lanes, EGO_START_M, speed)
    xy, heading = path_point(ego.path, start_m + ride * times, lateral)
    limit = float(ego.path.speed_limit_mps[int(start_m)])
    release = {
        "release_step": round((merge_s + 3.0) / DT_S),
        "release_path": ego.path,
        "release_kind": AgentKind.CYCLIST,
        "release_speed_factor": ride / limit,
    }
    cyclist = puppet_from_track(
        "cyclist", AgentType.CYCLIST, CYCLIST_SIZE_M, xy, float(heading[0]), **release
    )
    corridors = (
        _corridor(ego.path, 0.0, start_m + ride * times[-1] + 20.0),
        _corridor(ego.path, start_m - 20.0, start_m + 60.0, strip, 1.5),
    )
    return Plan(
        ego,
        VRU_DURATION_S,
        cyclist.xy[0],
        params,
        puppets=(cyclist,),
        corridors=corridors,
        key_actors=("cyclist",),
    )


register_family(
    FamilySpec(
        name="cyclist_merge",
        description="a cyclist swerves from the bike lane into the ego's lane ahead and rides on in it",
        pass_criterion_text="no collision, min clearance to the cyclist >= 1.0 m and min TTC >= 0.95 s",
        build=FamilyBuilder(
            "cyclist_merge",
            {
                "speed_mps": (8.0, 11.0),
                "ride_mps": (4.0, 6.0),
                "ahead_m": (10.0, 20.0),
                "merge_after_s": (0.3, 1.5),
            },
            plan_cyclist_merge,
            no_check,
        ),
        passed=lambda result, scenario: _vru_passed(result, scenario) and criteria.safe(result),
    )
)
