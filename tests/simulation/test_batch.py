"""Batch runs: same results locally, in processes and on Ray; resume; refuse to overwrite."""

import json

import pytest

from urbandrive.core.errors import UrbandriveError
from urbandrive.simulation.batch import BatchConfig, result_path, run_batch, write_json_atomic

URIS = [f"fake:scene/{i}" for i in range(5)]


def square_job(uri: str) -> dict:
    """A deterministic stand-in for simulating one scenario."""
    value = int(uri.rsplit("/", 1)[1])
    return {"id": uri, "score": value**2 / 7.0}


def test_local_and_process_runs_agree(tmp_path):
    serial = run_batch(URIS, square_job, tmp_path / "a", BatchConfig(progress=False))
    pooled = run_batch(URIS, square_job, tmp_path / "b", BatchConfig(workers=2, progress=False))
    assert serial == pooled
    assert [r["id"] for r in serial] == URIS


def test_existing_results_are_not_overwritten_without_resume(tmp_path):
    run_batch(URIS[:2], square_job, tmp_path, BatchConfig(progress=False))
    with pytest.raises(UrbandriveError, match="--resume"):
        run_batch(URIS, square_job, tmp_path, BatchConfig(progress=False))


def test_resume_reuses_finished_results(tmp_path):
    run_batch(URIS[:2], square_job, tmp_path, BatchConfig(progress=False))
    marker = result_path(tmp_path, URIS[0])
    write_json_atomic(marker, {"id": URIS[0], "score": -1.0})  # proves it is not recomputed
    results = run_batch(URIS, square_job, tmp_path, BatchConfig(resume=True, progress=False))
    assert results[0]["score"] == -1.0
    assert results[4]["score"] == pytest.approx(16 / 7)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "scenarios" / "x.json"
    write_json_atomic(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]


@pytest.mark.slow
def test_ray_run_is_bit_identical_to_local(tmp_path, monkeypatch):
    ray = pytest.importorskip(
        "ray", reason="Ray is an optional extra: pip install 'urbandrive[ray]'"
    )
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        on_ray = run_batch(
            URIS, square_job, tmp_path / "ray", BatchConfig(ray_address="local", progress=False)
        )
    finally:
        ray.shutdown()
    local = run_batch(URIS, square_job, tmp_path / "local", BatchConfig(progress=False))
    assert on_ray == local
