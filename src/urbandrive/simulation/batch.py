"""Run one job per scenario URI over local processes or Ray; resumable, written atomically.

Each finished job's result (a JSON-serialisable dict) is written to
`OUT/scenarios/<key>.json` through a temporary file and `os.replace`, so a killed run leaves
only whole results behind; `resume=True` skips URIs whose result is already there. A folder
that holds results from an earlier run is never overwritten without `resume`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from urbandrive.core.errors import UrbandriveError

Job = Callable[[str], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class BatchConfig:
    """workers: local processes (1 = in this process); ray_address: None for local processes,
    "local" to start Ray on this machine, or a cluster address; resume: keep finished results."""

    workers: int = 1
    ray_address: str | None = None
    resume: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")


def result_path(out_dir: Path, uri: str) -> Path:
    """Where the result for `uri` lives: a readable stem plus a short hash (URIs may collide
    once sanitised)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", uri.split("/")[-1] or uri)[-60:]
    digest = hashlib.sha1(uri.encode()).hexdigest()[:10]
    return out_dir / "scenarios" / f"{stem}-{digest}.json"


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON so readers see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(payload, stream, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_batch(uris: Sequence[str], job: Job, out_dir: Path, config: BatchConfig) -> list[dict]:
    """Run `job(uri)` for every URI; return the results in the order of `uris`.

    `job` must be a picklable module-level function. Results already on disk are reused when
    `config.resume`; without it, existing results make this refuse to start.
    """
    if len(set(uris)) != len(uris):
        raise UrbandriveError("the same scenario URI is listed twice")
    finished = {uri for uri in uris if result_path(out_dir, uri).exists()}
    if finished and not config.resume:
        raise UrbandriveError(
            f"{out_dir}: holds results of an earlier run ({len(finished)} scenarios); "
            "pass --resume to continue it or choose another --out"
        )
    todo = [uri for uri in uris if uri not in finished]
    for uri, result in _progress(_execute(todo, job, config), len(todo), config.progress):
        write_json_atomic(result_path(out_dir, uri), result)
    return [json.loads(result_path(out_dir, uri).read_text()) for uri in uris]


def _progress(results: Iterator, total: int, enabled: bool) -> Iterator:
    return iter(tqdm(results, total=total, unit="scenario", disable=not enabled or total == 0))


def _execute(uris: list[str], job: Job, config: BatchConfig) -> Iterator[tuple[str, dict]]:
    if not uris:
        return iter(())
    if config.ray_address is not None:
        return _execute_ray(uris, job, config.ray_address)
    if config.workers == 1:
        return ((uri, job(uri)) for uri in uris)
    return _execute_processes(uris, job, config.workers)


def _execute_processes(uris: list[str], job: Job, workers: int) -> Iterator[tuple[str, dict]]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(job, uri): uri for uri in uris}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _call(job: Job, uri: str) -> dict[str, Any]:
    """`job(uri)`; a plain function so Ray can wrap it whatever callable `job` is."""
    return job(uri)


def _execute_ray(uris: list[str], job: Job, address: str) -> Iterator[tuple[str, dict]]:
    try:
        import ray
    except ImportError as error:
        raise UrbandriveError("--ray needs Ray: pip install 'urbandrive[ray]'") from error
    started_here = not ray.is_initialized()
    if started_here:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        remote_call = ray.remote(_call)
        job_reference = ray.put(job)  # shipped to the object store once, not per task
        pending = {remote_call.remote(job_reference, uri): uri for uri in uris}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for reference in done:
                yield pending.pop(reference), ray.get(reference)
    finally:
        if started_here:
            ray.shutdown()
