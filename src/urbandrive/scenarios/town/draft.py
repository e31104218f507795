"""Mutable drafts used while the town is assembled; `freeze` turns them into map records."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.road_map import Crosswalk, Lane, LaneType, StopLine, TrafficSignal
from urbandrive.scenarios.town.curves import offset_boundaries
from urbandrive.scenarios.town.records import (
    BusStop,
    CrosswalkTable,
    LaneRole,
    LaneTable,
    Movement,
)


@dataclass(slots=True)
class LaneDraft:
    """A lane being built; points / tangents: float64[P, 2], map frame, metres."""

    id: int
    points: NDArrayF64
    tangents: NDArrayF64
    width_m: float
    lane_type: LaneType
    speed_limit_mps: float
    role: LaneRole
    street_id: int = -1
    direction: int = 0
    lane_index: int = -1
    movement: Movement = Movement.NONE
    intersection_id: int = -1
    is_boundary: bool = False
    left_mark: str = "NONE"
    right_mark: str = "NONE"
    left_neighbor: int | None = None
    right_neighbor: int | None = None
    successors: list[int] = field(default_factory=list)
    predecessors: list[int] = field(default_factory=list)

    def freeze(self) -> Lane:
        """The map's `Lane`, boundaries offset half the width along the exact normals."""
        left, right = offset_boundaries(self.points, self.tangents, self.width_m)
        return Lane(
            id=self.id,
            centerline=self.points,
            left_boundary=left,
            right_boundary=right,
            lane_type=self.lane_type,
            speed_limit_mps=self.speed_limit_mps,
            speed_limit_is_default=False,
            is_intersection=self.role == LaneRole.CONNECTOR,
            successors=tuple(self.successors),
            predecessors=tuple(self.predecessors),
            left_neighbor=self.left_neighbor,
            right_neighbor=self.right_neighbor,
            left_mark_type=self.left_mark,
            right_mark_type=self.right_mark,
        )


@dataclass(slots=True)
class CrosswalkDraft:
    crosswalk: Crosswalk
    intersection_id: int
    arm: int
    street_id: int


@dataclass(slots=True)
class MapDraft:
    """Everything collected so far; ids are handed out in creation order (deterministic)."""

    lanes: dict[int, LaneDraft] = field(default_factory=dict)
    crosswalks: list[CrosswalkDraft] = field(default_factory=list)
    stop_lines: dict[int, StopLine] = field(default_factory=dict)
    signals: dict[int, TrafficSignal] = field(default_factory=dict)
    bus_stops: list[BusStop] = field(default_factory=list)
    next_id: int = 1

    def new_id(self) -> int:
        """A fresh id (lanes, crosswalks, stop lines and signals share one counter)."""
        self.next_id += 1
        return self.next_id - 1

    def add_lane(self, **fields: object) -> LaneDraft:
        """A new lane draft with a fresh id; `fields` are `LaneDraft`'s."""
        lane = LaneDraft(id=self.new_id(), **fields)  # type: ignore[arg-type]
        self.lanes[lane.id] = lane
        return lane

    def link(self, predecessor_id: int, successor_id: int) -> None:
        """Record that `successor_id` continues `predecessor_id`, on both lanes."""
        self.lanes[predecessor_id].successors.append(successor_id)
        self.lanes[successor_id].predecessors.append(predecessor_id)

    def lane_table(self) -> LaneTable:
        """The lanes' index columns, in id order."""
        drafts = list(self.lanes.values())

        def column(name: str, dtype: type) -> np.ndarray:
            return np.array([int(getattr(d, name)) for d in drafts], dtype=dtype)

        return LaneTable(
            lane_ids=column("id", np.int64),
            street_ids=column("street_id", np.int64),
            directions=column("direction", np.int8),
            roles=column("role", np.int8),
            movements=column("movement", np.int8),
            intersection_ids=column("intersection_id", np.int64),
            lane_indices=column("lane_index", np.int64),
            is_boundary=np.array([d.is_boundary for d in drafts], dtype=bool),
        )

    def crosswalk_table(self) -> CrosswalkTable:
        """The crosswalks' index columns, in creation order."""
        return CrosswalkTable(
            crosswalk_ids=np.array([c.crosswalk.id for c in self.crosswalks], dtype=np.int64),
            intersection_ids=np.array([c.intersection_id for c in self.crosswalks], dtype=np.int64),
            arms=np.array([c.arm for c in self.crosswalks], dtype=np.int8),
            street_ids=np.array([c.street_id for c in self.crosswalks], dtype=np.int64),
        )
