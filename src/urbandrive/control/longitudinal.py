"""PID speed tracking with the reference acceleration as feed-forward, without internal state.

    accel = reference_accel
          + speed_gain  * (reference_speed - speed)            (P)
          + station_gain * along_track_error                   (I)
          + accel_gain  * (reference_accel - applied_accel)    (D)

The integral of the speed error is the along-track position error (how far the vehicle is
behind the reference point, measured along the reference heading), read from the state instead
of accumulated, so the controller is a pure function of (state, reference, time) and a batch of
rollouts needs no controller memory. It also makes the vehicle stop where the reference stops.
"""

from __future__ import annotations

from dataclasses import dataclass

from urbandrive.core.typing import NDArrayF64


@dataclass(frozen=True, slots=True)
class LongitudinalPidConfig:
    """Gains: speed_gain_per_s on the speed error (m/s -> m/s^2), station_gain_per_s2 on the
    along-track error (m -> m/s^2), accel_gain on the acceleration error (unitless).

    Defaults put the closed loop of the along-track error near critical damping
    (natural frequency sqrt(station_gain) = 0.6 rad/s, damping speed_gain / (2 * 0.6) = 1).
    """

    speed_gain_per_s: float = 1.2
    station_gain_per_s2: float = 0.36
    accel_gain: float = 0.0

    def __post_init__(self) -> None:
        for name in ("speed_gain_per_s", "station_gain_per_s2", "accel_gain"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"LongitudinalPidConfig.{name} must be >= 0, got {value}")
        if self.station_gain_per_s2 > 0 and self.speed_gain_per_s == 0:
            raise ValueError(
                "LongitudinalPidConfig: a station gain without a speed gain oscillates; "
                "set speed_gain_per_s > 0"
            )


def acceleration_command(
    config: LongitudinalPidConfig,
    speed_error_mps: NDArrayF64,
    along_track_error_m: NDArrayF64,
    accel_error_mps2: NDArrayF64,
    reference_accel_mps2: NDArrayF64,
) -> NDArrayF64:
    """float64[...]: desired acceleration (m/s^2, before actuator limits); errors are
    reference minus vehicle, all float64[...] broadcastable."""
    return (
        reference_accel_mps2
        + config.speed_gain_per_s * speed_error_mps
        + config.station_gain_per_s2 * along_track_error_m
        + config.accel_gain * accel_error_mps2
    )
