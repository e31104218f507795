"""Rigid transforms of the plane, named by their frames: `city_SE2_ego` maps ego points to city."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayF64
from urbandrive.geometry.angles import wrap_angle


@dataclass(frozen=True, slots=True)
class SE2:
    """Rotation by `angle_rad` then translation by `translation`; batched over leading axes.

    angle_rad: float64[...], radians CCW.
    translation: float64[..., 2], metres.
    """

    angle_rad: NDArrayF64
    translation: NDArrayF64

    @staticmethod
    def from_pose(x: float, y: float, heading: float) -> SE2:
        """The transform whose frame has its origin at (x, y) and +x axis along `heading`."""
        return SE2(np.float64(heading), np.array([x, y], dtype=np.float64))

    @property
    def rotation(self) -> NDArrayF64:
        """float64[..., 2, 2]."""
        cos, sin = np.cos(self.angle_rad), np.sin(self.angle_rad)
        return np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)

    def transform_points(self, points: NDArrayF64) -> NDArrayF64:
        """points: float64[..., N, 2] in the source frame -> the same in the destination frame."""
        points = np.asarray(points, dtype=np.float64)
        cos = np.cos(self.angle_rad)[..., None]
        sin = np.sin(self.angle_rad)[..., None]
        x, y = points[..., 0], points[..., 1]
        out_x = cos * x - sin * y + self.translation[..., None, 0]
        out_y = sin * x + cos * y + self.translation[..., None, 1]
        return np.stack([out_x, out_y], axis=-1)

    def transform_headings(self, heading: NDArrayF64) -> NDArrayF64:
        """heading: float64[..., N] in the source frame -> destination frame, wrapped."""
        return wrap_angle(np.asarray(heading) + np.asarray(self.angle_rad)[..., None])

    def inverse(self) -> SE2:
        """`src_SE2_dst` from `dst_SE2_src`."""
        cos, sin = np.cos(self.angle_rad), np.sin(self.angle_rad)
        tx, ty = self.translation[..., 0], self.translation[..., 1]
        back = np.stack([-(cos * tx + sin * ty), -(-sin * tx + cos * ty)], axis=-1)
        return SE2(wrap_angle(-self.angle_rad), back)

    def compose(self, right: SE2) -> SE2:
        """`a_SE2_c = a_SE2_b.compose(b_SE2_c)`."""
        translation = self.transform_points(right.translation[..., None, :])[..., 0, :]
        return SE2(wrap_angle(self.angle_rad + right.angle_rad), translation)
