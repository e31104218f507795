"""A cached raster of `RoadMap.distance_outside_drivable_area` around the route.

The exact query costs ~5 us per point; the scorer asks for M x H x 4 corners every cycle. The
map does not change, so the planner samples the distance once on a grid around the route and
interpolates bilinearly (the distance is 1-Lipschitz, so the error is below the cell
diagonal); points off the grid fall back to the exact query. Implements the
`metrics.compliance.DrivableAreaMap` protocol, so `ego_corner_distance_outside_drivable_area`
takes it in place of the map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.maps.road_map import RoadMap
from urbandrive.metrics import kernels


@dataclass(frozen=True, slots=True)
class DrivableAreaGrid:
    """distance_m: float64[NY, NX] at origin_xy + (ix, iy) * resolution_m; road_map: exact fallback."""

    road_map: RoadMap
    origin_xy: NDArrayF64
    resolution_m: float
    distance_m: NDArrayF64

    @staticmethod
    def around(
        road_map: RoadMap, xy: NDArrayF64, margin_m: float = 40.0, resolution_m: float = 0.5
    ) -> DrivableAreaGrid:
        """A grid covering the bounding box of `xy: float64[P, 2]` plus `margin_m`."""
        low = np.floor((xy.min(0) - margin_m) / resolution_m) * resolution_m
        high = xy.max(0) + margin_m
        xs = np.arange(low[0], high[0] + resolution_m, resolution_m)
        ys = np.arange(low[1], high[1] + resolution_m, resolution_m)
        grid = np.stack(np.meshgrid(xs, ys, indexing="xy"), -1)
        distance = road_map.distance_outside_drivable_area(grid.reshape(-1, 2))
        return DrivableAreaGrid(road_map, low, resolution_m, distance.reshape(grid.shape[:2]))

    def distance_outside_drivable_area(self, points: NDArrayF64) -> NDArrayF64:
        """float64[...]: bilinear distance outside the drivable area of `points[..., 2]`."""
        cell = (np.asarray(points, np.float64) - self.origin_xy) / self.resolution_m
        num_y, num_x = self.distance_m.shape
        if kernels.enabled():
            value, all_inside = self._bilinear_compiled(cell)
            if all_inside:
                return value
        inside = (cell[..., 0] >= 0) & (cell[..., 0] < num_x - 1) & (cell[..., 1] >= 0)
        inside &= cell[..., 1] < num_y - 1
        safe = np.where(inside[..., None], cell, 0.0)
        ix, iy = np.floor(safe[..., 0]).astype(np.int64), np.floor(safe[..., 1]).astype(np.int64)
        fx, fy = safe[..., 0] - ix, safe[..., 1] - iy
        grid = self.distance_m
        value = (
            grid[iy, ix] * (1 - fx) * (1 - fy)
            + grid[iy, ix + 1] * fx * (1 - fy)
            + grid[iy + 1, ix] * (1 - fx) * fy
            + grid[iy + 1, ix + 1] * fx * fy
        )
        if not inside.all():
            value[~inside] = self.road_map.distance_outside_drivable_area(points[~inside])
        return value

    def _bilinear_compiled(self, cell: NDArrayF64) -> tuple[NDArrayF64, bool]:
        """(the bilinear values at `cell[..., 2]` (grid units), whether every cell is inside),
        by the compiled kernel; the values are only meaningful when all are inside."""
        from urbandrive.planning.scoring.kernels import bilinear_inside

        flat = np.ascontiguousarray(cell).reshape(-1, 2)
        value, all_inside = bilinear_inside(flat, np.ascontiguousarray(self.distance_m))
        return value.reshape(cell.shape[:-1]), all_inside
