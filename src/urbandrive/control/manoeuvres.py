"""Standard manoeuvres as hand-built rear-axle reference trajectories at 10 Hz.

Lane change, right-angle turn and stop at a line: used by the tracker's tests and benchmark,
and handy for anyone checking a controller (they belong with `urbandrive.testing` builders).
"""

from __future__ import annotations

import numpy as np

from urbandrive.core.trajectory import Trajectory
from urbandrive.dynamics import make_state
from urbandrive.geometry import wrap_angle

DT_S = 0.1


def initial_state_on(reference: Trajectory, wheelbase_m: float) -> np.ndarray:
    """float64[..., S]: the reference's first pose and speed, with the steering angle of its
    curvature and its acceleration (derived if absent), so tracking starts without error."""
    reference = reference.with_derivatives()
    assert reference.curvature_1pm is not None and reference.accel_mps2 is not None
    return make_state(
        reference.xy[..., 0, :],
        reference.heading[..., 0],
        reference.speed_mps[..., 0],
        steering_rad=np.arctan(wheelbase_m * reference.curvature_1pm[..., 0]),
        accel_mps2=reference.accel_mps2[..., 0],
    )


def _sample_path(
    path_xy: np.ndarray,
    path_heading: np.ndarray,
    path_curvature: np.ndarray,
    station_m: np.ndarray,
    speed_mps: np.ndarray,
    accel_mps2: np.ndarray,
) -> Trajectory:
    """The trajectory at arc lengths `station_m[H]` along a densely sampled path."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path_xy, axis=0), axis=-1))])
    xy = np.stack([np.interp(station_m, arc, path_xy[:, i]) for i in range(2)], -1)
    return Trajectory(
        times_s=DT_S * np.arange(station_m.shape[0]),
        xy=xy,
        heading=wrap_angle(np.interp(station_m, arc, np.unwrap(path_heading))),
        speed_mps=np.asarray(speed_mps, dtype=np.float64),
        accel_mps2=np.asarray(accel_mps2, dtype=np.float64),
        curvature_1pm=np.interp(station_m, arc, path_curvature),
    )


def lane_change(
    speed_mps: float = 15.0, offset_m: float = 3.5, length_m: float = 60.0, duration_s: float = 8.0
) -> Trajectory:
    """Constant speed along +x; after 20 m a quintic lateral shift by `offset_m` over `length_m`."""
    x = np.arange(0.0, speed_mps * duration_s + 40.0, 0.05)
    u = np.clip((x - 20.0) / length_m, 0.0, 1.0)
    y = offset_m * (10 * u**3 - 15 * u**4 + 6 * u**5)
    slope = offset_m * (30 * u**2 - 60 * u**3 + 30 * u**4) / length_m
    second = offset_m * (60 * u - 180 * u**2 + 120 * u**3) / length_m**2
    curvature = second / (1.0 + slope**2) ** 1.5
    num_steps = round(duration_s / DT_S) + 1
    station = speed_mps * DT_S * np.arange(num_steps)
    speed = np.full(num_steps, speed_mps)
    path = np.stack([x, y], -1)
    return _sample_path(path, np.arctan(slope), curvature, station, speed, np.zeros(num_steps))


def path_from_curvature(curvature_1pm: np.ndarray, spacing_m: float) -> tuple[np.ndarray, ...]:
    """Points [P, 2] and headings [P] of the path from the origin along +x with the given
    curvature at P points `spacing_m` apart."""
    heading = np.concatenate([[0.0], np.cumsum(0.5 * (curvature_1pm[1:] + curvature_1pm[:-1]))])
    heading = heading * spacing_m
    mid = 0.5 * (heading[1:] + heading[:-1])
    steps = spacing_m * np.stack([np.cos(mid), np.sin(mid)], -1)
    return np.concatenate([np.zeros((1, 2)), np.cumsum(steps, axis=0)]), heading


def right_angle_turn(
    speed_mps: float = 8.0, radius_m: float = 18.0, duration_s: float = 9.0
) -> Trajectory:
    """Constant speed: 15 m straight, a 90 degree left arc of `radius_m`, then straight."""
    spacing = 0.05
    arc_length = 0.5 * np.pi * radius_m
    s = np.arange(0.0, speed_mps * duration_s + 40.0, spacing)
    curvature = np.where((s >= 15.0) & (s < 15.0 + arc_length), 1.0 / radius_m, 0.0)
    xy, heading = path_from_curvature(curvature, spacing)
    num_steps = round(duration_s / DT_S) + 1
    station = speed_mps * DT_S * np.arange(num_steps)
    speed = np.full(num_steps, speed_mps)
    return _sample_path(xy, heading, curvature, station, speed, np.zeros(num_steps))


def stop_at_line(
    speed_mps: float = 12.0, cruise_s: float = 1.0, braking_s: float = 8.0, duration_s: float = 12.0
) -> tuple[Trajectory, float]:
    """Straight along +x: cruise, then a smooth (half-cosine) speed drop to rest over
    `braking_s` (peak decel pi * v / (2 * braking_s), 2.4 m/s^2 by default), then stand.
    Returns the reference and the x of the stop line."""
    times = DT_S * np.arange(round(duration_s / DT_S) + 1)
    tau = np.clip(times - cruise_s, 0.0, braking_s)
    phase = np.pi * tau / braking_s
    speed = 0.5 * speed_mps * (1.0 + np.cos(phase))
    accel = np.where(
        (times > cruise_s) & (times < cruise_s + braking_s),
        -0.5 * speed_mps * np.pi / braking_s * np.sin(phase),
        0.0,
    )
    station = speed_mps * np.minimum(times, cruise_s)
    station = station + 0.5 * speed_mps * (tau + braking_s / np.pi * np.sin(phase))
    stop_x = speed_mps * cruise_s + 0.5 * speed_mps * braking_s
    num_steps = times.shape[0]
    reference = Trajectory(
        times_s=times,
        xy=np.stack([station, np.zeros(num_steps)], -1),
        heading=np.zeros(num_steps),
        speed_mps=speed,
        accel_mps2=accel,
        curvature_1pm=np.zeros(num_steps),
    )
    return reference, stop_x
