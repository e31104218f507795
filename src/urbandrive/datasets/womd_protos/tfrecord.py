"""TFRecord framing, read without TensorFlow; every failure names the file and the record.

A record is: uint64 little-endian payload length, uint32 masked CRC-32C of those 8 bytes,
the payload, uint32 masked CRC-32C of the payload. Both checksums are verified.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from urbandrive.core.errors import DataError
from urbandrive.datasets.womd_protos.crc32c import masked_crc32c

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class RecordSpan:
    """Where record `index` of a file lies: its payload is `data[start:stop]` (byte offsets)."""

    index: int
    start: int
    stop: int


def read_file(path: Path) -> bytes:
    """The whole file; `DataError` naming it if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from error


def record_spans(path: Path, data: bytes, verify_data: bool = True) -> list[RecordSpan]:
    """Every record of the TFRecord bytes `data` read from `path`, in file order.

    `DataError` naming `path`, the record index and byte offset on a truncated record or a
    checksum mismatch. The length checksum is always checked, the data checksum when
    `verify_data` (listing records can skip it).
    """
    view = memoryview(data)
    spans: list[RecordSpan] = []
    offset = 0
    while offset < len(data):
        where = f"{path}: record {len(spans)} at byte {offset}"
        if offset + _HEADER.size > len(data):
            raise DataError(f"{where}: truncated header ({len(data) - offset} of 12 bytes)")
        length, length_crc = _HEADER.unpack_from(data, offset)
        if masked_crc32c(view[offset : offset + 8]) != length_crc:
            raise DataError(f"{where}: length checksum mismatch (corrupt or not a TFRecord file)")
        start = offset + _HEADER.size
        stop = start + length
        if stop + _FOOTER.size > len(data):
            raise DataError(
                f"{where}: truncated (needs {length + 16} bytes, {len(data) - offset} left)"
            )
        (data_crc,) = _FOOTER.unpack_from(data, stop)
        if verify_data and masked_crc32c(view[start:stop]) != data_crc:
            raise DataError(f"{where}: data checksum mismatch (corrupt record)")
        spans.append(RecordSpan(len(spans), start, stop))
        offset = stop + _FOOTER.size
    return spans
