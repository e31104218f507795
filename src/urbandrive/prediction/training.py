"""Training loop of the joint model: windows from scenario URIs, AdamW + cosine schedule,
a checkpoint every epoch (`--resume` continues exactly), per-epoch metrics in
`DIR/metrics.jsonl`, the resolved config in `DIR/config.json`.

Windows: every `stride_s` of every scenario, `history_s` of past (the current step
included) and up to `future_s` of future; an agent counts in the loss if it is seen now and
at some future step. Determinism: the model is initialised from `seed`; epoch e shuffles and
augments with `numpy.random.default_rng([seed, e])`, so a resumed run takes the same steps.
Rotation augmentation turns each training scene's frame by a random angle (the query-centric
model is invariant to it up to float rounding; kept for models that read scene
coordinates, and as a check). `fit(augment=...)` adds a caller's augmentation
(`Augment`: window and the epoch's generator -> window) after the rotation.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from urbandrive.core.errors import DataError, UrbandriveError
from urbandrive.core.scenario import Scenario
from urbandrive.metrics.forecasting import (
    joint_metrics,
    marginal_metrics,
    top_k_modes,
    world_overlaps,
)
from urbandrive.prediction.features import (
    Batch,
    FeatureConfig,
    SceneTensors,
    agent_to_scene,
    collate,
    rotate_scene,
    scene_to_agent,
    window_features,
)
from urbandrive.prediction.losses import LossConfig, total_loss
from urbandrive.prediction.model import (
    JointPredictionModel,
    ModelConfig,
    ModelOutput,
    model_config_from_dict,
    without_retired,
)

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.jsonl"
CONFIG_NAME = "config.json"

#: A training augmentation: (window, the epoch's generator) -> window.
Augment = Callable[[SceneTensors, np.random.Generator], SceneTensors]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Everything a training run is built from (durations in seconds).

    data / val_data: scenario URIs (folders expand); without val_data the last
    `val_fraction` of the scenarios (at least one when there are two or more) validate.
    max_agents: per training window, the nearest to the scene origin. max_windows: cap on
    training windows (None: all). hidden_dim, num_layers, num_modes, use_map,
    joint_from_marginal: the model (`ModelConfig`).
    """

    data: tuple[str, ...] = ()
    val_data: tuple[str, ...] = ()
    val_fraction: float = 0.1
    epochs: int = 10
    batch_size: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    min_learning_rate_fraction: float = 0.01
    seed: int = 0
    history_s: float = 2.0
    future_s: float = 3.0
    stride_s: float = 0.5
    rotation_augmentation: bool = True
    max_agents: int | None = 32
    max_windows: int | None = None
    hidden_dim: int = 64
    num_layers: int = 1
    num_modes: int = 6
    use_map: bool = True
    joint_from_marginal: bool = False
    num_threads: int = 1
    loss: LossConfig = field(default_factory=LossConfig)

    def __post_init__(self) -> None:
        if min(self.epochs, self.batch_size, self.num_modes, self.num_threads) < 1:
            raise ValueError(f"epochs, batch_size, num_modes, num_threads must be >= 1: {self}")
        if min(self.history_s, self.future_s, self.stride_s, self.learning_rate) <= 0:
            raise ValueError(f"durations and learning_rate must be > 0: {self}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")

    def feature_config(self, dt_s: float) -> FeatureConfig:
        """The features for data stepped at `dt_s`."""
        return FeatureConfig(
            history_steps=max(2, round(self.history_s / dt_s)),
            future_steps=round(self.future_s / dt_s),
            dt_s=dt_s,
            max_agents=self.max_agents,
            use_map=self.use_map,
        )

    def model_config(self, dt_s: float) -> ModelConfig:
        """The model for data stepped at `dt_s`."""
        features = self.feature_config(dt_s)
        return ModelConfig(
            hidden_dim=self.hidden_dim,
            num_layers=self.num_layers,
            num_modes=self.num_modes,
            history_steps=features.history_steps,
            future_steps=features.future_steps,
            dt_s=dt_s,
            use_map=self.use_map,
            joint_from_marginal=self.joint_from_marginal,
        )


def load_train_config(path: Path | None, **overrides: Any) -> TrainConfig:
    """A `TrainConfig` from a TOML file (top-level keys, a `[loss]` table; None: defaults),
    then `overrides` (None values ignored). `UrbandriveError` naming the file for unknown keys."""
    raw: dict[str, Any] = tomllib.loads(path.read_text()) if path is not None else {}
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UrbandriveError(
            f"{path}: unknown training settings {unknown}; known: {sorted(known)}"
        )
    if "loss" in raw:
        raw["loss"] = LossConfig(**raw["loss"])
    for key in ("data", "val_data"):
        if key in raw:
            raw[key] = tuple(raw[key])
    raw |= {key: value for key, value in overrides.items() if value is not None}
    return TrainConfig(**raw)


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """JSON-ready dict of `config` (tuples as lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_from_dict(raw: dict[str, Any]) -> TrainConfig:
    """Inverse of `config_to_dict` (settings of retired model options dropped)."""
    raw = without_retired(raw, "training settings")
    raw["loss"] = LossConfig(**raw["loss"])
    raw["data"], raw["val_data"] = tuple(raw["data"]), tuple(raw["val_data"])
    return TrainConfig(**raw)


# -- data ---------------------------------------------------------------------------------------


def scenario_windows(
    scenario: Scenario, features: FeatureConfig, stride_steps: int
) -> list[SceneTensors]:
    """The training windows of one scenario: current steps history-1, history-1+stride, ...
    while a future step remains; windows where no agent seen now has a future are skipped."""
    windows = []
    for step in range(features.history_steps - 1, scenario.num_steps - 1, stride_steps):
        if not scenario.tracks.valid[:, step].any():
            continue
        scene = window_features(scenario, step, features)
        if scene.future_valid is not None and scene.future_valid.any():
            windows.append(scene)
    return windows


def build_windows(
    scenarios: Iterable[Scenario], config: TrainConfig, dt_s: float
) -> list[SceneTensors]:
    """Windows of every scenario; `DataError` if a scenario is stepped at another dt."""
    features = config.feature_config(dt_s)
    stride = max(1, round(config.stride_s / dt_s))
    windows: list[SceneTensors] = []
    for scenario in scenarios:
        if not math.isclose(scenario.dt_s, dt_s, abs_tol=1e-6):
            raise DataError(f"scenario {scenario.id!r}: step {scenario.dt_s} s, expected {dt_s} s")
        windows += scenario_windows(scenario, features, stride)
    return windows


def load_uris(uris: Iterable[str]) -> list[Scenario]:
    """Every scenario the URIs name (folders expand)."""
    from urbandrive.datasets import expand_uris, load_scenario

    return [load_scenario(uri) for uri in expand_uris(uris)]


def split_scenarios(
    scenarios: list[Scenario], config: TrainConfig
) -> tuple[list[Scenario], list[Scenario]]:
    """(train, val): the last `val_fraction` of the scenarios validate (at least one of two+)."""
    if config.val_fraction == 0 or len(scenarios) < 2:
        return scenarios, []
    count = max(1, round(len(scenarios) * config.val_fraction))
    return scenarios[:-count], scenarios[-count:]


# -- steps --------------------------------------------------------------------------------------


def targets_in_agent_frames(batch: Batch) -> torch.Tensor:
    """(B, A, H, 2): the batch's future positions in each agent's frame now."""
    if batch.future_xy is None:
        raise DataError("training batch has no future targets")
    return scene_to_agent(batch.future_xy, batch.xy[:, :, -1], batch.heading[:, :, -1])


def train_step(
    model: JointPredictionModel,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    batch: Batch,
    loss_config: LossConfig,
) -> dict[str, float]:
    """One optimisation step on `batch`; returns the loss terms."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    output = model(batch)
    assert batch.future_valid is not None
    poses = (batch.xy[:, :, -1], batch.heading[:, :, -1])
    targets = targets_in_agent_frames(batch)
    loss, terms = total_loss(
        output, targets, batch.future_valid, batch.agent_mask, loss_config, poses
    )
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    scheduler.step()
    return terms


def make_optimizer(
    model: JointPredictionModel, config: TrainConfig, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """AdamW and a cosine decay to `min_learning_rate_fraction` over `total_steps`."""
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    floor = config.min_learning_rate_fraction

    def factor(step: int) -> float:
        progress = min(step / max(total_steps, 1), 1.0)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# -- validation ---------------------------------------------------------------------------------


def _top_k_joint(xy: np.ndarray, scene_probs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k most probable scene modes: xy (B, A, k, H, 2) and probs (B, k)."""
    kept = top_k_modes(scene_probs, k)  # (B, k)
    index = kept[:, None, :, None, None]
    return np.take_along_axis(xy, index, axis=2), np.take_along_axis(scene_probs, kept, -1)


def batch_errors(output: ModelOutput, batch: Batch, top_k: int) -> dict[str, np.ndarray]:
    """Per-agent marginal minADE/minFDE (top_k and all K modes) and per-scene joint
    minADE/minFDE (top_k scene modes), float64, NaN where not scored."""
    gt = targets_in_agent_frames(batch).double().numpy()
    assert batch.future_valid is not None
    valid = (batch.future_valid & batch.agent_mask[..., None]).numpy()
    marginal_xy = output.marginal_xy.double().numpy()
    marginal_probs = torch.softmax(output.marginal_logits.double(), -1).numpy()
    num_modes = marginal_probs.shape[-1]
    k = min(top_k, num_modes)
    top = marginal_metrics(marginal_xy, marginal_probs, gt, valid, top_k=k)
    every = marginal_metrics(marginal_xy, marginal_probs, gt, valid, top_k=num_modes)
    scene_probs = torch.softmax(output.scene_logits.double(), -1).numpy()
    joint_xy, joint_probs = _top_k_joint(output.joint_xy.double().numpy(), scene_probs, k)
    joint = joint_metrics(joint_xy, joint_probs, gt, valid)
    order = np.argsort(-marginal_probs, axis=-1, kind="stable")  # (B, A, K)
    ranked_xy = np.take_along_axis(marginal_xy, order[..., None, None], axis=2)
    ranked_probs = np.take_along_axis(marginal_probs, order, -1)
    real = batch.agent_mask.numpy()
    world_probs = (ranked_probs * real[..., None]).sum(1) + 1e-12  # (B, K)
    world_probs /= world_probs.sum(-1, keepdims=True)
    ranked = joint_metrics(*_top_k_joint(ranked_xy, world_probs, k), gt, valid)
    return {
        "min_ade": top.min_ade_m[top.scored],
        "min_fde": top.min_fde_m[top.scored],
        "min_ade_all": every.min_ade_m[every.scored],
        "min_fde_all": every.min_fde_m[every.scored],
        "joint_min_ade": joint.min_ade_m[np.isfinite(joint.min_ade_m)],
        "joint_min_fde": joint.min_fde_m[np.isfinite(joint.min_fde_m)],
        "ranked_min_fde": ranked.min_fde_m[np.isfinite(ranked.min_fde_m)],
        "overlap": _top_world_overlaps(output.joint_xy, scene_probs, batch),
        "ranked_overlap": _top_world_overlaps(torch.from_numpy(ranked_xy), world_probs, batch),
    }


def _top_world_overlaps(xy: torch.Tensor, probs: np.ndarray, batch: Batch) -> np.ndarray:
    """float64[n]: per real agent with a future, 1 where its centre comes within 1 m of
    another real agent's in the most probable world. xy: (B, A, K, H, 2) each agent's
    frame; probs: (B, K)."""
    scene = agent_to_scene(xy.float(), batch.xy[:, :, -1], batch.heading[:, :, -1])
    top = torch.from_numpy(probs.argmax(-1))[:, None, None, None, None]
    world = torch.gather(scene, 2, top.expand(*scene.shape[:2], 1, *scene.shape[3:]))
    real = batch.agent_mask.numpy()
    overlaps = world_overlaps(world.double().numpy(), real)[..., 0]  # (B, A)
    assert batch.future_valid is not None
    scored = real & batch.future_valid.numpy().any(-1)
    return overlaps[scored].astype(np.float64)


@torch.no_grad()
def evaluate_windows(
    model: JointPredictionModel, windows: list[SceneTensors], batch_size: int, top_k: int = 6
) -> dict[str, float]:
    """minADE{k}, minFDE{k} (marginal head), jointMinADE{k}, jointMinFDE{k} (scene modes),
    jointMinFDE{k}_marginal (marginal modes combined by rank; k = top_k), overlap and
    overlap_marginal (fractions of agents within 1 m of another in the top world) and, when
    the model has another number of modes K, minADE{K} / minFDE{K}, over `windows`."""
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(windows), batch_size):
        batch = collate(windows[start : start + batch_size])
        for name, values in batch_errors(model(batch, scales=False), batch, top_k).items():
            parts.setdefault(name, []).append(values)
    if not parts:
        return {}
    mean = {name: float(np.concatenate(values).mean()) for name, values in parts.items()}
    num_modes = model.config.num_modes
    k = min(top_k, num_modes)
    result = {
        f"minADE{k}": mean["min_ade"],
        f"minFDE{k}": mean["min_fde"],
        f"jointMinADE{k}": mean["joint_min_ade"],
        f"jointMinFDE{k}": mean["joint_min_fde"],
    }
    result[f"jointMinFDE{k}_marginal"] = mean["ranked_min_fde"]
    result["overlap"], result["overlap_marginal"] = mean["overlap"], mean["ranked_overlap"]
    if num_modes != k:
        result |= {
            f"minADE{num_modes}": mean["min_ade_all"],
            f"minFDE{num_modes}": mean["min_fde_all"],
        }
    return result


# -- checkpoints --------------------------------------------------------------------------------


def save_checkpoint(
    path: Path,
    model: JointPredictionModel,
    optimizer: torch.optim.Optimizer | None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    config: TrainConfig,
    epoch: int,
) -> None:
    """Write model (+ optimizer and schedule when given), configs and the finished epoch
    (atomically: a temporary file renamed over `path`)."""
    state: dict[str, Any] = {
        "model": model.state_dict(),
        "model_config": dataclasses.asdict(model.config),
        "train_config": config_to_dict(config),
        "epoch": epoch,
    }
    if optimizer is not None and scheduler is not None:
        state |= {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def load_model(path_or_state: Path | dict[str, Any]) -> JointPredictionModel:
    """The model stored in a checkpoint (file or loaded dict), in eval mode."""
    state = path_or_state
    if not isinstance(state, dict):
        state = read_checkpoint(state)
    model = JointPredictionModel(model_config_from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    return model.eval()


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint dict; `DataError` naming the file if it cannot be read."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError) as error:
        raise DataError(f"{path}: not a readable checkpoint ({error})") from error


# -- the loop -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainResult:
    """The trained model, one metrics row per epoch run now, the checkpoint written."""

    model: JointPredictionModel
    rows: list[dict[str, Any]]
    checkpoint: Path


def _augment(scene: SceneTensors, rng: np.random.Generator, enabled: bool) -> SceneTensors:
    """The scene with its frame turned by a random angle (when enabled)."""
    if not enabled:
        return scene
    return rotate_scene(scene, float(rng.uniform(-np.pi, np.pi)), np.zeros(2))


def run_epoch(
    model: JointPredictionModel,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    windows: list[SceneTensors],
    config: TrainConfig,
    epoch: int,
    progress: bool,
    augment: Augment | None = None,
) -> dict[str, float]:
    """One pass over `windows` in the epoch's seeded order (each window rotated, then
    `augment`ed when given); mean loss terms and scenes/s."""
    rng = np.random.default_rng([config.seed, epoch])
    order = rng.permutation(len(windows))
    sums: dict[str, float] = {}
    batches = range(0, len(order), config.batch_size)
    start = time.perf_counter()
    bar = tqdm(
        batches, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not progress, leave=False
    )
    for first in bar:
        scenes = [
            _augment(windows[i], rng, config.rotation_augmentation)
            for i in order[first : first + config.batch_size]
        ]
        if augment is not None:
            scenes = [augment(scene, rng) for scene in scenes]
        terms = train_step(model, optimizer, scheduler, collate(scenes), config.loss)
        for name, value in terms.items():
            sums[name] = sums.get(name, 0.0) + value
        bar.set_postfix(loss=f"{terms['total']:.3f}")
    seconds = time.perf_counter() - start
    row = {f"train_{name}": value / max(len(batches), 1) for name, value in sums.items()}
    return row | {"scenes_per_s": len(windows) / max(seconds, 1e-9), "epoch_seconds": seconds}


def _start(
    model: JointPredictionModel,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    out_dir: Path,
    resume: bool,
) -> int:
    """The first epoch to run: 0, or the one after the checkpoint's when resuming."""
    path = out_dir / CHECKPOINT_NAME
    if not resume:
        if path.exists():
            raise UrbandriveError(f"{path} exists; pass --resume to continue, or another --out")
        return 0
    if not path.exists():
        raise UrbandriveError(f"{path}: no checkpoint to resume from")
    state = read_checkpoint(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return int(state["epoch"])


def fit(
    config: TrainConfig,
    train_windows: list[SceneTensors],
    val_windows: list[SceneTensors],
    dt_s: float,
    out_dir: Path,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    stop_after_epoch: int | None = None,
    augment: Augment | None = None,
) -> TrainResult:
    """Train on windows for `config.epochs` epochs (continuing a checkpoint in `out_dir`
    when `resume`), checkpointing and logging every epoch (module docstring);
    `stop_after_epoch` ends this call early (the schedule still spans `config.epochs`);
    `augment` (None: none) changes each training window after the rotation."""
    if not train_windows:
        raise DataError("no training windows: the data has no agent seen with a future")
    torch.set_num_threads(config.num_threads)
    torch.manual_seed(config.seed)
    model = JointPredictionModel(config.model_config(dt_s))
    steps = math.ceil(len(train_windows) / config.batch_size)
    optimizer, scheduler = make_optimizer(model, config, steps * config.epochs)
    first_epoch = _start(model, optimizer, scheduler, out_dir, resume)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CONFIG_NAME).write_text(
        json.dumps(config_to_dict(config) | {"dt_s": dt_s}, indent=2)
    )
    rows = []
    last_epoch = config.epochs if stop_after_epoch is None else min(config.epochs, stop_after_epoch)
    for epoch in range(first_epoch, last_epoch):
        row = {"epoch": epoch + 1, "learning_rate": scheduler.get_last_lr()[0]}
        row |= run_epoch(
            model, optimizer, scheduler, train_windows, config, epoch, progress, augment
        )
        row |= {f"val_{k}": v for k, v in evaluate_windows(model, val_windows, 32).items()}
        save_checkpoint(out_dir / CHECKPOINT_NAME, model, optimizer, scheduler, config, epoch + 1)
        with (out_dir / METRICS_NAME).open("a") as file:
            file.write(json.dumps(row) + "\n")
        rows.append(row)
        if log is not None:
            log(
                " ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
                )
            )
    return TrainResult(model.eval(), rows, out_dir / CHECKPOINT_NAME)


def cap_windows(windows: list[SceneTensors], limit: int | None) -> list[SceneTensors]:
    """At most `limit` windows, evenly spaced (all when None)."""
    if limit is None or len(windows) <= limit:
        return windows
    keep = np.linspace(0, len(windows) - 1, limit).round().astype(int)
    return [windows[i] for i in keep]


def train(
    config: TrainConfig,
    out_dir: Path,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Load `config.data` (and `config.val_data`), cut windows, `fit`."""
    if not config.data:
        raise UrbandriveError("no training data: pass --data URI (or `data` in the config)")
    scenarios = load_uris(config.data)
    if not scenarios:
        raise DataError(f"no scenarios found in {list(config.data)}")
    train_set, val_set = (
        (scenarios, load_uris(config.val_data))
        if config.val_data
        else split_scenarios(scenarios, config)
    )
    dt_s = train_set[0].dt_s
    train_windows = cap_windows(build_windows(train_set, config, dt_s), config.max_windows)
    val_windows = build_windows(val_set, config, dt_s)
    if log is not None:
        log(
            f"{len(train_set)} training scenarios ({len(train_windows)} windows), {len(val_set)} validation ({len(val_windows)} windows)"
        )
    return fit(config, train_windows, val_windows, dt_s, out_dir, resume, progress, log)


def export_model(checkpoint: Path, destination: Path) -> Path:
    """Write the model of a training checkpoint without optimizer state (what ships)."""
    state = read_checkpoint(checkpoint)
    model = load_model(state)
    config = config_from_dict(state["train_config"])
    save_checkpoint(destination, model, None, None, config, int(state["epoch"]))
    return destination
