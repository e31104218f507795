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
  self-attention over the agents *within* each mode (so mode k is one consistent future of
  the scene), then per token a trajectory (H, 2), Laplace scales (H, 2) and a logit; the
  scene logit of mode k is the mean over real agents of their logits of mode k. With
  `joint_from_marginal`, the joint head outputs, per token (agent a, mode k), K selection
  logits instead of a trajectory: agent a's trajectory (and scales) in scene mode k is the
  softmax-weighted mix of its K marginal modes (gradient stopped), and each agent token
  first gets an embedding of its marginal modes (end points, log-probabilities). The scene
  modes are then consistent combinations of per-agent modes (as each agent's marginal modes
  are good on their own; the decoder learns which go together).

Inference (`infer`) computes the same outputs without scales, faster on CPU: the relative
pose enters each attention through the pose MLP's hidden layer (`RelativeAttention.infer`,
no per-pair key / value rows), the layers that follow one another linearly folded into one
(`RelativeAttention.folded`, kept while the parameters are unchanged), and the map's keys
and values may come precomputed (`EncodedMap`, cached per map piece by
`prediction.map_cache`).

Trajectories are in each agent's frame now; with `residual_to_constant_velocity` the
network outputs a correction to the constant-velocity extrapolation.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn import functional

from urbandrive.core.agent_type import AgentType
from urbandrive.core.errors import DataError
from urbandrive.maps.vectorize import NUM_MAP_FEATURES
from urbandrive.prediction.features import (
    Batch,
    agent_step_inputs,
    into_frame,
    polyline_point_inputs,
    polyline_poses,
    relative_pose,
    turned,
)

AGENT_STEP_FEATURES = 9
POINT_FEATURES = 5
RELATIVE_POSE_FEATURES = 5
_MIN_SCALE_M = 0.01
#: The eps of every LayerNorm (torch's default; `_layer_norm` checks a module's).
_LAYER_NORM_EPS = 1e-5
#: A tensor's version counter (bumped by every in-place change; `inference_plan`'s stamp).
_VERSION = operator.attrgetter("_version")
#: Where padding map points are put for nearest-polyline distances (m): never the nearest.
_FAR_M = 1.0e7


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Model sizes. future_steps and dt_s fix the decoded horizon (H steps of dt_s);
    agent_neighbours / map_neighbours: how many nearest agents (itself included) and map
    polylines each agent attends to in the encoder; decoder_neighbours: agents attended to
    within a scene mode (at most agent_neighbours); joint_from_marginal: each agent's
    trajectory in scene mode k is a learned soft choice among its own marginal modes (module
    docstring; False, the default, is the layout of older checkpoints)."""

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
    joint_from_marginal: bool = False

    def __post_init__(self) -> None:
        if self.hidden_dim % self.num_heads:
            raise ValueError(f"hidden_dim must be a multiple of num_heads: {self}")
        if min(self.num_layers, self.num_modes, self.future_steps) < 1:
            raise ValueError(f"need >= 1 layer, mode and future step: {self}")
        if self.history_steps < 2:
            raise ValueError(f"need >= 2 history steps: {self}")


#: Options of earlier models that no checkpoint uses, with the value every checkpoint that
#: still names them holds (the layout without them).
RETIRED_OPTIONS = {"decoder_layers": 1, "joint_anchor": False, "overlap_aware_scores": False}


def without_retired(values: dict[str, Any], where: str) -> dict[str, Any]:
    """`values` (a checkpoint's model or training settings) without `RETIRED_OPTIONS`;
    `DataError` naming `where` and the option when one holds another value."""
    for name, value in RETIRED_OPTIONS.items():
        if name in values and values[name] != value:
            raise DataError(f"{where}: {name} = {values[name]!r} is no longer supported")
    return {key: value for key, value in values.items() if key not in RETIRED_OPTIONS}


def model_config_from_dict(values: dict[str, Any], where: str = "checkpoint") -> ModelConfig:
    """The `ModelConfig` of a checkpoint's `model_config` dict (retired options dropped)."""
    return ModelConfig(**without_retired(values, where))


@dataclass(frozen=True, slots=True)
class ModelOutput:
    """Decoded futures, each agent's frame now (B scenes, A agents, K modes, H steps).

    joint_xy, joint_scale: (B, A, K, H, 2) m; joint_agent_logits: (B, A, K);
    scene_logits: (B, K). marginal_xy, marginal_scale: (B, A, K, H, 2); marginal_logits:
    (B, A, K). joint_choice: (B, A, K, K), with `joint_from_marginal` the weights of agent a's
    marginal modes (last axis) in scene mode k, else None. Padded agents hold finite junk.
    """

    joint_xy: torch.Tensor
    joint_scale: torch.Tensor
    joint_agent_logits: torch.Tensor
    scene_logits: torch.Tensor
    marginal_xy: torch.Tensor
    marginal_scale: torch.Tensor
    marginal_logits: torch.Tensor
    joint_choice: torch.Tensor | None = None


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
        self._folded: tuple[tuple[tuple[int, int], ...], InferenceWeights] | None = None

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

    def folded(self) -> InferenceWeights:
        """The weights of `infer` / `infer_all` / `keys_values` (`InferenceWeights`), derived
        once from the module's and kept while its parameters are unchanged (checked by their
        storage and version counters: an optimiser step or `load_state_dict` refolds)."""
        stamp = tuple([(p.data_ptr(), p._version) for p in self._folded_params()])
        if self._folded is None or self._folded[0] != stamp:
            with torch.inference_mode(False), torch.no_grad():  # usable in and out of inference
                linears = self._fold() if self.pose is not None else self._fold_all()
                weights = InferenceWeights(*linears, *self._plain())
            self._folded = (stamp, weights)
        return self._folded[1]

    def _folded_params(self) -> tuple[torch.Tensor, ...]:
        """Every parameter `InferenceWeights` is made of."""
        return tuple(self.parameters())

    def _plain(self) -> tuple[object, ...]:
        """`InferenceWeights`' fields after the folded maps: the norms, feed-forward and pose
        hidden layer as plain tensors (detached, so usable in and out of inference mode)."""
        norm, first, _, last = self.ffn
        pose = None
        if self.pose is not None:
            pose = (self.pose[0].weight, self.pose[0].bias, self.pose[1].weight, self.pose[1].bias)
        tensors = (
            (self.norm_query.weight, self.norm_query.bias),
            (self.norm_key.weight, self.norm_key.bias),
            (norm.weight, norm.bias, first.weight, first.bias, last.weight, last.bias),
            pose,
        )
        plain = tuple(None if t is None else tuple(p.detach() for p in t) for t in tensors)
        return (*plain, self.num_heads)

    def _fold(self) -> tuple[torch.Tensor, ...]:
        """`infer`'s weights, per head h (d = D / h) with W_pk[h] / W_pv[h] (d, c) the pose
        MLP's key / value output rows: query rows = [W_q / sqrt(d); blockdiag(W_pk[h]^T) W_q
        / sqrt(d)] (the scaled query, then its projection onto the pose hidden layer); key /
        value bias + the pose MLP's output bias (every pair adds it); out = [W_o, W_o
        blockdiag(W_pv[h])] (attended values, then pooled pose hidden layers)."""
        assert self.pose is not None
        heads, dim = self.num_heads, self.query.weight.shape[0]
        size, last = dim // heads, self.pose[-1]
        pose_key = torch.block_diag(*last.weight[:dim].unflatten(0, (heads, size)))  # (D, h c)
        pose_value = torch.block_diag(*last.weight[dim:].unflatten(0, (heads, size)))
        query_weight, query_bias = self.query.weight / size**0.5, self.query.bias / size**0.5
        return (
            torch.cat([query_weight, pose_key.T @ query_weight]),
            torch.cat([query_bias, pose_key.T @ query_bias]),
            torch.cat([self.key.weight, self.value.weight]),
            torch.cat([self.key.bias, self.value.bias]) + last.bias,
            torch.cat([self.out.weight, self.out.weight @ pose_value], 1),
            self.out.bias.clone(),
        )

    def _fold_all(self) -> tuple[torch.Tensor, ...]:
        """`infer_all`'s weights: per head h, the scaled query's projection onto the normed
        context W_k[h]^T W_q[h] / sqrt(d) (h D rows) and its key-bias score b_k[h] . q_h
        (h rows), then out = W_o blockdiag(W_v[h]) from the pooled normed context (h D) with
        bias W_o b_v + b_o (the attention weights of a query with a key sum to 1)."""
        heads, dim = self.num_heads, self.query.weight.shape[0]
        size = dim // heads
        query_weight = (self.query.weight / size**0.5).unflatten(0, (heads, size))  # (h, d, D)
        query_bias = (self.query.bias / size**0.5).view(heads, size)
        key_weight = self.key.weight.unflatten(0, (heads, size))  # (h, d, D)
        key_bias = self.key.bias.view(heads, 1, size)
        value = torch.block_diag(*self.value.weight.unflatten(0, (heads, size)))  # (D, h D)
        return (
            torch.cat(
                [(key_weight.mT @ query_weight).flatten(0, 1), (key_bias @ query_weight)[:, 0]]
            ),
            torch.cat(
                [
                    (key_weight.mT @ query_bias[..., None]).flatten(),
                    (key_bias[:, 0] * query_bias).sum(-1),
                ]
            ),
            torch.cat([self.key.weight, self.value.weight]),
            torch.cat([self.key.bias, self.value.bias]),
            self.out.weight @ value,
            self.out.weight @ self.value.bias + self.out.bias,
        )

    def keys_values(self, context: torch.Tensor) -> torch.Tensor:
        """(..., N, 2D): the keys and values of `context` (..., N, D), side by side, each with
        the pose MLP's output bias added (what every pair adds; `infer` reads them so)."""
        return keys_values(self.folded(), context)

    def pose_hidden(self, pose: torch.Tensor) -> torch.Tensor:
        """(..., Q, k, D / 2): the pose MLP's hidden layer of relative poses (..., Q, k, 5)."""
        return pose_hidden(self.folded(), pose)

    def infer(
        self,
        x: torch.Tensor,
        keys_values: torch.Tensor,
        neighbours: torch.Tensor,
        pose_hidden: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """`forward` with neighbours and poses (`attend`), the same result up to float
        rounding."""
        return attend(self.folded(), x, keys_values, neighbours, pose_hidden, mask)

    def infer_all(self, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """`forward` without neighbours or poses (`attend_all`), the same result up to float
        rounding."""
        return attend_all(self.folded(), x, context, mask)


def keys_values(weights: InferenceWeights, context: torch.Tensor) -> torch.Tensor:
    """`RelativeAttention.keys_values` from its folded `weights`."""
    return functional.linear(_layer_norm(weights.norm_key, context), *weights.keys_values)


def pose_hidden(weights: InferenceWeights, pose: torch.Tensor) -> torch.Tensor:
    """`RelativeAttention.pose_hidden` from its folded `weights`."""
    assert weights.pose is not None
    first_weight, first_bias, *norm = weights.pose
    return _layer_norm(norm, functional.linear(pose, first_weight, first_bias)).relu_()


def attend(
    weights: InferenceWeights,
    x: torch.Tensor,
    keys_values: torch.Tensor,
    neighbours: torch.Tensor,
    pose_hidden: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """`RelativeAttention.forward` with neighbours and poses from its folded `weights`,
    computed without per-pair key / value rows (the same result up to float rounding).
    x: (..., Q, D); keys_values: (..., N, 2D) (`keys_values` of the context); neighbours:
    int64 (..., Q, k); pose_hidden: (..., Q, k, D / 2) (`pose_hidden`); mask: bool
    (..., Q, k); leading axes broadcast.

    The pose MLP's last layer is linear, so with h the pose hidden layer of pair (i, j)
    and n = neighbours[i, j], per head: score = q_i . (K_n + b_pk) + (W_pk^T q_i) . h,
    and the output sum_j w_ij (V_n + b_pv + W_pv h) = (dense w) (V + b_pv) + W_pv (sum_j
    w_ij h); the projections and biases are folded into the layers (`_fold`)."""
    heads, dim = weights.heads, x.shape[-1]
    size = dim // heads
    both = functional.linear(_layer_norm(weights.norm_query, x), *weights.query)
    query = both[..., :dim].unflatten(-1, (heads, size))  # (..., Q, h, d), scaled
    projected = both[..., dim:].unflatten(-1, (heads, -1))  # (..., Q, h, c)
    key, value = keys_values.unflatten(-1, (2 * heads, size)).transpose(-2, -3).chunk(2, -3)
    dense = (query.transpose(-2, -3) @ key.transpose(-1, -2)).transpose(-2, -3)  # (.., Q, h, N)
    lead = dense.shape[:-1]
    index = neighbours[..., None, :].expand(*lead, neighbours.shape[-1])  # (..., Q, h, k)
    scores = dense.gather(-1, index)  # (..., Q, h, k)
    shared = pose_hidden.dim() >= 5 and pose_hidden.shape[-4] == 1 < query.shape[-4]
    scores = scores + _pose_scores(pose_hidden, projected, shared)
    # A masked key gets weight exp(-1e9) = 0; a query without any valid key is kept below.
    attention = softmax_last(scores.masked_fill_(~mask[..., None, :], -1e9))
    spread = torch.zeros(*lead, key.shape[-2], dtype=attention.dtype)
    spread.scatter_add_(-1, index, attention)  # (..., Q, h, N)
    attended = (spread.transpose(-2, -3) @ value).transpose(-2, -3).flatten(-2)  # (..., Q, D)
    pooled = _pose_pooled(attention, pose_hidden, shared).flatten(-2)  # (..., Q, h c)
    update = functional.linear(torch.cat([attended, pooled], -1), *weights.out)
    x = x + update * mask.any(-1, keepdim=True)
    return x + _feed_forward(weights.ffn, x)


def attend_all(
    weights: InferenceWeights, x: torch.Tensor, context: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """`RelativeAttention.forward` without neighbours or poses (every query sees all N keys)
    from its folded `weights`, computed without key / value rows: per head, score =
    (W_k^T q) . LN(c) + q . b_k and output W_v (sum_n w_n LN(c_n)) + b_v, the projections
    folded into the layers (`_fold_all`). x: (..., Q, D); context: (..., N, D); mask: bool
    (..., Q, N). Equal to `forward` up to float rounding."""
    heads = weights.heads
    both = functional.linear(_layer_norm(weights.norm_query, x), *weights.query)
    projected = both[..., :-heads].unflatten(-1, (-1, x.shape[-1])).flatten(-3, -2)
    normed = _layer_norm(weights.norm_key, context)  # (..., N, D)
    scores = (projected @ normed.transpose(-1, -2)).unflatten(-2, (-1, heads))
    scores = scores + both[..., -heads:, None]  # (..., Q, h, N)
    scores = scores.masked_fill_(~mask[..., None, :], -1e9)
    attention = softmax_last(scores)
    pooled = (attention.flatten(-3, -2) @ normed).unflatten(-2, (-1, heads))  # (..., Q, h, D)
    update = functional.linear(pooled.flatten(-2), *weights.out)
    x = x + update * mask.any(-1, keepdim=True)
    return x + _feed_forward(weights.ffn, x)


class InferenceWeights(NamedTuple):
    """`RelativeAttention.folded`: the plain tensors of the inference path (no module
    attribute lookups in the hot path): (weight, bias) pairs of its three folded linear maps,
    query (from the normed queries), keys_values (from the normed context) and out (to the
    residual update); the query / key LayerNorms' (weight, bias); the feed-forward's
    (norm weight, norm bias, weight 1, bias 1, weight 2, bias 2); the pose MLP's hidden layer
    (weight, bias, norm weight, norm bias), or None without poses; the number of heads."""

    query_weight: torch.Tensor
    query_bias: torch.Tensor
    keys_values_weight: torch.Tensor
    keys_values_bias: torch.Tensor
    out_weight: torch.Tensor
    out_bias: torch.Tensor
    norm_query: tuple[torch.Tensor, torch.Tensor]
    norm_key: tuple[torch.Tensor, torch.Tensor]
    ffn: tuple[torch.Tensor, ...]
    pose: tuple[torch.Tensor, ...] | None
    heads: int

    @property
    def query(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.query_weight, self.query_bias

    @property
    def keys_values(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.keys_values_weight, self.keys_values_bias

    @property
    def out(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.out_weight, self.out_bias


def softmax_last(x: torch.Tensor) -> torch.Tensor:
    """`torch.softmax(x, -1)`, spelled out (max, exp, sum, divide) over a last axis shorter
    than 16: torch's CPU kernel is then several times slower (8 of 12k values: 220 vs 47 us;
    16 or more: 7 us for 4k). The same up to rounding."""
    if x.shape[-1] >= 16:
        return torch.softmax(x, -1)
    exp = (x - x.amax(-1, keepdim=True)).exp_()
    return exp / exp.sum(-1, keepdim=True)


def _layer_norm(norm: nn.LayerNorm | Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """LayerNorm of the last axis of x (eps 1e-5, the modules' default) with `norm`'s (weight,
    bias) (or a module's), without the module call (inference): `torch.layer_norm`, the op
    `nn.LayerNorm` runs."""
    if isinstance(norm, nn.LayerNorm):
        assert norm.eps == _LAYER_NORM_EPS
        norm = (norm.weight, norm.bias)
    weight, bias = norm
    return torch.layer_norm(x, (x.shape[-1],), weight, bias, _LAYER_NORM_EPS)


def _feed_forward(ffn: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The feed-forward (LayerNorm, Linear, ReLU, Linear) of `InferenceWeights.ffn`."""
    norm_weight, norm_bias, first_weight, first_bias, last_weight, last_bias = ffn
    hidden = _layer_norm((norm_weight, norm_bias), x)
    return functional.linear(
        functional.linear(hidden, first_weight, first_bias).relu_(), last_weight, last_bias
    )


def mlp_hidden(layers: nn.Sequential | Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """`layers[:-1](x)` for an `mlp` (Linear, LayerNorm, ReLU) without the module calls
    (inference); `layers` may be its plain tensors (`mlp_tensors`)."""
    if isinstance(layers, nn.Sequential):
        layers = mlp_tensors(layers)
    first_weight, first_bias, norm_weight, norm_bias = layers[:4]
    hidden = functional.linear(x, first_weight, first_bias)
    return _layer_norm((norm_weight, norm_bias), hidden).relu_()


def run_mlp(layers: nn.Sequential | Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """`layers(x)` for an `mlp` without the module calls (inference); `layers` may be its
    plain tensors (`mlp_tensors`)."""
    if isinstance(layers, nn.Sequential):
        layers = mlp_tensors(layers)
    return functional.linear(mlp_hidden(layers, x), layers[4], layers[5])


def mlp_tensors(layers: nn.Sequential) -> tuple[torch.Tensor, ...]:
    """An `mlp`'s plain tensors, detached: first weight, bias, norm weight, bias, last weight,
    bias."""
    first, norm, _, last = layers
    tensors = (first.weight, first.bias, norm.weight, norm.bias, last.weight, last.bias)
    return tuple(t.detach() for t in tensors)


def _pose_scores(hidden: torch.Tensor, projected: torch.Tensor, shared: bool) -> torch.Tensor:
    """(..., Q, h, k): projected queries (..., Q, h, c) . pose hidden (..., Q, k, c); `shared`:
    hidden has size 1 on axis -4 where projected has M (e.g. one neighbourhood for every
    scene mode), folded into the heads rather than copied."""
    if not shared:
        return projected @ hidden.transpose(-1, -2)
    modes, heads = projected.shape[-4], projected.shape[-2]
    folded = projected.movedim(-4, -3).flatten(-3, -2)  # (..., Q, M h, c)
    scores = folded @ hidden.squeeze(-4).transpose(-1, -2)  # (..., Q, M h, k)
    return scores.unflatten(-2, (modes, heads)).movedim(-3, -4)


def _pose_pooled(weights: torch.Tensor, hidden: torch.Tensor, shared: bool) -> torch.Tensor:
    """(..., Q, h, c): sum over the k neighbours of weights (..., Q, h, k) x pose hidden
    (..., Q, k, c); `shared` as in `_pose_scores`."""
    if not shared:
        return weights @ hidden
    modes, heads = weights.shape[-4], weights.shape[-2]
    folded = weights.movedim(-4, -3).flatten(-3, -2)  # (..., Q, M h, k)
    pooled = folded @ hidden.squeeze(-4)  # (..., Q, M h, c)
    return pooled.unflatten(-2, (modes, heads)).movedim(-3, -4)


def gather_neighbours(values: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
    """values (..., N, D), neighbours int64 (..., Q, k) -> (..., Q, k, D); the leading axes
    of `neighbours` broadcast against those of `values` (one `index_select` of rows of the
    flattened values: about 3x faster on CPU than advanced indexing, 6x than `gather`)."""
    lead = values.shape[:-2]
    if lead != neighbours.shape[:-2]:
        lead = torch.broadcast_shapes(lead, neighbours.shape[:-2])
    (num_keys, dim), (num_queries, k) = values.shape[-2:], neighbours.shape[-2:]
    flat = values.expand(*lead, num_keys, dim).reshape(-1, dim)
    index = neighbours.expand(*lead, num_queries, k).reshape(-1, num_queries * k)
    if index.shape[0] > 1:  # one set of keys per leading index: offset into the flat rows
        index = index + num_keys * torch.arange(index.shape[0])[:, None]
    return flat.index_select(0, index.flatten()).reshape(*lead, num_queries, k, dim)


def nearest_point_distance(xy: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """(B, A, L): the distance from each point xy (B, A, 2) to the nearest of each polyline's
    points (B, L, P, 2): `torch.cdist`'s matrix-product form |x|^2 - 2 x.p + |p|^2, with the
    minimum over P taken before the square root (the same values, one root per polyline),
    over a point-major layout (the minimum then runs over an outer axis)."""
    num_points = points.shape[2]
    by_point = points.transpose(1, 2).flatten(1, 2)  # (B, P * L, 2)
    xy_norm, point_norm = xy.square().sum(-1, keepdim=True), by_point.square().sum(-1, keepdim=True)
    left = torch.cat([-2 * xy, xy_norm, torch.ones_like(xy_norm)], -1)  # (B, A, 4)
    right = torch.cat([by_point, torch.ones_like(point_norm), point_norm], -1)  # (B, P L, 4)
    squared = (left @ right.mT).unflatten(-1, (num_points, -1)).amin(-2)
    return squared.clamp_min_(0.0).sqrt_()


def nearest(
    distance: torch.Tensor, valid: torch.Tensor, count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The `count` nearest valid keys of each query, nearest first: indices int64 (..., Q, k) and their
    validity bool (..., Q, k), k = min(count, N). distance: (..., Q, N); valid: bool (..., Q, N)."""
    k = min(count, distance.shape[-1])
    masked = distance.masked_fill(~valid, float("inf"))
    value, index = torch.topk(masked, k, dim=-1, largest=False, sorted=True)
    return index, torch.isfinite(value)


@dataclass(frozen=True, slots=True)
class EncodedMap:
    """A scene's polylines as the encoder's map attention reads them: keys_values
    (num_layers, B, L, 2D), per encoder layer (`RelativeAttention.keys_values` of the
    polyline tokens); origin (B, L, 2) and heading (B, L), the polylines' poses in the scene
    frame (`polyline_poses`)."""

    keys_values: torch.Tensor
    origin: torch.Tensor
    heading: torch.Tensor


@dataclass(frozen=True, slots=True)
class InferencePlan:
    """`JointPredictionModel.inference_plan`: every tensor `infer` reads, plain and detached
    (no module attribute lookups in the hot path). The mlps as `mlp_tensors`; the heads' last
    layers keep only the rows read without scales (xy and logit per mode; the joint head
    with `joint_from_marginal`: all); time_embed (T, D); type_embed (types, D);
    confidence_embed (weight, bias); the attentions' `InferenceWeights`; mode_queries (K, D);
    marginal_summary None without `joint_from_marginal`."""

    step_embed: tuple[torch.Tensor, ...]
    time_embed: torch.Tensor
    type_embed: torch.Tensor
    confidence_embed: tuple[torch.Tensor, torch.Tensor]
    time_attention: InferenceWeights
    map_attention: tuple[InferenceWeights, ...]
    agent_attention: tuple[InferenceWeights, ...]
    mode_attention: InferenceWeights
    mode_queries: torch.Tensor
    marginal_head: tuple[torch.Tensor, ...]
    joint_head: tuple[torch.Tensor, ...]
    marginal_summary: tuple[torch.Tensor, ...] | None


def _head_tensors(head: nn.Sequential, rows: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    """`mlp_tensors` of a head, its last layer's weight and bias cut to `rows` (None: all)."""
    tensors = mlp_tensors(head)
    if rows is None:
        return tensors
    return (*tensors[:4], tensors[4][rows], tensors[5][rows])


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
        out = config.future_steps * 4 + 1
        if config.joint_from_marginal:
            self.marginal_summary = mlp(3 * modes, dim, dim)
        self.joint_head = mlp(dim, 2 * dim, modes + 1 if config.joint_from_marginal else out)
        self.marginal_head = mlp(dim, 2 * dim, modes * out)
        steps = config.future_steps
        #: Output rows of a head without the scales (what inference needs): xy and logit, of
        #: one mode (the joint head) and of K (the marginal head).
        rows = torch.cat([torch.arange(2 * steps), torch.tensor([4 * steps])])
        self.register_buffer("_rows_no_scale", rows, persistent=False)
        modes_rows = (rows + out * torch.arange(modes)[:, None]).flatten()
        self.register_buffer("_rows_no_scale_modes", modes_rows, persistent=False)
        self._head_rows: dict[
            str, tuple[tuple[object, ...], tuple[torch.Tensor, torch.Tensor]]
        ] = {}
        self._plan_params: tuple[torch.Tensor, ...] | None = None
        self._plan: tuple[tuple[int, ...], InferencePlan] | None = None

    def encode_agents(self, batch: Batch) -> torch.Tensor:
        """(B, A, D): each agent's history (own frame), type and confidence, over time."""
        inputs = agent_step_inputs(batch)
        steps = self.step_embed(inputs) + self.time_embed
        static = self.type_embed(batch.types) + self.confidence_embed(batch.confidence[..., None])
        steps = steps + static[:, :, None]
        now = steps[..., -1:, :]  # (B, A, 1, D)
        mask = batch.valid[..., None, :]  # (B, A, 1, T)
        return self.time_attention(now, steps, None, None, mask).squeeze(-2)

    def encode_polylines(
        self, point_inputs: torch.Tensor, point_valid: torch.Tensor, features: torch.Tensor
    ) -> torch.Tensor:
        """(..., L, D) polyline tokens from their points in their own frames (..., L, P, 5)
        (`polyline_point_inputs`), point validity bool (..., L, P) and feature rows
        (..., L, NUM_MAP_FEATURES); padding rows (no valid point) give zero tokens."""
        points = self.point_embed(point_inputs).masked_fill(~point_valid[..., None], -1e9)
        real = point_valid.any(-1, keepdim=True)
        pooled = points.max(dim=-2).values * real
        return self.polyline_embed(torch.cat([pooled, features], dim=-1)) * real

    def encode_map(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, L, D) polyline tokens and their poses: origin (B, L, 2), heading (B, L)."""
        origin, heading = polyline_poses(batch)
        inputs = polyline_point_inputs(batch, origin, heading)
        valid = batch.map_point_valid & batch.map_mask[..., None]
        return self.encode_polylines(inputs, valid, batch.map_features), origin, heading

    def encoded_map(self, batch: Batch) -> EncodedMap:
        """The batch's polylines encoded for `infer` (what `prediction.map_cache` caches)."""
        tokens, origin, heading = self.encode_map(batch)
        keys_values = torch.stack([layer.keys_values(tokens) for layer in self.map_attention])
        return EncodedMap(keys_values, origin, heading)

    def agent_neighbours(
        self, batch: Batch, turn: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each agent's nearest agents now (itself included): indices (B, A, k), mask
        (B, A, k) and relative poses (B, A, k, 5); turn: `into_frame` of the headings now
        (B, A) when already computed."""
        xy, heading = batch.xy[:, :, -1], batch.heading[:, :, -1]
        distance = torch.cdist(xy, xy)
        valid = batch.agent_mask[:, :, None] & batch.agent_mask[:, None, :]
        index, mask = nearest(distance, valid, self.config.agent_neighbours)
        other = gather_neighbours(torch.cat([xy, heading[..., None]], -1), index)  # (B, A, k, 3)
        poses = relative_pose(
            xy[:, :, None],
            heading[:, :, None],
            other[..., :2],
            other[..., 2],
            None if turn is None else turn[:, :, None],
        )
        return index, mask, poses

    def map_neighbours(
        self,
        batch: Batch,
        origin: torch.Tensor,
        heading: torch.Tensor,
        turn: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each agent's nearest polylines (by nearest point): indices (B, A, k), mask and
        relative poses (B, A, k, 5); turn as in `agent_neighbours`."""
        xy, agent_heading = batch.xy[:, :, -1], batch.heading[:, :, -1]
        far = torch.tensor(_FAR_M, dtype=batch.map_points.dtype)  # padding points: far away
        points = torch.where(batch.map_point_valid[..., None], batch.map_points, far)
        gap = nearest_point_distance(xy, points)  # (B, A, L)
        valid = batch.agent_mask[:, :, None] & batch.map_mask[:, None, :]
        index, mask = nearest(gap, valid, self.config.map_neighbours)
        line = gather_neighbours(torch.cat([origin, heading[..., None]], -1), index)  # (B, A, k, 3)
        poses = relative_pose(
            xy[:, :, None],
            agent_heading[:, :, None],
            line[..., :2],
            line[..., 2],
            None if turn is None else turn[:, :, None],
        )
        return index, mask, poses

    def _uses_map(self, batch: Batch) -> bool:
        return self.config.use_map and bool(batch.map_mask.any())

    def encode(self, batch: Batch) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Agent tokens (B, A, D) after map and agent interaction, and the agent
        neighbourhoods (indices, mask, poses) the decoder reuses."""
        agents = self.encode_agents(batch)
        neighbours = self.agent_neighbours(batch)
        use_map = self._uses_map(batch)
        if use_map:
            lines, origin, heading = self.encode_map(batch)
            map_index, map_mask, map_pose = self.map_neighbours(batch, origin, heading)
        for layer in range(self.config.num_layers):
            if use_map:
                agents = self.map_attention[layer](agents, lines, map_index, map_pose, map_mask)
            index, mask, pose = neighbours
            agents = self.agent_attention[layer](agents, agents, index, pose, mask)
        return agents, neighbours

    def constant_velocity(self, batch: Batch, turn: torch.Tensor | None = None) -> torch.Tensor:
        """(B, A, 1, H, 2): constant-velocity positions in each agent's frame now (turn as in
        `agent_neighbours`)."""
        config = self.config
        turn = into_frame(batch.heading[:, :, -1]) if turn is None else turn
        velocity = turned(batch.velocity[:, :, -1], turn)
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
        if scales:
            raw = head(x)
        else:
            raw = functional.linear(mlp_hidden(head, x), *self._rows_without_scales(head, modes))
        return self._read_head(raw, prior, scales, modes)

    def _read_head(
        self, raw: torch.Tensor, prior: torch.Tensor | float, scales: bool, modes: int | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A head's output rows (`_head`; without `scales`, no scale rows) read as xy, scale
        and logit."""
        steps = self.config.future_steps
        if modes is not None:
            raw = raw.unflatten(-1, (modes, -1))
        xy = raw[..., : 2 * steps].unflatten(-1, (steps, 2)) + prior
        if not scales:
            return xy, torch.ones(()).expand(xy.shape), raw[..., -1]
        scale = functional.softplus(raw[..., 2 * steps : 4 * steps].unflatten(-1, (steps, 2)))
        return xy, scale + _MIN_SCALE_M, raw[..., -1]

    def _rows_without_scales(
        self, head: nn.Sequential, modes: int | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The weight and bias rows of `head`'s last layer that `_head` reads without scales,
        kept per head while its parameters are unchanged (`RelativeAttention.folded`)."""
        last, width = head[-1], 4 * self.config.future_steps + 1
        if modes is None:
            rows = self._rows_no_scale
        elif modes == self.config.num_modes:
            rows = self._rows_no_scale_modes
        else:
            rows = (self._rows_no_scale + width * torch.arange(modes)[:, None]).flatten()
            return last.weight[rows], last.bias[rows]
        stamp = (modes, last.weight.data_ptr(), last.weight._version, last.bias._version)
        role = "marginal" if head is self.marginal_head else "joint"  # stable across copies
        kept = self._head_rows.get(role)
        if kept is None or kept[0] != stamp:
            with torch.inference_mode(False), torch.no_grad():  # usable in and out of inference
                kept = (stamp, (last.weight[rows], last.bias[rows]))
            self._head_rows[role] = kept
        return kept[1]

    def forward(self, batch: Batch, scales: bool = True) -> ModelOutput:
        """Decode K joint scene modes and K marginal modes per agent (see `ModelOutput`);
        without `scales` (inference) the Laplace scales are not computed (all 1)."""
        agents, neighbours = self.encode(batch)
        return self._decode(batch, agents, neighbours, scales)

    @torch.inference_mode()
    def infer(
        self,
        batch: Batch,
        encoded_map: EncodedMap | None = None,
        plan: InferencePlan | None = None,
    ) -> ModelOutput:
        """`forward(batch, scales=False)` computed faster (`attend`, `attend_all`; equal up to
        float rounding) from the plain tensors of `inference_plan`, the map's keys and values
        taken from `encoded_map` when given (None: encoded from the batch). plan: the
        `inference_plan` kept by a caller that knows the weights have not changed since (as
        `encoded_map`'s keys and values; None: checked and remade here when they have)."""
        plan = self.inference_plan() if plan is None else plan
        turn = into_frame(batch.heading[:, :, -1])  # (B, A), shared by the agents' frames now
        agents = self._encode_agents_inference(plan, batch, turn)
        index, mask, pose = neighbours = self.agent_neighbours(batch, turn)
        use_map = self._uses_map(batch)
        if use_map:
            encoded = self.encoded_map(batch) if encoded_map is None else encoded_map
            map_index, map_mask, map_pose = self.map_neighbours(
                batch, encoded.origin, encoded.heading, turn
            )
        for layer in range(self.config.num_layers):
            if use_map:
                weights = plan.map_attention[layer]
                hidden = pose_hidden(weights, map_pose)
                map_context = encoded.keys_values[layer]
                agents = attend(weights, agents, map_context, map_index, hidden, map_mask)
            weights = plan.agent_attention[layer]
            context, hidden = keys_values(weights, agents), pose_hidden(weights, pose)
            agents = attend(weights, agents, context, index, hidden, mask)
        return self._decode_inference(plan, batch, agents, neighbours, turn)

    def inference_plan(self) -> InferencePlan:
        """The plain tensors `infer` reads (`InferencePlan`), made once and kept while the
        parameters are unchanged (their storage and version counters: an optimiser step or
        `load_state_dict` remakes it; `.to()` / `load_state_dict(assign=True)` drop it)."""
        if self._plan_params is None:
            self._plan_params = tuple(self.parameters())
        params = self._plan_params
        stamp = (*map(torch.Tensor.data_ptr, params), *map(_VERSION, params))
        if self._plan is None or self._plan[0] != stamp:
            with torch.inference_mode(False), torch.no_grad():  # usable in and out of inference
                self._plan = (stamp, self._make_plan())
        return self._plan[1]

    def _make_plan(self) -> InferencePlan:
        """`inference_plan`'s tensors (detached; the heads' last layers without scale rows)."""
        joint_rows = None if self.config.joint_from_marginal else self._rows_no_scale
        summary = getattr(self, "marginal_summary", None)
        return InferencePlan(
            step_embed=mlp_tensors(self.step_embed),
            time_embed=self.time_embed.detach(),
            type_embed=self.type_embed.weight.detach(),
            confidence_embed=(
                self.confidence_embed.weight.detach(),
                self.confidence_embed.bias.detach(),
            ),
            time_attention=self.time_attention.folded(),
            map_attention=tuple(layer.folded() for layer in self.map_attention),
            agent_attention=tuple(layer.folded() for layer in self.agent_attention),
            mode_attention=self.mode_attention.folded(),
            mode_queries=self.mode_queries.detach(),
            marginal_head=_head_tensors(self.marginal_head, self._rows_no_scale_modes),
            joint_head=_head_tensors(self.joint_head, joint_rows),
            marginal_summary=None if summary is None else mlp_tensors(summary),
        )

    def _apply(self, fn: Any, recurse: bool = True) -> JointPredictionModel:
        self._plan_params, self._plan = None, None  # parameters may be new tensors
        return super()._apply(fn, recurse)

    def load_state_dict(self, *args: Any, **kwargs: Any) -> Any:
        self._plan_params, self._plan = None, None  # assign=True puts in new parameters
        return super().load_state_dict(*args, **kwargs)

    def _encode_agents_inference(
        self, plan: InferencePlan, batch: Batch, turn: torch.Tensor
    ) -> torch.Tensor:
        """`encode_agents` from the plan's tensors (`attend_all`); turn: `into_frame` of the
        headings now (B, A)."""
        inputs = agent_step_inputs(batch, turn)
        steps = run_mlp(plan.step_embed, inputs) + plan.time_embed
        confidence = functional.linear(batch.confidence[..., None], *plan.confidence_embed)
        static = functional.embedding(batch.types, plan.type_embed) + confidence
        steps = steps + static[:, :, None]
        now = steps[..., -1:, :]  # (B, A, 1, D)
        mask = batch.valid[..., None, :]  # (B, A, 1, T)
        return attend_all(plan.time_attention, now, steps, mask).squeeze(-2)

    def _decode_inference(
        self,
        plan: InferencePlan,
        batch: Batch,
        agents: torch.Tensor,
        neighbours: tuple[torch.Tensor, ...],
        turn: torch.Tensor,
    ) -> ModelOutput:
        """`_decode` without scales from the plan's tensors (the mode attention by `attend`)."""
        config = self.config
        index, mask, pose = neighbours
        residual = config.residual_to_constant_velocity
        prior = self.constant_velocity(batch, turn) if residual else 0.0
        marginal_raw = run_mlp(plan.marginal_head, agents)
        marginal_xy, marginal_scale, marginal_logits = self._read_head(
            marginal_raw, prior, False, config.num_modes
        )
        if plan.marginal_summary is not None:
            summary = _mode_summary(marginal_xy, marginal_logits, inference=True)
            agents = agents + run_mlp(plan.marginal_summary, summary)
        tokens = agents[:, None] + plan.mode_queries[None, :, None]  # (B, K, A, D)
        near = config.decoder_neighbours
        index, mask = index[:, None, :, :near], mask[:, None, :, :near]
        weights = plan.mode_attention
        context, hidden = (
            keys_values(weights, tokens),
            pose_hidden(weights, pose[:, None, :, :near]),
        )
        tokens = attend(weights, tokens, context, index, hidden, mask)
        # (B, A, K, out): the head on the tokens as they lie, its small output transposed
        raw = run_mlp(plan.joint_head, tokens).transpose(1, 2).contiguous()
        choice = None
        if config.joint_from_marginal:
            choice = softmax_last(raw[..., :-1])  # (B, A, K scene, K marginal)
            joint_xy = _mixed(choice, marginal_xy)
            joint_scale, agent_logits = torch.ones(()).expand(joint_xy.shape), raw[..., -1]
        else:
            joint_xy, joint_scale, agent_logits = self._read_head(raw, prior, False, None)
        return _output(
            batch, joint_xy, joint_scale, agent_logits, marginal_xy, marginal_scale,
            marginal_logits, choice,
        )  # fmt: skip

    def _decode(
        self,
        batch: Batch,
        agents: torch.Tensor,
        neighbours: tuple[torch.Tensor, ...],
        scales: bool,
    ) -> ModelOutput:
        """The marginal and joint heads on the encoded agents (B, A, D) (training; inference:
        `_decode_inference`)."""
        config = self.config
        index, mask, pose = neighbours
        prior = self.constant_velocity(batch) if config.residual_to_constant_velocity else 0.0
        marginal_xy, marginal_scale, marginal_logits = self._head(
            self.marginal_head, agents, prior, scales, config.num_modes
        )
        # Joint: (B, K, A, D) tokens, attention over the agents of the same mode.
        if config.joint_from_marginal:
            summary = _mode_summary(marginal_xy, marginal_logits)
            agents = agents + self.marginal_summary(summary)
        tokens = agents[:, None] + self.mode_queries[None, :, None]
        near = config.decoder_neighbours
        index, mask = index[:, None, :, :near], mask[:, None, :, :near]
        pose = pose[:, None, :, :near]
        tokens = self.mode_attention(tokens, tokens, index, pose, mask)
        if config.joint_from_marginal:
            raw = self.joint_head(tokens.transpose(1, 2))  # (B, A, K, K + 1)
            logits = raw[..., :-1]  # (B, A, K scene, K marginal)
            choice = torch.softmax(logits, -1)
            joint_xy = torch.einsum("bajm,bamhc->bajhc", choice, marginal_xy.detach())
            joint_scale = (
                torch.einsum("bajm,bamhc->bajhc", choice, marginal_scale.detach())
                if scales
                else torch.ones(()).expand(joint_xy.shape)
            )
            agent_logits = raw[..., -1]
        else:
            choice = None
            joint_xy, joint_scale, agent_logits = self._head(
                self.joint_head, tokens.transpose(1, 2), prior, scales
            )
        return _output(
            batch, joint_xy, joint_scale, agent_logits, marginal_xy, marginal_scale,
            marginal_logits, choice,
        )  # fmt: skip


def _output(
    batch: Batch,
    joint_xy: torch.Tensor,
    joint_scale: torch.Tensor,
    agent_logits: torch.Tensor,
    marginal_xy: torch.Tensor,
    marginal_scale: torch.Tensor,
    marginal_logits: torch.Tensor,
    choice: torch.Tensor | None,
) -> ModelOutput:
    """The decoder's `ModelOutput`, scene logits (B, K) the mean over the scene's real agents
    of their per-agent logits agent_logits (B, A, K)."""
    real = batch.agent_mask[..., None].float()
    scene_logits = (agent_logits * real).sum(1) / real.sum(1).clamp(min=1.0)
    return ModelOutput(
        joint_xy, joint_scale, agent_logits, scene_logits, marginal_xy, marginal_scale,
        marginal_logits, choice,
    )  # fmt: skip


def _mixed(choice: torch.Tensor, modes: torch.Tensor) -> torch.Tensor:
    """(B, A, K, H, 2): einsum("bajm,bamhc->bajhc", choice, modes), choice (B, A, K, K) and
    modes (B, A, K, H, 2) contiguous, by the batched product einsum runs (without einsum's
    parsing)."""
    return (choice @ modes.flatten(-2)).view(modes.shape)


def _mode_summary(
    marginal_xy: torch.Tensor, marginal_logits: torch.Tensor, inference: bool = False
) -> torch.Tensor:
    """(B, A, 3K): each agent's K marginal end points (/ 10 m) and log-probabilities,
    gradient stopped. marginal_xy: (B, A, K, H, 2); marginal_logits: (B, A, K). `inference`:
    no gradient to stop, the end points scaled before they are laid flat (the same floats,
    one copy fewer)."""
    if inference:
        ends = (0.1 * marginal_xy[..., -1, :]).flatten(-2)
        return torch.cat([ends, torch.log_softmax(marginal_logits, -1)], -1)
    ends = 0.1 * marginal_xy[..., -1, :].detach().flatten(-2)
    return torch.cat([ends, torch.log_softmax(marginal_logits.detach(), -1)], -1)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
