"""CommonRoad lanelet network (XML 2018b / 2020a) -> `RoadMap` and traffic-light cycles.

A lanelet has a left and a right bound drawn in its own direction of travel (an opposite-
direction neighbour draws the shared bound the other way), so the centreline is the midline of
its own two bounds. Conversion rules:

- laneletType `crosswalk` -> `Crosswalk` (left bound + reversed right bound), not a lane;
  `sidewalk` -> not a lane (its id is kept in `LaneletNetwork.skipped_lanelets`);
  `bicycleLane` -> BIKE, `busLane` / `busStop` -> BUS, `parking` -> PARKING, only
  `unknown` / `border` -> UNKNOWN, anything else (or none, as in 2018b) -> VEHICLE.
  `intersection` types and the lanelets an `<intersection>` names as turn successors are
  `is_intersection`.
- Only `drivingDir="same"` adjacency becomes `left_neighbor` / `right_neighbor`.
- Line markings carry no colour in CommonRoad: solid / broad_solid -> "SOLID_WHITE",
  dashed / broad_dashed -> "DASHED_WHITE", no_marking -> "NONE", absent -> "UNKNOWN".
- Speed limit: 2018b `<speedLimit>` (m/s), else the smallest max-speed sign the lanelet
  references (country-specific sign ids, value in m/s), else the per-type default.
- A `StopLine` per lanelet (id = lanelet id) at its `<stopLine>` points or, without points,
  across its end: TRAFFIC_LIGHT if the lanelet or the line references a light, else STOP_SIGN /
  YIELD from a referenced stop / yield sign (the sign's last lanelet when several in a row
  reference it).
- A `TrafficSignal` per light (id = light id) at its position (else at the stop line of a
  lanelet referencing it), controlling the lanelets that reference it.
- Drivable areas: the lane polygons (crosswalks and sidewalks excluded); their union is the
  drivable area (`RoadMap.index` builds it once).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from urbandrive.core.errors import DataError
from urbandrive.core.traffic_light import TrafficLightState, TrafficLightStates
from urbandrive.core.typing import NDArrayF64, NDArrayInt
from urbandrive.geometry.polyline import midline
from urbandrive.maps.road_map import (
    DEFAULT_SPEED_LIMIT_MPS,
    Crosswalk,
    Lane,
    LaneType,
    RoadMap,
    StopKind,
    StopLine,
    TrafficSignal,
)

_LANE_TYPES = {
    "bicycleLane": LaneType.BIKE,
    "busLane": LaneType.BUS,
    "busStop": LaneType.BUS,
    "parking": LaneType.PARKING,
}
_UNKNOWN_LANELET_TYPES = frozenset({"unknown", "border"})
MARK_TYPES = {
    "solid": "SOLID_WHITE",
    "broad_solid": "SOLID_WHITE",
    "dashed": "DASHED_WHITE",
    "broad_dashed": "DASHED_WHITE",
    "no_marking": "NONE",
    "unknown": "UNKNOWN",
}
#: Cycle colours -> states; redYellow (red about to turn green) still means stop.
LIGHT_COLORS = {
    "red": TrafficLightState.RED,
    "redYellow": TrafficLightState.RED,
    "yellow": TrafficLightState.YELLOW,
    "green": TrafficLightState.GREEN,
    "inactive": TrafficLightState.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class SignIds:
    """Traffic-sign ids (`trafficSignID` text) that matter for driving, in one country."""

    max_speed: frozenset[str]
    stop: frozenset[str]
    yield_: frozenset[str]


#: By ISO country code (the benchmark id's prefix). USA: MUTCD; Spain: its catalogue; every
#: other country uses CommonRoad's default (German StVO) ids, as commonroad-io does.
SIGN_IDS: dict[str, SignIds] = {
    "USA": SignIds(frozenset({"R2-1"}), frozenset({"R1-1"}), frozenset({"R1-2"})),
    "ESP": SignIds(frozenset({"r301"}), frozenset({"r2"}), frozenset({"r1"})),
}
DEFAULT_SIGN_IDS = SignIds(frozenset({"274", "274.1"}), frozenset({"206"}), frozenset({"205"}))


@dataclass(frozen=True, slots=True)
class LightCycle:
    """One traffic light's cycle in time steps (CommonRoad semantics: the state at step t is
    the element holding `(t - time_offset) mod sum(durations)`).

    colors: int8[E], `TrafficLightState` per cycle element; durations: int64[E], steps (> 0).
    """

    signal_id: int
    colors: NDArrayInt
    durations: NDArrayInt
    time_offset: int = 0
    active: bool = True
    direction: str = "all"


@dataclass(frozen=True, slots=True)
class LaneletNetwork:
    """The map plus what the rest of the file refers to.

    outlines: lanelet id -> float64[P, 2] polygon (left bound, reversed right bound), for every
    lanelet including crosswalks and sidewalks (goal regions and states may name lanelets).
    skipped_lanelets: lanelet type -> ids of lanelets that are neither lanes nor crosswalks.
    unassigned_stop_lines: lanelets whose `<stopLine>` references no light or sign.
    """

    road_map: RoadMap
    light_cycles: tuple[LightCycle, ...]
    outlines: Mapping[int, NDArrayF64]
    skipped_lanelets: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    unassigned_stop_lines: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Lanelet:
    """One `<lanelet>` as read. left, right: float64[P, 2]; stop_line: float64[2, 2] or None."""

    id: int
    left: NDArrayF64
    right: NDArrayF64
    types: frozenset[str]
    successors: tuple[int, ...]
    predecessors: tuple[int, ...]
    left_same: int | None
    right_same: int | None
    left_mark: str
    right_mark: str
    speed_limit_mps: float | None
    sign_refs: tuple[int, ...]
    light_refs: tuple[int, ...]
    stop_line: NDArrayF64 | None
    has_stop_line: bool

    @property
    def outline(self) -> NDArrayF64:
        return np.concatenate([self.left, self.right[::-1]], axis=0)


# -- XML helpers shared with the scenario reader -------------------------------------------


def points_of(element: ET.Element | None, where: str) -> NDArrayF64:
    """float64[P, 2] from the `<point><x/><y/></point>` children of `element`."""
    if element is None:
        raise DataError(f"{where}: points missing")
    xs, ys = element.findall("point/x"), element.findall("point/y")
    if len(xs) != len(ys) or len(xs) != len(element.findall("point")):
        raise DataError(f"{where}: a point lacks its x or y")
    try:
        values = np.array([float(e.text or "") for e in xs + ys], dtype=np.float64)
    except ValueError as error:
        raise DataError(f"{where}: a coordinate is not a number ({error})") from error
    return values.reshape(2, -1).T.copy()


def float_of(element: ET.Element, path: str, where: str) -> float:
    """The number in the child at `path`; `DataError` naming `where` and `path` if bad."""
    text = element.findtext(path)
    if text is None:
        raise DataError(f"{where}: <{path}> missing")
    try:
        return float(text)
    except ValueError as error:
        raise DataError(f"{where}: <{path}> is {text!r}, not a number") from error


def int_attribute(element: ET.Element, name: str, where: str) -> int:
    """The integer attribute `name` (an `id` or `ref`) of `element`."""
    text = element.get(name)
    try:
        return int(text or "")
    except ValueError as error:
        raise DataError(f"{where}: <{element.tag}> has {name}={text!r}, not an integer") from error


def refs_of(element: ET.Element, tag: str, where: str) -> tuple[int, ...]:
    """The `ref` attributes of the children named `tag`."""
    return tuple(int_attribute(child, "ref", where) for child in element.findall(tag))


# -- lanelets -------------------------------------------------------------------------------


def _read_lanelet(element: ET.Element, where: str) -> _Lanelet:
    lanelet_id = int_attribute(element, "id", where)
    where = f"{where}: lanelet {lanelet_id}"
    left = points_of(element.find("leftBound"), f"{where} leftBound")
    right = points_of(element.find("rightBound"), f"{where} rightBound")
    if min(len(left), len(right)) < 2:
        raise DataError(f"{where}: a bound has fewer than 2 points")
    stop = element.find("stopLine")
    stop_xy = None if stop is None or stop.find("point") is None else points_of(stop, where)
    speed = element.find("speedLimit")
    return _Lanelet(
        id=lanelet_id,
        left=left,
        right=right,
        types=frozenset((e.text or "").strip() for e in element.findall("laneletType")),
        successors=refs_of(element, "successor", where),
        predecessors=refs_of(element, "predecessor", where),
        left_same=_same_direction(element.find("adjacentLeft"), where),
        right_same=_same_direction(element.find("adjacentRight"), where),
        left_mark=_mark(element.find("leftBound"), where),
        right_mark=_mark(element.find("rightBound"), where),
        speed_limit_mps=None if speed is None else float_of(element, "speedLimit", where),
        sign_refs=refs_of(element, "trafficSignRef", where)
        + (() if stop is None else refs_of(stop, "trafficSignRef", where)),
        light_refs=refs_of(element, "trafficLightRef", where)
        + (() if stop is None else refs_of(stop, "trafficLightRef", where)),
        stop_line=None if stop_xy is None else stop_xy[[0, -1]],
        has_stop_line=stop is not None,
    )


def _same_direction(element: ET.Element | None, where: str) -> int | None:
    """The adjacent lanelet's id if it drives the same way, else None."""
    if element is None:
        return None
    direction = element.get("drivingDir")
    if direction not in ("same", "opposite"):
        raise DataError(f"{where}: <{element.tag}> has drivingDir={direction!r}")
    return int_attribute(element, "ref", where) if direction == "same" else None


def _mark(bound: ET.Element | None, where: str) -> str:
    text = None if bound is None else bound.findtext("lineMarking")
    if text is None:
        return "UNKNOWN"
    if text.strip() not in MARK_TYPES:
        raise DataError(f"{where}: unknown lineMarking {text!r}")
    return MARK_TYPES[text.strip()]


def _lane_type(types: frozenset[str]) -> LaneType:
    for name, lane_type in _LANE_TYPES.items():
        if name in types:
            return lane_type
    if types and types <= _UNKNOWN_LANELET_TYPES:
        return LaneType.UNKNOWN
    return LaneType.VEHICLE


def _check_references(
    lanelets: Mapping[int, _Lanelet], signs: set[int], lights: set[int], where: str
) -> None:
    """`DataError` for the first reference to a lanelet, sign or light not in the file."""
    for lanelet in lanelets.values():
        named = lanelet.successors + lanelet.predecessors
        named += tuple(i for i in (lanelet.left_same, lanelet.right_same) if i is not None)
        for kind, refs, known in (
            ("lanelet", named, lanelets),
            ("traffic sign", lanelet.sign_refs, signs),
            ("traffic light", lanelet.light_refs, lights),
        ):
            missing = [ref for ref in refs if ref not in known]
            if missing:
                raise DataError(
                    f"{where}: lanelet {lanelet.id} references {kind} {missing[0]} "
                    "which is not in the network"
                )


# -- traffic signs and lights ----------------------------------------------------------------


def _read_signs(root: ET.Element, where: str) -> dict[int, list[tuple[str, list[str]]]]:
    """Sign id -> [(trafficSignID, additional values)] per element."""
    signs = {}
    for element in root.findall("trafficSign"):
        sign_id = int_attribute(element, "id", f"{where}: trafficSign")
        signs[sign_id] = [
            (
                (part.findtext("trafficSignID") or "").strip(),
                [(value.text or "").strip() for value in part.findall("additionalValue")],
            )
            for part in element.findall("trafficSignElement")
        ]
    return signs


def _read_light(element: ET.Element, where: str) -> tuple[LightCycle, NDArrayF64 | None]:
    """The cycle of one `<trafficLight>` and its position (float64[2], or None if absent)."""
    light_id = int_attribute(element, "id", f"{where}: trafficLight")
    where = f"{where}: traffic light {light_id}"
    parts = element.findall("cycle/cycleElement")
    if not parts:
        raise DataError(f"{where}: its cycle has no cycleElement")
    colors = [(part.findtext("color") or "").strip() for part in parts]
    unknown = [color for color in colors if color not in LIGHT_COLORS]
    if unknown:
        raise DataError(f"{where}: unknown cycle colour {unknown[0]!r}")
    durations = np.array([float_of(part, "duration", where) for part in parts])
    if np.any(durations <= 0) or np.any(durations != np.round(durations)):
        raise DataError(f"{where}: cycle durations must be positive whole steps, got {durations}")
    offset = element.find("cycle/timeOffset")
    position = element.find("position")
    cycle = LightCycle(
        signal_id=light_id,
        colors=np.array([LIGHT_COLORS[color] for color in colors], dtype=np.int8),
        durations=durations.astype(np.int64),
        time_offset=0 if offset is None else int(float_of(element, "cycle/timeOffset", where)),
        active=(element.findtext("active") or "true").strip() == "true",
        direction=(element.findtext("direction") or "all").strip(),
    )
    return cycle, None if position is None else points_of(position, where)[0]


def light_states(cycles: tuple[LightCycle, ...], num_steps: int) -> TrafficLightStates:
    """States int8[S, T] of every light at steps 0..T-1, vectorised over steps.

    An inactive light (`active` false) is UNKNOWN throughout, as is an `inactive` element.
    """
    steps = np.arange(num_steps, dtype=np.int64)
    states = np.full((len(cycles), num_steps), TrafficLightState.UNKNOWN, dtype=np.int8)
    for row, cycle in enumerate(cycles):
        if not cycle.active:
            continue
        ends = np.cumsum(cycle.durations)
        phase = (steps - cycle.time_offset) % ends[-1]
        states[row] = cycle.colors[np.searchsorted(ends, phase, side="right")]
    ids = np.array([cycle.signal_id for cycle in cycles], dtype=np.int64)
    return TrafficLightStates(signal_ids=ids, states=states)


# -- the network ------------------------------------------------------------------------------


def read_lanelet_network(root: ET.Element, where: str, country: str) -> LaneletNetwork:
    """The `RoadMap` (validated) of a CommonRoad document and its light cycles.

    root: the `<commonRoad>` element; where: the file, for messages; country: ISO code
    choosing the sign ids (`SIGN_IDS`).
    """
    lanelets = {
        lane.id: lane for lane in (_read_lanelet(e, where) for e in root.findall("lanelet"))
    }
    signs = _read_signs(root, where)
    lights = [_read_light(element, where) for element in root.findall("trafficLight")]
    _check_references(lanelets, set(signs), {cycle.signal_id for cycle, _ in lights}, where)
    kinds = _sign_kinds(signs, SIGN_IDS.get(country, DEFAULT_SIGN_IDS), where)
    lane_ids = {i for i, lane in lanelets.items() if not lane.types & {"crosswalk", "sidewalk"}}
    in_intersection = _intersection_lanelets(root, where)
    lanes = {
        i: _lane(lanelets[i], lane_ids, in_intersection, kinds, where) for i in sorted(lane_ids)
    }
    stop_lines, unassigned = _stop_lines(lanelets, lane_ids, kinds)
    road_map = RoadMap(
        lanes=lanes,
        crosswalks={
            i: Crosswalk(id=i, polygon=lane.outline)
            for i, lane in lanelets.items()
            if "crosswalk" in lane.types
        },
        stop_lines=stop_lines,
        signals=_signals(lights, lanelets, where),
        drivable_areas=tuple(lanelets[i].outline for i in lanes),
        source=where,
    )
    road_map.validate()
    sidewalks = tuple(i for i, lane in lanelets.items() if lane.types == {"sidewalk"})
    return LaneletNetwork(
        road_map=road_map,
        light_cycles=tuple(cycle for cycle, _ in lights),
        outlines={i: lane.outline for i, lane in lanelets.items()},
        skipped_lanelets={"sidewalk": sidewalks} if sidewalks else {},
        unassigned_stop_lines=unassigned,
    )


def _sign_kinds(
    signs: Mapping[int, list[tuple[str, list[str]]]], ids: SignIds, where: str
) -> dict[int, tuple[StopKind | None, float | None]]:
    """Sign id -> (STOP_SIGN / YIELD or None, max speed in m/s or None)."""
    kinds: dict[int, tuple[StopKind | None, float | None]] = {}
    for sign_id, parts in signs.items():
        stop_kind, speed = None, None
        for name, values in parts:
            if name in ids.stop:
                stop_kind = StopKind.STOP_SIGN
            elif name in ids.yield_ and stop_kind is None:
                stop_kind = StopKind.YIELD
            elif name in ids.max_speed:
                if not values:
                    raise DataError(f"{where}: speed-limit sign {sign_id} has no additionalValue")
                try:
                    speed = float(values[0])
                except ValueError as error:
                    raise DataError(
                        f"{where}: speed-limit sign {sign_id} has value {values[0]!r}"
                    ) from error
        kinds[sign_id] = (stop_kind, speed)
    return kinds


def _intersection_lanelets(root: ET.Element, where: str) -> set[int]:
    """Lanelets an `<intersection>` names as turn successors or crossings."""
    named: set[int] = set()
    for tag in ("successorsLeft", "successorsRight", "successorsStraight", "crossingLanelet"):
        for element in root.iterfind(f"intersection//{tag}"):
            named.add(int_attribute(element, "ref", f"{where}: intersection"))
    return named


def _lane(
    lanelet: _Lanelet,
    lane_ids: set[int],
    in_intersection: set[int],
    kinds: Mapping[int, tuple[StopKind | None, float | None]],
    where: str,
) -> Lane:
    lane_type = _lane_type(lanelet.types)
    sign_speeds = [kinds[s][1] for s in lanelet.sign_refs if kinds[s][1] is not None]
    speed = lanelet.speed_limit_mps if lanelet.speed_limit_mps is not None else None
    speed = min(sign_speeds) if speed is None and sign_speeds else speed
    if speed is not None and not speed > 0:
        raise DataError(f"{where}: lanelet {lanelet.id} has speed limit {speed}")

    def lanes_only(ids: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(i for i in ids if i in lane_ids)

    return Lane(
        id=lanelet.id,
        centerline=midline(lanelet.left, lanelet.right),
        left_boundary=lanelet.left,
        right_boundary=lanelet.right,
        lane_type=lane_type,
        speed_limit_mps=DEFAULT_SPEED_LIMIT_MPS[lane_type] if speed is None else speed,
        speed_limit_is_default=speed is None,
        is_intersection="intersection" in lanelet.types or lanelet.id in in_intersection,
        successors=lanes_only(lanelet.successors),
        predecessors=lanes_only(lanelet.predecessors),
        left_neighbor=lanelet.left_same if lanelet.left_same in lane_ids else None,
        right_neighbor=lanelet.right_same if lanelet.right_same in lane_ids else None,
        left_mark_type=lanelet.left_mark,
        right_mark_type=lanelet.right_mark,
    )


def _stop_lines(
    lanelets: Mapping[int, _Lanelet],
    lane_ids: set[int],
    kinds: Mapping[int, tuple[StopKind | None, float | None]],
) -> tuple[dict[int, StopLine], tuple[int, ...]]:
    """One stop line per lane that must stop (see the module docstring); unassigned lines."""
    stop_lines, unassigned = {}, []
    for lane_id in sorted(lane_ids):
        lanelet = lanelets[lane_id]
        kind = _stop_kind(lanelet, lanelets, kinds)
        if kind is None:
            if lanelet.has_stop_line:
                unassigned.append(lane_id)
            continue
        xy = lanelet.stop_line
        if xy is None:
            xy = np.stack([lanelet.left[-1], lanelet.right[-1]])
        stop_lines[lane_id] = StopLine(id=lane_id, xy=xy, kind=kind, lane_ids=(lane_id,))
    return stop_lines, tuple(unassigned)


def _stop_kind(
    lanelet: _Lanelet,
    lanelets: Mapping[int, _Lanelet],
    kinds: Mapping[int, tuple[StopKind | None, float | None]],
) -> StopKind | None:
    """TRAFFIC_LIGHT, else a stop / yield sign not continued by a successor, else None."""
    if lanelet.light_refs:
        return StopKind.TRAFFIC_LIGHT
    found = None
    for sign_id in lanelet.sign_refs:
        kind = kinds[sign_id][0]
        continued = any(sign_id in lanelets[s].sign_refs for s in lanelet.successors)
        if kind is not None and (lanelet.has_stop_line or not continued):
            found = kind if found is None else min(found, kind)  # STOP_SIGN beats YIELD
    return found


def _signals(
    lights: list[tuple[LightCycle, NDArrayF64 | None]],
    lanelets: Mapping[int, _Lanelet],
    where: str,
) -> dict[int, TrafficSignal]:
    """A signal per light, controlling the lanelets that reference it."""
    signals = {}
    for cycle, position in lights:
        lane_ids = tuple(i for i, lane in lanelets.items() if cycle.signal_id in lane.light_refs)
        if position is None:
            if not lane_ids:
                raise DataError(
                    f"{where}: traffic light {cycle.signal_id} has no position and no lanelet"
                )
            lanelet = lanelets[lane_ids[0]]
            line = lanelet.stop_line
            if line is None:
                line = np.stack([lanelet.left[-1], lanelet.right[-1]])
            position = line.mean(axis=0)
        signals[cycle.signal_id] = TrafficSignal(id=cycle.signal_id, xy=position, lane_ids=lane_ids)
    return signals
