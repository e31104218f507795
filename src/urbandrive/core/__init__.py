"""Types every stage shares: agent categories, tracks, scenarios, errors, array aliases."""

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError, UrbandriveError
from urbandrive.core.observation import Observation, observe
from urbandrive.core.scenario import Goal, Route, Scenario
from urbandrive.core.tracks import AgentInfo, Tracks
from urbandrive.core.traffic_light import TrafficLightState, TrafficLightStates
from urbandrive.core.trajectory import Trajectory

__all__ = [
    "AgentInfo",
    "AgentType",
    "DataError",
    "Goal",
    "Observation",
    "Route",
    "Scenario",
    "Tracks",
    "TrafficLightState",
    "TrafficLightStates",
    "Trajectory",
    "UrbandriveError",
    "observe",
]
