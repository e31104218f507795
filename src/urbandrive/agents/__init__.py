"""Policies for non-ego agents (and the IDM law the baseline planner shares)."""

from urbandrive.agents.idm import IdmConfig, desired_gap, idm_acceleration

__all__ = ["IdmConfig", "desired_gap", "idm_acceleration"]
