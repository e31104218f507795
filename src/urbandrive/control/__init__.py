"""Trajectory trackers: LQR lateral, PID longitudinal, closed with the bicycle model."""

from urbandrive.control.controller import Controller
from urbandrive.control.lateral import LateralLqrConfig, error_dynamics, gain_table
from urbandrive.control.longitudinal import LongitudinalPidConfig, acceleration_command
from urbandrive.control.tracker import TrackedRollout, TrackerConfig, TrajectoryTracker

__all__ = [
    "Controller",
    "LateralLqrConfig",
    "LongitudinalPidConfig",
    "TrackedRollout",
    "TrackerConfig",
    "TrajectoryTracker",
    "acceleration_command",
    "error_dynamics",
    "gain_table",
]
