"""Waymo Open Motion loading benchmarks on the shared one-scenario TFRecord.

Registration never touches the disk; a benchmark whose file is absent raises `DataError`
naming it (and `URBANDRIVE_DATA`) only when it is run.
"""

from __future__ import annotations

from pathlib import Path

from urbandrive.bench.registry import Case, benchmark, shared_data_dir
from urbandrive.core.errors import DataError
from urbandrive.core.scenario import Scenario
from urbandrive.datasets.womd import LOADER, scenario_from_raw
from urbandrive.datasets.womd_protos.crc32c import crc32c
from urbandrive.datasets.womd_protos.scenario import decode_scenario
from urbandrive.datasets.womd_protos.tfrecord import read_file, record_spans

WOMD_FILE = "motion_data_one_scenario.tfrecord"


def _womd_file() -> Path:
    """`<data>/womd/<WOMD_FILE>`; data = $URBANDRIVE_DATA or ../shared/data."""
    data = shared_data_dir()
    path = data / "womd" / WOMD_FILE
    if not path.is_file():
        raise DataError(f"{path}: WOMD file not found (set URBANDRIVE_DATA)")
    return path


def _load_per_state(path: Path) -> Scenario:
    """The whole load with every `ObjectState` decoded field by field in Python."""
    data = read_file(path)
    span = record_spans(path, data)[0]
    return scenario_from_raw(
        decode_scenario(data, span.start, span.stop, per_state=True), str(path) + "#0"
    )


@benchmark("womd_load")
def womd_load() -> Case:
    """File -> validated Scenario (framing + CRCs, decode, tracks, map, lights)."""
    path = _womd_file()
    return Case(
        run=lambda: LOADER.load(str(path)),
        baseline=lambda: _load_per_state(path),
        baseline_name="per-state field-by-field decoding",
        unit="scenario",
        repeats=10,
    )


@benchmark("womd_decode")
def womd_decode() -> Case:
    """Wire decoding only: vectorised state / point runs vs one state at a time."""
    path = _womd_file()
    data = read_file(path)
    span = record_spans(path, data)[0]
    return Case(
        run=lambda: decode_scenario(data, span.start, span.stop),
        baseline=lambda: decode_scenario(data, span.start, span.stop, per_state=True),
        baseline_name="per-state field-by-field decoding",
        unit="scenario",
        repeats=20,
    )


@benchmark("womd_crc32c")
def womd_crc32c() -> Case:
    """CRC-32C of the ~1 MB record: chunk-parallel numpy vs a byte-at-a-time table loop."""
    payload = _womd_file().read_bytes()
    table = _byte_table()

    def per_byte() -> int:
        register = 0xFFFFFFFF
        for byte in payload:
            register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
        return register ^ 0xFFFFFFFF

    return Case(
        run=lambda: crc32c(payload),
        baseline=per_byte,
        baseline_name="byte-at-a-time table loop",
        unit_count=len(payload) / 1e6,
        unit="megabyte",
        repeats=5,
    )


def _byte_table() -> list[int]:
    table = []
    for value in range(256):
        for _ in range(8):
            value = (value >> 1) ^ 0x82F63B78 if value & 1 else value >> 1
        table.append(value)
    return table
