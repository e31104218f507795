"""Score a closed-loop rollout with the driving metrics (written once in `urbandrive.metrics`).

The metrics see the simulated steps `start_index .. end_index` (the history is the log's and is
not judged). Progress is measured along the expert's logged path over the same steps: the ego's
gain in arc length on it against the expert's (nuPlan measures along the expert's route lanes;
on a logged path the two agree up to lane-centring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.geometry.polyline import arc_length, project_points
from urbandrive.maps.frenet import route_reference_path
from urbandrive.maps.road_map import RoadMap, StopKind
from urbandrive.metrics.clearance import vulnerable_road_user_clearance
from urbandrive.metrics.collisions import AtFaultCollisionResult, no_ego_at_fault_collisions
from urbandrive.metrics.comfort import body_frame_acceleration, ego_is_comfortable
from urbandrive.metrics.compliance import (
    drivable_area_compliance,
    driving_direction_compliance,
    ego_corner_distance_outside_drivable_area,
    speed_limit_compliance,
)
from urbandrive.metrics.map_context import ego_lane_context
from urbandrive.metrics.open_loop import plan_displacement_errors
from urbandrive.metrics.progress import ego_is_making_progress, ego_progress_along_expert_route
from urbandrive.metrics.score import closed_loop_score
from urbandrive.metrics.states import AgentStates, EgoStates, ego_from_tracks
from urbandrive.metrics.time_to_collision import (
    TimeToCollisionResult,
    time_to_collision_within_bound,
)
from urbandrive.metrics.traffic_rules import (
    ego_front_center,
    pedestrian_yield_compliance,
    red_light_compliance,
    stop_line_crossings,
)
from urbandrive.simulation.engine import Rollout


@dataclass(frozen=True, slots=True)
class _Judged:
    """The simulated steps as the metrics see them, and the results needing more than a score."""

    ego: EgoStates
    agents: AgentStates
    tracks: Tracks
    collisions: AtFaultCollisionResult
    ttc: TimeToCollisionResult
    metrics: dict[str, np.ndarray]


def evaluate_rollout(rollout: Rollout) -> dict[str, Any]:
    """Every metric by name (floats), the CLS `score` (0-100), collision events and timings."""
    judged = _judge(rollout)
    scenario, start, end = rollout.scenario, rollout.start_index, rollout.end_index
    result: dict[str, Any] = {name: _first(value) for name, value in judged.metrics.items()}
    result.update(
        id=scenario.id,
        source=scenario.source,
        planner=rollout.planner_name,
        score=100.0 * _first(closed_loop_score(judged.metrics).score),
        at_fault_collision=bool(_first(judged.collisions.multiplier) < 1.0),
        collisions=_collision_events(
            judged.collisions.events, judged.tracks, scenario.ego_index, start
        ),
        min_time_to_collision_s=_finite_or_none(judged.ttc.min_time_to_collision_s),
        min_vru_clearance_m=_finite_or_none(
            vulnerable_road_user_clearance(judged.ego, judged.agents).min_clearance_m
        ),
        num_steps=int(end - start),
        duration_s=float(scenario.times_s[end] - scenario.times_s[start]),
        timing=_timing(rollout),
        **_open_loop_errors(rollout),
    )
    return result


def _judge(rollout: Rollout) -> _Judged:
    """Run every driving metric on the simulated steps (batch of one)."""
    scenario, road_map = rollout.scenario, rollout.scenario.road_map
    assert road_map is not None and scenario.ego_index is not None  # checked by simulate()
    steps = slice(rollout.start_index, rollout.end_index + 1)
    tracks = scenario.tracks.slice_time(steps.start, steps.stop)
    ego = ego_from_tracks(tracks, scenario.ego_index)
    agents = AgentStates.from_tracks(tracks, exclude_index=scenario.ego_index)
    lanes = ego_lane_context(road_map, ego.xy, ego.heading, float(ego.size_m[0, 1]))
    collisions = no_ego_at_fault_collisions(ego, agents, lanes.changing_lanes_or_offroad)
    ttc = time_to_collision_within_bound(
        ego, agents, collisions, lanes.changing_lanes_or_offroad, lanes.in_intersection
    )
    acceleration = body_frame_acceleration(
        tracks.velocity[scenario.ego_index][None], ego.heading, scenario.dt_s
    )
    progress = _progress_ratio(rollout.expert, ego, steps)
    corners_outside = ego_corner_distance_outside_drivable_area(road_map, ego)
    metrics = {
        "no_ego_at_fault_collisions": collisions.multiplier,
        "drivable_area_compliance": drivable_area_compliance(corners_outside),
        "driving_direction_compliance": driving_direction_compliance(
            lanes.progress_along_lane_m, scenario.dt_s
        ),
        "ego_is_making_progress": ego_is_making_progress(progress),
        "ego_progress_along_expert_route": progress,
        "time_to_collision_within_bound": ttc.score,
        "speed_limit_compliance": speed_limit_compliance(
            ego.speed_mps, lanes.speed_limit_mps, scenario.dt_s
        ),
        "ego_is_comfortable": ego_is_comfortable(ego.heading, acceleration, scenario.dt_s).score,
        "red_light_compliance": _red_light(scenario, road_map, ego, steps),
        "pedestrian_yield_compliance": _yielding(road_map, ego, agents),
    }
    return _Judged(ego, agents, tracks, collisions, ttc, metrics)


def _first(value: np.ndarray) -> float:
    """The single value of a batch-of-one metric."""
    return float(np.asarray(value).reshape(-1)[0])


def _progress_ratio(expert: Scenario, ego: EgoStates, steps: slice) -> np.ndarray:
    """Ego progress / expert progress along the expert's logged path over the simulated steps;
    with no logged expert (a planning problem), progress along the route toward the goal."""
    assert expert.ego_index is not None and expert.road_map is not None
    logged = expert.tracks.valid[expert.ego_index, steps]
    path = expert.tracks.xy[expert.ego_index, steps][logged]
    if path.shape[0] >= 2:
        s_expert = arc_length(path)[-1]
        s_ego, _, _ = project_points(path, ego.xy[0, [0, -1]])
        return ego_progress_along_expert_route(np.array([s_ego[1] - s_ego[0]]), s_expert)
    if expert.route is None or expert.goal is None:
        return np.ones(1)
    reference = route_reference_path(expert.road_map, expert.route)
    s_ego, _ = reference.to_frenet(ego.xy[0, [0, -1]])
    s_goal, _ = reference.to_frenet(expert.goal.xy[None])
    return ego_progress_along_expert_route(np.array([s_ego[1] - s_ego[0]]), s_goal[0] - s_ego[0])


def _red_light(scenario: Scenario, road_map: RoadMap, ego: EgoStates, steps: slice) -> np.ndarray:
    """1.0 unless the ego's front crossed a signal-controlled stop line while its light was red."""
    lines = [line for line in road_map.stop_lines.values() if line.kind == StopKind.TRAFFIC_LIGHT]
    if not lines or scenario.traffic_lights is None:
        return np.ones(1)
    states = scenario.traffic_lights.states[:, steps]
    red_by_lane: dict[int, np.ndarray] = {}
    for signal_id, signal_states in zip(
        scenario.traffic_lights.signal_ids.tolist(), states, strict=True
    ):
        signal = road_map.signals.get(signal_id)
        for lane in () if signal is None else signal.lane_ids:
            red_by_lane[lane] = red_by_lane.get(lane, False) | np.isin(signal_states, [1, 4])
    is_red = np.array(
        [
            np.any(
                [red_by_lane.get(lane, np.zeros(states.shape[1], bool)) for lane in line.lane_ids],
                axis=0,
            )
            for line in lines
        ]
    )
    heading = np.array([_travel_heading(road_map, line.lane_ids) for line in lines])
    crossed = stop_line_crossings(
        ego_front_center(ego), np.stack([line.xy for line in lines]), heading
    )
    return red_light_compliance(crossed, is_red).score


def _travel_heading(road_map: RoadMap, lane_ids: tuple[int, ...]) -> float:
    """Direction of travel at the start of the first known lane a stop line controls."""
    for lane_id in lane_ids:
        if lane_id in road_map.lanes:
            start = road_map.lanes[lane_id].centerline[:2]
            delta = start[1] - start[0]
            return float(np.arctan2(delta[1], delta[0]))
    return 0.0


def _yielding(road_map: RoadMap, ego: EgoStates, agents: AgentStates) -> np.ndarray:
    if not road_map.crosswalks:
        return np.ones(1)
    polygons = [crosswalk.polygon for crosswalk in road_map.crosswalks.values()]
    most = max(polygon.shape[0] for polygon in polygons)
    padded = np.stack(
        [np.concatenate([p, np.repeat(p[-1:], most - p.shape[0], 0)]) for p in polygons]
    )
    return pedestrian_yield_compliance(ego, agents, padded).score


def _collision_events(
    events: Any, tracks: Tracks, ego_index: int, start_index: int
) -> list[dict[str, Any]]:
    others = np.flatnonzero(np.arange(tracks.num_agents) != ego_index)
    return [
        {
            "step": int(start_index + step),
            "agent_id": str(tracks.ids[others[agent]]),
            "agent_type": AgentType(int(kind_of_agent)).name.lower(),
            "at_fault": bool(at_fault),
        }
        for step, agent, kind_of_agent, at_fault in zip(
            events.step.tolist(),
            events.agent_index.tolist(),
            events.agent_type.tolist(),
            events.at_fault.tolist(),
            strict=True,
        )
    ]


def _open_loop_errors(rollout: Rollout) -> dict[str, float | None]:
    """Mean over steps of each plan's ADE / FDE against the expert's log from that step."""
    expert, ego = rollout.expert.tracks, rollout.expert.ego_index
    ade, fde = [], []
    for offset, trajectory in enumerate(rollout.chosen):
        now = rollout.start_index + offset
        horizon = min(trajectory.num_steps, expert.num_steps - now)
        if horizon < 2:
            continue
        future = slice(now, now + horizon)
        errors = plan_displacement_errors(
            trajectory.xy[:horizon], expert.xy[ego, future], expert.valid[ego, future]
        )
        ade.append(float(errors.ade_m))
        fde.append(float(errors.fde_m))
    return {
        "open_loop_ade_m": float(np.mean(ade)) if ade else None,
        "open_loop_fde_m": float(np.mean(fde)) if fde else None,
    }


def _timing(rollout: Rollout) -> dict[str, float]:
    """Wall-clock planner time per step, ms (kept apart: it differs from run to run)."""
    times = rollout.planner_ms if rollout.planner_ms.size else np.zeros(1)
    return {
        "planner_ms_mean": float(times.mean()),
        "planner_ms_p99": float(np.percentile(times, 99)),
    }


def _finite_or_none(value: np.ndarray) -> float | None:
    number = _first(value)
    return number if np.isfinite(number) else None
