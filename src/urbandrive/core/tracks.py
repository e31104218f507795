"""Agent tracks as a struct of arrays: static facts (`AgentInfo`) and time-varying state (`Tracks`).

Axis order is `(A, T, ...)`: agents first, then time steps. Invalid steps are filled with zeros
(never NaN) so vectorised code does not spread NaNs; always read `valid` before the values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """What does not change over time, per agent.

    ids: str[A], unique track ids as the source names them.
    types: int8[A], `AgentType` values.
    size_m: float64[A, 2], (length, width) in metres.
    attributes: name -> array[A], per-agent extras, e.g. `category_confidence: float32[A]`
        (perception noise) or `is_parked: bool[A]`.
    """

    ids: np.ndarray
    types: NDArrayInt
    size_m: NDArrayF64
    attributes: Mapping[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_agents(self) -> int:
        return int(self.ids.shape[0])

    def validate(self, where: str = "agents") -> None:
        """Raise `DataError` naming `where` and the field if shapes, types or values are wrong."""
        num_agents = self.num_agents
        if self.ids.ndim != 1:
            raise DataError(f"{where}: 'ids' must be 1-D, got shape {self.ids.shape}")
        if len(set(self.ids.tolist())) != num_agents:
            duplicates = sorted({i for i in self.ids.tolist() if self.ids.tolist().count(i) > 1})
            raise DataError(f"{where}: duplicate agent ids {duplicates[:5]}")
        _check_shape(where, "types", self.types, (num_agents,))
        _check_shape(where, "size_m", self.size_m, (num_agents, 2))
        known = {int(t) for t in AgentType}
        bad = [i for i, t in enumerate(self.types.tolist()) if t not in known]
        if bad:
            raise DataError(
                f"{where}: agent {str(self.ids[bad[0]])!r} has unknown type {self.types[bad[0]]}"
            )
        if not np.all(np.isfinite(self.size_m)) or np.any(self.size_m <= 0):
            index = int(np.flatnonzero(~(np.isfinite(self.size_m) & (self.size_m > 0)).all(1))[0])
            raise DataError(
                f"{where}: agent {str(self.ids[index])!r} has size {self.size_m[index]}"
            )
        for name, values in self.attributes.items():
            if values.shape[:1] != (num_agents,):
                raise DataError(
                    f"{where}: attribute {name!r} has shape {values.shape}, want ({num_agents}, ...)"
                )

    def select(self, indices: NDArrayInt | Sequence[int]) -> AgentInfo:
        """The agents at `indices`, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        return AgentInfo(
            ids=self.ids[indices],
            types=self.types[indices],
            size_m=self.size_m[indices],
            attributes={k: v[indices] for k, v in self.attributes.items()},
        )


@dataclass(frozen=True, slots=True)
class Tracks:
    """Time-varying state of A agents over T steps, in one frame (the scenario's global frame).

    info: the static facts, A agents.
    xy: float64[A, T, 2], position of the box centre, metres.
    heading: float64[A, T], radians CCW from +x, wrapped to (-pi, pi].
    velocity: float64[A, T, 2], metres per second, same frame as `xy`.
    valid: bool[A, T], whether the agent was observed at the step.
    """

    info: AgentInfo
    xy: NDArrayF64
    heading: NDArrayF64
    velocity: NDArrayF64
    valid: NDArrayBool

    @property
    def ids(self) -> np.ndarray:
        return self.info.ids

    @property
    def types(self) -> NDArrayInt:
        return self.info.types

    @property
    def size_m(self) -> NDArrayF64:
        return self.info.size_m

    @property
    def num_agents(self) -> int:
        return self.info.num_agents

    @property
    def num_steps(self) -> int:
        return int(self.valid.shape[1])

    @property
    def speed_mps(self) -> NDArrayF64:
        """float64[A, T], norm of `velocity`."""
        return np.linalg.norm(self.velocity, axis=-1)

    def index_of(self, agent_id: str) -> int:
        """Row of the agent named `agent_id`; `KeyError` naming it if absent."""
        hits = np.flatnonzero(self.ids == agent_id)
        if hits.size == 0:
            raise KeyError(f"no agent with id {agent_id!r}")
        return int(hits[0])

    def select(self, indices: NDArrayInt | Sequence[int]) -> Tracks:
        """The agents at `indices`, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        return Tracks(
            info=self.info.select(indices),
            xy=self.xy[indices],
            heading=self.heading[indices],
            velocity=self.velocity[indices],
            valid=self.valid[indices],
        )

    def slice_time(self, start: int, stop: int) -> Tracks:
        """Steps `start:stop` of every agent."""
        return Tracks(
            info=self.info,
            xy=self.xy[:, start:stop],
            heading=self.heading[:, start:stop],
            velocity=self.velocity[:, start:stop],
            valid=self.valid[:, start:stop],
        )

    def validate(self, where: str = "tracks") -> None:
        """Raise `DataError` naming `where`, the field and the agent if anything is inconsistent."""
        self.info.validate(where)
        num_agents, num_steps = self.valid.shape if self.valid.ndim == 2 else (-1, -1)
        _check_shape(where, "valid", self.valid, (self.info.num_agents, num_steps))
        _check_shape(where, "xy", self.xy, (num_agents, num_steps, 2))
        _check_shape(where, "heading", self.heading, (num_agents, num_steps))
        _check_shape(where, "velocity", self.velocity, (num_agents, num_steps, 2))
        if self.valid.dtype != np.bool_:
            raise DataError(f"{where}: 'valid' must be bool, got {self.valid.dtype}")
        for name in ("xy", "heading", "velocity"):
            values = getattr(self, name)
            finite = np.isfinite(values) if values.ndim == 2 else np.isfinite(values).all(-1)
            broken = self.valid & ~finite
            if broken.any():
                agent, step = (int(i) for i in np.argwhere(broken)[0])
                raise DataError(
                    f"{where}: agent {str(self.ids[agent])!r} has a non-finite {name!r} at step {step}"
                )

    @staticmethod
    def from_arrays(
        ids: Sequence[str],
        types: Sequence[int],
        size_m: Any,
        xy: Any,
        heading: Any,
        velocity: Any | None = None,
        valid: Any | None = None,
        attributes: Mapping[str, np.ndarray] | None = None,
    ) -> Tracks:
        """Build and validate tracks from array-likes; invalid steps are zero-filled.

        velocity defaults to zeros; valid defaults to every finite `xy` step.
        """
        xy = np.asarray(xy, dtype=np.float64)
        valid = np.isfinite(xy).all(-1) if valid is None else np.asarray(valid, dtype=bool)
        heading = np.asarray(heading, dtype=np.float64)
        velocity = np.zeros_like(xy) if velocity is None else np.asarray(velocity, np.float64)
        shape = valid.shape
        for name, values, want in (
            ("xy", xy, shape + (2,)),
            ("heading", heading, shape),
            ("velocity", velocity, shape + (2,)),
        ):
            _check_shape("tracks", name, values, want)
        tracks = Tracks(
            info=AgentInfo(
                ids=np.asarray(list(ids), dtype=str),
                types=np.asarray(types, dtype=np.int8),
                size_m=np.asarray(size_m, dtype=np.float64).reshape(-1, 2),
                attributes=dict(attributes or {}),
            ),
            xy=np.where(valid[..., None], xy, 0.0),
            heading=np.where(valid, heading, 0.0),
            velocity=np.where(valid[..., None], velocity, 0.0),
            valid=valid,
        )
        tracks.validate()
        return tracks


def _check_shape(where: str, name: str, values: np.ndarray, shape: tuple[int, ...]) -> None:
    if values.shape != shape:
        raise DataError(f"{where}: {name!r} has shape {values.shape}, expected {shape}")
