"""An on-disk scenario store: Parquet shards, maps written once by content hash, a manifest.

Layout of a store folder DIR:

    DIR/manifest.json                       shards in order, each with its scenario ids
    DIR/shards/shard-NNNNNN.steps.parquet   the long table of agent states, one row per
        (agent, step) in row-major order, one row group per scenario:
        agent_row, step: int32; x, y, heading, vx, vy: float64; valid: bool (non-nullable)
    DIR/shards/shard-NNNNNN.scenarios.parquet  one row per scenario: id, source, dt_s,
        current_index, ego_index, num_agents, num_steps, agent ids / types / sizes (lists),
        timestamps_us, map_hash, route, goal, light states, agent attributes (every array
        with its dtype and shape), dtypes, metadata (JSON)
    DIR/maps/<hash>.parquet                 one file per distinct `RoadMap` (`map_codec`)

Loading gives back every array bit for bit with its dtype, and the metadata equal. Writing
into a folder that already holds a store appends shards; scenario ids must stay unique and no
file is ever replaced. `store:DIR#<scenario_id>` names one stored scenario (`LOADER`).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as parquet

from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.scenarios import store_codec
from urbandrive.scenarios.map_codec import (
    map_path,
    read_road_map,
    temporary_file,
    write_road_map,
)

STORE_FORMAT = "urbandrive-scenario-store"
STORE_VERSION = 1
MANIFEST_NAME = "manifest.json"
SHARDS_DIR = "shards"
MAPS_DIR = "maps"
LOCATION_SEPARATOR = "#"


@dataclass(frozen=True, slots=True)
class ShardEntry:
    """One shard of the manifest: its name and the ids of its scenarios, in row order."""

    name: str
    scenario_ids: tuple[str, ...]

    def steps_path(self, directory: Path) -> Path:
        return directory / SHARDS_DIR / f"{self.name}.steps.parquet"

    def scenarios_path(self, directory: Path) -> Path:
        return directory / SHARDS_DIR / f"{self.name}.scenarios.parquet"


class ScenarioStoreWriter:
    """Appends scenarios to the store in `directory`, `shard_size` scenarios per shard.

    Use as a context manager (the last partial shard is written on exit), or call `flush()`.
    Duplicate scenario ids (in the store or in this writer) raise `DataError` in `add`.
    """

    def __init__(self, directory: Path | str, shard_size: int = 64) -> None:
        if shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {shard_size}")
        self.directory = Path(directory)
        self.shard_size = shard_size
        self._pending: list[tuple[pa.Table, dict[str, Any]]] = []
        self._known_ids = set(stored_ids(self.directory)) if is_store(self.directory) else set()
        self._map_hashes: dict[int, tuple[object, str]] = {}
        self.written_ids: list[str] = []

    def __enter__(self) -> ScenarioStoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self.flush()

    def add(self, scenario: Scenario) -> None:
        """Validate and encode one scenario (writing its map if new); a full shard is written."""
        scenario.validate()
        if LOCATION_SEPARATOR in scenario.id:
            raise DataError(f"scenario {scenario.id!r}: ids in a store may not contain '#'")
        if scenario.id in self._known_ids:
            raise DataError(f"{self.directory}: already holds scenario {scenario.id!r}")
        try:
            steps = store_codec.encode_steps(scenario)
            row = store_codec.scenario_row(scenario, self._map_hash(scenario))
        except ValueError as error:
            raise DataError(f"{self.directory}: {error}") from error
        self._known_ids.add(scenario.id)
        self._pending.append((steps, row))
        if len(self._pending) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        """Write the queued scenarios as one shard and record it in the manifest."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        with _locked(self.directory):
            manifest = _read_manifest(self.directory) if is_store(self.directory) else []
            taken = {i for entry in manifest for i in entry.scenario_ids}
            clash = [row["scenario_id"] for _, row in pending if row["scenario_id"] in taken]
            if clash:
                raise DataError(f"{self.directory}: already holds scenario {clash[0]!r}")
            entry = _write_shard(self.directory, len(manifest), pending)
            _write_manifest(self.directory, [*manifest, entry])
        self.written_ids += entry.scenario_ids

    def _map_hash(self, scenario: Scenario) -> str | None:
        """The stored map's hash, writing the map once per distinct map object and content."""
        if scenario.road_map is None:
            return None
        key = id(scenario.road_map)
        if key not in self._map_hashes:
            digest = write_road_map(scenario.road_map, self.directory / MAPS_DIR)
            self._map_hashes[key] = (scenario.road_map, digest)  # holds the map: id stays unique
        return self._map_hashes[key][1]


def write_scenarios(
    directory: Path | str, scenarios: Iterable[Scenario], shard_size: int = 64
) -> list[str]:
    """Append `scenarios` to the store at `directory` (created if needed); their ids."""
    with ScenarioStoreWriter(directory, shard_size) as writer:
        for scenario in scenarios:
            writer.add(scenario)
    return writer.written_ids


def is_store(directory: Path | str) -> bool:
    return (Path(directory) / MANIFEST_NAME).is_file()


def stored_ids(directory: Path | str) -> list[str]:
    """Ids of every stored scenario, in shard and row order."""
    return [i for entry in _read_manifest(Path(directory)) for i in entry.scenario_ids]


def read_scenarios(directory: Path | str) -> Iterator[Scenario]:
    """Every stored scenario, shard by shard (each shard's files are read once)."""
    directory = Path(directory)
    for entry in _read_manifest(directory):
        rows = _read_scenario_rows(entry.scenarios_path(directory))
        steps = _read_parquet(entry.steps_path(directory), store_codec.STEP_READ_COLUMNS)
        _check_shard(entry, rows, steps.num_rows)
        start = 0
        for row in rows:
            count = row["num_agents"] * row["num_steps"]
            yield _assemble(directory, row, steps.slice(start, count), entry)
            start += count


def load_stored_scenario(directory: Path | str, scenario_id: str) -> Scenario:
    """The scenario `scenario_id` of the store; `DataError` naming the manifest if unknown."""
    directory = Path(directory)
    for entry in _read_manifest(directory):
        if scenario_id in entry.scenario_ids:
            position = entry.scenario_ids.index(scenario_id)
            rows = _read_scenario_rows(entry.scenarios_path(directory))
            _check_shard(entry, rows, None)
            steps = _read_row_group(entry.steps_path(directory), position)
            return _assemble(directory, rows[position], steps, entry)
    raise DataError(f"{directory / MANIFEST_NAME}: no scenario with id {scenario_id!r}")


@dataclass(frozen=True, slots=True)
class StoreLoader:
    """`store:DIR#<scenario_id>` (one scenario) or `store:DIR` (every scenario, when listed)."""

    scheme: str = "store"

    def load(self, location: str) -> Scenario:
        directory, scenario_id = split_location(location)
        if scenario_id is None:
            ids = stored_ids(directory)
            if len(ids) != 1:
                raise DataError(
                    f"{directory}: holds {len(ids)} scenarios; name one as DIR#<scenario_id>"
                )
            scenario_id = ids[0]
        return load_stored_scenario(directory, scenario_id)

    def list_scenarios(self, location: str) -> list[str]:
        directory, scenario_id = split_location(location)
        ids = stored_ids(directory)
        if scenario_id is not None:
            if scenario_id not in ids:
                raise DataError(f"{directory / MANIFEST_NAME}: no scenario with id {scenario_id!r}")
            ids = [scenario_id]
        return [f"{directory}{LOCATION_SEPARATOR}{i}" for i in ids]


LOADER = StoreLoader()


def clear_caches() -> None:
    """Forget cached manifests, scenario rows and decoded maps (e.g. to time cold reads)."""
    _read_manifest_cached.cache_clear()
    _read_scenario_rows.cache_clear()
    read_road_map.cache_clear()


def split_location(location: str) -> tuple[Path, str | None]:
    """(store folder, scenario id or None) of `DIR` or `DIR#<scenario_id>`."""
    directory, separator, scenario_id = location.rpartition(LOCATION_SEPARATOR)
    if not separator:
        return Path(location), None
    return Path(directory), scenario_id


# -- manifest --------------------------------------------------------------------------------


def _read_manifest(directory: Path) -> list[ShardEntry]:
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise DataError(f"{path}: not found; {directory} is not a scenario store")
    stat = path.stat()
    return list(_read_manifest_cached(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _read_manifest_cached(path: Path, mtime_ns: int, size: int) -> tuple[ShardEntry, ...]:
    try:
        payload = json.loads(path.read_text())
        if payload.get("format") != STORE_FORMAT or payload.get("version") != STORE_VERSION:
            raise ValueError(f"format {payload.get('format')!r} v{payload.get('version')}")
        return tuple(
            ShardEntry(name=shard["name"], scenario_ids=tuple(shard["scenario_ids"]))
            for shard in payload["shards"]
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise DataError(f"{path}: not a scenario store manifest ({error})") from error


def _write_manifest(directory: Path, entries: list[ShardEntry]) -> None:
    """Replace the manifest atomically (readers see the old one or the whole new one)."""
    payload = {
        "format": STORE_FORMAT,
        "version": STORE_VERSION,
        "num_scenarios": sum(len(entry.scenario_ids) for entry in entries),
        "shards": [{"name": e.name, "scenario_ids": list(e.scenario_ids)} for e in entries],
    }
    path = directory / MANIFEST_NAME
    temporary = temporary_file(path)
    try:
        temporary.write_text(json.dumps(payload, indent=1))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the store while a shard and the manifest are written."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# -- shards ----------------------------------------------------------------------------------


def _write_shard(
    directory: Path, first_index: int, pending: list[tuple[pa.Table, dict[str, Any]]]
) -> ShardEntry:
    """Write one shard's two files under a name no file has yet; its manifest entry."""
    (directory / SHARDS_DIR).mkdir(parents=True, exist_ok=True)
    ids = tuple(row["scenario_id"] for _, row in pending)
    index = first_index
    while True:
        entry = ShardEntry(f"shard-{index:06d}", ids)
        paths = (entry.steps_path(directory), entry.scenarios_path(directory))
        if not any(path.exists() for path in paths):
            break
        index += 1  # files left by an interrupted writer are never replaced
    _write_exclusive(paths[0], [steps for steps, _ in pending], store_codec.STEP_WRITE_OPTIONS)
    rows = store_codec.scenario_table([row for _, row in pending])
    _write_exclusive(paths[1], [rows], store_codec.SCENARIO_WRITE_OPTIONS)
    return entry


def _write_exclusive(path: Path, tables: list[pa.Table], options: dict[str, Any]) -> None:
    """Write `tables` as consecutive row groups to a new file at `path`; never replaces one."""
    temporary = temporary_file(path)
    try:
        with parquet.ParquetWriter(temporary, tables[0].schema, **options) as writer:
            for table in tables:
                writer.write_table(table, row_group_size=max(table.num_rows, 1))
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_parquet(path: Path, columns: list[str] | None = None) -> pa.Table:
    if not path.is_file():
        raise DataError(f"{path}: shard file not found")
    try:
        return parquet.read_table(path, columns=columns)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DataError(f"{path}: not a readable shard ({_one_line(error)})") from error


def _read_row_group(path: Path, index: int) -> pa.Table:
    if not path.is_file():
        raise DataError(f"{path}: shard file not found")
    try:
        return parquet.ParquetFile(path).read_row_group(index, store_codec.STEP_READ_COLUMNS)
    except (pa.ArrowException, OSError, ValueError, IndexError) as error:
        raise DataError(f"{path}: row group {index} unreadable ({_one_line(error)})") from error


@lru_cache(maxsize=32)
def _read_scenario_rows(path: Path) -> tuple[dict[str, Any], ...]:
    """The rows of a scenarios file as Python dicts (cached: shard files never change)."""
    table = _read_parquet(path)
    try:
        store_codec.check_scenario_columns(table)
    except ValueError as error:
        raise DataError(f"{path}: {error}") from error
    return tuple(table.to_pylist())


def _check_shard(
    entry: ShardEntry, rows: tuple[dict[str, Any], ...], num_step_rows: int | None
) -> None:
    ids = tuple(row["scenario_id"] for row in rows)
    if ids != entry.scenario_ids:
        raise DataError(
            f"shard {entry.name}: holds scenarios {ids[:3]}..., manifest says otherwise"
        )
    expected = sum(row["num_agents"] * row["num_steps"] for row in rows)
    if num_step_rows is not None and num_step_rows != expected:
        raise DataError(
            f"shard {entry.name}: steps file has {num_step_rows} rows, scenarios say {expected}"
        )


def _assemble(directory: Path, row: dict[str, Any], steps: pa.Table, entry: ShardEntry) -> Scenario:
    """One scenario from its row and its rows of the steps table; `DataError` naming files."""
    road_map = None
    if row["map_hash"] is not None:
        road_map = read_road_map(map_path(directory / MAPS_DIR, row["map_hash"]))
    try:
        return store_codec.decode_scenario(row, steps, road_map)
    except (ValueError, KeyError, TypeError, pa.ArrowException) as error:
        where = f"{entry.steps_path(directory)} / {entry.scenarios_path(directory).name}"
        raise DataError(f"{where}: scenario {row['scenario_id']!r}: {_one_line(error)}") from error


def _one_line(error: BaseException, limit: int = 160) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
