"""Planar geometry: SE2 transforms, angles, polylines, oriented boxes. Batched numpy, float64."""

from urbandrive.geometry.angles import wrap_angle
from urbandrive.geometry.boxes import box_corners, boxes_overlap
from urbandrive.geometry.polyline import (
    arc_length,
    interpolate_along,
    midline,
    polyline_headings,
    project_points,
    resample_by_count,
    resample_by_spacing,
)
from urbandrive.geometry.se2 import SE2

__all__ = [
    "SE2",
    "arc_length",
    "box_corners",
    "boxes_overlap",
    "interpolate_along",
    "midline",
    "polyline_headings",
    "project_points",
    "resample_by_count",
    "resample_by_spacing",
    "wrap_angle",
]
