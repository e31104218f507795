"""Inputs shared by the driving metrics: the ego's states and the other agents' states as arrays.

Both carry leading batch axes that broadcast against each other, so one call scores
`[M]` candidate ego trajectories against one scene (`ego: [M, T]`, agents: `[A, T]`), or
`[M, K]` candidates x predicted modes (`ego: [M, 1, T]`, agents: `[K, A, T]`), or the single
executed rollout of the simulator (`ego: [1, T]`). Everything is float64, SI units, in the
scenario's global frame (x east, y north; heading CCW from +x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt

#: Agent types whose footprints count as vulnerable road users in the metrics.
VULNERABLE_TYPES = (
    AgentType.PEDESTRIAN,
    AgentType.CYCLIST,
    AgentType.MOTORCYCLIST,
    AgentType.ANIMAL,
)


@dataclass(frozen=True, slots=True)
class EgoStates:
    """The ego over T steps, for any leading batch shape `*B`.

    xy: float64[*B, T, 2], box centre, metres.
    heading: float64[*B, T], radians.
    speed_mps: float64[*B, T], signed speed along the heading (negative when reversing).
    size_m: float64[..., 2], (length, width), broadcastable to [*B, 2].
    """

    xy: NDArrayF64
    heading: NDArrayF64
    speed_mps: NDArrayF64
    size_m: NDArrayF64

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.xy.shape[:-2])

    @property
    def num_steps(self) -> int:
        return int(self.xy.shape[-2])

    def validate(self) -> None:
        """Raise `DataError` naming the field if shapes disagree or values are not finite."""
        shape = self.xy.shape[:-1]
        if self.xy.shape[-1:] != (2,):
            raise DataError(f"ego states: 'xy' must be [..., T, 2], got {self.xy.shape}")
        for name in ("heading", "speed_mps"):
            if getattr(self, name).shape != shape:
                raise DataError(
                    f"ego states: {name!r} has shape {getattr(self, name).shape}, want {shape}"
                )
        for name in ("xy", "heading", "speed_mps", "size_m"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise DataError(f"ego states: {name!r} has non-finite values")

    def size_per_step(self) -> NDArrayF64:
        """float64[*B, 1, 2]: the size broadcast to the batch, with a step axis."""
        size = np.asarray(self.size_m, np.float64)
        return np.broadcast_to(size, self.batch_shape + (2,))[..., None, :]


@dataclass(frozen=True, slots=True)
class AgentStates:
    """A other agents over T steps, for any leading batch shape `*G` broadcastable to the ego's.

    xy: float64[*G, A, T, 2], box centres, metres.
    heading: float64[*G, A, T], radians.
    velocity: float64[*G, A, T, 2], metres per second.
    size_m: float64[..., A, 2], (length, width), broadcastable to [*G, A, 2].
    types: int[..., A], `AgentType` values, broadcastable to [*G, A].
    valid: bool[*G, A, T]; invalid steps never collide, never count (their values are ignored).
    """

    xy: NDArrayF64
    heading: NDArrayF64
    velocity: NDArrayF64
    size_m: NDArrayF64
    types: NDArrayInt
    valid: NDArrayBool

    @property
    def num_agents(self) -> int:
        return int(self.xy.shape[-3])

    def validate(self) -> None:
        """Raise `DataError` naming the field if shapes disagree or valid values are not finite."""
        shape = self.xy.shape[:-1]
        if self.xy.ndim < 3 or self.xy.shape[-1] != 2:
            raise DataError(f"agent states: 'xy' must be [..., A, T, 2], got {self.xy.shape}")
        for name, want in (("heading", shape), ("velocity", shape + (2,)), ("valid", shape)):
            if getattr(self, name).shape != want:
                raise DataError(
                    f"agent states: {name!r} has shape {getattr(self, name).shape}, want {want}"
                )
        finite = (
            np.isfinite(self.xy).all(-1)
            & np.isfinite(self.heading)
            & np.isfinite(self.velocity).all(-1)
        )
        if np.any(self.valid & ~finite):
            raise DataError("agent states: a valid step has non-finite xy, heading or velocity")

    @property
    def speed_mps(self) -> NDArrayF64:
        """float64[*G, A, T], norm of the velocity."""
        return np.linalg.norm(self.velocity, axis=-1)

    def types_per_step(self) -> NDArrayInt:
        """int[..., A, 1]: the types with a step axis, for broadcasting against [*G, A, T]."""
        return np.asarray(self.types)[..., None]

    def size_per_step(self) -> NDArrayF64:
        """float64[..., A, 1, 2]: the sizes with a step axis."""
        return np.asarray(self.size_m, np.float64)[..., None, :]

    @staticmethod
    def from_tracks(tracks: Tracks, exclude_index: int | None = None) -> AgentStates:
        """Every agent of `tracks` (float64[A, T]), without the row `exclude_index` (the ego)."""
        keep = np.arange(tracks.num_agents)
        if exclude_index is not None:
            keep = keep[keep != exclude_index]
        return AgentStates(
            xy=tracks.xy[keep],
            heading=tracks.heading[keep],
            velocity=tracks.velocity[keep],
            size_m=tracks.size_m[keep],
            types=tracks.types[keep],
            valid=tracks.valid[keep],
        )


def ego_from_tracks(tracks: Tracks, ego_index: int) -> EgoStates:
    """The ego row of `tracks` as `EgoStates` with batch shape (1,); speed signed along heading."""
    heading = tracks.heading[ego_index]
    velocity = tracks.velocity[ego_index]
    speed = velocity[:, 0] * np.cos(heading) + velocity[:, 1] * np.sin(heading)
    return EgoStates(
        xy=tracks.xy[ego_index][None],
        heading=heading[None],
        speed_mps=speed[None],
        size_m=tracks.size_m[ego_index][None],
    )


def is_vulnerable(types: NDArrayInt) -> NDArrayBool:
    """bool[...]: whether each `AgentType` value is a vulnerable road user."""
    return np.isin(types, np.asarray(VULNERABLE_TYPES, dtype=np.int64))
