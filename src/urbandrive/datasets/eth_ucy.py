"""The `eth_ucy:PATH` loader: ETH/UCY pedestrian trajectories in the Social-GAN text format.

Each line is `frame<TAB>pedestrian_id<TAB>x<TAB>y` (metres, world frame). Frames are 10 apart
at 25 fps, so one step is 0.4 s (2.5 Hz). One file is one `Scenario`: every agent a
PEDESTRIAN, no map, no ego (`ego_index=None`), timestamps from the frames.

What the real files hold and how it is handled (all five test folds and their train / val
splits were checked):

- frame and id columns are written as floats ("780.0"): they must be integer-valued, else
  `DataError` naming the file and line;
- frames are multiples of the 10-frame step from the first frame; a frame off that grid is a
  `DataError`. Frames where nobody is visible (global gaps, e.g. 60 frames in biwi_eth) are
  kept as steps where every agent is invalid, so the time axis stays regular;
- a pedestrian missing from some frames between its first and last (none in the published
  files) gets invalid steps there; its track is not split;
- rows repeated verbatim are dropped (counted in `metadata["duplicate_rows"]`); two rows for
  the same frame and pedestrian with different positions are a `DataError`;
- blank lines are skipped; any other line without four numeric fields is a `DataError`.

Velocity is a backward finite difference (x_t - x_{t-1}) / dt, so it never looks ahead; at
the first step of each contiguous run it is the forward difference (the only estimate
there), and 0 for a pedestrian seen at a single step. Heading is the direction of the
velocity, held from the last step where the speed was at least 0.05 m/s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from urbandrive.core.agent_type import DEFAULT_SIZE_M, AgentType
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.core.tracks import Tracks
from urbandrive.core.trajectory import fill_from_nearest
from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt

FRAMES_PER_STEP = 10
FRAMES_PER_SECOND = 25.0
DT_S = FRAMES_PER_STEP / FRAMES_PER_SECOND
#: Below this speed the heading is held (metres per second).
_HEADING_MIN_SPEED_MPS = 0.05


@dataclass(frozen=True, slots=True)
class EthUcyRows:
    """The parsed rows of one file: frame: int64[R], pedestrian_id: int64[R], xy: float64[R, 2]
    (metres, world frame); duplicate_rows: verbatim repeats dropped."""

    frame: NDArrayInt
    pedestrian_id: NDArrayInt
    xy: NDArrayF64
    duplicate_rows: int


def read_rows(path: Path) -> EthUcyRows:
    """Parse a Social-GAN text file; `DataError` naming the file and line for a malformed line."""
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from error
    values, seen = [], set()
    duplicates = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row = _parse_line(path, number, line)
        if row in seen:
            duplicates += 1
            continue
        seen.add(row)
        values.append(row)
    if not values:
        raise DataError(f"{path}: no trajectory rows")
    table = np.array(values, dtype=np.float64)
    return EthUcyRows(
        frame=table[:, 0].astype(np.int64),
        pedestrian_id=table[:, 1].astype(np.int64),
        xy=table[:, 2:4],
        duplicate_rows=duplicates,
    )


def _parse_line(path: Path, number: int, line: str) -> tuple[float, float, float, float]:
    """(frame, id, x, y) of one line; frame and id must be integer-valued, all finite."""
    fields = line.split()
    if len(fields) != 4:
        raise DataError(f"{path}:{number}: expected 4 fields 'frame id x y', got {len(fields)}")
    try:
        frame, pedestrian, x, y = (float(field) for field in fields)
    except ValueError as error:
        raise DataError(f"{path}:{number}: non-numeric field in {line.strip()!r}") from error
    if not all(np.isfinite((frame, pedestrian, x, y))):
        raise DataError(f"{path}:{number}: non-finite value in {line.strip()!r}")
    for name, value in (("frame", frame), ("pedestrian id", pedestrian)):
        if value != round(value):
            raise DataError(f"{path}:{number}: {name} {value} is not an integer")
    return frame, pedestrian, x, y


def rows_to_grid(
    path: Path, rows: EthUcyRows
) -> tuple[NDArrayInt, NDArrayInt, NDArrayF64, NDArrayBool]:
    """Place rows on the (pedestrian, step) grid.

    Returns frames: int64[T] (first to last frame, every FRAMES_PER_STEP), pedestrian ids
    int64[A] (sorted), xy: float64[A, T, 2] (0 where invalid) and valid: bool[A, T].
    """
    first = int(rows.frame.min())
    offset = rows.frame - first
    off_grid = np.flatnonzero(offset % FRAMES_PER_STEP)
    if off_grid.size:
        raise DataError(
            f"{path}: frame {rows.frame[off_grid[0]]} is not a multiple of "
            f"{FRAMES_PER_STEP} frames from the first frame {first}"
        )
    step = offset // FRAMES_PER_STEP
    ids, agent = np.unique(rows.pedestrian_id, return_inverse=True)
    num_steps = int(step.max()) + 1
    cell = agent * num_steps + step
    unique_cells, counts = np.unique(cell, return_counts=True)
    if np.any(counts > 1):
        clash = unique_cells[np.argmax(counts > 1)]
        raise DataError(
            f"{path}: pedestrian {ids[clash // num_steps]} has two different positions "
            f"at frame {first + (clash % num_steps) * FRAMES_PER_STEP}"
        )
    xy = np.zeros((ids.size, num_steps, 2))
    valid = np.zeros((ids.size, num_steps), dtype=bool)
    xy[agent, step], valid[agent, step] = rows.xy, True
    frames = first + FRAMES_PER_STEP * np.arange(num_steps, dtype=np.int64)
    return frames, ids, xy, valid


def causal_velocity(xy: NDArrayF64, valid: NDArrayBool, dt_s: float) -> NDArrayF64:
    """float64[A, T, 2]: backward differences; forward at the start of a run; 0 if isolated."""
    previous_valid = np.zeros_like(valid)
    previous_valid[:, 1:] = valid[:, 1:] & valid[:, :-1]
    difference = np.zeros_like(xy)
    difference[:, 1:] = (xy[:, 1:] - xy[:, :-1]) / dt_s
    next_difference = np.zeros_like(xy)
    next_difference[:, :-1] = difference[:, 1:]
    next_valid = np.zeros_like(valid)
    next_valid[:, :-1] = previous_valid[:, 1:]
    velocity = np.where(previous_valid[..., None], difference, 0.0)
    run_start = valid & ~previous_valid & next_valid
    return np.where(run_start[..., None], next_difference, velocity)


def heading_from_velocity(velocity: NDArrayF64, valid: NDArrayBool) -> NDArrayF64:
    """float64[A, T] radians: velocity direction, held where slower than 0.05 m/s (0 if never)."""
    moving = valid & (np.linalg.norm(velocity, axis=-1) >= _HEADING_MIN_SPEED_MPS)
    direction = np.arctan2(velocity[..., 1], velocity[..., 0])
    return fill_from_nearest(np.where(moving, direction, 0.0), moving)


def load_eth_ucy_file(path: Path) -> Scenario:
    """One Social-GAN text file as a validated `Scenario` (see the module docstring)."""
    rows = read_rows(path)
    frames, ids, xy, valid = rows_to_grid(path, rows)
    velocity = causal_velocity(xy, valid, DT_S)
    num_agents = ids.size
    tracks = Tracks.from_arrays(
        ids=[str(i) for i in ids],
        types=[int(AgentType.PEDESTRIAN)] * num_agents,
        size_m=np.tile(DEFAULT_SIZE_M[AgentType.PEDESTRIAN], (num_agents, 1)),
        xy=xy,
        heading=heading_from_velocity(velocity, valid),
        velocity=velocity,
        valid=valid,
    )
    scenario = Scenario(
        id=f"{path.parent.parent.name}/{path.parent.name}/{path.stem}",
        source="eth_ucy",
        timestamps_us=frames * round(1e6 / FRAMES_PER_SECOND),
        dt_s=DT_S,
        current_index=min(7, frames.size - 1),
        tracks=tracks,
        ego_index=None,
        metadata={
            "file": str(path),
            "first_frame": int(frames[0]),
            "frames_per_step": FRAMES_PER_STEP,
            "num_rows": int(rows.frame.size),
            "duplicate_rows": rows.duplicate_rows,
        },
    )
    scenario.validate()
    return scenario


@dataclass(frozen=True, slots=True)
class EthUcyLoader:
    """`eth_ucy:FILE.txt` loads one file; `eth_ucy:FOLDER` lists its `*.txt` files (a fold
    split such as `.../eth/test`, or a fold, searched recursively), sorted."""

    scheme: str = "eth_ucy"

    def load(self, location: str) -> Scenario:
        path = Path(location).expanduser()
        if not path.is_file():
            raise DataError(f"{path}: no such ETH/UCY file")
        return load_eth_ucy_file(path)

    def list_scenarios(self, location: str) -> list[str]:
        path = Path(location).expanduser()
        if path.is_file():
            return [str(path)]
        if not path.is_dir():
            raise DataError(f"{path}: no such file or folder")
        found = sorted(path.rglob("*.txt"))
        if not found:
            raise DataError(f"{path}: no ETH/UCY *.txt files found")
        return [str(file) for file in found]


LOADER = EthUcyLoader()
