"""Intersections: connector lanes for straight, left and right movements, stop lines,
crosswalks across every arm and, where signalised, one signal head per approach movement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.maps.road_map import Crosswalk, StopKind, StopLine, TrafficSignal
from urbandrive.scenarios.town.config import StreetClass, TownConfig
from urbandrive.scenarios.town.curves import connector_curve
from urbandrive.scenarios.town.draft import CrosswalkDraft, MapDraft
from urbandrive.scenarios.town.lanes import ArmKey, ArmLanes, crosswalk_polygon
from urbandrive.scenarios.town.layout import GridLayout, stop_distance_m
from urbandrive.scenarios.town.records import (
    Arm,
    Intersection,
    IntersectionControl,
    LaneRole,
    Movement,
)
from urbandrive.scenarios.town.streets import Street

#: Exit arm of each movement, as a turn of the incoming arm (arms count anticlockwise).
EXIT_ARM_SHIFT = {Movement.STRAIGHT: 2, Movement.LEFT: 3, Movement.RIGHT: 1}


@dataclass(frozen=True, slots=True)
class SignalHead:
    """One head: it controls the connectors of one movement from one arm."""

    signal_id: int
    arm: Arm
    movement: Movement
    connector_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BuiltIntersection:
    intersection: Intersection
    heads: tuple[SignalHead, ...]
    arm_streets: tuple[Street, ...]  # per Arm
    has_pocket: tuple[bool, ...]  # per Arm: its left turns leave from a left-turn pocket


def intersection_control(east_west: Street, north_south: Street) -> IntersectionControl:
    """Signals where an arterial is involved, all-way stops where two local streets meet."""
    if StreetClass.ARTERIAL in (east_west.street_class, north_south.street_class):
        return IntersectionControl.TRAFFIC_SIGNAL
    return IntersectionControl.ALL_WAY_STOP


def build_intersection(
    draft: MapDraft,
    config: TownConfig,
    layout: GridLayout,
    i: int,
    j: int,
    arms: dict[ArmKey, ArmLanes],
) -> BuiltIntersection:
    """Connectors, stop lines, crosswalks and signal heads of intersection (i, j)."""
    east_west, north_south = layout.east_west(j), layout.north_south(i)
    intersection_id = layout.intersection_id(i, j)
    control = intersection_control(east_west, north_south)
    arm_streets = (east_west, north_south, east_west, north_south)
    lanes_at = [arms.get((intersection_id, arm), ArmLanes()) for arm in Arm]
    movement_connectors = _build_connectors(draft, intersection_id, lanes_at)
    kind = (
        StopKind.TRAFFIC_LIGHT
        if control == IntersectionControl.TRAFFIC_SIGNAL
        else StopKind.STOP_SIGN
    )
    approach_lanes = tuple(_approach_lane_ids(lanes) for lanes in lanes_at)
    stop_line_ids = tuple(_stop_line(draft, ids, kind) for ids in approach_lanes if ids)
    center = np.array([layout.x_positions_m[i], layout.y_positions_m[j]])
    crosswalk_ids = tuple(
        _arm_crosswalk(draft, config, intersection_id, arm, arm_streets, center) for arm in Arm
    )
    heads: tuple[SignalHead, ...] = ()
    if control == IntersectionControl.TRAFFIC_SIGNAL:
        heads = _signal_heads(draft, movement_connectors)
    distances = [stop_distance_m(config, arm_streets[(arm + 1) % 4]) for arm in Arm]
    intersection = Intersection(
        id=intersection_id,
        center_xy=center,
        east_west_street_id=east_west.id,
        north_south_street_id=north_south.id,
        control=control,
        stop_distance_m=np.asarray(distances, dtype=np.float64),
        approach_lane_ids=approach_lanes,
        connector_ids=tuple(c for ids in movement_connectors.values() for c in ids),
        stop_line_ids=stop_line_ids,
        crosswalk_ids=crosswalk_ids,
        signal_ids=tuple(head.signal_id for head in heads),
    )
    has_pocket = tuple(lanes.pocket_in is not None for lanes in lanes_at)
    return BuiltIntersection(intersection, heads, arm_streets, has_pocket)


def _build_connectors(
    draft: MapDraft, intersection_id: int, lanes_at: list[ArmLanes]
) -> dict[tuple[Arm, Movement], list[int]]:
    """Connectors per (incoming arm, movement): every through lane straight on, the pocket (or
    innermost lane) left into the innermost exit lane, the right-turn (or outermost) lane right
    into the outermost exit lane, the bike lane straight on."""
    connectors: dict[tuple[Arm, Movement], list[int]] = {}
    for arm in Arm:
        incoming = lanes_at[arm]
        if not incoming.through_in:
            continue
        pairs: dict[Movement, list[tuple[int, int]]] = {}
        straight = lanes_at[(arm + EXIT_ARM_SHIFT[Movement.STRAIGHT]) % 4]
        pairs[Movement.STRAIGHT] = list(zip(incoming.through_in, straight.through_out, strict=True))
        if incoming.bike_in is not None and straight.bike_out is not None:
            pairs[Movement.STRAIGHT].append((incoming.bike_in, straight.bike_out))
        left = lanes_at[(arm + EXIT_ARM_SHIFT[Movement.LEFT]) % 4].through_out
        if left:
            source = (
                incoming.pocket_in if incoming.pocket_in is not None else incoming.through_in[0]
            )
            pairs[Movement.LEFT] = [(source, left[0])]
        right = lanes_at[(arm + EXIT_ARM_SHIFT[Movement.RIGHT]) % 4].through_out
        if right:
            source = incoming.right_in if incoming.right_in is not None else incoming.through_in[-1]
            pairs[Movement.RIGHT] = [(source, right[-1])]
        for movement, movement_pairs in pairs.items():
            connectors[(arm, movement)] = [
                _connect(draft, intersection_id, source, target, movement)
                for source, target in movement_pairs
            ]
    return connectors


def _connect(
    draft: MapDraft, intersection_id: int, source_id: int, target_id: int, movement: Movement
) -> int:
    """A connector lane from the end of `source_id` to the start of `target_id`; its id."""
    source, target = draft.lanes[source_id], draft.lanes[target_id]
    start_heading = float(np.arctan2(source.tangents[-1, 1], source.tangents[-1, 0]))
    end_heading = float(np.arctan2(target.tangents[0, 1], target.tangents[0, 0]))
    points, tangents = connector_curve(
        source.points[-1], start_heading, target.points[0], end_heading
    )
    lane = draft.add_lane(
        points=points,
        tangents=tangents,
        width_m=min(source.width_m, target.width_m),
        lane_type=source.lane_type,
        speed_limit_mps=min(source.speed_limit_mps, target.speed_limit_mps),
        role=LaneRole.CONNECTOR,
        movement=movement,
        intersection_id=intersection_id,
        is_boundary=source.is_boundary or target.is_boundary,
    )
    draft.link(source_id, lane.id)
    draft.link(lane.id, target_id)
    return lane.id


def _approach_lane_ids(lanes: ArmLanes) -> tuple[int, ...]:
    """Lanes ending at an arm's stop line, from the centre outwards."""
    ids = [lanes.pocket_in, *lanes.through_in, lanes.right_in, lanes.bike_in]
    return tuple(lane_id for lane_id in ids if lane_id is not None) if lanes.through_in else ()


def _stop_line(draft: MapDraft, lane_ids: tuple[int, ...], kind: StopKind) -> int:
    """A stop line across the ends of `lane_ids`, edge to edge; its id."""
    ends, rights, half_widths = [], [], []
    for lane_id in lane_ids:
        lane = draft.lanes[lane_id]
        tangent = lane.tangents[-1]
        ends.append(lane.points[-1])
        rights.append(np.array([tangent[1], -tangent[0]]))
        half_widths.append(lane.width_m / 2)
    right = rights[0]
    lateral = [float((end - ends[0]) @ right) for end in ends]
    inner = ends[0] + (min(lat - hw for lat, hw in zip(lateral, half_widths, strict=True))) * right
    outer = ends[0] + (max(lat + hw for lat, hw in zip(lateral, half_widths, strict=True))) * right
    stop_line = StopLine(
        id=draft.new_id(), xy=np.stack([inner, outer]), kind=kind, lane_ids=lane_ids
    )
    draft.stop_lines[stop_line.id] = stop_line
    return stop_line.id


def _arm_crosswalk(
    draft: MapDraft,
    config: TownConfig,
    intersection_id: int,
    arm: Arm,
    arm_streets: tuple[Street, ...],
    center: np.ndarray,
) -> int:
    """A crosswalk across the street of `arm`, just outside the box; its id."""
    street, cross = arm_streets[arm], arm_streets[(arm + 1) % 4]
    center_s = float(center @ street.tangent)
    sign = 1.0 if arm in (Arm.EAST, Arm.NORTH) else -1.0
    near = center_s + sign * (cross.half_width_m + config.crosswalk_gap_m)
    far = near + sign * config.crosswalk_width_m
    polygon = crosswalk_polygon(street, min(near, far), max(near, far))
    crosswalk = Crosswalk(id=draft.new_id(), polygon=polygon)
    draft.crosswalks.append(CrosswalkDraft(crosswalk, intersection_id, int(arm), street.id))
    return crosswalk.id


def _signal_heads(
    draft: MapDraft, movement_connectors: dict[tuple[Arm, Movement], list[int]]
) -> tuple[SignalHead, ...]:
    """One head per (arm, movement), placed over the stop line of the lanes it controls."""
    heads = []
    for (arm, movement), connector_ids in movement_connectors.items():
        starts = np.stack([draft.lanes[c].points[0] for c in connector_ids])
        signal = TrafficSignal(
            id=draft.new_id(), xy=starts.mean(axis=0), lane_ids=tuple(connector_ids)
        )
        draft.signals[signal.id] = signal
        heads.append(SignalHead(signal.id, arm, movement, tuple(connector_ids)))
    return tuple(heads)
