"""Lanes along the streets: through lanes between stop lines, left-turn pockets, right-turn
lanes, bike and parking lanes; bus stops and mid-block crosswalks on the way.

A street is cut into intervals between consecutive stop lines (the first and last are the
stubs to the map's edge). Travel coordinate u runs from 0 at the interval's start (in the
direction of travel) to its length; an approach with a turn lane is split where it begins.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from urbandrive.maps.road_map import DEFAULT_SPEED_LIMIT_MPS, Crosswalk, LaneType
from urbandrive.scenarios.town.config import CurbUse, StreetClass, TownConfig
from urbandrive.scenarios.town.curves import connector_curve, join_curves, straight_curve
from urbandrive.scenarios.town.draft import CrosswalkDraft, LaneDraft, MapDraft
from urbandrive.scenarios.town.layout import GridLayout, stop_distance_m
from urbandrive.scenarios.town.records import Arm, BusStop, LaneRole, Movement
from urbandrive.scenarios.town.streets import Axis, Direction, Street

#: Shortest turn lane worth building, metres.
MIN_TURN_LANE_M = 10.0


@dataclass(slots=True)
class ArmLanes:
    """Lane ids meeting one arm of one intersection; lists by lane index (0 innermost)."""

    through_in: list[int] = field(default_factory=list)
    pocket_in: int | None = None
    right_in: int | None = None
    bike_in: int | None = None
    through_out: list[int] = field(default_factory=list)
    bike_out: int | None = None


ArmKey = tuple[int, int]  # (intersection id, Arm)


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of one street between stop lines, low_m < high_m along the street's axis;
    low/high: the intersections at either end (None at the map's edge)."""

    street: Street
    low_m: float
    high_m: float
    low_intersection: int | None
    high_intersection: int | None

    @property
    def length_m(self) -> float:
        return self.high_m - self.low_m

    @property
    def is_stub(self) -> bool:
        return self.low_intersection is None or self.high_intersection is None

    def begin_m(self, direction: Direction) -> float:
        return self.low_m if direction == Direction.FORWARD else self.high_m

    def s_at(self, direction: Direction, u_m: np.ndarray) -> np.ndarray:
        """float64[N]: street arc position of travel distances u_m: float64[N]."""
        return self.begin_m(direction) + int(direction) * np.asarray(u_m, dtype=np.float64)


def high_arm(street: Street) -> Arm:
    """The arm on the street's +s side of an intersection."""
    return Arm.EAST if street.axis == Axis.EAST_WEST else Arm.NORTH


def outgoing_direction(arm: int) -> Direction:
    """Direction of travel of a street's traffic leaving an intersection through `arm`."""
    return Direction.FORWARD if arm in (Arm.EAST, Arm.NORTH) else Direction.BACKWARD


def street_intervals(config: TownConfig, layout: GridLayout, street: Street) -> list[Interval]:
    """The street's intervals from its start to its end, in +s order."""
    if street.axis == Axis.EAST_WEST:
        crossings = [
            (layout.x_positions_m[i], layout.north_south(i), layout.intersection_id(i, street.id))
            for i in range(layout.num_x)
        ]
    else:
        i = street.id - layout.num_y
        crossings = [
            (layout.y_positions_m[j], layout.east_west(j), layout.intersection_id(i, j))
            for j in range(layout.num_y)
        ]
    intervals, low_m, low_id = [], street.start_m, None
    for position, cross, intersection_id in crossings:
        distance = stop_distance_m(config, cross)
        intervals.append(
            Interval(street, low_m, float(position - distance), low_id, intersection_id)
        )
        low_m, low_id = float(position + distance), intersection_id
    intervals.append(Interval(street, low_m, street.end_m, low_id, None))
    return intervals


def turn_lane_length_m(config: TownConfig, interval: Interval) -> float:
    """Length of a pocket / right-turn lane that fits this interval (0 if none fits)."""
    length_m = min(config.left_pocket_length_m, interval.length_m / 2 - config.taper_length_m - 2.0)
    return length_m if length_m >= MIN_TURN_LANE_M else 0.0


def build_street_lanes(
    draft: MapDraft,
    config: TownConfig,
    layout: GridLayout,
    street: Street,
    arms: dict[ArmKey, ArmLanes],
    rng: np.random.Generator,
) -> None:
    """Add every lane of `street` to the draft and register them at the arms they meet."""
    for interval in street_intervals(config, layout, street):
        for direction in street.directions:
            _build_interval_direction(draft, config, layout, interval, direction, arms, rng)
        _maybe_midblock_crosswalk(draft, config, interval, rng)


def _approach_and_exit(
    interval: Interval, direction: Direction
) -> tuple[ArmKey | None, ArmKey | None]:
    """(intersection, arm) the interval's traffic enters at its end and leaves at its start."""
    high = high_arm(interval.street)
    low = Arm((high + 2) % 4)
    if direction == Direction.FORWARD:
        approach = None if interval.high_intersection is None else (interval.high_intersection, low)
        exit_ = None if interval.low_intersection is None else (interval.low_intersection, high)
    else:
        approach = None if interval.low_intersection is None else (interval.low_intersection, high)
        exit_ = None if interval.high_intersection is None else (interval.high_intersection, low)
    return approach, exit_


def _turn_exit_exists(layout: GridLayout, street: Street, approach: ArmKey, turn: Movement) -> bool:
    """Whether the cross street carries traffic away from the intersection on the turn's side."""
    exit_arm = (approach[1] + (3 if turn == Movement.LEFT else 1)) % 4
    intersection_id = approach[0]
    i, j = intersection_id % layout.num_x, intersection_id // layout.num_x
    cross = layout.north_south(i) if street.axis == Axis.EAST_WEST else layout.east_west(j)
    return cross.num_lanes(outgoing_direction(exit_arm)) > 0


def _build_interval_direction(
    draft: MapDraft,
    config: TownConfig,
    layout: GridLayout,
    interval: Interval,
    direction: Direction,
    arms: dict[ArmKey, ArmLanes],
    rng: np.random.Generator,
) -> None:
    """Through lanes (split where a turn lane begins), turn lanes, bike and parking lanes."""
    approach, exit_ = _approach_and_exit(interval, direction)
    has_pocket, has_right, split_m = _plan_turn_lanes(config, layout, interval, approach, rng)
    pieces = _through_pieces(draft, interval, direction, split_m)
    if approach is not None:
        arm = arms.setdefault(approach, ArmLanes())
        arm.through_in = [lane.id for lane in pieces[-1]]
        for lane in pieces[-1]:
            lane.intersection_id = approach[0]
        for wanted, turn in ((has_pocket, Movement.LEFT), (has_right, Movement.RIGHT)):
            if wanted and split_m is not None:
                where = (*approach, split_m)
                turn_id = _turn_lane(draft, config, interval, direction, pieces, turn, where)
                if turn == Movement.LEFT:
                    arm.pocket_in = turn_id
                else:
                    arm.right_in = turn_id
    if exit_ is not None:
        arms.setdefault(exit_, ArmLanes()).through_out = [lane.id for lane in pieces[0]]
    if interval.street.curb_use == CurbUse.BIKE:
        _bike_lane(draft, interval, direction, approach, exit_, arms)
    elif interval.street.curb_use == CurbUse.PARKING:
        parking_end_m = split_m if has_right else None
        _parking_lanes(draft, config, interval, direction, parking_end_m)
    _maybe_bus_stop(draft, config, interval, direction, pieces[0][-1].id, rng)


def _plan_turn_lanes(
    config: TownConfig,
    layout: GridLayout,
    interval: Interval,
    approach: ArmKey | None,
    rng: np.random.Generator,
) -> tuple[bool, bool, float | None]:
    """(left pocket?, right-turn lane?, travel distance where the approach splits or None).

    Pockets wherever the street has a median and the left exit exists; right-turn lanes on
    some arterial approaches whose curb strip is parking (the lane replaces it)."""
    street = interval.street
    right_draw = rng.random()
    turn_m = turn_lane_length_m(config, interval) if approach is not None else 0.0
    if approach is None or turn_m <= 0:
        return False, False, None
    has_pocket = street.median_width_m > 0 and _turn_exit_exists(
        layout, street, approach, Movement.LEFT
    )
    has_right = (
        street.curb_use == CurbUse.PARKING
        and street.street_class == StreetClass.ARTERIAL
        and right_draw < config.arterial.right_turn_lane_probability_per_approach
        and _turn_exit_exists(layout, street, approach, Movement.RIGHT)
    )
    if not (has_pocket or has_right):
        return False, False, None
    return has_pocket, has_right, interval.length_m - turn_m - config.taper_length_m


def _base_fields(
    interval: Interval, direction: Direction, lane_type: LaneType = LaneType.VEHICLE
) -> dict[str, object]:
    """Fields every lane of this interval and direction shares; bike and parking lanes get
    their type's default speed (the street's limit is for vehicles)."""
    street = interval.street
    is_vehicle = lane_type == LaneType.VEHICLE
    return {
        "lane_type": lane_type,
        "speed_limit_mps": street.speed_limit_mps
        if is_vehicle
        else DEFAULT_SPEED_LIMIT_MPS[lane_type],
        "street_id": street.id,
        "direction": int(direction),
        "is_boundary": interval.is_stub,
    }


def _through_pieces(
    draft: MapDraft, interval: Interval, direction: Direction, split_m: float | None
) -> list[list[LaneDraft]]:
    """Through lanes per piece (one piece, or two split at `split_m`), linked and neighboured."""
    street = interval.street
    bounds = [0.0, interval.length_m] if split_m is None else [0.0, split_m, interval.length_m]
    num_lanes = street.num_lanes(direction)
    pieces: list[list[LaneDraft]] = []
    for u_start, u_end in itertools.pairwise(bounds):
        s_ends = interval.s_at(direction, np.array([u_start, u_end]))
        piece = []
        for index in range(num_lanes):
            start, end = street.points(s_ends, street.lane_offset_m(direction, index), direction)
            points, tangents = straight_curve(start, end)
            piece.append(
                draft.add_lane(
                    points=points,
                    tangents=tangents,
                    width_m=street.lane_width_m,
                    role=LaneRole.THROUGH,
                    lane_index=index,
                    left_mark=_center_mark(street) if index == 0 else "DASHED_WHITE",
                    right_mark="SOLID_WHITE" if index == num_lanes - 1 else "DASHED_WHITE",
                    **_base_fields(interval, direction),
                )
            )
        for left, right in itertools.pairwise(piece):
            left.right_neighbor, right.left_neighbor = right.id, left.id
        if pieces:
            for before, after in zip(pieces[-1], piece, strict=True):
                draft.link(before.id, after.id)
        pieces.append(piece)
    return pieces


def _center_mark(street: Street) -> str:
    return "SOLID_YELLOW" if street.is_one_way else "DOUBLE_SOLID_YELLOW"


def _turn_lane(
    draft: MapDraft,
    config: TownConfig,
    interval: Interval,
    direction: Direction,
    pieces: list[list[LaneDraft]],
    turn: Movement,
    approach: tuple[int, int, float],
) -> int:
    """A turn lane that tapers out of the innermost (left) or outermost (right) through lane
    where the approach splits, then runs to the stop line; returns its id.

    approach: (intersection id, arm, travel distance of the split in metres).
    """
    street = interval.street
    is_left = turn == Movement.LEFT
    parent = pieces[0][0] if is_left else pieces[0][-1]
    beside = pieces[-1][0] if is_left else pieces[-1][-1]
    intersection_id, _, split_m = approach
    target_offset = 0.0 if is_left else street.curb_offset_m(direction)
    s_values = interval.s_at(
        direction, np.array([split_m, split_m + config.taper_length_m, interval.length_m])
    )
    start = parent.points[-1]
    taper_end, stop = street.points(s_values[1:], target_offset, direction)
    heading = street.heading_rad(direction)
    curve = join_curves(
        connector_curve(start, heading, taper_end, heading), straight_curve(taper_end, stop)
    )
    lane = draft.add_lane(
        points=curve[0],
        tangents=curve[1],
        width_m=street.median_width_m if is_left else street.curb_width_m,
        role=LaneRole.LEFT_POCKET if is_left else LaneRole.RIGHT_TURN,
        movement=turn,
        intersection_id=intersection_id,
        left_mark="DOUBLE_SOLID_YELLOW" if is_left else "SOLID_WHITE",
        right_mark="SOLID_WHITE" if is_left else "NONE",
        **_base_fields(interval, direction),
    )
    draft.link(parent.id, lane.id)
    if is_left:
        lane.right_neighbor, beside.left_neighbor, beside.left_mark = (
            beside.id,
            lane.id,
            "SOLID_WHITE",
        )
    else:
        lane.left_neighbor, beside.right_neighbor = beside.id, lane.id
    return lane.id


def _bike_lane(
    draft: MapDraft,
    interval: Interval,
    direction: Direction,
    approach: ArmKey | None,
    exit_: ArmKey | None,
    arms: dict[ArmKey, ArmLanes],
) -> None:
    """The curbside bike lane, stop line to stop line, registered at both arms."""
    street = interval.street
    s_ends = interval.s_at(direction, np.array([0.0, interval.length_m]))
    start, end = street.points(s_ends, street.curb_offset_m(direction), direction)
    points, tangents = straight_curve(start, end)
    bike = draft.add_lane(
        points=points,
        tangents=tangents,
        width_m=street.curb_width_m,
        role=LaneRole.BIKE,
        left_mark="SOLID_WHITE",
        right_mark="NONE",
        **_base_fields(interval, direction, LaneType.BIKE),
    )
    if approach is not None:
        arms.setdefault(approach, ArmLanes()).bike_in = bike.id
        bike.intersection_id = approach[0]
    if exit_ is not None:
        arms.setdefault(exit_, ArmLanes()).bike_out = bike.id


def _parking_lanes(
    draft: MapDraft,
    config: TownConfig,
    interval: Interval,
    direction: Direction,
    end_m: float | None,
) -> None:
    """Curbside parking, kept `curb_radius_m` off the corners and ending at `end_m` (travel
    distance) where a right-turn lane takes the strip over; both sides of one-way streets."""
    street = interval.street
    u_end = interval.length_m if end_m is None else end_m
    u_range = np.array([config.curb_radius_m, u_end - config.curb_radius_m])
    if u_range[1] - u_range[0] < config.parking_spot_length_m:
        return
    offsets = [street.curb_offset_m(direction)]
    if street.is_one_way:
        offsets.append(-street.curb_offset_m(direction))
    for offset in offsets:
        start, end = street.points(interval.s_at(direction, u_range), offset, direction)
        points, tangents = straight_curve(start, end)
        draft.add_lane(
            points=points,
            tangents=tangents,
            width_m=street.curb_width_m,
            role=LaneRole.PARKING,
            left_mark="SOLID_WHITE" if offset > 0 else "NONE",
            right_mark="NONE" if offset > 0 else "SOLID_WHITE",
            **_base_fields(interval, direction, LaneType.PARKING),
        )


def _maybe_bus_stop(
    draft: MapDraft,
    config: TownConfig,
    interval: Interval,
    direction: Direction,
    outer_lane_id: int,
    rng: np.random.Generator,
) -> None:
    """A far-side bus stop just past the intersection the interval leaves, at the curb."""
    street = interval.street
    draw = rng.random()
    if street.street_class != StreetClass.ARTERIAL or interval.is_stub or interval.length_m < 40:
        return
    if draw >= config.arterial.bus_stop_probability_per_block_side:
        return
    u_m = min(20.0, interval.length_m / 3)
    curb_offset = street.curb_offset_m(direction) + street.curb_width_m / 2
    xy = street.points(interval.s_at(direction, np.array([u_m])), curb_offset, direction)[0]
    draft.bus_stops.append(
        BusStop(
            id=len(draft.bus_stops),
            xy=xy,
            heading_rad=street.heading_rad(direction),
            street_id=street.id,
            lane_id=outer_lane_id,
        )
    )


def _maybe_midblock_crosswalk(
    draft: MapDraft, config: TownConfig, interval: Interval, rng: np.random.Generator
) -> None:
    """A crosswalk across a local street halfway along a long enough block."""
    street = interval.street
    draw = rng.random()
    rules = config.local
    if street.street_class != StreetClass.LOCAL or interval.is_stub or interval.length_m < 50:
        return
    if draw >= rules.midblock_crosswalk_probability_per_block:
        return
    middle = (interval.low_m + interval.high_m) / 2
    polygon = crosswalk_polygon(
        street, middle - config.crosswalk_width_m / 2, middle + config.crosswalk_width_m / 2
    )
    draft.crosswalks.append(CrosswalkDraft(Crosswalk(draft.new_id(), polygon), -1, -1, street.id))


def crosswalk_polygon(street: Street, s_low_m: float, s_high_m: float) -> np.ndarray:
    """float64[4, 2]: curb-to-curb rectangle across `street` between two arc positions."""
    half = street.half_width_m
    corners_s = np.array([s_low_m, s_high_m, s_high_m, s_low_m])
    lateral = np.array([-half, -half, half, half])
    return (
        street.origin
        + np.multiply.outer(corners_s, street.tangent)
        + np.multiply.outer(lateral, street.normal)
    )
