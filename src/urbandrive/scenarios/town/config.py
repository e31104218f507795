"""Configuration of the procedural town: street classes, cross-sections, signal timing, presets.

Every length is in metres, every duration in seconds, speeds in miles per hour where the name
says `_mph` (US street signs) and metres per second elsewhere.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class StreetClass(enum.IntEnum):
    """Functional class of a street: it sets lane count, speed limit and intersection control."""

    LOCAL = 0
    ARTERIAL = 1


class CurbUse(enum.IntEnum):
    """What the outermost strip of a street (beside the curb) is used for."""

    NONE = 0
    BIKE = 1
    PARKING = 2


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}")


@dataclass(frozen=True, slots=True)
class StreetClassConfig:
    """How streets of one class are drawn; probabilities are per street unless named per approach."""

    lanes_per_direction_min: int = 1
    lanes_per_direction_max: int = 1
    speed_limit_mph_choices: tuple[float, ...] = (25.0,)
    bike_lane_probability: float = 0.0
    parking_probability: float = 0.0
    one_way_probability: float = 0.0
    median_probability: float = 0.0
    right_turn_lane_probability_per_approach: float = 0.0
    bus_stop_probability_per_block_side: float = 0.0
    midblock_crosswalk_probability_per_block: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= self.lanes_per_direction_min <= self.lanes_per_direction_max <= 3:
            raise ValueError(
                "need 1 <= lanes_per_direction_min <= lanes_per_direction_max <= 3, got "
                f"{self.lanes_per_direction_min}, {self.lanes_per_direction_max}"
            )
        if not self.speed_limit_mph_choices or min(self.speed_limit_mph_choices) <= 0:
            raise ValueError(
                f"speed_limit_mph_choices must be positive, got {self.speed_limit_mph_choices}"
            )
        for name in (
            "bike_lane_probability",
            "parking_probability",
            "one_way_probability",
            "median_probability",
            "right_turn_lane_probability_per_approach",
            "bus_stop_probability_per_block_side",
            "midblock_crosswalk_probability_per_block",
        ):
            _check_probability(name, getattr(self, name))
        if self.bike_lane_probability + self.parking_probability > 1.0:
            raise ValueError(
                "bike_lane_probability + parking_probability must be <= 1 (one curb strip)"
            )


LOCAL_STREETS = StreetClassConfig(
    lanes_per_direction_min=1,
    lanes_per_direction_max=1,
    speed_limit_mph_choices=(25.0, 30.0),
    bike_lane_probability=0.25,
    parking_probability=0.5,
    one_way_probability=0.3,
    midblock_crosswalk_probability_per_block=0.3,
)

ARTERIAL_STREETS = StreetClassConfig(
    lanes_per_direction_min=2,
    lanes_per_direction_max=3,
    speed_limit_mph_choices=(35.0, 40.0, 45.0),
    bike_lane_probability=0.4,
    parking_probability=0.4,
    median_probability=0.7,
    right_turn_lane_probability_per_approach=0.6,
    bus_stop_probability_per_block_side=0.35,
)


@dataclass(frozen=True, slots=True)
class SignalTimingConfig:
    """Fixed-time signal plans: green ranges are drawn per intersection, the rest is fixed."""

    through_green_min_s: float = 18.0
    through_green_max_s: float = 35.0
    left_green_min_s: float = 7.0
    left_green_max_s: float = 12.0
    yellow_s: float = 3.5
    all_red_s: float = 1.5
    walk_s: float = 7.0
    pedestrian_speed_mps: float = 1.2
    protected_left_probability: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.through_green_min_s <= self.through_green_max_s:
            raise ValueError("need 0 < through_green_min_s <= through_green_max_s")
        if not 0 < self.left_green_min_s <= self.left_green_max_s:
            raise ValueError("need 0 < left_green_min_s <= left_green_max_s")
        if not 3.0 <= self.yellow_s <= 6.0:
            raise ValueError(f"yellow_s should be 3-6 s, got {self.yellow_s}")
        if not 0.0 < self.all_red_s <= 3.0:
            raise ValueError(f"all_red_s should be in (0, 3] s, got {self.all_red_s}")
        if self.walk_s <= 0 or self.pedestrian_speed_mps <= 0:
            raise ValueError("walk_s and pedestrian_speed_mps must be positive")
        _check_probability("protected_left_probability", self.protected_left_probability)


@dataclass(frozen=True, slots=True)
class TownConfig:
    """A grid town of `num_blocks_x` x `num_blocks_y` blocks; build it with `generate_town`.

    Street spacing (centre to centre) is drawn in [block_size_min_m, block_size_max_m]; the
    outer streets continue `stub_length_m` past the last intersection to the map's edge.
    """

    num_blocks_x: int = 4
    num_blocks_y: int = 4
    block_size_min_m: float = 80.0
    block_size_max_m: float = 160.0
    arterial_fraction: float = 0.4
    lane_width_min_m: float = 3.3
    lane_width_max_m: float = 3.6
    bike_lane_width_m: float = 1.8
    parking_lane_width_m: float = 3.0
    stub_length_m: float = 60.0
    crosswalk_width_m: float = 3.0
    crosswalk_gap_m: float = 1.0
    stop_line_gap_m: float = 1.0
    curb_radius_m: float = 5.0
    sidewalk_width_m: float = 3.0
    left_pocket_length_m: float = 30.0
    taper_length_m: float = 15.0
    parking_spot_length_m: float = 6.5
    local: StreetClassConfig = LOCAL_STREETS
    arterial: StreetClassConfig = ARTERIAL_STREETS
    signal_timing: SignalTimingConfig = field(default_factory=SignalTimingConfig)

    def __post_init__(self) -> None:
        if self.num_blocks_x < 1 or self.num_blocks_y < 1:
            raise ValueError(
                f"need at least 1x1 blocks, got {self.num_blocks_x}x{self.num_blocks_y}"
            )
        if not 0 < self.block_size_min_m <= self.block_size_max_m:
            raise ValueError("need 0 < block_size_min_m <= block_size_max_m")
        if not 3.0 <= self.lane_width_min_m <= self.lane_width_max_m <= 4.0:
            raise ValueError("need 3.0 <= lane_width_min_m <= lane_width_max_m <= 4.0 m")
        if self.block_size_min_m < self.widest_street_m + 2 * self.curb_radius_m + 20.0:
            raise ValueError(
                f"block_size_min_m={self.block_size_min_m} is too small for streets up to "
                f"{self.widest_street_m:.1f} m wide; blocks would vanish"
            )
        if self.stub_length_m < self.widest_street_m + self.crosswalk_width_m + 10.0:
            raise ValueError(f"stub_length_m={self.stub_length_m} too short for the widest street")
        _check_probability("arterial_fraction", self.arterial_fraction)
        positive = ("crosswalk_width_m", "curb_radius_m", "sidewalk_width_m", "taper_length_m")
        for name in (*positive, "left_pocket_length_m", "parking_spot_length_m"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def widest_street_m(self) -> float:
        """Upper bound on a street's curb-to-curb width (lanes, median, curb strips), metres."""
        lanes = 2 * max(self.local.lanes_per_direction_max, self.arterial.lanes_per_direction_max)
        curb = max(self.bike_lane_width_m, self.parking_lane_width_m)
        return (lanes + 1) * self.lane_width_max_m + 2 * curb

    @classmethod
    def small(cls) -> TownConfig:
        """2 x 2 blocks: one arterial each way through the middle; for tests and demos."""
        return cls(num_blocks_x=2, num_blocks_y=2, arterial_fraction=0.34)

    @classmethod
    def standard(cls) -> TownConfig:
        """4 x 4 blocks, about 0.5 km square: the default town of the built-in scenarios."""
        return cls(num_blocks_x=4, num_blocks_y=4)
