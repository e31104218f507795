"""Driving metrics (nuPlan closed-loop score and our rules) and forecasting metrics.

Every metric is a pure function over arrays with leading batch axes: the planner's scorer
calls it on [M] candidates (or [M, K] candidates x predicted modes), the simulator on the one
executed rollout. Definitions, sources and the choices where sources disagree are in each
module's docstring.
"""

from urbandrive.metrics.clearance import ClearanceResult, vulnerable_road_user_clearance
from urbandrive.metrics.collisions import (
    AtFaultCollisionResult,
    CollisionCategory,
    CollisionConfig,
    CollisionEvents,
    CollisionKind,
    ego_agent_overlap,
    no_ego_at_fault_collisions,
)
from urbandrive.metrics.comfort import (
    ComfortConfig,
    ComfortResult,
    ComfortSignal,
    body_frame_acceleration,
    comfort_signals,
    ego_is_comfortable,
)
from urbandrive.metrics.compliance import (
    DrivingDirectionConfig,
    drivable_area_compliance,
    driving_direction_compliance,
    ego_corner_distance_outside_drivable_area,
    speed_limit_compliance,
)
from urbandrive.metrics.open_loop import PlanDisplacementErrors, plan_displacement_errors
from urbandrive.metrics.progress import ego_is_making_progress, ego_progress_along_expert_route
from urbandrive.metrics.score import ClosedLoopScore, ScoreConfig, closed_loop_score, suite_score
from urbandrive.metrics.states import AgentStates, EgoStates, ego_from_tracks
from urbandrive.metrics.time_to_collision import (
    TimeToCollisionConfig,
    TimeToCollisionResult,
    time_to_collision_within_bound,
)
from urbandrive.metrics.traffic_rules import (
    RuleViolationResult,
    YieldConfig,
    ego_front_center,
    pedestrian_yield_compliance,
    red_light_compliance,
    stop_line_crossings,
)

__all__ = [
    "AgentStates",
    "AtFaultCollisionResult",
    "ClearanceResult",
    "ClosedLoopScore",
    "CollisionCategory",
    "CollisionConfig",
    "CollisionEvents",
    "CollisionKind",
    "ComfortConfig",
    "ComfortResult",
    "ComfortSignal",
    "DrivingDirectionConfig",
    "EgoStates",
    "PlanDisplacementErrors",
    "RuleViolationResult",
    "ScoreConfig",
    "TimeToCollisionConfig",
    "TimeToCollisionResult",
    "YieldConfig",
    "body_frame_acceleration",
    "closed_loop_score",
    "comfort_signals",
    "drivable_area_compliance",
    "driving_direction_compliance",
    "ego_agent_overlap",
    "ego_corner_distance_outside_drivable_area",
    "ego_from_tracks",
    "ego_front_center",
    "ego_is_comfortable",
    "ego_is_making_progress",
    "ego_progress_along_expert_route",
    "no_ego_at_fault_collisions",
    "pedestrian_yield_compliance",
    "plan_displacement_errors",
    "red_light_compliance",
    "speed_limit_compliance",
    "stop_line_crossings",
    "suite_score",
    "time_to_collision_within_bound",
    "vulnerable_road_user_clearance",
]
