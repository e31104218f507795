"""ETH/UCY benchmark of the learned model: one model per leave-one-out fold.

Protocol (Social-GAN / Trajectron++ split, see REFERENCES.md): observe 8 steps (3.2 s),
predict 12 (4.8 s) at 2.5 Hz; best of 20 ADE / FDE in metres, per fold and averaged. Each
fold's model is the joint model in the pedestrian setting (no map, K = 20) trained on the
fold's `train/` files (augmented: `ETH_UCY_AUGMENT`) and validated on `val/`; the test
split is scored with `prediction.evaluation.evaluate_eth_ucy_fold` through
`LearnedPredictor` with each agent's 20 marginal modes (`mode_source="marginal"`). `pretrained=True` scores the shipped per-fold
checkpoints (`checkpoints/eth_ucy_<fold>.pt`) instead of training.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from urbandrive.core.errors import DataError
from urbandrive.datasets.eth_ucy import LOADER
from urbandrive.prediction.augment import AugmentConfig, make_augment
from urbandrive.prediction.evaluation import evaluate_eth_ucy_fold
from urbandrive.prediction.learned import LearnedConfig, LearnedPredictor, shipped_checkpoint
from urbandrive.prediction.losses import LossConfig
from urbandrive.prediction.training import (
    TrainConfig,
    build_windows,
    cap_windows,
    fit,
    load_model,
    save_checkpoint,
)

FOLDS = ("eth", "hotel", "univ", "zara1", "zara2")
DT_S = 0.4

#: Published best-of-20 ADE / FDE (m) per fold and average, with their sources (REFERENCES.md).
PUBLISHED: dict[str, dict[str, Any]] = {
    "Social-GAN": {
        "source": "Gupta et al. 2018, agrimgupta92/sgan MODEL_ZOO",
        "folds": {
            "eth": (0.71, 1.29),
            "hotel": (0.48, 1.02),
            "univ": (0.56, 1.18),
            "zara1": (0.34, 0.69),
            "zara2": (0.31, 0.64),
        },
        "average": (0.48, 0.96),
    },
    "CV sampled (Schöller et al. 2020)": {
        "source": "Schöller et al. 2020, its repository README",
        "folds": {},
        "average": (0.28, 0.56),
    },
    "AgentFormer": {
        "source": "Yuan et al. 2021, Khrylx/AgentFormer README",
        "folds": {
            "eth": (0.45, 0.75),
            "hotel": (0.14, 0.22),
            "univ": (0.25, 0.45),
            "zara1": (0.18, 0.30),
            "zara2": (0.14, 0.24),
        },
        "average": (0.23, 0.39),
    },
    "EqMotion": {
        "source": "Xu et al. 2023, MediaBrain-SJTU/EqMotion README",
        "folds": {
            "eth": (0.40, 0.61),
            "hotel": (0.12, 0.18),
            "univ": (0.23, 0.43),
            "zara1": (0.18, 0.32),
            "zara2": (0.13, 0.23),
        },
        "average": (0.21, 0.35),
    },
}

#: The training recipe of the shipped per-fold checkpoints (the marginal head, the one
#: scored, weighted 3x against the joint-head terms).
ETH_UCY_TRAIN = TrainConfig(
    epochs=7,
    batch_size=16,
    learning_rate=2e-3,
    history_s=3.2,
    future_s=4.8,
    stride_s=0.4,
    max_agents=24,
    max_windows=2500,
    hidden_dim=48,
    num_modes=20,
    use_map=False,
    loss=LossConfig(marginal_weight=3.0),
)

#: The training augmentation of the shipped per-fold checkpoints: each window scaled by a
#: log-uniform factor in [0.4, 2.5] (the training files alone differ 2.8x in median walking
#: speed: students001 0.5 m/s, uni_examples 1.4 m/s), mirrored and played backwards with
#: probability 0.5 each. Chosen on the eth fold's `val/` split (checkpoints/README.md).
ETH_UCY_AUGMENT = AugmentConfig(
    scale_range=(0.4, 2.5), mirror_probability=0.5, reverse_probability=0.5
)


def checkpoint_name(fold: str) -> str:
    return f"eth_ucy_{fold}.pt"


def _scenarios(folder: Path) -> list:
    """Every scenario of a fold split folder (`DataError` if missing)."""
    return [LOADER.load(file) for file in LOADER.list_scenarios(str(folder))]


def train_fold(
    data_root: Path,
    fold: str,
    out_dir: Path,
    config: TrainConfig,
    log: Callable[[str], None] | None = None,
    augment: AugmentConfig = ETH_UCY_AUGMENT,
) -> Path:
    """Train the fold's model (windows augmented by `augment`); returns the inference
    checkpoint `out_dir/<fold>/model.pt`."""
    train_windows = build_windows(_scenarios(data_root / fold / "train"), config, DT_S)
    val_windows = cap_windows(
        build_windows(_scenarios(data_root / fold / "val"), config, DT_S), 300
    )
    train_windows = cap_windows(train_windows, config.max_windows)
    run_dir = out_dir / fold
    result = fit(
        config,
        train_windows,
        val_windows,
        DT_S,
        run_dir,
        resume=(run_dir / "checkpoint.pt").exists(),
        log=log,
        progress=False,
        augment=make_augment(augment, DT_S),
    )
    path = run_dir / "model.pt"
    save_checkpoint(path, result.model, None, None, config, len(result.rows))
    return path


def score_fold(data_root: Path, fold: str, checkpoint: Path) -> dict[str, float]:
    """Best-of-20 ADE / FDE (m) of a checkpoint on the fold's test split."""
    predictor = LearnedPredictor(checkpoint, LearnedConfig(mode_source="marginal"))
    result = evaluate_eth_ucy_fold(data_root / fold / "test", predictor)
    aggregate = result["aggregate"]
    return {"ADE": aggregate["minADE20"], "FDE": aggregate["minFDE20"], "count": aggregate["count"]}


def run_benchmark(
    data_root: Path,
    out_dir: Path,
    pretrained: bool = False,
    config: TrainConfig = ETH_UCY_TRAIN,
    folds: tuple[str, ...] = FOLDS,
    log: Callable[[str], None] | None = None,
    augment: AugmentConfig = ETH_UCY_AUGMENT,
) -> dict[str, Any]:
    """Train (or load) and score every fold; writes and returns `out_dir/metrics.json`:
    {"folds": {fold: {"ADE", "FDE", "count"}}, "average": {"ADE", "FDE"}, ...}."""
    if not (data_root / folds[0]).is_dir():
        raise DataError(f"{data_root}: no ETH/UCY fold folders ({', '.join(folds)})")
    scores = {}
    for fold in folds:
        checkpoint = (
            shipped_checkpoint(checkpoint_name(fold))
            if pretrained
            else train_fold(data_root, fold, out_dir, config, log, augment)
        )
        scores[fold] = score_fold(data_root, fold, checkpoint)
        if log is not None:
            log(f"{fold}: ADE {scores[fold]['ADE']:.3f} FDE {scores[fold]['FDE']:.3f}")
    average = {key: sum(s[key] for s in scores.values()) / len(scores) for key in ("ADE", "FDE")}
    parameters = sum(p.numel() for p in load_model(checkpoint).parameters())
    result = {
        "folds": scores,
        "average": average,
        "pretrained": pretrained,
        "num_parameters": parameters,
        "train_config": None if pretrained else dataclasses.asdict(config),
        "augment": None if pretrained else dataclasses.asdict(augment),
        "published": {
            name: {"average": row["average"], "source": row["source"]}
            for name, row in PUBLISHED.items()
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def format_table(result: dict[str, Any]) -> list[str]:
    """Lines of the ADE/FDE table: this model, then the published methods with sources."""
    header = f"{'method':<36}" + "".join(f"{fold:>12}" for fold in FOLDS) + f"{'average':>12}"
    ours = {fold: (v["ADE"], v["FDE"]) for fold, v in result["folds"].items()}
    rows = [
        (
            "urbandrive learned (this run)",
            ours,
            (result["average"]["ADE"], result["average"]["FDE"]),
        )
    ]
    rows += [(name, row["folds"], row["average"]) for name, row in PUBLISHED.items()]
    lines = [header]
    for name, folds, average in rows:
        cells = "".join(
            f"{folds[f][0]:>6.2f}/{folds[f][1]:<5.2f}" if f in folds else f"{'-':>12}"
            for f in FOLDS
        )
        lines.append(f"{name[:36]:<36}{cells}{average[0]:>6.2f}/{average[1]:<5.2f}")
    lines += [f"  {name}: {row['source']}" for name, row in PUBLISHED.items()]
    return lines
