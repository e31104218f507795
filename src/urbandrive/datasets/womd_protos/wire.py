"""The protocol-buffer wire format, decoded directly (no generated code, no protobuf runtime).

`read_field` walks a message one field at a time. `FixedLayout` decodes a run of a repeated
sub-message whose fields are all present, in order, with fixed-width encodings (how Waymo
writes `ObjectState` and `MapPoint`) in one numpy call: the run's bytes are viewed as a
structured array after a vectorised check of every tag byte; anything else falls back to
field-by-field decoding. Malformed bytes raise `WireError`; callers add the file and record.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from urbandrive.core.typing import NDArrayBool

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")


class WireError(ValueError):
    """The bytes are not a well-formed protocol buffer (the message says where)."""


def read_varint(data: bytes, offset: int, stop: int) -> tuple[int, int]:
    """(value, offset after it) of the base-128 varint at `offset`; at most 10 bytes."""
    value = shift = 0
    while offset < stop and shift < 70:
        byte = data[offset]
        value |= (byte & 0x7F) << shift
        offset += 1
        if byte < 0x80:
            return value, offset
        shift += 7
    raise WireError(f"varint runs past byte {offset}")


def read_field(data: bytes, offset: int, stop: int) -> tuple[int, int, int, int]:
    """(field number, wire type, value, next offset) of the field at `offset`.

    value: the integer of a varint; the payload's start offset otherwise (its end is the
    next offset for fixed and length-delimited fields).
    """
    key, offset = read_varint(data, offset, stop)
    number, wire_type = key >> 3, key & 7
    if number == 0:
        raise WireError(f"field number 0 at byte {offset}")
    if wire_type == VARINT:
        value, end = read_varint(data, offset, stop)
        return number, wire_type, value, end
    if wire_type == LENGTH_DELIMITED:
        length, offset = read_varint(data, offset, stop)
        end = offset + length
    elif wire_type in (FIXED64, FIXED32):
        end = offset + (8 if wire_type == FIXED64 else 4)
    else:
        raise WireError(f"field {number} has unsupported wire type {wire_type} at byte {offset}")
    if end > stop:
        raise WireError(f"field {number} runs past its message's end (byte {stop})")
    return number, wire_type, offset, end


def read_double(data: bytes, wire_type: int, value: int) -> float:
    """A double (fixed64) or float (fixed32) field's value; `WireError` for other types."""
    if wire_type == FIXED64:
        return float(_DOUBLE.unpack_from(data, value)[0])
    if wire_type == FIXED32:
        return float(_FLOAT.unpack_from(data, value)[0])
    raise WireError(f"expected a floating-point field, got wire type {wire_type}")


def as_signed(value: int) -> int:
    """A varint read as a two's-complement int64 / int32 (negative numbers use 10 bytes)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def packed_varints(data: bytes, start: int, stop: int) -> list[int]:
    """The signed integers of a packed repeated varint field's payload `data[start:stop]`."""
    values = []
    while start < stop:
        value, start = read_varint(data, start, stop)
        values.append(as_signed(value))
    return values


_KIND_SIZE = {"double": 9, "float": 5, "bool": 2}  # key byte + value bytes
_KIND_WIRE = {"double": FIXED64, "float": FIXED32, "bool": VARINT}
_KIND_FORMAT = {"double": "<f8", "float": "<f4", "bool": "u1"}


@dataclass(frozen=True, slots=True)
class FixedLayout:
    """A repeated sub-message (outer field `outer_field`) whose fields are all present, once,
    in order, with fixed-width encodings. Build it with `fixed_layout`.

    expected: uint8[S] the record's bytes where `fixed: bool[S]` (tags, length); the rest are
    values. bool_bytes: int64[B] offsets of one-byte varint values. dtype: structured, each
    field at its byte offset; S = `dtype.itemsize` = outer tag + 1-byte length + payload.
    """

    outer_field: int
    expected: np.ndarray
    fixed: NDArrayBool
    bool_bytes: np.ndarray
    dtype: np.dtype


def fixed_layout(outer_field: int, fields: tuple[tuple[str, int, str], ...]) -> FixedLayout:
    """The layout of records with `fields` (name, number, kind); kind: "double" (fixed64),
    "float" (fixed32) or "bool" (one-byte varint). Needs one-byte tags and lengths."""
    payload_size = sum(_KIND_SIZE[kind] for _, _, kind in fields)
    if outer_field >= 16 or payload_size >= 128 or any(number >= 16 for _, number, _ in fields):
        raise ValueError("fixed layouts need field numbers < 16 and payloads < 128 bytes")
    size = 2 + payload_size
    expected = np.zeros(size, dtype=np.uint8)
    fixed = np.zeros(size, dtype=bool)
    expected[:2], fixed[:2] = ((outer_field << 3) | LENGTH_DELIMITED, payload_size), True
    names, formats, offsets, bool_bytes, offset = [], [], [], [], 2
    for name, number, kind in fields:
        expected[offset], fixed[offset] = (number << 3) | _KIND_WIRE[kind], True
        names.append(name)
        formats.append(_KIND_FORMAT[kind])
        offsets.append(offset + 1)
        if kind == "bool":
            bool_bytes.append(offset + 1)
        offset += _KIND_SIZE[kind]
    dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": size})
    return FixedLayout(outer_field, expected, fixed, np.array(bool_bytes, np.int64), dtype)


def expect(name: str, wire_type: int, expected: int) -> None:
    """`WireError` naming field `name` unless it has the `expected` wire type."""
    if wire_type != expected:
        raise WireError(f"field {name!r} has wire type {wire_type}, expected {expected}")


def read_run(
    data: bytes, buffer: np.ndarray, offset: int, stop: int, layout: FixedLayout
) -> tuple[np.ndarray, int]:
    """The consecutive `layout` records from `offset` (a tag of its outer field) up to `stop`.

    buffer: uint8 view of `data`. Returns (structured array[N] of `layout.dtype`, offset
    after the run); N is 0 when the record at `offset` does not follow the layout (e.g. a
    field is missing), and the caller then decodes that one record field by field.
    """
    size = layout.dtype.itemsize
    count = (stop - offset) // size
    block = buffer[offset : offset + count * size].reshape(count, size)
    matches = (block[:, layout.fixed] == layout.expected[layout.fixed]).all(axis=1)
    if layout.bool_bytes.size:
        matches &= (block[:, layout.bool_bytes] < 0x80).all(axis=1)
    run = count if matches.all() else int(np.argmin(matches))
    records = np.frombuffer(data, dtype=layout.dtype, count=run, offset=offset)
    return records, offset + run * size
