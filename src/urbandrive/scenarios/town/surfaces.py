"""Road surface and sidewalks as polygons: streets' curb-to-curb rectangles, curb returns
rounded at the corners, cut into intersection boxes and street pieces without holes."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from urbandrive.core.typing import NDArrayF64
from urbandrive.scenarios.town.config import TownConfig
from urbandrive.scenarios.town.records import Intersection, Sidewalk
from urbandrive.scenarios.town.streets import Street


def street_rectangle(street: Street) -> Polygon:
    """The street's curb-to-curb surface from its start to its end."""
    half = street.half_width_m
    corners = [
        (street.start_m, -half),
        (street.end_m, -half),
        (street.end_m, half),
        (street.start_m, half),
    ]
    return Polygon([street.origin + s * street.tangent + v * street.normal for s, v in corners])


def road_surface(config: TownConfig, streets: tuple[Street, ...]) -> BaseGeometry:
    """Union of the streets with curb returns of `curb_radius_m` rounding the block corners."""
    union = shapely.unary_union([street_rectangle(street) for street in streets])
    radius = config.curb_radius_m
    return union.buffer(radius, join_style="mitre").buffer(-radius, quad_segs=4)


def drivable_areas(
    config: TownConfig,
    surface: BaseGeometry,
    intersections: tuple[Intersection, ...],
    streets: dict[int, Street],
) -> tuple[NDArrayF64, ...]:
    """The road surface as hole-free pieces: one per intersection box (with its curb returns),
    then the street stretches between them; each float64[P, 2], open ring."""
    margin = config.curb_radius_m + 0.5
    boxes = []
    for intersection in intersections:
        x, y = intersection.center_xy
        half_x = streets[intersection.north_south_street_id].half_width_m + margin
        half_y = streets[intersection.east_west_street_id].half_width_m + margin
        boxes.append(box(x - half_x, y - half_y, x + half_x, y + half_y))
    pieces = [surface.intersection(b) for b in boxes]
    pieces.append(surface.difference(shapely.unary_union(boxes)))
    return tuple(_open_ring(p.exterior.coords) for piece in pieces for p in _polygons(piece))


def sidewalks(config: TownConfig, surface: BaseGeometry) -> tuple[Sidewalk, ...]:
    """Sidewalk bands `sidewalk_width_m` wide along every curb, clipped to the map's extent."""
    x_min, y_min, x_max, y_max = surface.bounds
    band = surface.buffer(config.sidewalk_width_m, quad_segs=4, join_style="mitre").difference(
        surface
    )
    band = band.intersection(box(x_min, y_min, x_max, y_max))
    return tuple(
        Sidewalk(
            id=index,
            exterior=_open_ring(polygon.exterior.coords),
            holes=tuple(_open_ring(ring.coords) for ring in polygon.interiors),
        )
        for index, polygon in enumerate(_polygons(band))
    )


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons of a (multi)polygon or collection, in shapely's order."""
    parts = getattr(geometry, "geoms", [geometry])
    return [p for p in parts if isinstance(p, Polygon) and not p.is_empty and p.area > 1e-6]


def _open_ring(coords: object) -> NDArrayF64:
    points = np.asarray(coords, dtype=np.float64)
    return points[:-1] if len(points) > 1 and np.array_equal(points[0], points[-1]) else points
