"""Streets of the grid: their cross-section (lanes, median, curb strip) and their frame.

A street runs along an axis; its frame has tangent `t` (+x for east-west streets, +y for
north-south ones) and normal `n` to the left of `t`. A point at arc position `s` and lateral
offset `v` is `origin + s t + v n` (metres, map frame). FORWARD traffic travels along +t on the
right-hand side (v < 0), BACKWARD along -t (v > 0). Lane index 0 is the innermost lane (next to
the centre line or median; on one-way streets the leftmost).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.scenarios.town.config import CurbUse, StreetClass


class Axis(enum.IntEnum):
    EAST_WEST = 0  # runs along x at a fixed y
    NORTH_SOUTH = 1  # runs along y at a fixed x


class Direction(enum.IntEnum):
    FORWARD = 1  # travels +t: east or north
    BACKWARD = -1  # travels -t: west or south


@dataclass(frozen=True, slots=True)
class Street:
    """One straight street across the whole town, from `start_m` to `end_m` along its axis.

    coordinate_m: its y (east-west) or x (north-south), metres. lanes_forward / lanes_backward:
    vehicle lanes per direction (one of them 0 on one-way streets). median_width_m: painted
    median that holds left-turn pockets (0 without). curb_width_m: width of the curb strip
    (bike or parking lane) on each side where traffic of that side flows; one-way streets
    carry parking on both sides.
    """

    id: int
    axis: Axis
    coordinate_m: float
    start_m: float
    end_m: float
    street_class: StreetClass
    lanes_forward: int
    lanes_backward: int
    lane_width_m: float
    median_width_m: float
    curb_use: CurbUse
    curb_width_m: float
    speed_limit_mps: float

    @property
    def is_one_way(self) -> bool:
        return self.lanes_forward == 0 or self.lanes_backward == 0

    @property
    def directions(self) -> tuple[Direction, ...]:
        """Directions that carry traffic."""
        counts = {Direction.FORWARD: self.lanes_forward, Direction.BACKWARD: self.lanes_backward}
        return tuple(d for d in Direction if counts[d] > 0)

    @property
    def half_width_m(self) -> float:
        """Curb-to-centre distance, metres (streets are symmetric about their axis)."""
        if self.is_one_way:
            return self.num_lanes(self.directions[0]) * self.lane_width_m / 2 + self.curb_width_m
        return self.median_width_m / 2 + self.lanes_forward * self.lane_width_m + self.curb_width_m

    @property
    def tangent(self) -> NDArrayF64:
        """float64[2], unit vector along +s."""
        return np.array([1.0, 0.0]) if self.axis == Axis.EAST_WEST else np.array([0.0, 1.0])

    @property
    def normal(self) -> NDArrayF64:
        """float64[2], unit vector to the left of the tangent."""
        return np.array([0.0, 1.0]) if self.axis == Axis.EAST_WEST else np.array([-1.0, 0.0])

    @property
    def origin(self) -> NDArrayF64:
        """float64[2], the point at s = 0 on the street's axis."""
        if self.axis == Axis.EAST_WEST:
            return np.array([0.0, self.coordinate_m])
        return np.array([self.coordinate_m, 0.0])

    def num_lanes(self, direction: Direction) -> int:
        return self.lanes_forward if direction == Direction.FORWARD else self.lanes_backward

    def inner_edge_offset_m(self, direction: Direction) -> float:
        """Offset to the right of travel of lane 0's left edge, metres (< 0 on one-way streets)."""
        if self.is_one_way:
            return -self.num_lanes(direction) * self.lane_width_m / 2
        return self.median_width_m / 2

    def lane_offset_m(self, direction: Direction, lane_index: int) -> float:
        """Offset of a lane's centre to the right of travel, metres."""
        return self.inner_edge_offset_m(direction) + (lane_index + 0.5) * self.lane_width_m

    def curb_offset_m(self, direction: Direction) -> float:
        """Offset of the right curb strip's centre to the right of travel, metres."""
        outer = self.inner_edge_offset_m(direction) + self.num_lanes(direction) * self.lane_width_m
        return outer + self.curb_width_m / 2

    def points(self, s_m: NDArrayF64, offset_m: float, direction: Direction) -> NDArrayF64:
        """float64[N, 2] map points at arc positions s_m: float64[N], `offset_m` right of travel."""
        lateral_m = -int(direction) * offset_m
        return self.origin + np.multiply.outer(s_m, self.tangent) + lateral_m * self.normal

    def heading_rad(self, direction: Direction) -> float:
        """Heading of travel in `direction`, radians CCW from +x, in (-pi, pi]."""
        base = 0.0 if self.axis == Axis.EAST_WEST else np.pi / 2
        return (
            base
            if direction == Direction.FORWARD
            else float(np.arctan2(-np.sin(base), -np.cos(base)))
        )
