"""Fixed-size map polylines around a pose (urbandrive.maps.vectorize)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from urbandrive.core import compiled
from urbandrive.maps import MapFeature, RoadMap, polyline_pieces, vectorize_map
from urbandrive.testing import straight_road


@pytest.fixture(scope="module")
def road_with_crosswalk() -> RoadMap:
    return straight_road(crosswalk_at_m=120.0)


def test_pieces_are_cut_with_shared_ends_and_padded(road_with_crosswalk: RoadMap) -> None:
    pieces = polyline_pieces(road_with_crosswalk, points_per_polyline=11, point_spacing_m=2.0)
    centerline = pieces.points[
        (pieces.lane_ids == 0) & (pieces.features[:, MapFeature.IS_LANE_CENTERLINE] == 1)
    ]
    assert centerline.shape == (5, 11, 2)  # 100 m at 2 m: 51 points in 5 pieces of 11
    np.testing.assert_allclose(centerline[1, 0], centerline[0, -1])
    crosswalk = pieces.valid[pieces.features[:, MapFeature.IS_CROSSWALK] == 1]
    # A closed 4 m x 7 m outline: 22 m at 2 m is 12 points, in a full and a padded piece.
    np.testing.assert_array_equal(crosswalk.sum(1), [11, 2])
    # 4 centerlines + 6 boundaries: the boundary shared by neighbours appears once.
    boundaries = pieces.features[:, MapFeature.IS_LANE_BOUNDARY] == 1
    assert boundaries.sum() == 6 * 5


def test_local_frame_nearest_first_and_fixed_size(road_with_crosswalk: RoadMap) -> None:
    result = vectorize_map(
        road_with_crosswalk,
        np.array([100.0, 3.5]),
        np.pi / 2,
        radius_m=30.0,
        max_polylines=40,
        points_per_polyline=11,
        point_spacing_m=2.0,
    )
    assert result.points.dtype == np.float32 and result.points.shape == (40, 11, 2)
    assert result.features.shape == (40, len(MapFeature)) and result.valid.shape == (40, 11)
    count = int(result.polyline_valid.sum())
    assert 0 < count < 40
    assert not result.valid[count:].any() and np.all(result.points[count:] == 0)
    # Facing +y at (100, 3.5): the road's +x is to the right (-y local), lane 100 passes through 0.
    first = result.points[0][result.valid[0]]
    assert result.lane_ids[0] in (100, 101)
    np.testing.assert_allclose(first[:, 0], 0.0, atol=1e-6)
    assert np.all(np.diff(first[:, 1]) < 0)
    distance = np.array(
        [
            np.min(np.linalg.norm(p[v], axis=-1))
            for p, v in zip(result.points[:count], result.valid[:count], strict=True)
        ]
    )
    assert np.all(np.diff(distance) >= -1.0)  # piece lines pass between their points
    speed = result.features[:count, MapFeature.SPEED_LIMIT_MPS]
    np.testing.assert_allclose(
        speed[result.features[:count, MapFeature.IS_LANE_CENTERLINE] == 1], 13.4
    )


def test_max_polylines_keeps_the_nearest(road_with_crosswalk: RoadMap) -> None:
    centre = np.array([120.0, 1.0])
    every = vectorize_map(road_with_crosswalk, centre, 0.0, radius_m=100.0, max_polylines=200)
    kept = vectorize_map(road_with_crosswalk, centre, 0.0, radius_m=100.0, max_polylines=3)
    assert kept.polyline_valid.all() and every.polyline_valid.sum() > 3
    np.testing.assert_array_equal(kept.points, every.points[:3])
    np.testing.assert_array_equal(kept.features, every.features[:3])


@pytest.mark.real_data
def test_av2_local_points_keep_millimetre_precision(av2_maps: list[RoadMap]) -> None:
    for road_map in av2_maps:
        lane = next(iter(road_map.lanes.values()))
        centre, heading = lane.centerline[0], 0.7
        result = vectorize_map(road_map, centre, heading, radius_m=40.0, max_polylines=128)
        count = int(result.polyline_valid.sum())
        assert count > 10
        pieces = polyline_pieces(road_map, 20, 1.0)
        # Back to the map frame in float64: within a millimetre of the float64 pieces.
        local = result.points[:count].astype(np.float64)
        cos, sin = np.cos(heading), np.sin(heading)
        world = (
            np.stack(
                [
                    cos * local[..., 0] - sin * local[..., 1],
                    sin * local[..., 0] + cos * local[..., 1],
                ],
                -1,
            )
            + centre
        )
        nearest, _ = cKDTree(pieces.points[pieces.valid]).query(world[result.valid[:count]])
        assert np.all(nearest < 1e-3)
        assert np.abs(local[result.valid[:count]]).max() < 40.0 + 20.0  # radius + a piece


def _check_against_shapely(road_map: RoadMap, rng: np.random.Generator, count: int) -> None:
    """The compiled piece search gives the polylines of the tree's dwithin and shapely's
    distances (same order, same arrays), for centres on and off the map, radii small and
    large."""
    pieces = polyline_pieces(road_map, 20, 1.0)
    points = pieces.points[pieces.valid]
    low, high = points.min(0) - 30.0, points.max(0) + 30.0
    for centre in rng.uniform(low, high, size=(count, 2)):
        for radius in (5.0, 60.0):
            got = vectorize_map(road_map, centre, 0.3, radius, 64, 20)
            with compiled.numpy_reference():
                expected = vectorize_map(road_map, centre, 0.3, radius, 64, 20)
            for field in ("points", "features", "valid", "polyline_valid", "piece_ids"):
                np.testing.assert_array_equal(getattr(got, field), getattr(expected, field))


def test_compiled_piece_search_is_the_trees(road_with_crosswalk: RoadMap) -> None:
    _check_against_shapely(road_with_crosswalk, np.random.default_rng(8), 60)


@pytest.mark.real_data
def test_av2_compiled_piece_search_is_the_trees(av2_maps: list[RoadMap]) -> None:
    rng = np.random.default_rng(9)
    for road_map in av2_maps:
        _check_against_shapely(road_map, rng, 20)
