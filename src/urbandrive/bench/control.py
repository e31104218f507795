"""Control benchmarks: the batched closed-loop tracker as the PDM-style planner calls it."""

from __future__ import annotations

import numpy as np

from urbandrive.bench.registry import Case, benchmark
from urbandrive.control.manoeuvres import initial_state_on, lane_change
from urbandrive.control.tracker import TrajectoryTracker
from urbandrive.core.trajectory import Trajectory
from urbandrive.dynamics import StateIndex

NUM_CANDIDATES = 100
NUM_STEPS = 40  # 4 s at 10 Hz
DT_S = 0.1


def _candidates(num_candidates: int) -> Trajectory:
    """`num_candidates` lane changes of different offsets and speeds, batch (num_candidates,)."""
    offsets = np.linspace(-3.5, 3.5, num_candidates)
    speeds = np.linspace(5.0, 15.0, num_candidates)
    items = [
        lane_change(float(speed), float(offset), length_m=3.0 * float(speed), duration_s=4.0)
        for speed, offset in zip(speeds, offsets, strict=True)
    ]
    fields = ("xy", "heading", "speed_mps", "accel_mps2", "curvature_1pm")
    stacked = {name: np.stack([getattr(item, name) for item in items]) for name in fields}
    return Trajectory(times_s=items[0].times_s, **stacked)


def _select(references: Trajectory, index: int) -> Trajectory:
    assert references.accel_mps2 is not None and references.curvature_1pm is not None
    return Trajectory(
        references.times_s,
        references.xy[index],
        references.heading[index],
        references.speed_mps[index],
        references.accel_mps2[index],
        references.curvature_1pm[index],
    )


@benchmark("tracker_rollout_batch")
def tracker_rollout_batch() -> Case:
    """Track 100 candidates x 40 steps in one batched call; baseline: one candidate at a time."""
    tracker = TrajectoryTracker()
    references = _candidates(NUM_CANDIDATES)
    initial = initial_state_on(references, tracker.config.vehicle.wheelbase_m)
    initial[:, StateIndex.Y] += 0.3  # start a little off, so the controller works
    singles = [_select(references, index) for index in range(NUM_CANDIDATES)]

    def batched() -> object:
        return tracker.track(initial, references, DT_S, NUM_STEPS)

    def one_at_a_time() -> object:
        return [
            tracker.track(initial[index], singles[index], DT_S, NUM_STEPS)
            for index in range(NUM_CANDIDATES)
        ]

    return Case(
        run=batched,
        baseline=one_at_a_time,
        baseline_name="same 100 candidates tracked one at a time",
        unit_count=NUM_CANDIDATES,
        unit="candidate",
        repeats=10,
    )
