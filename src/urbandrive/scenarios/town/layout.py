"""The street grid: jittered street spacing, street classes and their cross-sections."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.road_map import MPH
from urbandrive.scenarios.town.config import CurbUse, StreetClass, TownConfig
from urbandrive.scenarios.town.streets import Axis, Street


@dataclass(frozen=True, slots=True)
class GridLayout:
    """Streets of the grid and where they cross.

    x_positions_m: float64[NX], x of the north-south streets; y_positions_m: float64[NY], y of
    the east-west streets. Street ids: east-west streets 0..NY-1 (south to north), then
    north-south streets NY..NY+NX-1 (west to east). Intersection (i, j) of north-south street
    i and east-west street j has id `j * NX + i`.
    """

    streets: tuple[Street, ...]
    x_positions_m: NDArrayF64
    y_positions_m: NDArrayF64

    @property
    def num_x(self) -> int:
        return int(self.x_positions_m.shape[0])

    @property
    def num_y(self) -> int:
        return int(self.y_positions_m.shape[0])

    def east_west(self, j: int) -> Street:
        return self.streets[j]

    def north_south(self, i: int) -> Street:
        return self.streets[self.num_y + i]

    def intersection_id(self, i: int, j: int) -> int:
        return j * self.num_x + i


def plan_grid(config: TownConfig, rng: np.random.Generator) -> GridLayout:
    """Draw street positions and every street's class and cross-section."""
    x_positions = _street_positions(config, config.num_blocks_x, rng)
    y_positions = _street_positions(config, config.num_blocks_y, rng)
    streets: list[Street] = []
    for axis, positions, crossing in (
        (Axis.EAST_WEST, y_positions, x_positions),
        (Axis.NORTH_SOUTH, x_positions, y_positions),
    ):
        arterial = _choose_arterials(config, len(positions), rng)
        extent = (crossing[0] - config.stub_length_m, crossing[-1] + config.stub_length_m)
        for index, coordinate in enumerate(positions):
            is_outer = index in (0, len(positions) - 1)
            street_class = StreetClass.ARTERIAL if arterial[index] else StreetClass.LOCAL
            streets.append(
                _draw_street(
                    config,
                    len(streets),
                    axis,
                    float(coordinate),
                    extent,
                    street_class,
                    is_outer,
                    rng,
                )
            )
    return GridLayout(streets=tuple(streets), x_positions_m=x_positions, y_positions_m=y_positions)


def _street_positions(config: TownConfig, num_blocks: int, rng: np.random.Generator) -> NDArrayF64:
    """float64[num_blocks + 1]: street coordinates from 0, spacing drawn per block."""
    spacing = rng.uniform(config.block_size_min_m, config.block_size_max_m, size=num_blocks)
    return np.concatenate([[0.0], np.cumsum(spacing)])


def _choose_arterials(config: TownConfig, num_streets: int, rng: np.random.Generator) -> np.ndarray:
    """bool[num_streets]: at least one arterial per axis, interior streets preferred."""
    count = max(1, round(config.arterial_fraction * num_streets))
    interior = np.arange(1, num_streets - 1) if num_streets > 2 else np.arange(num_streets)
    pool = interior if count <= len(interior) else np.arange(num_streets)
    chosen = rng.choice(pool, size=count, replace=False)
    is_arterial = np.zeros(num_streets, dtype=bool)
    is_arterial[chosen] = True
    return is_arterial


def _draw_street(
    config: TownConfig,
    street_id: int,
    axis: Axis,
    coordinate_m: float,
    extent_m: tuple[float, float],
    street_class: StreetClass,
    is_outer: bool,
    rng: np.random.Generator,
) -> Street:
    """One street's cross-section; outer streets stay two-way so the town stays connected."""
    rules = config.arterial if street_class == StreetClass.ARTERIAL else config.local
    lanes = int(rng.integers(rules.lanes_per_direction_min, rules.lanes_per_direction_max + 1))
    lane_width_m = float(rng.uniform(config.lane_width_min_m, config.lane_width_max_m))
    speed_mph = float(rng.choice(np.asarray(rules.speed_limit_mph_choices)))
    curb_draw, one_way_draw, median_draw, direction_draw = rng.random(4)
    curb_use = CurbUse.NONE
    if curb_draw < rules.bike_lane_probability:
        curb_use = CurbUse.BIKE
    elif curb_draw < rules.bike_lane_probability + rules.parking_probability:
        curb_use = CurbUse.PARKING
    lanes_forward = lanes_backward = lanes
    if not is_outer and one_way_draw < rules.one_way_probability:
        lanes_forward, lanes_backward = (2 * lanes, 0) if direction_draw < 0.5 else (0, 2 * lanes)
        if curb_use == CurbUse.BIKE:
            curb_use = CurbUse.NONE  # bike lanes only on two-way streets
    has_median = lanes_backward > 0 and lanes_forward > 0 and median_draw < rules.median_probability
    curb_width_m = {
        CurbUse.NONE: 0.0,
        CurbUse.BIKE: config.bike_lane_width_m,
        CurbUse.PARKING: config.parking_lane_width_m,
    }[curb_use]
    return Street(
        id=street_id,
        axis=axis,
        coordinate_m=coordinate_m,
        start_m=float(extent_m[0]),
        end_m=float(extent_m[1]),
        street_class=street_class,
        lanes_forward=lanes_forward,
        lanes_backward=lanes_backward,
        lane_width_m=lane_width_m,
        median_width_m=lane_width_m if has_median else 0.0,
        curb_use=curb_use,
        curb_width_m=curb_width_m,
        speed_limit_mps=speed_mph * MPH,
    )


def stop_distance_m(config: TownConfig, cross_street: Street) -> float:
    """Distance from an intersection's centre to the stop lines on the arms crossing
    `cross_street`: its half width, a gap, the crosswalk and a second gap, metres."""
    return (
        cross_street.half_width_m
        + config.crosswalk_gap_m
        + config.crosswalk_width_m
        + config.stop_line_gap_m
    )
