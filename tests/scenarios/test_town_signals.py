"""Signal phase plans of the town: no conflicting protected greens, yellow before red, walk
phases with the parallel through movement, vectorised states."""

from __future__ import annotations

import numpy as np
import shapely

from urbandrive.core.traffic_light import TrafficLightState as Light
from urbandrive.scenarios.town import (
    IntersectionControl,
    Movement,
    Town,
    WalkSignalState,
    conflicting_connector_pairs,
    light_states,
    walk_signals,
)

STEP_S = 0.1


def _cycle_times(town: Town) -> np.ndarray:
    longest_s = max(plan.cycle_s for plan in town.phase_plans.values())
    return np.arange(0.0, longest_s + STEP_S, STEP_S)


def _state_of_connector(town: Town, times_s: np.ndarray) -> dict[int, np.ndarray]:
    """Connector id -> int8[T] state of the head that controls it."""
    lights = light_states(town, times_s)
    row_of = {int(s): row for row, s in enumerate(lights.signal_ids)}
    return {
        lane_id: lights.states[row_of[signal.id]]
        for signal in town.road_map.signals.values()
        for lane_id in signal.lane_ids
    }


def test_every_signalised_intersection_has_a_plan_and_heads_for_all_connectors(
    any_town: Town,
) -> None:
    for intersection in any_town.intersections:
        signalised = intersection.control == IntersectionControl.TRAFFIC_SIGNAL
        assert (intersection.id in any_town.phase_plans) == signalised
        if signalised:
            controlled = {
                c for s in intersection.signal_ids for c in any_town.road_map.signals[s].lane_ids
            }
            assert controlled == set(intersection.connector_ids)


def test_conflicting_connectors_are_never_green_together(any_town: Town) -> None:
    times_s = _cycle_times(any_town)
    state_of = _state_of_connector(any_town, times_s)
    checked = 0
    for intersection_id in any_town.phase_plans:
        for a, b in conflicting_connector_pairs(any_town, intersection_id).tolist():
            both_green = (state_of[a] == Light.GREEN) & (state_of[b] == Light.GREEN)
            assert not both_green.any(), f"connectors {a} and {b} are green together"
            checked += 1
    assert checked > 0


def test_left_turns_crossing_oncoming_traffic_are_conflicts(any_town: Town) -> None:
    """The conflict check itself: an opposed left crosses the opposing straight movement."""
    table = any_town.lane_table
    for intersection_id in any_town.phase_plans:
        pairs = {tuple(p) for p in conflicting_connector_pairs(any_town, intersection_id).tolist()}
        movements = dict(zip(table.lane_ids.tolist(), table.movements.tolist(), strict=True))
        kinds = {frozenset((movements[a], movements[b])) for a, b in pairs}
        assert frozenset((Movement.LEFT, Movement.STRAIGHT)) in kinds


def test_protected_and_permissive_lefts_both_occur(standard_town: Town) -> None:
    plans = list(standard_town.phase_plans.values())
    assert any(plan.protected_left_axes for plan in plans)
    assert any((plan.signal_states == Light.FLASHING_YELLOW).any() for plan in plans), (
        "no permissive (flashing yellow) left"
    )


def test_yellow_comes_between_green_and_red(any_town: Town) -> None:
    timing = any_town.config.signal_timing
    for plan in any_town.phase_plans.values():
        states = plan.signal_states
        following = np.roll(states, -1, axis=0)
        going = np.isin(states, [Light.GREEN, Light.FLASHING_YELLOW])
        assert not (going & (following == Light.RED)).any()
        assert not (
            (states == Light.YELLOW) & np.isin(following, [Light.GREEN, Light.FLASHING_YELLOW])
        ).any()
        yellow_rows = (states == Light.YELLOW).any(axis=1)
        assert np.allclose(plan.phase_durations_s[yellow_rows], timing.yellow_s)
        all_red = (states == Light.RED).all(axis=1)
        assert all_red.any() and np.allclose(plan.phase_durations_s[all_red], timing.all_red_s)
        assert 3.0 <= timing.yellow_s <= 4.0 and 1.0 <= timing.all_red_s <= 2.0


def test_every_head_turns_green_once_per_cycle(any_town: Town) -> None:
    for plan in any_town.phase_plans.values():
        go = np.isin(plan.signal_states, [Light.GREEN, Light.FLASHING_YELLOW])
        starts = go & ~np.roll(go, 1, axis=0)
        assert (starts.sum(axis=0) == 1).all()


def test_walk_only_with_the_parallel_through_green(any_town: Town) -> None:
    times_s = _cycle_times(any_town)
    walks = walk_signals(any_town, times_s)
    state_of = _state_of_connector(any_town, times_s)
    row_of = {int(c): row for row, c in enumerate(walks.crosswalk_ids)}
    table = any_town.crosswalk_table
    for intersection_id in any_town.phase_plans:
        intersection = any_town.intersections_by_id[intersection_id]
        for crosswalk_id in intersection.crosswalk_ids:
            walking = walks.states[row_of[crosswalk_id]] == WalkSignalState.WALK
            assert walking.any()
            polygon = shapely.Polygon(any_town.road_map.crosswalks[crosswalk_id].polygon)
            arm = int(table.arms[table.crosswalk_ids == crosswalk_id][0])
            for connector_id in intersection.connector_ids:
                lane = any_town.road_map.lanes[connector_id]
                movement = any_town.lane_table.movements[
                    any_town.lane_table.lane_ids == connector_id
                ][0]
                if not shapely.LineString(lane.centerline).intersects(polygon):
                    continue
                green = state_of[connector_id] == Light.GREEN
                if movement == Movement.STRAIGHT:  # through traffic across the crossing
                    assert not (walking & green).any(), f"crosswalk {crosswalk_id} (arm {arm})"
            parallel = [
                c
                for c in intersection.connector_ids
                if any_town.lane_table.movements[any_town.lane_table.lane_ids == c][0]
                == Movement.STRAIGHT
                and not shapely.LineString(any_town.road_map.lanes[c].centerline).intersects(
                    polygon
                )
            ]
            assert any((state_of[c][walking] == Light.GREEN).all() for c in parallel)


def test_uncontrolled_crosswalks_away_from_signals(any_town: Town) -> None:
    walks = walk_signals(any_town, np.array([0.0, 10.0]))
    signalised = set(any_town.phase_plans)
    for crosswalk_id, intersection_id, states in zip(
        walks.crosswalk_ids.tolist(),
        any_town.crosswalk_table.intersection_ids.tolist(),
        walks.states,
        strict=True,
    ):
        del crosswalk_id
        controlled = intersection_id in signalised
        assert (states != WalkSignalState.UNCONTROLLED).all() == controlled


def test_light_states_are_vectorised_over_time(any_town: Town) -> None:
    times_s = np.array([0.0, 1.3, 17.2, 55.5, 123.4, 999.9])
    lights = light_states(any_town, times_s)
    lights.validate(len(times_s))
    for column, time_s in enumerate(times_s):
        single = light_states(any_town, np.array([time_s]))
        np.testing.assert_array_equal(single.states[:, 0], lights.states[:, column])
    assert set(lights.signal_ids.tolist()) == set(any_town.road_map.signals)


def test_plans_repeat_every_cycle(any_town: Town) -> None:
    for plan in any_town.phase_plans.values():
        times_s = np.linspace(0.05, plan.cycle_s, 200)
        np.testing.assert_array_equal(
            plan.phase_index(times_s), plan.phase_index(times_s + plan.cycle_s)
        )
