"""The ETH/UCY benchmark runner on a tiny synthetic fold (train, val, test files)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from urbandrive.core import DataError
from urbandrive.prediction.augment import AugmentConfig
from urbandrive.prediction.eth_ucy_benchmark import (
    ETH_UCY_AUGMENT,
    ETH_UCY_TRAIN,
    format_table,
    run_benchmark,
)
from urbandrive.prediction.learned import shipped_checkpoint
from urbandrive.prediction.training import load_model


def _walkers_file(path: Path, seed: int) -> None:
    """Four pedestrians walking straight for 30 steps (frames 10 apart), in the
    Social-GAN text format."""
    rng = np.random.default_rng(seed)
    lines = []
    for pedestrian in range(4):
        start, velocity = rng.uniform(-5, 5, 2), rng.uniform(-1.5, 1.5, 2)
        for step in range(30):
            x, y = start + 0.4 * step * velocity
            lines.append(f"{10 * step}\t{pedestrian + 1}\t{x:.3f}\t{y:.3f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_one_synthetic_fold_trains_with_augmentation_and_is_scored(tmp_path: Path) -> None:
    for index, split in enumerate(("train", "val", "test")):
        _walkers_file(tmp_path / "data" / "toy" / split / "walk.txt", index)
    config = dataclasses.replace(ETH_UCY_TRAIN, epochs=1, hidden_dim=16, max_windows=8)
    augment = AugmentConfig((0.5, 2.0), 0.5, 0.5)
    result = run_benchmark(
        tmp_path / "data", tmp_path / "out", config=config, folds=("toy",), augment=augment
    )
    toy = result["folds"]["toy"]
    assert toy["count"] > 0 and 0 < toy["ADE"] < 10 and 0 < toy["FDE"] < 10
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert written["augment"]["scale_range"] == [0.5, 2.0]
    assert load_model(tmp_path / "out" / "toy" / "model.pt").config.num_modes == 20
    with pytest.raises(DataError, match="no ETH/UCY fold"):
        run_benchmark(tmp_path / "nowhere", tmp_path / "out2", folds=("toy",))


def test_shipped_fold_checkpoints_load_with_twenty_modes() -> None:
    for fold in ("eth", "hotel", "univ", "zara1", "zara2"):
        model = load_model(shipped_checkpoint(f"eth_ucy_{fold}.pt"))
        assert model.config.num_modes == 20 and not model.config.use_map


def test_table_lists_every_fold_and_the_published_methods() -> None:
    result = {
        "folds": {f: {"ADE": 0.1, "FDE": 0.2} for f in ("eth", "hotel", "univ", "zara1", "zara2")},
        "average": {"ADE": 0.1, "FDE": 0.2},
    }
    lines = format_table(result)
    assert "urbandrive learned" in lines[1] and any("AgentFormer" in line for line in lines)
    assert ETH_UCY_AUGMENT.scale_range[0] <= 1.0 <= ETH_UCY_AUGMENT.scale_range[1]
