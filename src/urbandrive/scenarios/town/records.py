"""The generated town: its `RoadMap` plus what agents and scenario families need beyond it.

Struct-of-arrays tables index lanes and crosswalks by street, direction, role and
intersection; phase plans drive the signal heads; bus stops, parking spots and sidewalks are
kept for the agents that will use them. Map frame, float64 metres, seconds.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.maps.road_map import RoadMap
from urbandrive.scenarios.town.config import TownConfig
from urbandrive.scenarios.town.streets import Street


class Arm(enum.IntEnum):
    """The four arms of a grid intersection, by compass direction from its centre."""

    EAST = 0
    NORTH = 1
    WEST = 2
    SOUTH = 3


class Movement(enum.IntEnum):
    NONE = 0
    STRAIGHT = 1
    LEFT = 2
    RIGHT = 3


class LaneRole(enum.IntEnum):
    THROUGH = 0  # vehicle lane along a street
    LEFT_POCKET = 1  # left-turn-only lane in the median before an intersection
    RIGHT_TURN = 2  # right-turn-only lane in the curb strip before an intersection
    CONNECTOR = 3  # path through an intersection box (`Lane.is_intersection`)
    BIKE = 4
    PARKING = 5


class IntersectionControl(enum.IntEnum):
    TRAFFIC_SIGNAL = 0
    ALL_WAY_STOP = 1


class WalkSignalState(enum.IntEnum):
    UNCONTROLLED = 0  # no pedestrian signal (all-way stops, mid-block): drivers yield
    DONT_WALK = 1
    WALK = 2
    FLASHING_DONT_WALK = 3  # clearance: finish crossing, do not start


@dataclass(frozen=True, slots=True)
class LaneTable:
    """One row per lane of the road map (struct of arrays, all of length L).

    lane_ids: int64[L]; street_ids: int64[L] (-1 for connectors); directions: int8[L]
    (`Direction`, 0 for connectors); roles: int8[L] (`LaneRole`); movements: int8[L]
    (`Movement` of connectors, turn lanes' turn, else NONE); intersection_ids: int64[L] (the
    intersection a connector crosses or an approach lane enters, else -1); lane_indices:
    int64[L] (0 = innermost, -1 where it does not apply); is_boundary: bool[L] (on a stub
    that enters or leaves the map, or a connector to or from one).
    """

    lane_ids: NDArrayInt
    street_ids: NDArrayInt
    directions: NDArrayInt
    roles: NDArrayInt
    movements: NDArrayInt
    intersection_ids: NDArrayInt
    lane_indices: NDArrayInt
    is_boundary: NDArrayBool

    def select(
        self,
        role: LaneRole | None = None,
        street_id: int | None = None,
        direction: int | None = None,
        intersection_id: int | None = None,
    ) -> NDArrayInt:
        """int64[N]: ids of the lanes matching every filter given (None: any)."""
        keep = np.ones(self.lane_ids.shape, dtype=bool)
        for values, wanted in (
            (self.roles, role),
            (self.street_ids, street_id),
            (self.directions, direction),
            (self.intersection_ids, intersection_id),
        ):
            if wanted is not None:
                keep &= values == int(wanted)
        return self.lane_ids[keep]


@dataclass(frozen=True, slots=True)
class CrosswalkTable:
    """crosswalk_ids: int64[C]; intersection_ids: int64[C] (-1 mid-block); arms: int8[C]
    (`Arm` crossed, -1 mid-block); street_ids: int64[C], the street crossed."""

    crosswalk_ids: NDArrayInt
    intersection_ids: NDArrayInt
    arms: NDArrayInt
    street_ids: NDArrayInt


@dataclass(frozen=True, slots=True)
class Intersection:
    """A four-arm grid intersection.

    center_xy: float64[2]. stop_distance_m: float64[4], per `Arm`, centre to stop line along
    the arm. approach_lane_ids: per arm, the lanes ending at its stop line.
    """

    id: int
    center_xy: NDArrayF64
    east_west_street_id: int
    north_south_street_id: int
    control: IntersectionControl
    stop_distance_m: NDArrayF64
    approach_lane_ids: tuple[tuple[int, ...], ...]
    connector_ids: tuple[int, ...]
    stop_line_ids: tuple[int, ...]
    crosswalk_ids: tuple[int, ...]
    signal_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PhasePlan:
    """Fixed-time cycle of one signalised intersection.

    signal_ids: int64[S]; head_arms: int8[S] (`Arm` of the approach); head_movements: int8[S]
    (`Movement`). crosswalk_ids: int64[C]. phase_names: P names; phase_durations_s:
    float64[P]; signal_states: int8[P, S] (`TrafficLightState`); walk_states: int8[P, C]
    (`WalkSignalState`). At time t the plan is at `(t + offset_s) mod cycle_s`.
    """

    intersection_id: int
    signal_ids: NDArrayInt
    head_arms: NDArrayInt
    head_movements: NDArrayInt
    crosswalk_ids: NDArrayInt
    phase_names: tuple[str, ...]
    phase_durations_s: NDArrayF64
    signal_states: NDArrayInt
    walk_states: NDArrayInt
    offset_s: float
    protected_left_axes: tuple[int, ...]

    @property
    def cycle_s(self) -> float:
        return float(self.phase_durations_s.sum())

    def phase_index(self, times_s: NDArrayF64) -> NDArrayInt:
        """int64[T]: the phase in force at each of `times_s: float64[T]` (seconds)."""
        phase_ends_s = np.cumsum(self.phase_durations_s)
        in_cycle_s = np.mod(np.asarray(times_s, dtype=np.float64) + self.offset_s, self.cycle_s)
        index = np.searchsorted(phase_ends_s, in_cycle_s, side="right")
        return np.minimum(index, len(self.phase_durations_s) - 1)


@dataclass(frozen=True, slots=True)
class BusStop:
    """A curbside stop: xy float64[2] at the curb edge of `lane_id`, buses heading `heading_rad`."""

    id: int
    xy: NDArrayF64
    heading_rad: float
    street_id: int
    lane_id: int


@dataclass(frozen=True, slots=True)
class ParkingSpots:
    """xy: float64[N, 2] spot centres; heading_rad: float64[N]; lane_ids: int64[N] parking lanes."""

    xy: NDArrayF64
    heading_rad: NDArrayF64
    lane_ids: NDArrayInt


@dataclass(frozen=True, slots=True)
class Sidewalk:
    """A walkable area: exterior float64[P, 2] ring and hole rings (e.g. a block's interior).

    Rings are open (first != last). `shapely.Polygon(exterior, holes)` rebuilds it.
    """

    id: int
    exterior: NDArrayF64
    holes: tuple[NDArrayF64, ...]


@dataclass(frozen=True)
class Town:
    """Everything `generate_town(config, seed)` builds; the same seed gives the same town."""

    config: TownConfig
    seed: int
    road_map: RoadMap
    streets: tuple[Street, ...]
    intersections: tuple[Intersection, ...]
    lane_table: LaneTable
    crosswalk_table: CrosswalkTable
    phase_plans: Mapping[int, PhasePlan]
    bus_stops: tuple[BusStop, ...]
    parking_spots: ParkingSpots
    sidewalks: tuple[Sidewalk, ...]

    @property
    def intersections_by_id(self) -> dict[int, Intersection]:
        return {intersection.id: intersection for intersection in self.intersections}
