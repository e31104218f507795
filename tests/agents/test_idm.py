"""IDM: hand-computed accelerations and its equilibrium."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from urbandrive.agents import IdmConfig, idm_acceleration

CONFIG = IdmConfig()


def test_standing_start_on_a_free_road_uses_full_acceleration():
    assert idm_acceleration(0.0, 10.0, np.inf, 0.0, CONFIG) == pytest.approx(1.5)


def test_at_desired_speed_on_a_free_road_acceleration_is_zero():
    assert idm_acceleration(10.0, 10.0, np.inf, 0.0, CONFIG) == pytest.approx(0.0)


def test_hand_computed_following_case():
    # v = 10, v0 = 15, gap 20 m, leader at 8 m/s: s* = 1 + 10*1.5 + 10*2/(2*sqrt(4.5)) = 20.7140
    desired_gap = 1 + 15 + 20 / (2 * np.sqrt(4.5))
    expected = 1.5 * (1 - (10 / 15) ** 4 - (desired_gap / 20) ** 2)
    assert idm_acceleration(10.0, 15.0, 20.0, 8.0, CONFIG) == pytest.approx(expected)


def test_a_stopped_leader_close_ahead_forces_hard_braking_within_limits():
    accel = idm_acceleration(15.0, 15.0, 5.0, 0.0, CONFIG)
    assert accel == pytest.approx(-CONFIG.max_decel_mps2)


@given(st.floats(0.5, 30.0))
def test_equilibrium_gap_gives_zero_acceleration_in_a_platoon(speed):
    desired = 1e9  # free-road term vanishes
    gap = CONFIG.min_gap_m + speed * CONFIG.headway_s
    assert idm_acceleration(speed, desired, gap, speed, CONFIG) == pytest.approx(0.0, abs=1e-9)


def test_broadcasts_over_arrays():
    accel = idm_acceleration(np.array([0.0, 10.0]), 10.0, np.array([np.inf, 15.0]), 5.0, CONFIG)
    assert accel.shape == (2,) and accel[0] > 0 > accel[1]


def test_config_is_checked():
    with pytest.raises(ValueError, match="headway_s"):
        IdmConfig(headway_s=0.0)
