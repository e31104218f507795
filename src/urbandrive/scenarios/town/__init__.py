"""The built-in procedural town: seeded grid road networks with signals, crosswalks, bike
lanes, parking and bus stops. `generate_town(TownConfig.small(), seed=0)`."""

from urbandrive.scenarios.town.config import (
    CurbUse,
    SignalTimingConfig,
    StreetClass,
    StreetClassConfig,
    TownConfig,
)
from urbandrive.scenarios.town.conflicts import conflicting_connector_pairs
from urbandrive.scenarios.town.generator import generate_town
from urbandrive.scenarios.town.records import (
    Arm,
    BusStop,
    CrosswalkTable,
    Intersection,
    IntersectionControl,
    LaneRole,
    LaneTable,
    Movement,
    ParkingSpots,
    PhasePlan,
    Sidewalk,
    Town,
    WalkSignalState,
)
from urbandrive.scenarios.town.signals import WalkSignals, light_states, walk_signals
from urbandrive.scenarios.town.streets import Axis, Direction, Street

__all__ = [
    "Arm",
    "Axis",
    "BusStop",
    "CrosswalkTable",
    "CurbUse",
    "Direction",
    "Intersection",
    "IntersectionControl",
    "LaneRole",
    "LaneTable",
    "Movement",
    "ParkingSpots",
    "PhasePlan",
    "Sidewalk",
    "SignalTimingConfig",
    "Street",
    "StreetClass",
    "StreetClassConfig",
    "Town",
    "TownConfig",
    "WalkSignalState",
    "WalkSignals",
    "conflicting_connector_pairs",
    "generate_town",
    "light_states",
    "walk_signals",
]
