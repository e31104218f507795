"""CRC-32C (Castagnoli), as TFRecord framing uses it; table-driven and vectorised with numpy.

The register update is linear, so a buffer is cut into `CHUNK_BYTES`-long chunks whose CRCs
are computed side by side (one numpy step per byte position, all chunks at once), then
chained: `crc(A + B) = crc0(B) ^ shift(crc(A), len(B))`, where `crc0` starts from a zero
register and `shift` feeds zero bytes, a fixed linear map tabulated once per byte lane.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from urbandrive.core.typing import NDArrayInt

#: Reflected Castagnoli polynomial.
POLYNOMIAL = 0x82F63B78
#: Bytes per chunk of the vectorised pass; the tail shorter than this runs byte by byte.
CHUNK_BYTES = 1024
_MASK_DELTA = 0xA282EAD8


@cache
def _table() -> NDArrayInt:
    """uint32[256]: the register update for each byte value."""
    values = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        values = np.where(values & 1, (values >> 1) ^ POLYNOMIAL, values >> 1).astype(np.uint32)
    return values


def _feed(registers: NDArrayInt, columns: np.ndarray) -> NDArrayInt:
    """Run `registers: uint32[N]` over `columns: uint8[N, L]`, row by row, one byte at a time."""
    table = _table()
    for position in range(columns.shape[1]):
        registers = table[(registers ^ columns[:, position]) & 0xFF] ^ (registers >> 8)
    return registers


@cache
def _shift_tables() -> NDArrayInt:
    """uint32[4, 256]: `shift(b << 8 * lane, CHUNK_BYTES)` for every byte b of every lane."""
    basis = np.arange(256, dtype=np.uint32)[None, :] << (8 * np.arange(4, dtype=np.uint32))[:, None]
    zeros = np.zeros((basis.size, CHUNK_BYTES), dtype=np.uint8)
    return _feed(basis.reshape(-1), zeros).reshape(4, 256)


def _shift(register: int) -> int:
    tables = _shift_tables()
    return int(
        tables[0, register & 0xFF]
        ^ tables[1, (register >> 8) & 0xFF]
        ^ tables[2, (register >> 16) & 0xFF]
        ^ tables[3, register >> 24]
    )


def crc32c(data: bytes | memoryview) -> int:
    """The CRC-32C of `data` (initial register and final xor 0xFFFFFFFF)."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    num_chunks = buffer.size // CHUNK_BYTES
    register = 0xFFFFFFFF
    if num_chunks:
        chunks = buffer[: num_chunks * CHUNK_BYTES].reshape(num_chunks, CHUNK_BYTES)
        chunk_crcs = _feed(np.zeros(num_chunks, dtype=np.uint32), chunks).tolist()
        for chunk_crc in chunk_crcs:
            register = _shift(register) ^ chunk_crc
    table = _table().tolist()
    for byte in buffer[num_chunks * CHUNK_BYTES :].tolist():
        register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register ^ 0xFFFFFFFF


def masked_crc32c(data: bytes | memoryview) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits and add a constant, modulo 2**32."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF
