"""The scorer's broad phase: which (candidate, mode, agent, step) pairs can interact at all.

Every candidate and every predicted agent is bounded, per step, by an axis-aligned box (a
point for a centre, or the segment a TTC projection sweeps). A pair can interact only where the
two boxes, the candidate's grown by the pair's margin, overlap. The test runs coarse to fine:
boxes over time blocks of `block_steps` steps for groups of `group_size` consecutive
candidates, then for each candidate, then per step. Each level's boxes contain the next
level's, so no pair whose per-step boxes overlap is ever dropped. The metrics' `*_on_rows`
entry points then run their exact tests on the surviving pairs only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayBool, NDArrayF64, NDArrayInt
from urbandrive.metrics import kernels as metric_kernels
from urbandrive.metrics.collisions import row_kernel_inputs
from urbandrive.metrics.states import AgentStates, EgoStates, is_vulnerable, planar_norm

#: Slack added to every margin, metres: the exact tests compare squared distances, the boxes
#: compare coordinates, and rounding must never make the boxes the stricter test.
SLACK_M = 1e-6

#: Candidates per group box of the scorer's two searches (`contact_pairs`, `projection_pairs`):
#: 32 walks the agents' blocks a quarter as often as 8 and costs few more candidate-block
#: tests (bench scene, compiled: contacts 1.81 -> 1.61 ms, projections 0.93 -> 0.78 ms); 16
#: (tighter group boxes) took the score stage ~3 % below 32's with learned_near's rows.
GROUP_SIZE = 16

#: Steps per time block of the contact search (`contact_pairs`, `contacts_on_rows`): 8 took
#: the score stage ~2 % below 10 (bench scene, learned_near and cv six modes); 5 and 16 did not.
CONTACT_BLOCK_STEPS = 8

#: Strided steps per time block of the TTC projection search (`projection_pairs`,
#: `projection_search`): 4 took the score stage ~1 % below 2 (bench scene, learned_near and
#: cv six modes; near the noise of the timing); 1 did not.
PROJECTION_BLOCK_STEPS = 4


@dataclass(frozen=True, slots=True)
class StepBoxes:
    """Axis-aligned boxes per step. low, high: float64[..., T, 2], metres; a step that must
    never pair (an invalid agent step) has low = +inf, high = -inf."""

    low: NDArrayF64
    high: NDArrayF64

    @staticmethod
    def of_points(xy: NDArrayF64, valid: NDArrayBool | None = None) -> StepBoxes:
        """Boxes of single points xy: float64[..., T, 2]; valid: bool[..., T] or None (all)."""
        if valid is None:
            return StepBoxes(xy, xy)
        return StepBoxes(
            np.where(valid[..., None], xy, np.inf), np.where(valid[..., None], xy, -np.inf)
        )

    @staticmethod
    def of_segments(
        start_xy: NDArrayF64, end_xy: NDArrayF64, valid: NDArrayBool | None = None
    ) -> StepBoxes:
        """Boxes of the segments start -> end, float64[..., T, 2] each; valid as `of_points`."""
        low, high = np.minimum(start_xy, end_xy), np.maximum(start_xy, end_xy)
        if valid is None:
            return StepBoxes(low, high)
        return StepBoxes(
            np.where(valid[..., None], low, np.inf), np.where(valid[..., None], high, -np.inf)
        )

    def blocks(self, block_steps: int) -> StepBoxes:
        """Boxes over blocks of `block_steps` steps: float64[..., ceil(T / block_steps), 2]."""
        starts = np.arange(0, self.low.shape[-2], block_steps)
        low = np.minimum.reduceat(self.low, starts, axis=-2)
        high = np.maximum.reduceat(self.high, starts, axis=-2)
        return StepBoxes(low, high)

    def groups(self, group_size: int) -> StepBoxes:
        """Boxes of `group_size` consecutive rows of a [M, T', 2] set: [ceil(M / size), T', 2]."""
        num_rows = self.low.shape[0]
        num_groups = -(-num_rows // group_size)
        pad = [(0, num_groups * group_size - num_rows), (0, 0), (0, 0)]
        shape = (num_groups, group_size) + self.low.shape[1:]
        low = np.pad(self.low, pad, constant_values=np.inf).reshape(shape).min(1)
        high = np.pad(self.high, pad, constant_values=-np.inf).reshape(shape).max(1)
        return StepBoxes(low, high)


def interacting_pairs(
    ego: StepBoxes,
    agents: StepBoxes,
    margin_m: NDArrayF64,
    block_steps: int = 10,
    group_size: int = 8,
    centres_within: bool = False,
    skip: NDArrayBool | None = None,
) -> tuple[NDArrayInt, NDArrayInt, NDArrayInt, NDArrayInt]:
    """(candidate, mode, agent, step) int64[P] each: the pairs whose per-step boxes overlap
    once the candidate's is grown by `margin_m`; with `centres_within` (boxes of points,
    `StepBoxes.of_points`), only those whose points are also within `margin_m` (a circle);
    skip: bool[M, K, A], (candidate, mode, agent) never paired (None: none).

    ego: boxes [M, T, 2] of M candidates; agents: boxes [K, A, T, 2] of A agents in K modes;
    margin_m: float64[A], metres. Sorted by candidate, then mode, agent and step is not
    promised; there are no duplicates.
    """
    margin = np.asarray(margin_m, np.float64) + SLACK_M
    if metric_kernels.enabled():
        return _masked_pairs_compiled(
            ego.low, ego.high, agents.low, agents.high, None, margin, block_steps, group_size,
            centres_within, skip,
        )  # fmt: skip
    ego_blocks, agent_blocks = ego.blocks(block_steps), agents.blocks(block_steps)
    group_blocks = ego_blocks.groups(group_size)
    group, mode, agent, block = np.nonzero(
        _overlap(
            group_blocks.low[:, None, None],
            group_blocks.high[:, None, None],
            agent_blocks.low[None],
            agent_blocks.high[None],
            margin[None, None, :, None],
        )
    )
    candidate = (group[:, None] * group_size + np.arange(group_size)).ravel()
    mode, agent, block = (np.repeat(axis, group_size) for axis in (mode, agent, block))
    inside = candidate < ego.low.shape[0]
    candidate, mode, agent, block = candidate[inside], mode[inside], agent[inside], block[inside]
    keep = _overlap(
        ego_blocks.low[candidate, block],
        ego_blocks.high[candidate, block],
        agent_blocks.low[mode, agent, block],
        agent_blocks.high[mode, agent, block],
        margin[agent],
    )
    candidate, mode, agent, block = candidate[keep], mode[keep], agent[keep], block[keep]
    step = (block[:, None] * block_steps + np.arange(block_steps)).ravel()
    candidate, mode, agent = (np.repeat(axis, block_steps) for axis in (candidate, mode, agent))
    inside = step < ego.low.shape[-2]
    candidate, mode, agent, step = candidate[inside], mode[inside], agent[inside], step[inside]
    keep = _overlap(
        ego.low[candidate, step],
        ego.high[candidate, step],
        agents.low[mode, agent, step],
        agents.high[mode, agent, step],
        margin[agent],
    )
    candidate, mode, agent, step = candidate[keep], mode[keep], agent[keep], step[keep]
    if centres_within:
        gap = agents.low[mode, agent, step] - ego.low[candidate, step]
        reach = margin[agent]
        keep = gap[:, 0] * gap[:, 0] + gap[:, 1] * gap[:, 1] <= reach * reach
        candidate, mode, agent, step = candidate[keep], mode[keep], agent[keep], step[keep]
    if skip is not None:
        keep = ~skip[candidate, mode, agent]
        candidate, mode, agent, step = candidate[keep], mode[keep], agent[keep], step[keep]
    return candidate, mode, agent, step


def _masked_pairs_compiled(
    ego_low: NDArrayF64,
    ego_high: NDArrayF64,
    agent_low: NDArrayF64,
    agent_high: NDArrayF64,
    valid: NDArrayBool | None,
    margin: NDArrayF64,
    block_steps: int,
    group_size: int,
    centres_within: bool = False,
    skip: NDArrayBool | None = None,
    overlap: tuple[tuple[np.ndarray, ...], NDArrayInt, NDArrayBool] | None = None,
) -> tuple[NDArrayInt, NDArrayInt, NDArrayInt, NDArrayInt]:
    """`interacting_pairs` by the compiled kernel (`scoring.kernels.masked_pairs_kernel`):
    the same pairs in the same order. ego_*: [M, T, 2]; agent_*: [K, A, T, 2] (not masked);
    valid: bool broadcastable to [K, A, T] (the steps that may pair), None for all;
    margin: float64[A], slack included; skip: bool[M, K, A] never paired, None for none;
    overlap: (boxes, first_step, emit) to test each pair's oriented boxes as it is found
    and return only some rows' pairs (`masked_pairs_kernel`), None for plain pairs."""
    from urbandrive.planning.scoring.kernels import masked_pairs_kernel

    def contiguous(array: NDArrayF64) -> NDArrayF64:
        return np.ascontiguousarray(array, np.float64)

    agent_shape = agent_low.shape[:-1]
    valid = np.ones(agent_shape, np.bool_) if valid is None else valid
    # Start the output at the size last seen for this problem (only the time depends on it).
    hint_key = (ego_low.shape, agent_shape, block_steps, group_size, centres_within)
    rows = masked_pairs_kernel(
        contiguous(ego_low), contiguous(ego_high), contiguous(agent_low),
        contiguous(agent_high), np.ascontiguousarray(np.broadcast_to(valid, agent_shape)),
        contiguous(np.broadcast_to(margin, agent_shape[1:2])), block_steps, group_size,
        centres_within, _CAPACITY_HINT.get(hint_key, 4096),
        np.zeros((0, 0), np.bool_) if skip is None
        else np.ascontiguousarray(skip).reshape(skip.shape[0], -1),
        *(_NO_OVERLAP if overlap is None else overlap),
    )  # fmt: skip
    if len(_CAPACITY_HINT) > 64:
        _CAPACITY_HINT.clear()
    _CAPACITY_HINT[hint_key] = rows.shape[1] + rows.shape[1] // 4
    return rows[0], rows[1], rows[2], rows[3]


#: `masked_pairs_kernel`'s (boxes, first_step, emit) when it only finds pairs.
_NO_OVERLAP = (
    (np.zeros((0, 0)), np.zeros((0, 0)), np.zeros((0, 2)), np.zeros((0, 0)), np.zeros((0, 0)),
     np.zeros((0, 2))),
    np.zeros((0, 0), np.int64),
    np.zeros(0, np.bool_),
)  # fmt: skip

#: Output sizes of the last pair searches, by problem shape (`_masked_pairs_compiled`).
_CAPACITY_HINT: dict[tuple[object, ...], int] = {}


def _overlap(
    low_a: NDArrayF64, high_a: NDArrayF64, low_b: NDArrayF64, high_b: NDArrayF64, margin: NDArrayF64
) -> NDArrayBool:
    """bool[...]: boxes a (grown by `margin` [...]) and b overlap; boxes are [..., 2], broadcast."""
    margin = np.asarray(margin)[..., None]
    return np.all((low_a - margin <= high_b) & (low_b <= high_a + margin), axis=-1)


def _reach(ego: EgoStates, agents: AgentStates) -> NDArrayF64:
    """float64[A]: the sum of the ego's and each agent's half-diagonals, metres."""
    return 0.5 * (np.hypot(*np.asarray(ego.size_m, np.float64)) + np.hypot(*agents.size_m.T))


def _contact_margin(ego: EgoStates, agents: AgentStates, clearance_radius_m: float) -> NDArrayF64:
    """float64[A]: `_reach`, plus the clearance search radius for vulnerable agents."""
    vulnerable = is_vulnerable(np.asarray(agents.types))
    return _reach(ego, agents) + np.where(vulnerable, clearance_radius_m, 0.0)


def contact_pairs(
    ego: EgoStates, agents: AgentStates, clearance_radius_m: float
) -> tuple[NDArrayInt, ...]:
    """(candidate, mode, agent, step) int64[P] each: every pair whose centres are within the
    sum of half-diagonals (plus `clearance_radius_m` for vulnerable agents), on every step:
    for collisions and VRU clearance. ego: batch [M], T steps; agents: batch [K], A agents,
    T steps (valid [..., A, T] broadcastable)."""
    contact_margin = _contact_margin(ego, agents, clearance_radius_m)
    if metric_kernels.enabled():  # the same pairs, the boxes left unmasked
        return _masked_pairs_compiled(
            ego.xy, ego.xy, agents.xy, agents.xy, agents.valid, contact_margin + SLACK_M,
            CONTACT_BLOCK_STEPS, GROUP_SIZE, centres_within=True,
        )  # fmt: skip
    return interacting_pairs(
        StepBoxes.of_points(ego.xy), StepBoxes.of_points(agents.xy, agents.valid),
        contact_margin, block_steps=CONTACT_BLOCK_STEPS, group_size=GROUP_SIZE,
        centres_within=True,
    )  # fmt: skip


def contacts_on_rows(
    ego: EgoStates,
    rows: AgentStates,
    clearance_radius_m: float,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> tuple[tuple[NDArrayInt, ...], NDArrayInt | None]:
    """(pairs, first_overlap) of candidates `ego` (batch [M]) against agent rows `rows` (no
    batch, U rows): `contact_pairs` as (candidate, row, step) and, with the compiled kernels,
    first_overlap int64[M, U]: each (candidate, row)'s first step whose oriented boxes
    overlap, T where none (what `metrics.kernels.first_overlap_on_rows` finds on all the
    pairs), found in the pair search, and then only the vulnerable rows' pairs (what the clearance
    reads); without the kernels, every pair and None. boxes: `row_kernel_inputs(ego, rows)`
    where the caller has them, else None."""
    agents = AgentStates(rows.xy[None], rows.heading[None], rows.velocity[None],
                         rows.size_m, rows.types, rows.valid[None])  # fmt: skip
    if not metric_kernels.enabled():
        candidate, _, row, step = contact_pairs(ego, agents, clearance_radius_m)
        return (candidate, row, step), None
    vulnerable = is_vulnerable(np.asarray(rows.types))
    contact_margin = _contact_margin(ego, agents, clearance_radius_m)
    boxes = row_kernel_inputs(ego, rows) if boxes is None else boxes
    first = np.full((ego.xy.shape[0], rows.xy.shape[0]), ego.xy.shape[1], np.int64)
    candidate, _, row, step = _masked_pairs_compiled(
        ego.xy, ego.xy, agents.xy, agents.xy, agents.valid, contact_margin + SLACK_M,
        CONTACT_BLOCK_STEPS, GROUP_SIZE, centres_within=True,
        overlap=((*boxes[1:4], *boxes[5:8]), first, np.ascontiguousarray(vulnerable)),
    )  # fmt: skip
    return (candidate, row, step), first


def projection_pairs(
    ego: EgoStates,
    agents: AgentStates,
    projection_window_s: tuple[float, float],
    step_stride: int,
    skip: NDArrayBool | None = None,
) -> tuple[NDArrayInt, ...]:
    """(candidate, mode, agent, step) int64[P] each: every pair whose constant-velocity
    projections over `projection_window_s` (first and last TTC projection time, seconds) can
    meet, on the steps 0, step_stride, 2 step_stride, ... (step index in those strided units):
    for TTC. ego, agents as `contact_pairs`; skip: bool[M, K, A], (candidate, mode, agent)
    left out (None: none)."""
    reach = _reach(ego, agents)
    steps = slice(0, None, step_stride)
    if metric_kernels.enabled() and agents.xy.shape[0] == 1:  # the scorer's rows
        ego_low, ego_high = _projection_boxes(
            ego.xy[:, steps], metric_kernels.cos_sin(ego.heading[:, steps]),
            ego.speed_mps[:, steps], projection_window_s,
        )  # fmt: skip
        agent_low, agent_high = _projection_boxes(
            agents.xy[0, :, steps], metric_kernels.cos_sin(agents.heading[0, :, steps]),
            planar_norm(agents.velocity[0, :, steps]), projection_window_s,
        )  # fmt: skip
        return _masked_pairs_compiled(
            ego_low, ego_high, agent_low[None], agent_high[None], agents.valid[..., steps],
            reach + SLACK_M, PROJECTION_BLOCK_STEPS, GROUP_SIZE, skip=skip,
        )  # fmt: skip
    return _projection_pairs_of_modes(ego, agents, reach, projection_window_s, step_stride, skip)


def projection_search(
    ego: EgoStates,
    rows: AgentStates,
    projection_window_s: tuple[float, float],
    step_stride: int,
    boxes: tuple[np.ndarray, ...] | None = None,
) -> Callable[..., None]:
    """`projection_pairs` of candidates `ego` (batch [M]) against agent rows `rows` (no batch,
    U rows) as a function of `metrics.kernels.min_ttc_on_rows`' arguments after the pairs:
    it finds the pairs with the compiled kernels and tests each one as found
    (`scoring.kernels.projection_ttc_kernel`; what `time_to_collision_within_bound_on_rows`
    takes for its pairs). The strided steps' cos / sin are read from `boxes`, the strided
    `row_terms.boxes_at_steps` where the caller has them, else cut from the whole headings'
    (`metrics.kernels.cos_sin_of`)."""
    from urbandrive.planning.scoring.kernels import projection_ttc_kernel

    steps = (slice(None), slice(0, None, step_stride))
    if boxes is None:
        ego_cos_sin = metric_kernels.cos_sin_of(ego.heading, steps)
        agent_cos_sin = metric_kernels.cos_sin_of(rows.heading, steps)
    else:
        ego_cos_sin, agent_cos_sin = (boxes[1], boxes[2]), (boxes[5], boxes[6])
    ego_low, ego_high = _projection_boxes(
        ego.xy[steps], ego_cos_sin, ego.speed_mps[steps], projection_window_s
    )
    agent_low, agent_high = _projection_boxes(
        rows.xy[steps], agent_cos_sin, planar_norm(rows.velocity[steps]), projection_window_s
    )
    agents = AgentStates(rows.xy[None], rows.heading[None], rows.velocity[None],
                         rows.size_m, rows.types, rows.valid[None])  # fmt: skip
    margin = np.ascontiguousarray(_reach(ego, agents) + SLACK_M)

    def search(*ttc_arguments: object) -> None:
        projection_ttc_kernel(
            ego_low,
            ego_high,
            agent_low,
            agent_high,
            margin,
            PROJECTION_BLOCK_STEPS,
            GROUP_SIZE,
            *ttc_arguments,
        )

    return search


def _projection_boxes(
    xy: NDArrayF64,
    cos_sin: tuple[NDArrayF64, NDArrayF64],
    speed: NDArrayF64,
    projection_window_s: tuple[float, float],
) -> tuple[NDArrayF64, NDArrayF64]:
    """(low, high) float64[R, T, 2] of the segments a projection at constant velocity
    (speed [R, T] along the heading, whose contiguous (cos, sin) [R, T] are numpy's,
    `kernels.cos_sin`) sweeps over the window from xy [R, T, 2]
    (`scoring.kernels.projection_boxes`)."""
    from urbandrive.planning.scoring.kernels import projection_boxes

    cos, sin = cos_sin
    low, high = np.empty(np.shape(xy)), np.empty(np.shape(xy))
    first_s, last_s = projection_window_s
    projection_boxes(
        metric_kernels.contiguous_pairs(xy), cos, sin, np.ascontiguousarray(speed, np.float64),
        float(first_s), float(last_s), low, high,
    )  # fmt: skip
    return low, high


def _projection_pairs_of_modes(
    ego: EgoStates,
    agents: AgentStates,
    reach: NDArrayF64,
    projection_window_s: tuple[float, float],
    step_stride: int,
    skip: NDArrayBool | None,
) -> tuple[NDArrayInt, ...]:
    """`projection_pairs` by numpy's boxes (any number of modes); reach: its `_reach`."""
    steps = slice(0, None, step_stride)
    heading_e = ego.heading[:, steps]
    velocity_e = ego.speed_mps[:, steps, None] * np.stack(
        [np.cos(heading_e), np.sin(heading_e)], -1
    )
    heading_a = agents.heading[..., steps]
    speed_a = planar_norm(agents.velocity[..., steps, :])
    velocity_a = speed_a[..., None] * np.stack([np.cos(heading_a), np.sin(heading_a)], -1)
    first_s, last_s = projection_window_s
    xy_e, xy_a = ego.xy[:, steps], agents.xy[..., steps, :]
    ego_boxes = StepBoxes.of_segments(xy_e + first_s * velocity_e, xy_e + last_s * velocity_e)
    start_a, end_a = xy_a + first_s * velocity_a, xy_a + last_s * velocity_a
    if metric_kernels.enabled():
        return _masked_pairs_compiled(
            ego_boxes.low, ego_boxes.high, np.minimum(start_a, end_a), np.maximum(start_a, end_a),
            agents.valid[..., steps], reach + SLACK_M, PROJECTION_BLOCK_STEPS, GROUP_SIZE,
            skip=skip,
        )  # fmt: skip
    return interacting_pairs(
        ego_boxes, StepBoxes.of_segments(start_a, end_a, agents.valid[..., steps]), reach,
        block_steps=PROJECTION_BLOCK_STEPS, group_size=GROUP_SIZE, skip=skip,
    )  # fmt: skip
