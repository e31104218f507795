"""Tracks and AgentInfo: validation names the agent and field; selection and slicing."""

import numpy as np
import pytest

from urbandrive.core import AgentType, DataError, Tracks


def _two_agents(**overrides):
    xy = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    arguments = dict(
        ids=["car", "ped"],
        types=[AgentType.VEHICLE, AgentType.PEDESTRIAN],
        size_m=[[4.5, 1.9], [0.6, 0.6]],
        xy=xy,
        heading=np.zeros((2, 3)),
    )
    arguments.update(overrides)
    return Tracks.from_arrays(**arguments)


def test_from_arrays_fills_invalid_steps_with_zeros_not_nan():
    xy = np.ones((2, 3, 2))
    xy[1, 0] = np.nan
    tracks = _two_agents(xy=xy)
    assert tracks.valid.tolist() == [[True, True, True], [False, True, True]]
    assert np.all(np.isfinite(tracks.xy))
    assert tracks.num_agents == 2 and tracks.num_steps == 3


def test_nan_at_a_valid_step_names_agent_field_and_step():
    xy = np.ones((2, 3, 2))
    xy[1, 2, 0] = np.nan
    with pytest.raises(DataError, match=r"agent 'ped' has a non-finite 'xy' at step 2"):
        _two_agents(xy=xy, valid=np.ones((2, 3), bool))


def test_duplicate_ids_and_bad_sizes_are_refused():
    with pytest.raises(DataError, match="duplicate agent ids"):
        _two_agents(ids=["a", "a"])
    with pytest.raises(DataError, match="agent 'ped' has size"):
        _two_agents(size_m=[[4.5, 1.9], [0.0, 0.6]])
    with pytest.raises(DataError, match="unknown type"):
        _two_agents(types=[1, 99])


def test_shape_mismatch_names_the_field():
    with pytest.raises(DataError, match="'heading' has shape"):
        _two_agents(heading=np.zeros((2, 4)))


def test_select_slice_and_index_of():
    tracks = _two_agents()
    assert tracks.index_of("ped") == 1
    picked = tracks.select([1])
    assert picked.ids.tolist() == ["ped"] and picked.types.tolist() == [AgentType.PEDESTRIAN]
    np.testing.assert_array_equal(tracks.slice_time(1, 3).xy, tracks.xy[:, 1:3])
    with pytest.raises(KeyError, match="nobody"):
        tracks.index_of("nobody")


def test_agent_type_groups():
    assert AgentType.PEDESTRIAN.is_vulnerable and not AgentType.VEHICLE.is_vulnerable
    assert AgentType.LARGE_VEHICLE.is_vehicle and not AgentType.STATIC.is_vehicle
