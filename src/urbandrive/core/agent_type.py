"""Agent categories shared by every dataset adapter, predictor and metric."""

import enum


class AgentType(enum.IntEnum):
    """What an agent is. Values index packed arrays (`types: int8[A]`)."""

    UNKNOWN = 0
    VEHICLE = 1
    LARGE_VEHICLE = 2  # buses, trucks, trailers
    CYCLIST = 3
    MOTORCYCLIST = 4
    PEDESTRIAN = 5
    ANIMAL = 6
    STATIC = 7  # bollards, cones, signs, barriers, parked-forever objects

    @property
    def is_vulnerable(self) -> bool:
        """Vulnerable road users: the clearance metrics treat them with larger buffers."""
        return self in _VULNERABLE

    @property
    def is_vehicle(self) -> bool:
        """Motorised road vehicles that follow lanes (cars, buses, trucks, motorcycles)."""
        return self in _VEHICLES


_VULNERABLE = frozenset(
    {AgentType.PEDESTRIAN, AgentType.CYCLIST, AgentType.MOTORCYCLIST, AgentType.ANIMAL}
)
_VEHICLES = frozenset({AgentType.VEHICLE, AgentType.LARGE_VEHICLE, AgentType.MOTORCYCLIST})

#: Typical (length, width) in metres, used when a source gives no size.
DEFAULT_SIZE_M: dict[AgentType, tuple[float, float]] = {
    AgentType.UNKNOWN: (1.0, 1.0),
    AgentType.VEHICLE: (4.7, 1.9),
    AgentType.LARGE_VEHICLE: (12.0, 2.6),
    AgentType.CYCLIST: (1.8, 0.7),
    AgentType.MOTORCYCLIST: (2.2, 0.9),
    AgentType.PEDESTRIAN: (0.6, 0.6),
    AgentType.ANIMAL: (1.0, 0.4),
    AgentType.STATIC: (0.5, 0.5),
}
