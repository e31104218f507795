"""Angle helpers."""

import numpy as np

from urbandrive.core.typing import NDArrayF64


def wrap_angle(angle_rad: NDArrayF64 | float) -> NDArrayF64:
    """Wrap radians to (-pi, pi]; any shape."""
    wrapped = np.mod(np.asarray(angle_rad, dtype=np.float64) + np.pi, 2.0 * np.pi) - np.pi
    return np.where(wrapped == -np.pi, np.pi, wrapped)
