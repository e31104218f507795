"""From an `Observation` (or a logged window) to the float32 tensors of the learned model.

Frames. Everything global is float64; here it is moved, once, into a *scene frame*: the
ego's pose now when the ego is seen now, else the centroid of the agents seen now with
heading 0. Only scene-frame arrays are cast to float32 (coordinates within ~100 m of the
origin: sub-millimetre in float32). The model is *query-centric* (after QCNet): it never
reads a scene-frame coordinate directly; each agent's history is re-expressed in the agent's
own pose now, each map polyline in its own pose, and agents and polylines meet only through
pairwise relative poses (`relative_pose`). Predictions are therefore invariant to rotating
and translating the whole scene, whatever the scene frame is; the scene frame only keeps
float32 local. We chose this over a scene-centred model because it needs no rotation
augmentation to generalise over headings, and an agent's features do not depend on where
the ego is.

Shapes: `A` agents, `T` history steps (the last is now), `H` future steps, `L` polylines of
`P` points, `B` scenes in a batch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from urbandrive.core import compiled
from urbandrive.core.errors import DataError
from urbandrive.core.observation import Observation
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.maps.road_map import RoadMap
from urbandrive.maps.vectorize import NUM_MAP_FEATURES, vectorize_map

#: Attribute of `AgentInfo.attributes` read as the perception confidence (1 when absent).
CONFIDENCE_ATTRIBUTE = "category_confidence"
#: Spacing of the map polylines' points (m), `vectorize_map`.
MAP_POINT_SPACING_M = 1.0


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """What the model sees. history_steps includes now; future_steps are the targets.

    max_agents: the agents seen now nearest the scene origin (None: all of them).
    map_radius_m / max_polylines / points_per_polyline: `vectorize_map` around the origin;
    use_map False gives no polylines (pedestrian datasets without maps).
    """

    history_steps: int = 20
    future_steps: int = 30
    dt_s: float = 0.1
    max_agents: int | None = None
    use_map: bool = True
    map_radius_m: float = 60.0
    max_polylines: int = 128
    points_per_polyline: int = 20

    def __post_init__(self) -> None:
        if self.history_steps < 2 or self.future_steps < 1 or not self.dt_s > 0:
            raise ValueError(f"need history_steps >= 2, future_steps >= 1, dt_s > 0: {self}")
        if self.max_agents is not None and self.max_agents < 1:
            raise ValueError(f"max_agents must be >= 1 or None, got {self.max_agents}")
        if self.max_polylines < 1 or self.points_per_polyline < 2 or self.map_radius_m <= 0:
            raise ValueError(f"bad map settings in {self}")


@dataclass(frozen=True, slots=True)
class SceneTensors:
    """One scene in its scene frame (numpy; float32 unless said otherwise).

    origin_xy: float64[2] and origin_heading (rad): the scene frame's pose, global frame.
    agent_rows: int64[A], rows of the observation's `history`.
    xy: [A, T, 2] m; heading: [A, T] rad; velocity: [A, T, 2] m/s; valid: bool[A, T]
        (every agent is valid at T - 1, now). types: int64[A] (`AgentType`); confidence: [A].
    map_points: [L, P, 2] m; map_point_valid: bool[L, P]; map_features: [L, NUM_MAP_FEATURES];
        map_valid: bool[L] (L may be 0); map_piece_ids: int64[L], each polyline's index in
        the map's `polyline_pieces` (-1: padding), or None.
    future_xy: [A, H, 2] m and future_valid: bool[A, H] for training windows, else None.
    """

    origin_xy: NDArrayF64
    origin_heading: float
    agent_rows: NDArrayInt
    xy: np.ndarray
    heading: np.ndarray
    velocity: np.ndarray
    valid: NDArrayBool
    types: NDArrayInt
    confidence: np.ndarray
    map_points: np.ndarray
    map_point_valid: NDArrayBool
    map_features: np.ndarray
    map_valid: NDArrayBool
    map_piece_ids: NDArrayInt | None = None
    future_xy: np.ndarray | None = None
    future_valid: NDArrayBool | None = None

    @property
    def num_agents(self) -> int:
        return int(self.agent_rows.shape[0])


def scene_origin(history: Tracks, ego_index: int) -> tuple[NDArrayF64, float]:
    """(float64[2], heading): the ego's pose now if seen now, else the centroid of the agents
    seen now with heading 0. `DataError` if nobody is seen now."""
    now = history.valid[:, -1]
    if not now.any():
        raise DataError("prediction features: no agent is observed at the current step")
    if 0 <= ego_index < history.num_agents and now[ego_index]:
        return history.xy[ego_index, -1].copy(), float(history.heading[ego_index, -1])
    return history.xy[now, -1].mean(0), 0.0


def to_frame(xy: NDArrayF64, origin_xy: NDArrayF64, origin_heading: float) -> NDArrayF64:
    """float64[..., 2]: global points `xy: float64[..., 2]` in the frame at the origin pose."""
    cos, sin = np.cos(origin_heading), np.sin(origin_heading)
    offset = xy - origin_xy
    return np.stack(
        [cos * offset[..., 0] + sin * offset[..., 1], -sin * offset[..., 0] + cos * offset[..., 1]],
        -1,
    )


def rotate_vectors(vectors: NDArrayF64, angle: float) -> NDArrayF64:
    """float64[..., 2]: `vectors` rotated by `angle` radians (CCW)."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack(
        [
            cos * vectors[..., 0] - sin * vectors[..., 1],
            sin * vectors[..., 0] + cos * vectors[..., 1],
        ],
        -1,
    )


def vector_length(vectors: NDArrayF64) -> NDArrayF64:
    """float64[...]: the lengths of `vectors` [..., 2], sqrt(x^2 + y^2): the floats of
    `np.linalg.norm(vectors, axis=-1)` (its sum over an axis of two is one addition), without
    its overhead."""
    x, y = vectors[..., 0], vectors[..., 1]
    return np.sqrt(x * x + y * y)


def select_agents(history: Tracks, origin_xy: NDArrayF64, max_agents: int | None) -> NDArrayInt:
    """int64[A]: rows seen now, nearest the origin first, at most `max_agents` (stable ties)."""
    rows = np.flatnonzero(history.valid[:, -1])
    distance = vector_length(history.xy[rows, -1] - origin_xy)
    rows = rows[np.argsort(distance, kind="stable")]
    return rows if max_agents is None else rows[:max_agents]


def _left_pad(values: np.ndarray, steps: int, fill: float | bool) -> np.ndarray:
    """values: [A, t, ...] -> [A, steps, ...], the last `steps` steps, padded at the start."""
    have = values.shape[1]
    if have >= steps:
        return values[:, have - steps :]
    pad = np.full((values.shape[0], steps - have) + values.shape[2:], fill, values.dtype)
    return np.concatenate([pad, values], axis=1)


def agent_arrays(
    history: Tracks, rows: NDArrayInt, origin_xy: NDArrayF64, origin_heading: float, steps: int
) -> dict[str, np.ndarray]:
    """The history of `rows` in the scene frame, float32 (see `SceneTensors`); positions and
    velocities by one compiled pass where the switch is on (`to_frame`'s and
    `rotate_vectors`' operations)."""
    valid = _left_pad(history.valid[rows], steps, False)
    if compiled.enabled():  # float32 out, zero where not valid: the where and cast below
        xy, velocity = np.empty((2, rows.size, steps, 2), np.float32)
        turns = np.cos(origin_heading), np.sin(origin_heading)
        turns += (np.cos(-origin_heading), np.sin(-origin_heading))
        origin = np.ascontiguousarray(origin_xy, np.float64)
        moving = history.xy[rows], history.velocity[rows]
        _scene_frame_kernel(*moving, valid, origin, *turns, xy, velocity)
    else:
        xy = _left_pad(to_frame(history.xy[rows], origin_xy, origin_heading), steps, 0.0)
        velocity = _left_pad(rotate_vectors(history.velocity[rows], -origin_heading), steps, 0.0)
        xy = np.where(valid[..., None], xy, 0.0).astype(np.float32)
        velocity = np.where(valid[..., None], velocity, 0.0).astype(np.float32)
    heading = _left_pad(history.heading[rows] - origin_heading, steps, 0.0)
    heading = np.arctan2(np.sin(heading), np.cos(heading))
    confidence = history.info.attributes.get(CONFIDENCE_ATTRIBUTE)
    if confidence is None:
        confidence = np.ones(rows.size, np.float32)
    else:
        confidence = np.nan_to_num(np.asarray(confidence)[rows].astype(np.float32), nan=1.0)
    return {
        "xy": xy,
        "heading": np.where(valid, heading, 0.0).astype(np.float32),
        "velocity": velocity,
        "valid": valid,
        "types": history.types[rows].astype(np.int64),
        "confidence": confidence,
    }


@compiled.njit
def _scene_frame_kernel(
    xy: NDArrayF64,
    velocity: NDArrayF64,
    valid: NDArrayBool,
    origin: NDArrayF64,
    cos: float,
    sin: float,
    cos_back: float,
    sin_back: float,
    out_xy: NDArrayF64,
    out_velocity: NDArrayF64,
) -> None:  # pragma: no cover - compiled
    """`agent_arrays`' positions (`to_frame` by cos / sin of the origin heading) and
    velocities (`rotate_vectors` by cos / sin of minus it) of histories [A, T, 2] into
    out [A, steps, 2] (float32: numpy's cast of the float64 results), left-padded, zero
    where not `valid` [A, steps]."""
    steps, have = out_xy.shape[1], xy.shape[1]
    for a in range(xy.shape[0]):
        for t in range(steps):
            source = t + have - steps
            if source < 0 or not valid[a, t]:
                out_xy[a, t, 0], out_xy[a, t, 1] = 0.0, 0.0
                out_velocity[a, t, 0], out_velocity[a, t, 1] = 0.0, 0.0
                continue
            dx, dy = xy[a, source, 0] - origin[0], xy[a, source, 1] - origin[1]
            out_xy[a, t, 0] = cos * dx + sin * dy
            out_xy[a, t, 1] = -sin * dx + cos * dy
            vx, vy = velocity[a, source, 0], velocity[a, source, 1]
            out_velocity[a, t, 0] = cos_back * vx - sin_back * vy
            out_velocity[a, t, 1] = sin_back * vx + cos_back * vy


def map_arrays(
    road_map: RoadMap | None, origin_xy: NDArrayF64, origin_heading: float, config: FeatureConfig
) -> dict[str, np.ndarray]:
    """The map polylines around the origin, scene frame (L = 0 without a map or use_map)."""
    if road_map is None or not config.use_map or not road_map.lanes:
        points = config.points_per_polyline
        return {
            "map_points": np.zeros((0, points, 2), np.float32),
            "map_point_valid": np.zeros((0, points), bool),
            "map_features": np.zeros((0, NUM_MAP_FEATURES), np.float32),
            "map_valid": np.zeros(0, bool),
            "map_piece_ids": np.zeros(0, np.int64),
        }
    polylines = vectorize_map(
        road_map,
        origin_xy,
        origin_heading,
        config.map_radius_m,
        config.max_polylines,
        config.points_per_polyline,
        MAP_POINT_SPACING_M,
    )
    return {
        "map_points": polylines.points,
        "map_point_valid": polylines.valid,
        "map_features": polylines.features,
        "map_valid": polylines.polyline_valid,
        "map_piece_ids": polylines.piece_ids,
    }


def _check_finite(history: Tracks, rows: NDArrayInt, where: str) -> None:
    """`DataError` naming the agent if a valid step of `rows` is not finite (the first such
    row of `rows`; one compiled pass where the switch is on)."""
    if compiled.enabled():
        arrays = history.valid, history.xy, history.heading, history.velocity
        first = _first_non_finite_kernel(*arrays, np.ascontiguousarray(rows, np.int64))
    else:
        valid = history.valid[rows]
        finite = np.isfinite(history.xy[rows]).all(-1) & np.isfinite(history.heading[rows])
        finite &= np.isfinite(history.velocity[rows]).all(-1)
        broken = valid & ~finite
        first = int(np.argwhere(broken)[0, 0]) if broken.any() else -1
    if first >= 0:
        agent = rows[first]
        raise DataError(f"{where}: agent {str(history.ids[agent])!r} has non-finite state")


@compiled.njit
def _first_non_finite_kernel(
    valid: NDArrayBool, xy: NDArrayF64, heading: NDArrayF64, velocity: NDArrayF64, rows: NDArrayInt
) -> int:  # pragma: no cover - compiled
    """The first index into `rows` [R] whose agent has a valid step (valid [N, T]) with a
    non-finite xy [N, T, 2], heading [N, T] or velocity [N, T, 2]; -1 if none."""
    for index in range(rows.size):
        row = rows[index]
        for t in range(valid.shape[1]):
            if valid[row, t] and not (
                np.isfinite(xy[row, t, 0])
                and np.isfinite(xy[row, t, 1])
                and np.isfinite(heading[row, t])
                and np.isfinite(velocity[row, t, 0])
                and np.isfinite(velocity[row, t, 1])
            ):
                return index
    return -1


def observation_features(observation: Observation, config: FeatureConfig) -> SceneTensors:
    """The model inputs of one observation (no targets). `DataError` for an empty scene or
    non-finite states; `observation.dt_s` must equal `config.dt_s`."""
    where = f"prediction features of scenario {observation.scenario_id!r}"
    if not abs(observation.dt_s - config.dt_s) <= 1e-6 + 1e-5 * abs(config.dt_s):  # np.isclose
        raise DataError(f"{where}: step {observation.dt_s} s, the model expects {config.dt_s} s")
    history = observation.history
    origin_xy, origin_heading = scene_origin(history, observation.ego_index)
    rows = select_agents(history, origin_xy, config.max_agents)
    _check_finite(history, rows, where)
    arrays = agent_arrays(history, rows, origin_xy, origin_heading, config.history_steps)
    arrays |= map_arrays(observation.road_map, origin_xy, origin_heading, config)
    return SceneTensors(
        origin_xy=origin_xy, origin_heading=origin_heading, agent_rows=rows, **arrays
    )


def window_features(scenario: Scenario, step: int, config: FeatureConfig) -> SceneTensors:
    """Inputs and targets of the logged window whose current step is `step` (training).

    future_xy / future_valid cover steps step+1 .. step+H (invalid beyond the log's end).
    """
    start = max(0, step - config.history_steps + 1)
    history = scenario.tracks.slice_time(start, step + 1)
    ego = -1 if scenario.ego_index is None else scenario.ego_index
    observation = Observation(
        scenario_id=scenario.id,
        step=step,
        time_s=float(scenario.times_s[step]),
        dt_s=scenario.dt_s,
        history=history,
        ego_index=ego,
        road_map=scenario.road_map,
    )
    scene = observation_features(observation, config)
    future = scenario.tracks.slice_time(step + 1, step + 1 + config.future_steps)
    valid = np.zeros((scene.num_agents, config.future_steps), bool)
    valid[:, : future.num_steps] = future.valid[scene.agent_rows]
    xy = np.zeros((scene.num_agents, config.future_steps, 2))
    xy[:, : future.num_steps] = to_frame(
        future.xy[scene.agent_rows], scene.origin_xy, scene.origin_heading
    )
    xy = np.where(valid[..., None], xy, 0.0).astype(np.float32)
    return replace(scene, future_xy=xy, future_valid=valid)


def rotate_scene(scene: SceneTensors, angle: float, shift_xy: NDArrayF64) -> SceneTensors:
    """The same scene with its frame rotated by `angle` and shifted by `shift_xy` (m): every
    scene-frame array is moved, the origin pose changes so global positions do not
    (augmentation, and the invariance test)."""

    def move(points: np.ndarray, valid: np.ndarray) -> np.ndarray:
        moved = rotate_vectors(points.astype(np.float64), angle) + shift_xy
        return np.where(valid[..., None], moved, 0.0).astype(np.float32)

    heading = np.where(
        scene.valid, np.arctan2(np.sin(scene.heading + angle), np.cos(scene.heading + angle)), 0.0
    )
    future = None
    if scene.future_xy is not None and scene.future_valid is not None:
        future = move(scene.future_xy, scene.future_valid)
    new_heading = scene.origin_heading - angle
    origin = scene.origin_xy - rotate_vectors(np.asarray(shift_xy, np.float64), new_heading)
    return replace(
        scene,
        origin_xy=origin,
        origin_heading=float(new_heading),
        xy=move(scene.xy, scene.valid),
        heading=heading.astype(np.float32),
        velocity=np.where(
            scene.valid[..., None], rotate_vectors(scene.velocity.astype(np.float64), angle), 0.0
        ).astype(np.float32),
        map_points=move(scene.map_points, scene.map_point_valid),
        future_xy=future,
    )


@dataclass(frozen=True, slots=True)
class Batch:
    """B scenes padded to A agents and L polylines (torch; float32 unless said otherwise).

    xy: (B, A, T, 2); heading: (B, A, T); velocity: (B, A, T, 2); valid: bool (B, A, T);
    agent_mask: bool (B, A), real agents (all seen now); types: int64 (B, A);
    confidence: (B, A); map_points: (B, L, P, 2); map_point_valid: bool (B, L, P);
    map_features: (B, L, F); map_mask: bool (B, L); future_xy: (B, A, H, 2) and
    future_valid: bool (B, A, H) or None. Scene frame throughout.
    """

    xy: torch.Tensor
    heading: torch.Tensor
    velocity: torch.Tensor
    valid: torch.Tensor
    agent_mask: torch.Tensor
    types: torch.Tensor
    confidence: torch.Tensor
    map_points: torch.Tensor
    map_point_valid: torch.Tensor
    map_features: torch.Tensor
    map_mask: torch.Tensor
    future_xy: torch.Tensor | None = None
    future_valid: torch.Tensor | None = None


def _pad_stack(arrays: list[np.ndarray], length: int) -> torch.Tensor:
    """Stack [n_i, ...] arrays into (B, length, ...) zero-padded along the first axis."""
    first = arrays[0]
    out = np.zeros((len(arrays), length) + first.shape[1:], dtype=first.dtype)
    for index, values in enumerate(arrays):
        out[index, : values.shape[0]] = values
    return torch.from_numpy(out)


def collate(scenes: list[SceneTensors]) -> Batch:
    """Pad and stack scenes into a `Batch` (at least one agent and one polyline slot)."""
    if not scenes:
        raise DataError("collate: no scenes")
    agents = max(1, max(s.num_agents for s in scenes))
    lines = max(1, max(s.map_valid.shape[0] for s in scenes))

    def agent_field(name: str) -> torch.Tensor:
        return _pad_stack([getattr(s, name) for s in scenes], agents)

    def map_field(name: str) -> torch.Tensor:
        return _pad_stack([getattr(s, name) for s in scenes], lines)

    has_future = all(s.future_xy is not None for s in scenes)
    return Batch(
        xy=agent_field("xy"),
        heading=agent_field("heading"),
        velocity=agent_field("velocity"),
        valid=agent_field("valid"),
        agent_mask=_pad_stack([np.ones(s.num_agents, bool) for s in scenes], agents),
        types=agent_field("types"),
        confidence=agent_field("confidence"),
        map_points=map_field("map_points"),
        map_point_valid=map_field("map_point_valid"),
        map_features=map_field("map_features"),
        map_mask=map_field("map_valid"),
        future_xy=agent_field("future_xy") if has_future else None,
        future_valid=agent_field("future_valid") if has_future else None,
    )


# -- query-centric frames (torch) -------------------------------------------------------------


def rotate(vectors: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """(..., 2): `vectors` (..., 2) rotated by the angle whose cos / sin are (...): a complex
    product (x + iy)(cos + i sin), one op instead of nine (4x faster on CPU)."""
    return turned(vectors, torch.complex(cos, sin))


def into_frame(heading: torch.Tensor) -> torch.Tensor:
    """(...) complex64 cos(heading) - i sin(heading): the turn into a frame of that heading
    (`rotate`'s complex factor; shared by the inference's uses of the agents' headings now)."""
    return torch.complex(torch.cos(heading), -torch.sin(heading))


def turned(vectors: torch.Tensor, turn: torch.Tensor) -> torch.Tensor:
    """(..., 2): `vectors` (..., 2) times the complex `turn` (...), e.g. `into_frame`'s."""
    return torch.view_as_real(torch.view_as_complex(vectors.contiguous()) * turn)


def relative_pose(
    src_xy: torch.Tensor,
    src_heading: torch.Tensor,
    dst_xy: torch.Tensor,
    dst_heading: torch.Tensor,
    src_turn: torch.Tensor | None = None,
) -> torch.Tensor:
    """(..., 5) float32: where `dst` is seen from `src` — (dx, dy) in src's frame / 10 m,
    log(1 + distance / 1 m), cos and sin of dst heading - src heading. Inputs broadcast:
    xy (..., 2), heading (...), any common frame; src_turn: `into_frame(src_heading)` when
    already computed (None: computed here)."""
    offset = dst_xy - src_xy
    local = turned(offset, into_frame(src_heading) if src_turn is None else src_turn)
    distance = torch.linalg.vector_norm(offset, dim=-1)
    delta = dst_heading - src_heading
    rest = torch.stack([torch.log1p(distance), torch.cos(delta), torch.sin(delta)], dim=-1)
    return torch.cat([local / 10.0, rest], dim=-1)


def agent_step_inputs(batch: Batch, turn: torch.Tensor | None = None) -> torch.Tensor:
    """(B, A, T, 9) float32, each agent's history in its own frame now: position (m / 10),
    cos / sin of heading change, velocity (m/s / 10), step displacement (m), valid flag.
    turn: `into_frame` of the headings now (B, A) when already computed."""
    heading_now = batch.heading[..., -1:]
    turn = into_frame(heading_now) if turn is None else turn[..., None]
    position = turned(batch.xy - batch.xy[..., -1:, :], turn)
    velocity = turned(batch.velocity, turn)
    step = torch.diff(position, dim=-2, prepend=position[..., :1, :])
    both = batch.valid & torch.cat([batch.valid[..., :1], batch.valid[..., :-1]], dim=-1)
    step = torch.where(both[..., None], step, torch.zeros_like(step))
    delta = batch.heading - heading_now
    features = torch.cat(
        [
            position / 10.0,
            torch.cos(delta)[..., None],
            torch.sin(delta)[..., None],
            velocity / 10.0,
            step,
            batch.valid[..., None].float(),
        ],
        dim=-1,
    )
    return features * batch.valid[..., None]


def polyline_poses(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Each polyline's pose, scene frame: origin (B, L, 2) = its first point, heading (B, L)
    = direction from the first to the last valid point (0 for padding)."""
    count = batch.map_point_valid.sum(-1).clamp(min=1)
    last = torch.gather(
        batch.map_points, 2, (count - 1)[..., None, None].expand(-1, -1, 1, 2)
    ).squeeze(2)
    first = batch.map_points[:, :, 0]
    direction = last - first
    heading = torch.atan2(direction[..., 1], direction[..., 0])
    return first, torch.where(batch.map_mask, heading, torch.zeros_like(heading))


def polyline_point_inputs(
    batch: Batch, origin: torch.Tensor, heading: torch.Tensor
) -> torch.Tensor:
    """(B, L, P, 5) float32: each point in its polyline's frame (m / 10), the segment to the
    next point (m), valid flag."""
    cos, sin = torch.cos(heading)[..., None], -torch.sin(heading)[..., None]
    local = rotate(batch.map_points - origin[:, :, None], cos, sin)
    segment = torch.diff(local, dim=-2, append=local[..., -1:, :])
    following = torch.cat(
        [batch.map_point_valid[..., 1:], torch.zeros_like(batch.map_point_valid[..., :1])], -1
    )
    segment = segment * (batch.map_point_valid & following)[..., None]
    features = torch.cat([local / 10.0, segment, batch.map_point_valid[..., None].float()], -1)
    return features * batch.map_point_valid[..., None]


def agent_to_scene(
    local_xy: torch.Tensor, origin_xy: torch.Tensor, heading: torch.Tensor
) -> torch.Tensor:
    """(B, A, K, H, 2): points in each agent's frame now -> scene frame. local_xy:
    (B, A, K, H, 2); origin_xy: (B, A, 2) and heading: (B, A), the agents' poses now."""
    cos, sin = torch.cos(heading)[:, :, None, None], torch.sin(heading)[:, :, None, None]
    return rotate(local_xy, cos, sin) + origin_xy[:, :, None, None]


def scene_to_agent(
    xy: torch.Tensor, origin_xy: torch.Tensor, heading: torch.Tensor
) -> torch.Tensor:
    """(B, A, H, 2): scene-frame points (B, A, H, 2) in each agent's frame now."""
    cos, sin = torch.cos(heading)[..., None], -torch.sin(heading)[..., None]
    return rotate(xy - origin_xy[:, :, None], cos, sin)


def scene_to_global(xy: np.ndarray, origin_xy: NDArrayF64, origin_heading: float) -> NDArrayF64:
    """float64[..., 2]: scene-frame points (any float dtype) in the global frame."""
    return rotate_vectors(np.asarray(xy, np.float64), origin_heading) + origin_xy
