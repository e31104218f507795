"""Kinematic bicycle model (rear-axle reference), forward and inverse: one model shared by
control, planning and simulation."""

from urbandrive.dynamics.bicycle import (
    COMMAND_SIZE,
    STATE_SIZE,
    BicycleConfig,
    CommandIndex,
    StateIndex,
    center_to_rear_axle,
    check_state,
    make_state,
    rear_axle_to_center,
    rollout,
    step,
    trajectory_from_states,
)
from urbandrive.dynamics.inverse import inverse, uniform_step_s

__all__ = [
    "COMMAND_SIZE",
    "STATE_SIZE",
    "BicycleConfig",
    "CommandIndex",
    "StateIndex",
    "center_to_rear_axle",
    "check_state",
    "inverse",
    "make_state",
    "rear_axle_to_center",
    "rollout",
    "step",
    "trajectory_from_states",
    "uniform_step_s",
]
