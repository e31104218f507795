"""Inputs shared by the driving metrics: the ego's states and the other agents' states as arrays.

Both carry leading batch axes that broadcast against each other, so one call scores
`[M]` candidate ego trajectories against one scene (`ego: [M, T]`, agents: `[A, T]`), or
`[M, K]` candidates x predicted modes (`ego: [M, 1, T]`, agents: `[K, A, T]`), or the single
executed rollout of the simulator (`ego: [1, T]`). Everything is float64, SI units, in the
scenario's global frame (x east, y north; heading CCW from +x).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from urbandrive.core import compiled
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
        """float64[*G, A, T], norm of the velocity (`planar_norm`)."""
        return planar_norm(self.velocity)

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


def planar_norm(vectors: NDArrayF64) -> NDArrayF64:
    """float64[...]: the length of `vectors: float64[..., 2]`, the same floats as
    np.linalg.norm(vectors, axis=-1) (sqrt(x * x + y * y)) without its reduction, ~3x faster."""
    x, y = vectors[..., 0], vectors[..., 1]
    return np.sqrt(x * x + y * y)


def is_vulnerable(types: NDArrayInt) -> NDArrayBool:
    """bool[...]: whether each `AgentType` value is a vulnerable road user."""
    return types_in(types, VULNERABLE_TYPES)


def types_in(types: NDArrayInt, members: tuple[int, ...]) -> NDArrayBool:
    """bool[...]: np.isin(types, members) for int `types` [...], by a lookup table over the
    `AgentType` values (np.isin itself where a type lies outside them)."""
    types = np.asarray(types)
    if types.dtype.kind not in "iu" or (
        types.size and (types.min() < 0 or types.max() >= len(AgentType))
    ):
        return np.isin(types, np.asarray(members, np.int64))
    return _type_table(tuple(int(member) for member in members))[types]


@functools.lru_cache(maxsize=32)
def _type_table(members: tuple[int, ...]) -> NDArrayBool:
    """bool[len(AgentType)]: which `AgentType` values are among `members` (read-only)."""
    table = np.zeros(len(AgentType), np.bool_)
    table[[member for member in members if 0 <= member < len(AgentType)]] = True
    table.setflags(write=False)
    return table


@dataclass(frozen=True, slots=True)
class SharedRows:
    """Agents in K modes with each distinct (agent, trajectory) kept once: predicted modes
    often share an agent's trajectory (a constant-velocity mode, a mode split over one agent),
    and a pair test on a shared row need run only once.

    rows: the U distinct rows as `AgentStates` with no batch: xy float64[U, T, 2], valid
    bool[U, T], size_m float64[U, 2], types int64[U]. row_of: int64[K, A], the row that is
    agent a in mode k. agent_of: int64[U], the agent of each row. mode_start: int64[U + 1] and
    modes: int64[K * A], the modes that use row u are modes[mode_start[u]:mode_start[u + 1]],
    ascending (CSR).
    """

    rows: AgentStates
    row_of: NDArrayInt
    agent_of: NDArrayInt
    mode_start: NDArrayInt
    modes: NDArrayInt

    @property
    def num_rows(self) -> int:
        return int(self.agent_of.shape[0])

    @property
    def num_modes(self) -> int:
        return int(self.row_of.shape[0])

    def at_steps(self, steps: slice) -> SharedRows:
        """The same rows at `steps` only."""
        rows = self.rows
        return SharedRows(
            AgentStates(
                rows.xy[:, steps], rows.heading[:, steps], rows.velocity[:, steps],
                rows.size_m, rows.types, rows.valid[:, steps],
            ),
            self.row_of, self.agent_of, self.mode_start, self.modes,
        )  # fmt: skip

    def all_modes(self, flags: NDArrayBool) -> NDArrayBool:
        """bool[..., U]: flags[..., k] holds for every mode k that uses the row (flags:
        bool[..., K])."""
        if self.num_rows == 0:
            return np.ones(flags.shape[:-1] + (0,), bool)
        uses = np.zeros((self.num_modes, self.num_rows))  # [K, U]: mode k uses row u
        uses[np.arange(self.num_modes)[:, None], self.row_of] = 1.0
        return (~np.asarray(flags, bool)).astype(np.float64) @ uses == 0.0

    def spread(self, row: NDArrayInt) -> tuple[NDArrayInt, NDArrayInt]:
        """(item, mode) int64[N] each: every mode that uses row[item], for items int64[P]
        naming rows; items in order, modes ascending within one."""
        counts = np.diff(self.mode_start)[row]
        item = np.repeat(np.arange(row.shape[0]), counts)
        offset = np.arange(item.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        return item, self.modes[self.mode_start[row][item] + offset]

    def expand(self) -> AgentStates:
        """The agents as K modes again: batch [K], A agents (what `shared_rows` was given, up
        to `valid` being broadcast to [K, A, T])."""
        rows, row_of = self.rows, self.row_of
        return AgentStates(
            xy=rows.xy[row_of],
            heading=rows.heading[row_of],
            velocity=rows.velocity[row_of],
            size_m=rows.size_m[row_of[0]] if row_of.size else rows.size_m,
            types=rows.types[row_of[0]] if row_of.size else rows.types,
            valid=rows.valid[row_of],
        )


def shared_rows(agents: AgentStates) -> SharedRows:
    """The distinct rows of `agents` (batch [K], A agents, valid [..., A, T] broadcastable):
    agent a's row in mode k is the first mode j's (j < k) whose xy, heading, velocity and
    valid are the same bits over every step (`SharedRows`; a row is shared only where the
    bits are equal). Rows are ordered by agent, then by the first mode using them."""
    num_modes, num_agents, num_steps = agents.xy.shape[:3]
    valid = np.broadcast_to(agents.valid, (num_modes, num_agents, num_steps))
    fields = (
        _bits(agents.xy, num_modes, num_agents),
        _bits(agents.heading, num_modes, num_agents),
        _bits(agents.velocity, num_modes, num_agents),
        np.ascontiguousarray(valid).view(np.uint8).reshape(num_modes, num_agents, num_steps),
    )
    if compiled.enabled():
        row_of, agent_of, mode_of, mode_start, modes = _shared_rows_compiled(*fields)
    else:
        row_of, agent_of, mode_of, mode_start, modes = _shared_rows_numpy(fields)
    sizes = np.asarray(agents.size_m, np.float64)
    types = np.asarray(agents.types)
    rows = AgentStates(
        xy=agents.xy[mode_of, agent_of],
        heading=agents.heading[mode_of, agent_of],
        velocity=agents.velocity[mode_of, agent_of],
        size_m=np.broadcast_to(sizes, (num_agents, 2))[agent_of],
        types=np.broadcast_to(types, (num_agents,))[agent_of].astype(np.int64),
        valid=valid[mode_of, agent_of],
    )
    return SharedRows(rows, row_of, agent_of, mode_start, modes)


def _shared_rows_numpy(fields: tuple[NDArrayInt, ...]) -> tuple[NDArrayInt, ...]:
    """(row_of [K, A], agent_of [U], mode_of [U], mode_start [U + 1], modes [K * A]) of the
    rows given as bits (`_bits` of xy, heading, velocity, the valid flags as uint8: int[K, A,
    F] each): `_shared_rows_compiled` by numpy."""
    num_modes, num_agents = fields[0].shape[:2]
    first = np.tile(np.arange(num_modes)[:, None], (1, num_agents))  # [K, A]
    for k in range(num_modes):
        for j in range(k):
            open_ = (first[k] == k) & (first[j] == j)
            for field in fields:
                open_ &= np.all(field[k] == field[j], axis=-1)
            first[k, open_] = j
    keep = np.arange(num_modes) == first.T  # [A, K]: the kept (agent, mode) rows
    agent_of, mode_of = np.nonzero(keep)
    row_index = np.full((num_agents, num_modes), -1, np.int64)
    row_index[agent_of, mode_of] = np.arange(agent_of.shape[0])
    row_of = row_index[np.arange(num_agents)[None, :], first]  # [K, A]
    order = np.argsort(row_of.T, axis=None, kind="stable")  # by row, then mode
    modes = np.tile(np.arange(num_modes), num_agents)[order]
    counts = np.bincount(row_of.ravel(), minlength=agent_of.shape[0])
    return row_of, agent_of, mode_of, np.r_[0, np.cumsum(counts)], modes


@compiled.njit
def _shared_rows_compiled(
    xy: NDArrayInt, heading: NDArrayInt, velocity: NDArrayInt, valid: NDArrayInt
) -> tuple:
    """(row_of int64[K, A], agent_of [U], mode_of [U], mode_start [U + 1], modes [K * A]) of
    the rows given as bits (`_bits` of xy, heading, velocity, the valid flags as uint8: int[K,
    A, F] each): row (k, a) is the first kept row (j, a), j < k, equal to it in every field,
    else kept itself; kept rows numbered by agent, then mode; the modes of each row in CSR,
    ascending (`SharedRows`)."""
    num_modes, num_agents = xy.shape[0], xy.shape[1]
    first = np.empty((num_modes, num_agents), np.int64)
    num_rows = 0
    for a in range(num_agents):
        for k in range(num_modes):
            first[k, a] = k
            for j in range(k):
                if first[j, a] == j and _same_bits(xy, heading, velocity, valid, j, k, a):
                    first[k, a] = j
                    break
            if first[k, a] == k:
                num_rows += 1
    row_of = np.empty((num_modes, num_agents), np.int64)
    agent_of = np.empty(num_rows, np.int64)
    mode_of = np.empty(num_rows, np.int64)
    counts = np.zeros(num_rows, np.int64)
    u = 0
    for a in range(num_agents):
        for k in range(num_modes):
            j = first[k, a]
            if j == k:
                agent_of[u], mode_of[u] = a, k
                row_of[k, a] = u
                u += 1
            else:
                row_of[k, a] = row_of[j, a]
            counts[row_of[k, a]] += 1
    mode_start = np.zeros(num_rows + 1, np.int64)
    for u in range(num_rows):
        mode_start[u + 1] = mode_start[u] + counts[u]
    modes = np.empty(num_modes * num_agents, np.int64)
    filled = mode_start[:-1].copy()
    for a in range(num_agents):
        for k in range(num_modes):
            u = row_of[k, a]
            modes[filled[u]] = k
            filled[u] += 1
    return row_of, agent_of, mode_of, mode_start, modes


@compiled.njit
def _same_bits(
    xy: NDArrayInt, heading: NDArrayInt, velocity: NDArrayInt, valid: NDArrayInt, j: int, k: int,
    a: int,
) -> bool:  # fmt: skip
    """Rows (j, a) and (k, a) hold the same bits in every field ([K, A, F] each)."""
    for field in (xy, heading, velocity):
        for f in range(field.shape[2]):
            if field[j, a, f] != field[k, a, f]:
                return False
    for f in range(valid.shape[2]):  # noqa: SIM110 (numba: a plain loop)
        if valid[j, a, f] != valid[k, a, f]:
            return False
    return True


def _bits(values: NDArrayF64, num_modes: int, num_agents: int) -> NDArrayInt:
    """int64[K, A, F]: the float64 [K, A, T, ...] values' bits, one row per (mode, agent)."""
    array = np.ascontiguousarray(
        np.broadcast_to(values, (num_modes, num_agents) + values.shape[2:])
    )
    return array.view(np.int64).reshape(num_modes, num_agents, int(np.prod(values.shape[2:])))
