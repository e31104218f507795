"""PDM's eased lateral offsets reach their target when replanned every cycle."""

from __future__ import annotations

import dataclasses

import numpy as np
from tests.planning.scenes import observation_now, scene

from urbandrive.planning.planner import UrbanPlanner
from urbandrive.planning.proposals.context import PlanningContext
from urbandrive.planning.proposals.pdm import PdmProposalConfig, eased_offsets


def _context() -> PlanningContext:
    scenario = scene(ego_speed_mps=8.0)
    planner = UrbanPlanner(scenario)
    observation = observation_now(scenario)
    return planner.context(observation, planner.predictor.predict(observation))


def test_eased_offsets_by_hand() -> None:
    context = dataclasses.replace(_context(), d_now_m=1.0)
    target = np.array([0.0, 1.0, 4.5])
    # no lead: the smoothstep 1 + (t - 1) * (10 r^3 - 15 r^4 + 6 r^5), r = t / 3
    flat = eased_offsets(context, target, 3.0)
    r = np.clip(context.times_s / 3.0, 0.0, 1.0)
    np.testing.assert_allclose(flat[0], 1.0 - (10 * r**3 - 15 * r**4 + 6 * r**5), atol=1e-12)
    # a lead of 1.5 s: the smoothstep's last two thirds, rescaled to run from 0 to 1 in 3 s
    led = eased_offsets(context, target, 3.0, 1.5)
    np.testing.assert_allclose(led[:, 0], context.d_now_m)
    at_settle = int(np.argmin(np.abs(context.times_s - 3.0)))
    np.testing.assert_allclose(
        led[:, at_settle:], np.broadcast_to(target[:, None], led[:, at_settle:].shape)
    )
    np.testing.assert_allclose(led[1], 1.0)  # already there
    # r0 = 1/3: smoothstep 7/27, slope 30 r0^2 (1 - r0)^2 / 4.5 s, over 1 - 7/27
    slope = 30 * (1 / 3) ** 2 * (2 / 3) ** 2 / 4.5 / (1 - 7 / 27)
    np.testing.assert_allclose(np.diff(led[2, :2]) / context.dt_s, 3.5 * slope, rtol=0.05)


def test_an_offset_replanned_every_cycle_gets_there() -> None:
    # the closed loop of the reference alone: each cycle starts from where the last plan was
    # after one step. Without a lead it starts flat and barely moves (lane_change_dense-002:
    # the ego held 1 m beside the lane centre for 2.5 s on "pdm d+0.0").
    context = _context()
    lead = PdmProposalConfig().lateral_lead_s
    for lead_s, reached in ((0.0, False), (lead, True)):
        d_m = 1.0
        for _ in range(30):  # 3 s
            replanned = dataclasses.replace(context, d_now_m=d_m)
            d_m = float(eased_offsets(replanned, np.zeros(1), 3.0, lead_s)[0, 1])
        assert (abs(d_m) < 0.5) == reached, (lead_s, d_m)
