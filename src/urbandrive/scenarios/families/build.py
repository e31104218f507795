"""Build a family's scenario: pick a town and background traffic, let the family plan its
situation there, stage it (clear room, place the ego, drivers, walkers, static bodies and
scripted puppets), simulate and record at 10 Hz, then check the expert (the ego's logged
track) is collision-free and does what the family expects; else try again, deterministically.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from urbandrive.agents.traffic import DT_S, AgentKind, TrafficMap, TrafficWorld, route_events, step
from urbandrive.agents.traffic.world import AGENT_TYPE_OF_KIND
from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Goal, Route, Scenario
from urbandrive.core.tracks import AgentInfo, Tracks
from urbandrive.core.traffic_light import TrafficLightStates
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.geometry.boxes import boxes_overlap
from urbandrive.geometry.polyline import project_points
from urbandrive.scenarios.families import edit
from urbandrive.scenarios.families.background import (
    TOWN_SEEDS,
    TRAFFIC_SEEDS,
    Background,
    advance,
    background,
)
from urbandrive.scenarios.families.plan import CURRENT_INDEX, Plan, Puppet
from urbandrive.scenarios.families.sites import SiteUnavailableError
from urbandrive.scenarios.town import Town, light_states, walk_signals

MAX_ATTEMPTS = 12
#: Agents this close to where a staged agent starts are taken off the map, m.
STAGE_CLEARANCE_M = 7.0
#: A released puppet's offset from its path fades over this much driving at its speed (s)...
RELEASE_SETTLE_S = 4.0
#: ... but over no less / no more than these distances (m).
RELEASE_SETTLE_BOUNDS_M = (15.0, 60.0)
_FLAGS = ("is_parked", "is_double_parked", "hazard_lights", "is_jaywalker")


@dataclass(frozen=True, slots=True)
class Context:
    """What a family plans with: the town, its traffic map, the background's clock (s) and
    the path tables' number of points, and the random draws of this attempt."""

    town_seed: int
    town: Town
    traffic_map: TrafficMap
    clock_s: float
    num_points: int


PlanFunction = Callable[[Context, np.random.Generator, dict[str, float]], Plan]
#: Geometric check of the expert on the recorded scenario: None if fine, else why not.
ExpertCheck = Callable[[Scenario], str | None]


def draw_params(
    rng: np.random.Generator,
    ranges: Mapping[str, tuple[float, float]],
    given: Mapping[str, float] | None,
    family: str,
) -> dict[str, float]:
    """Each parameter uniform in its range unless `given`; `DataError` for unknown names."""
    unknown = sorted(set(given or {}) - set(ranges))
    if unknown:
        raise DataError(f"family {family!r}: unknown parameters {unknown}; known {sorted(ranges)}")
    drawn = {name: float(rng.uniform(low, high)) for name, (low, high) in ranges.items()}
    return {**drawn, **{k: float(v) for k, v in (given or {}).items()}}


def build_family_scenario(
    family: str,
    seed: int,
    given: Mapping[str, float] | None,
    ranges: Mapping[str, tuple[float, float]],
    plan: PlanFunction,
    check: ExpertCheck,
) -> Scenario:
    """The scenario `family-seed`: attempts draw town, traffic and the situation from
    `default_rng([crc32(family), seed, attempt])` until one passes the checks."""
    reasons = []
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([zlib.crc32(family.encode()), seed, attempt])
        town_seed = int(rng.choice(TOWN_SEEDS))
        traffic_seed = int(rng.choice(TRAFFIC_SEEDS))
        params = draw_params(rng, ranges, given, family)
        scene = background(town_seed, traffic_seed)
        context = Context(
            town_seed,
            scene.town,
            scene.traffic_map,
            scene.world.time_s,
            scene.world.paths.num_points,
        )
        try:
            situation = plan(context, rng, params)
        except SiteUnavailableError as error:
            reasons.append(str(error))
            continue
        scenario = record(scene, situation, f"{family}-{seed:03d}")
        problem = expert_problem(scenario, situation) or check(scenario)
        if problem is None:
            meta = {"family": family, "family_params": situation.params, "seed": int(seed)}
            meta.update(town_seed=town_seed, traffic_seed=traffic_seed, attempt=attempt)
            return _with_metadata(scenario, meta)
        reasons.append(problem)
    raise DataError(
        f"family {family!r} seed {seed}: no valid scenario in {MAX_ATTEMPTS} attempts: {reasons[-3:]}"
    )


def _with_metadata(scenario: Scenario, extra: dict[str, Any]) -> Scenario:
    return replace(scenario, metadata={**extra, **scenario.metadata})


@dataclass(slots=True)
class _Staging:
    """Rows handed out so far, and what each row is in the scenario."""

    names: list[str]
    types: NDArrayInt
    flags: dict[str, NDArrayBool]
    scripted: NDArrayBool
    pool: list[int]

    def take(self, name: str, agent_type: AgentType, flags: tuple[str, ...] = ()) -> int:
        row = self.pool.pop(0)
        if name in self.names:  # a background agent of that name keeps a distinct one
            self.names[self.names.index(name)] = f"{name}_background"
        self.names[row], self.types[row] = name, int(agent_type)
        for flag, values in self.flags.items():
            values[row] = flag in flags
        return row


def stage(
    scene: Background, plan: Plan
) -> tuple[TrafficWorld, _Staging, int, list[tuple[int, Puppet]]]:
    """The world with the situation staged, the staging record, the ego's row and the
    puppets' rows."""
    world = advance(scene.town, scene.world, plan.delay_s)
    cleared = _rows_to_clear(world, plan)
    world = edit.remove(world, cleared)
    distance = np.linalg.norm(world.xy - plan.anchor_xy, axis=1)
    far_first = [
        int(r) for r in np.argsort(-distance, kind="stable") if r not in set(cleared.tolist())
    ]
    population = scene.population
    staging = _Staging(
        names=list(population.names),
        types=world.agent_types.copy(),
        flags={f: population.attributes[f].copy() for f in _FLAGS},
        scripted=np.zeros(world.num_agents, dtype=bool),
        pool=cleared.tolist() + far_first,
    )
    tmap = world.traffic_map
    ego = staging.take("ego", AgentType.VEHICLE)
    for driver in (plan.ego, *plan.drivers):
        row = (
            ego
            if driver is plan.ego
            else staging.take(driver.name, AGENT_TYPE_OF_KIND[driver.kind])
        )
        events = route_events(
            tmap, driver.path, _dwell(tmap) if driver.kind == AgentKind.BUS else None
        )
        world = edit.place(
            world,
            row,
            driver.kind,
            driver.size_m,
            driver.path,
            events,
            driver.s_m,
            driver.speed_mps,
            driver.speed_factor,
        )
        if driver.critical_gap_s is not None:
            gaps = world.drivers.critical_gap_s.copy()
            gaps[row] = driver.critical_gap_s
            world = replace(world, drivers=replace(world.drivers, critical_gap_s=gaps))
    for walker in plan.walkers:
        row = staging.take(walker.name, AgentType.PEDESTRIAN)
        world = edit.place(
            world,
            row,
            AgentKind.PEDESTRIAN,
            (0.6, 0.6),
            walker.path,
            list(walker.events),
            walker.s_m,
            0.0,
            walker.speed_mps,
        )
    for body in plan.statics:
        row = staging.take(body.name, body.agent_type, body.flags)
        world = edit.park(world, row, body.xy, body.heading_rad, body.size_m)
    puppets = []
    for puppet in plan.puppets:
        row = staging.take(puppet.name, puppet.agent_type)
        staging.scripted[row] = True
        world = edit.park(world, row, puppet.xy[0], float(puppet.heading[0]), puppet.size_m)
        puppets.append((row, puppet))
    return _pose_puppets(world, puppets, 0), staging, ego, puppets


def _dwell(tmap: TrafficMap) -> NDArrayF64:
    return np.full(tmap.bus_stop_xy.shape[0], 12.0)


def _rows_to_clear(world: TrafficWorld, plan: Plan) -> NDArrayInt:
    """Active rows inside the plan's corridors or near where anything is staged, and static
    bodies in the way of a puppet's script or a staged body."""
    active = world.active.copy()
    clear = np.zeros(world.num_agents, dtype=bool)
    for corridor in plan.corridors:
        _, lateral, _ = project_points(corridor.xy, world.xy)
        clear |= active & (np.abs(lateral) < corridor.half_width_m)
    starts = [plan.ego.path.xy[int(plan.ego.s_m)]]
    starts += [d.path.xy[min(int(d.s_m), d.path.xy.shape[0] - 1)] for d in plan.drivers]
    starts += [w.path.xy[min(int(w.s_m), w.path.xy.shape[0] - 1)] for w in plan.walkers]
    starts += [b.xy for b in plan.statics]
    for point in starts:
        clear |= active & (np.linalg.norm(world.xy - point, axis=1) < STAGE_CLEARANCE_M)
    static = active & (world.kinds == AgentKind.PARKED)
    bodies = [(p.xy[::5], p.heading[::5], p.size_m) for p in plan.puppets]
    bodies += [(b.xy[None], np.array([b.heading_rad]), b.size_m) for b in plan.statics]
    size = np.stack([world.length_m, world.width_m], -1) + 0.6
    for xy, heading, body_size in bodies:
        hits = boxes_overlap(
            world.xy[:, None],
            world.heading[:, None],
            size[:, None],
            xy[None],
            heading[None],
            np.asarray(body_size) + 0.6,
        )
        clear |= static & hits.any(axis=1)
    return np.flatnonzero(clear)


def _pose_puppets(
    world: TrafficWorld, puppets: list[tuple[int, Puppet]], index: int
) -> TrafficWorld:
    live = [(row, p) for row, p in puppets if p.release_step is None or index < p.release_step]
    for row, puppet in puppets:
        if puppet.release_step == index and puppet.release_path is not None:
            world = _release(world, row, puppet, index)
    rows = np.array([row for row, _ in live], dtype=np.int64)
    return edit.pose(
        world,
        rows,
        np.array([p.xy[index] for _, p in live]).reshape(-1, 2),
        np.array([p.heading[index] for _, p in live]),
        np.array([p.speed_mps[index] for _, p in live]),
        np.array([p.valid[index] for _, p in live], dtype=bool),
    )


def _release(world: TrafficWorld, row: int, puppet: Puppet, index: int) -> TrafficWorld:
    """Row `row` handed from `puppet`'s script to the traffic model at step `index`: it goes on
    from its scripted pose and speed and settles onto `release_path` over
    `RELEASE_SETTLE_S` of driving (never snapped onto the path's centreline)."""
    path = puppet.release_path
    assert path is not None
    s_m = float(project_points(path.xy, puppet.xy[index][None])[0][0])
    speed = float(puppet.speed_mps[index])
    world = edit.place(
        world,
        row,
        puppet.release_kind,
        puppet.size_m,
        path,
        route_events(world.traffic_map, path),
        s_m,
        speed,
        puppet.release_speed_factor,
    )
    length = float(np.clip(speed * RELEASE_SETTLE_S, *RELEASE_SETTLE_BOUNDS_M))
    return edit.settle(world, row, puppet.xy[index], float(puppet.heading[index]), length)


def record(scene: Background, plan: Plan, scenario_id: str) -> Scenario:
    """Stage `plan` in `scene` and simulate it for `plan.duration_s`, as a scenario."""
    world, staging, ego, puppets = stage(scene, plan)
    num_steps = plan.num_steps
    times_s = world.time_s + np.arange(num_steps) * DT_S
    lights = light_states(scene.town, times_s).states
    walks = walk_signals(scene.town, times_s).states
    xy = np.zeros((world.num_agents, num_steps, 2))
    heading = np.zeros((world.num_agents, num_steps))
    valid = np.zeros((world.num_agents, num_steps), dtype=bool)
    xy[:, 0], heading[:, 0], valid[:, 0] = world.xy, world.heading, world.active
    for index in range(1, num_steps):
        world = step(world, lights[:, index - 1], walks[:, index - 1], DT_S)
        world = _pose_puppets(world, puppets, index)
        xy[:, index], heading[:, index], valid[:, index] = world.xy, world.heading, world.active
    sizes = np.stack([world.length_m, world.width_m], -1)
    tracks = _tracks(staging, sizes, xy, heading, valid)
    keep = np.flatnonzero(valid.any(axis=1))
    tracks = tracks.select(keep)
    ego_index = int(np.flatnonzero(keep == ego)[0])
    return _scenario(scene, plan, scenario_id, tracks, ego_index, times_s, lights)


def _tracks(
    staging: _Staging, sizes: NDArrayF64, xy: NDArrayF64, heading: NDArrayF64, valid: NDArrayBool
) -> Tracks:
    velocity = np.zeros_like(xy)
    both = valid[:, 1:] & valid[:, :-1]
    step_velocity = np.diff(xy, axis=1) / DT_S
    velocity[:, 1:] = np.where(both[..., None], step_velocity, 0.0)
    velocity[:, 0] = np.where(both[:, :1], step_velocity[:, 0], 0.0)
    attributes = {**staging.flags, "is_scripted": staging.scripted}
    info = AgentInfo(
        np.array(staging.names, dtype=str), staging.types.astype(np.int8), sizes, attributes
    )
    heading = np.where(valid, heading, 0.0)
    return Tracks(
        info,
        np.where(valid[..., None], xy, 0.0),
        heading,
        np.where(valid[..., None], velocity, 0.0),
        valid,
    )


def _scenario(
    scene: Background,
    plan: Plan,
    scenario_id: str,
    tracks: Tracks,
    ego: int,
    times_s: NDArrayF64,
    lights: np.ndarray,
) -> Scenario:
    last = int(np.flatnonzero(tracks.valid[ego])[-1])
    scenario = Scenario(
        id=scenario_id,
        source="town",
        timestamps_us=np.round(times_s * 1e6).astype(np.int64),
        dt_s=DT_S,
        current_index=CURRENT_INDEX,
        tracks=tracks,
        ego_index=ego,
        road_map=scene.town.road_map,
        traffic_lights=TrafficLightStates(scene.traffic_map.signal_ids, lights.astype(np.int8)),
        route=Route(plan.ego.lanes),
        goal=Goal(xy=tracks.xy[ego, last].copy(), heading=float(tracks.heading[ego, last])),
        metadata={
            "town_config": "small",
            "town_clock_offset_s": float(times_s[0]),
            "key_actors": list(plan.key_actors),
            "checks": plan.checks,
        },
    )
    scenario.validate()
    return scenario


def expert_problem(scenario: Scenario, plan: Plan) -> str | None:
    """Why the recorded scenario is unusable (the ego leaves the map, the ego or a key actor
    overlaps another body at some step), or None."""
    tracks, ego = scenario.tracks, scenario.ego_index
    assert ego is not None
    if not tracks.valid[ego].all():
        return "the ego leaves the map"
    ids = tracks.ids.tolist()
    actors = [ids.index(name) for name in plan.key_actors if name in ids]
    missing = sorted(set(plan.key_actors) - set(ids))
    if missing:
        return f"key actors {missing} never on the map"
    vehicles = np.isin(
        tracks.types, [int(t) for t in AgentType if t.is_vehicle or t == AgentType.CYCLIST]
    )
    for row in [ego, *actors]:
        others = np.flatnonzero((np.arange(tracks.num_agents) != row) & (vehicles | (row == ego)))
        hits = boxes_overlap(
            tracks.xy[row][None],
            tracks.heading[row][None],
            tracks.size_m[row][None, None],
            tracks.xy[others],
            tracks.heading[others],
            tracks.size_m[others][:, None],
        )
        hits &= tracks.valid[row][None] & tracks.valid[others]
        if hits.any():
            other = others[int(np.argwhere(hits)[0][0])]
            return f"{ids[row]} overlaps {ids[other]}"
    return None


@dataclass(frozen=True, slots=True)
class FamilyBuilder:
    """`build(seed, params)` of a family (picklable: sent to generation workers)."""

    family: str
    ranges: Mapping[str, tuple[float, float]]
    plan: PlanFunction
    check: ExpertCheck

    def __call__(self, seed: int, params: Mapping[str, float] | None = None) -> Scenario:
        return build_family_scenario(self.family, seed, params, self.ranges, self.plan, self.check)


def no_check(scenario: Scenario) -> str | None:
    """The expert needs no family-specific check."""
    return None
