"""The learned joint predictor: a small query-centric transformer (PyTorch, CPU-sized).

Encoder (factorised attention, after QCNet / AgentFormer):
1. time: each agent's history in its own frame now (`agent_step_inputs`) -> MLP + type
   embedding + confidence; self-attention over its T steps; the token of now is kept.
2. map: each polyline's points in its own frame -> MLP, max-pooled over points, plus its
   feature row (`MapFeature`).
3. `num_layers` x (agent -> map cross-attention, agent <-> agent self-attention), keys and
   values carrying the pairwise relative pose (`relative_pose`).

Decoder:
- marginal: per agent, K trajectories, scales and logits from an MLP.
- joint: K learned scene-mode queries; token (agent a, mode k) = agent a + query k, then
  `decoder_layers` x self-attention over the agents *within* each mode (so mode k is one
  consistent future of the scene), then per token a trajectory (H, 2), Laplace scales (H, 2)
  and a logit; the scene logit of mode k is the mean over real agents of their logits of
  mode k. With `joint_anchor`, scene mode k starts from every agent's k-th most probable
  marginal mode (gradient stopped): the token also embeds that trajectory and its
  log-probability, and the joint head outputs a correction to it, so the scene modes begin
  as the marginal modes combined by rank and learn to make them consistent.
  With `overlap_aware_scores`, each agent's logit of mode k gets w_agent x (its soft count
  of decoder neighbours within 1 m of it at some step of mode k), and the scene logit
  w_scene x (the sum of those counts over the scene's agents), the weights learned (from
  -1): worlds where agents run into each other are less probable. The counts are computed
  without gradient (they only score the modes) and are rotation and translation invariant.
  With `joint_from_marginal`, the joint head outputs, per token (agent a, mode k), K
  selection logits instead of a trajectory: agent a's trajectory (and scales) in scene mode
  k is the softmax-weighted mix of its K marginal modes (gradient stopped), and each agent
  token first gets an embedding of its marginal modes (end points, log-probabilities). The
  scene modes are then consistent combinations of per-agent modes (as each agent's
  marginal modes are good on their own; the decoder learns which go together).

Trajectories are in each agent's frame now; with `residual_to_constant_velocity` the
network outputs a correction to the constant-velocity extrapolation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional

from urbandrive.core.agent_type import AgentType
from urbandrive.maps.vectorize import NUM_MAP_FEATURES
from urbandrive.prediction.features import (
    Batch,
    agent_step_inputs,
    agent_to_scene,
    polyline_point_inputs,
    polyline_poses,
    relative_pose,
    rotate,
)

AGENT_STEP_FEATURES = 9
POINT_FEATURES = 5
RELATIVE_POSE_FEATURES = 5
_MIN_SCALE_M = 0.01
#: Where padding map points are put for nearest-polyline distances (m): never the nearest.
_FAR_M = 1.0e7


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Model sizes. future_steps and dt_s fix the decoded horizon (H steps of dt_s);
    agent_neighbours / map_neighbours: how many nearest agents (itself included) and map
    polylines each agent attends to in the encoder; decoder_neighbours: agents attended to
    within a scene mode (at most agent_neighbours); decoder_layers: attention layers over
    the agents of a scene mode; joint_anchor: scene modes anchored on the marginal modes
    ranked by probability; overlap_aware_scores: scene-mode logits lowered, by a learned
    weight, for the agents that come within 1 m of a decoder neighbour in that mode (module
    docstring); joint_from_marginal: each agent's trajectory in scene mode k is a learned
    soft choice among its own marginal modes (module docstring). The defaults of the last
    four are the layout of older checkpoints."""

    hidden_dim: int = 64
    num_heads: int = 4
    num_layers: int = 1
    num_modes: int = 6
    history_steps: int = 20
    future_steps: int = 30
    dt_s: float = 0.1
    use_map: bool = True
    agent_neighbours: int = 16
    map_neighbours: int = 32
    decoder_neighbours: int = 8
    residual_to_constant_velocity: bool = True
    decoder_layers: int = 1
    joint_anchor: bool = False
    overlap_aware_scores: bool = False
    joint_from_marginal: bool = False

    def __post_init__(self) -> None:
        if self.hidden_dim % self.num_heads:
            raise ValueError(f"hidden_dim must be a multiple of num_heads: {self}")
        if min(self.num_layers, self.num_modes, self.future_steps, self.decoder_layers) < 1:
            raise ValueError(f"need >= 1 layer, decoder layer, mode and future step: {self}")
        if self.history_steps < 2:
            raise ValueError(f"need >= 2 history steps: {self}")


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """Decoded futures, each agent's frame now (B scenes, A agents, K modes, H steps).

    joint_xy, joint_scale: (B, A, K, H, 2) m; joint_agent_logits: (B, A, K);
    scene_logits: (B, K). marginal_xy, marginal_scale: (B, A, K, H, 2); marginal_logits:
    (B, A, K). Padded agents hold finite junk.
    """

    joint_xy: torch.Tensor
    joint_scale: torch.Tensor
    joint_agent_logits: torch.Tensor
    scene_logits: torch.Tensor
    marginal_xy: torch.Tensor
    marginal_scale: torch.Tensor
    marginal_logits: torch.Tensor


def mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    """Linear -> LayerNorm -> ReLU -> Linear."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),
        nn.LayerNorm(hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, out_dim),
    )


class RelativeAttention(nn.Module):
    """Multi-head attention of each query over its own set of keys, the keys and values
    carrying the pairwise relative pose (`relative_pose`) of query and key; pre-norm,
    residual, feed-forward. A query without any valid key keeps its input."""

    def __init__(self, dim: int, num_heads: int, use_pose: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm_query, self.norm_key = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))
        self.pose = mlp(RELATIVE_POSE_FEATURES, dim // 2, 2 * dim) if use_pose else None
        self.out = nn.Linear(dim, dim)
        self.ffn = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim)
        )

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor,
        neighbours: torch.Tensor | None,
        pose: torch.Tensor | None,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """x: (..., Q, D); context: (..., N, D); neighbours: int64 (..., Q, k) indices into
        N (None: every query sees all N keys, k = N); pose: (..., Q, k, 5) relative poses or
        None; mask: bool (..., Q, k), True where the key may be attended. Returns (..., Q, D)."""
        heads, dim = self.num_heads, x.shape[-1]
        query = self.query(self.norm_query(x)).unflatten(-1, (heads, -1))  # (..., Q, h, d)
        context = self.norm_key(context)
        key, value = self.key(context), self.value(context)  # (..., N, D)
        if neighbours is None:
            key, value = key[..., None, :, :], value[..., None, :, :]  # (..., 1, N, D)
        else:
            both = gather_neighbours(torch.cat([key, value], dim=-1), neighbours)
            key, value = both.chunk(2, dim=-1)
        if pose is not None and self.pose is not None:
            key_pose, value_pose = self.pose(pose).chunk(2, dim=-1)
            key, value = key + key_pose, value + value_pose
        key = key.unflatten(-1, (heads, -1))  # (..., Q|1, k, h, d)
        value = value.unflatten(-1, (heads, -1))
        scores = (query[..., None, :, :] * key).sum(-1) / (dim // heads) ** 0.5  # (..., Q, k, h)
        scores = scores.masked_fill(~mask[..., None], -1e9)
        weights = torch.softmax(scores, dim=-2) * mask[..., None]
        attended = (weights[..., None] * value).sum(-3).flatten(-2)
        x = x + self.out(attended) * mask.any(-1, keepdim=True)
        return x + self.ffn(x)


def gather_neighbours(values: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
    """values (..., N, D), neighbours int64 (..., Q, k) -> (..., Q, k, D); the leading axes
    of `neighbours` broadcast against those of `values` (one `index_select` of rows of the
    flattened values: about 3x faster on CPU than advanced indexing, 6x than `gather`)."""
    lead = torch.broadcast_shapes(values.shape[:-2], neighbours.shape[:-2])
    (num_keys, dim), (num_queries, k) = values.shape[-2:], neighbours.shape[-2:]
    flat = values.expand(*lead, num_keys, dim).reshape(-1, dim)
    index = neighbours.expand(*lead, num_queries, k).reshape(-1, num_queries * k)
    index = index + num_keys * torch.arange(index.shape[0])[:, None]
    return flat.index_select(0, index.flatten()).reshape(*lead, num_queries, k, dim)


def nearest(
    distance: torch.Tensor, valid: torch.Tensor, count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The `count` nearest valid keys of each query, nearest first: indices int64 (..., Q, k) and their
    validity bool (..., Q, k), k = min(count, N). distance: (..., Q, N); valid: bool (..., Q, N)."""
    k = min(count, distance.shape[-1])
    masked = distance.masked_fill(~valid, float("inf"))
    value, index = torch.topk(masked, k, dim=-1, largest=False, sorted=True)
    return index, torch.isfinite(value)


def _pick_pairs(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """values (B, Q, N, F), index (B, Q, k) -> (B, Q, k, F)."""
    return torch.gather(values, 2, index[..., None].expand(-1, -1, -1, values.shape[-1]))


class JointPredictionModel(nn.Module):
    """Query-centric encoder + joint (scene-mode) and marginal decoders (module docstring)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        dim, heads, modes = config.hidden_dim, config.num_heads, config.num_modes
        self.step_embed = mlp(AGENT_STEP_FEATURES, dim, dim)
        self.time_embed = nn.Parameter(torch.zeros(config.history_steps, dim))
        self.type_embed = nn.Embedding(len(AgentType), dim)
        self.confidence_embed = nn.Linear(1, dim)
        self.time_attention = RelativeAttention(dim, heads, use_pose=False)
        self.point_embed = mlp(POINT_FEATURES, dim, dim)
        self.polyline_embed = mlp(dim + NUM_MAP_FEATURES, dim, dim)
        layers = range(config.num_layers)
        self.map_attention = nn.ModuleList(RelativeAttention(dim, heads) for _ in layers)
        self.agent_attention = nn.ModuleList(RelativeAttention(dim, heads) for _ in layers)
        self.mode_queries = nn.Parameter(0.1 * torch.randn(modes, dim))
        self.mode_attention = RelativeAttention(dim, heads)
        extra = range(config.decoder_layers - 1)
        self.more_mode_attention = nn.ModuleList(RelativeAttention(dim, heads) for _ in extra)
        if config.joint_anchor:
            self.anchor_embed = mlp(2 * len(_anchor_steps(config.future_steps)) + 1, dim, dim)
        if config.overlap_aware_scores:
            self.overlap_weights = nn.Parameter(torch.tensor([-1.0, -1.0]))  # agent, scene
        out = config.future_steps * 4 + 1
        if config.joint_from_marginal:
            self.marginal_summary = mlp(3 * modes, dim, dim)
        self.joint_head = mlp(dim, 2 * dim, modes + 1 if config.joint_from_marginal else out)
        self.marginal_head = mlp(dim, 2 * dim, modes * out)
        steps = config.future_steps
        #: Output rows of a head without the scales (what inference needs): xy and logit.
        self.register_buffer(
            "_rows_no_scale",
            torch.cat([torch.arange(2 * steps), torch.tensor([4 * steps])]),
            persistent=False,
        )

    def encode_agents(self, batch: Batch) -> torch.Tensor:
        """(B, A, D): each agent's history (own frame), type and confidence, over time."""
        steps = self.step_embed(agent_step_inputs(batch)) + self.time_embed
        static = self.type_embed(batch.types) + self.confidence_embed(batch.confidence[..., None])
        steps = steps + static[:, :, None]
        now = steps[..., -1:, :]  # (B, A, 1, D)
        mask = batch.valid[..., None, :]  # (B, A, 1, T)
        return self.time_attention(now, steps, None, None, mask).squeeze(-2)

    def encode_map(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, L, D) polyline tokens and their poses: origin (B, L, 2), heading (B, L)."""
        origin, heading = polyline_poses(batch)
        points = self.point_embed(polyline_point_inputs(batch, origin, heading))
        points = points.masked_fill(~batch.map_point_valid[..., None], -1e9)
        pooled = points.max(dim=-2).values * batch.map_mask[..., None]
        tokens = self.polyline_embed(torch.cat([pooled, batch.map_features], dim=-1))
        return tokens * batch.map_mask[..., None], origin, heading

    def agent_neighbours(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each agent's nearest agents now (itself included): indices (B, A, k), mask
        (B, A, k) and relative poses (B, A, k, 5)."""
        xy, heading = batch.xy[:, :, -1], batch.heading[:, :, -1]
        poses = relative_pose(xy[:, :, None], heading[:, :, None], xy[:, None], heading[:, None])
        distance = torch.cdist(xy, xy)
        valid = batch.agent_mask[:, :, None] & batch.agent_mask[:, None, :]
        index, mask = nearest(distance, valid, self.config.agent_neighbours)
        return index, mask, _pick_pairs(poses, index)

    def map_neighbours(
        self, batch: Batch, origin: torch.Tensor, heading: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each agent's nearest polylines (by nearest point): indices (B, A, k), mask and
        relative poses (B, A, k, 5)."""
        xy, agent_heading = batch.xy[:, :, -1], batch.heading[:, :, -1]
        far = torch.tensor(_FAR_M, dtype=batch.map_points.dtype)  # padding points: far away
        points = torch.where(batch.map_point_valid[..., None], batch.map_points, far)
        gap = torch.cdist(xy, points.flatten(1, 2))  # (B, A, L * P)
        gap = gap.unflatten(-1, batch.map_points.shape[1:3]).amin(-1)  # (B, A, L)
        valid = batch.agent_mask[:, :, None] & batch.map_mask[:, None, :]
        index, mask = nearest(gap, valid, self.config.map_neighbours)
        line_xy = gather_neighbours(origin, index)  # (B, A, k, 2)
        line_heading = gather_neighbours(heading[..., None], index)[..., 0]
        poses = relative_pose(xy[:, :, None], agent_heading[:, :, None], line_xy, line_heading)
        return index, mask, poses

    def encode(self, batch: Batch) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Agent tokens (B, A, D) after map and agent interaction, and the agent
        neighbourhoods (indices, mask, poses) the decoder reuses."""
        agents = self.encode_agents(batch)
        neighbours = self.agent_neighbours(batch)
        use_map = self.config.use_map and bool(batch.map_mask.any())
        if use_map:
            lines, origin, heading = self.encode_map(batch)
            map_index, map_mask, map_pose = self.map_neighbours(batch, origin, heading)
        for layer in range(self.config.num_layers):
            if use_map:
                agents = self.map_attention[layer](agents, lines, map_index, map_pose, map_mask)
            index, mask, pose = neighbours
            agents = self.agent_attention[layer](agents, agents, index, pose, mask)
        return agents, neighbours

    def constant_velocity(self, batch: Batch) -> torch.Tensor:
        """(B, A, 1, H, 2): constant-velocity positions in each agent's frame now."""
        config = self.config
        heading = batch.heading[:, :, -1]
        velocity = rotate(batch.velocity[:, :, -1], torch.cos(heading), -torch.sin(heading))
        times = config.dt_s * torch.arange(1, config.future_steps + 1, dtype=velocity.dtype)
        return (velocity[:, :, None, :] * times[:, None])[:, :, None]

    def _head(
        self,
        head: nn.Sequential,
        x: torch.Tensor,
        prior: torch.Tensor | float,
        scales: bool,
        modes: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """head(x) read as xy (..., [M,] H, 2), scale (..., [M,] H, 2) and logit (..., [M]),
        `modes` = M modes of 4H + 1 outputs each (None: one, no mode axis). Without
        `scales` the scale rows are not computed (scales all 1)."""
        steps = self.config.future_steps
        width = 4 * steps + 1
        if scales:
            raw = head(x)
        else:
            last = head[-1]
            rows = self._rows_no_scale + width * torch.arange(modes or 1)[:, None]
            rows = rows.flatten()
            raw = functional.linear(head[:-1](x), last.weight[rows], last.bias[rows])
        if modes is not None:
            raw = raw.unflatten(-1, (modes, -1))
        xy = raw[..., : 2 * steps].unflatten(-1, (steps, 2)) + prior
        if not scales:
            return xy, torch.ones(()).expand(xy.shape), raw[..., -1]
        scale = functional.softplus(raw[..., 2 * steps : 4 * steps].unflatten(-1, (steps, 2)))
        return xy, scale + _MIN_SCALE_M, raw[..., -1]

    def anchors(
        self, marginal_xy: torch.Tensor, marginal_logits: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Every agent's marginal modes by falling probability, gradient stopped: xy
        (B, A, K, H, 2) and the tokens' anchor features (B, A, K, 2 h + 1) (the trajectory at
        h steps, / 10 m, and the log-probability)."""
        order = marginal_logits.detach().argsort(-1, descending=True)  # (B, A, K)
        xy = torch.gather(marginal_xy.detach(), 2, order[..., None, None].expand_as(marginal_xy))
        log_prob = torch.log_softmax(marginal_logits.detach(), -1).gather(-1, order)
        steps = _anchor_steps(self.config.future_steps)
        features = torch.cat([0.1 * xy[..., steps, :].flatten(-2), log_prob[..., None]], -1)
        return xy, features

    def mode_overlaps(
        self, joint_xy: torch.Tensor, batch: Batch, index: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """(B, A, K) soft counts of close decoder neighbours per agent and scene mode
        (module docstring); joint_xy (B, A, K, H, 2) each agent's frame."""
        return _mode_overlaps_impl(joint_xy, batch, index, mask)

    def forward(self, batch: Batch, scales: bool = True) -> ModelOutput:
        """Decode K joint scene modes and K marginal modes per agent (see `ModelOutput`);
        without `scales` (inference) the Laplace scales are not computed (all 1)."""
        config = self.config
        agents, (index, mask, pose) = self.encode(batch)
        prior = self.constant_velocity(batch) if config.residual_to_constant_velocity else 0.0
        marginal_xy, marginal_scale, marginal_logits = self._head(
            self.marginal_head, agents, prior, scales, config.num_modes
        )
        # Joint: (B, K, A, D) tokens, attention over the agents of the same mode.
        if config.joint_from_marginal:
            agents = agents + self.marginal_summary(_mode_summary(marginal_xy, marginal_logits))
        tokens = agents[:, None] + self.mode_queries[None, :, None]
        joint_prior: torch.Tensor | float = prior
        if config.joint_anchor:
            joint_prior, features = self.anchors(marginal_xy, marginal_logits)
            tokens = tokens + self.anchor_embed(features).transpose(1, 2)
        near = config.decoder_neighbours
        index, mask = index[:, None, :, :near], mask[:, None, :, :near]
        pose = pose[:, None, :, :near]
        for layer in [self.mode_attention, *self.more_mode_attention]:
            tokens = layer(tokens, tokens, index, pose, mask)
        if config.joint_from_marginal:
            raw = self.joint_head(tokens.transpose(1, 2))  # (B, A, K, K + 1)
            choice = torch.softmax(raw[..., :-1], -1)  # (B, A, K scene, K marginal)
            joint_xy = torch.einsum("bajm,bamhc->bajhc", choice, marginal_xy.detach())
            joint_scale = (
                torch.einsum("bajm,bamhc->bajhc", choice, marginal_scale.detach())
                if scales
                else torch.ones(()).expand(joint_xy.shape)
            )
            agent_logits = raw[..., -1]
        else:
            joint_xy, joint_scale, agent_logits = self._head(
                self.joint_head, tokens.transpose(1, 2), joint_prior, scales
            )
        real = batch.agent_mask[..., None].float()
        if config.overlap_aware_scores:
            near_count = self.mode_overlaps(joint_xy, batch, index[:, 0], mask[:, 0]) * real
            agent_logits = agent_logits + self.overlap_weights[0] * near_count
        scene_logits = (agent_logits * real).sum(1) / real.sum(1).clamp(min=1.0)
        if config.overlap_aware_scores:
            scene_logits = scene_logits + self.overlap_weights[1] * near_count.sum(1)
        return ModelOutput(
            joint_xy,
            joint_scale,
            agent_logits,
            scene_logits,
            marginal_xy,
            marginal_scale,
            marginal_logits,
        )


def _mode_summary(marginal_xy: torch.Tensor, marginal_logits: torch.Tensor) -> torch.Tensor:
    """(B, A, 3K): each agent's K marginal end points (/ 10 m) and log-probabilities,
    gradient stopped. marginal_xy: (B, A, K, H, 2); marginal_logits: (B, A, K)."""
    ends = 0.1 * marginal_xy[..., -1, :].detach().flatten(-2)
    return torch.cat([ends, torch.log_softmax(marginal_logits.detach(), -1)], -1)


_OVERLAP_RADIUS_M = 1.0
_OVERLAP_STEP_STRIDE = 3


@torch.no_grad()
def _mode_overlaps_impl(
    joint_xy: torch.Tensor, batch: Batch, index: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """(B, A, K): per agent and mode, sum over its neighbours (index, mask: (B, A, k),
    itself left out) of relu(1 - closest centre distance over the steps / 1 m)."""
    steps = slice(_OVERLAP_STEP_STRIDE - 1, None, _OVERLAP_STEP_STRIDE)
    xy = agent_to_scene(joint_xy[..., steps, :], batch.xy[:, :, -1], batch.heading[:, :, -1])
    flat = xy.flatten(2)  # (B, A, K * h * 2)
    others = gather_neighbours(flat, index).unflatten(-1, xy.shape[2:])  # (B, A, k, K, h, 2)
    gap = torch.linalg.vector_norm(others - xy[:, :, None], dim=-1).amin(-1)  # (B, A, k, K)
    itself = index == torch.arange(index.shape[1])[None, :, None]
    near = functional.relu(1.0 - gap / _OVERLAP_RADIUS_M) * (mask & ~itself)[..., None]
    return near.sum(2)


def _anchor_steps(future_steps: int) -> list[int]:
    """The future steps at which anchor trajectories are embedded: about 6, the last included."""
    stride = max(1, future_steps // 6)
    return list(range(future_steps - 1, -1, -stride))[::-1]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
