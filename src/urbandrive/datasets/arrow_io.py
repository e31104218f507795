"""Read Arrow files (feather, parquet) into numpy columns; every failure names the file.

pyarrow's own exceptions never escape: unreadable files, missing columns, nulls, wrong types
and non-finite numbers all become one-line `DataError`s of the form `"{path}: what is wrong"`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as parquet

from urbandrive.core.errors import DataError
from urbandrive.core.typing import NDArrayF64, NDArrayInt


def one_line(error: BaseException, limit: int = 160) -> str:
    """The error's message on one line, cut to `limit` characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_table(path: Path, columns: Iterable[str]) -> pa.Table:
    """The feather (`.feather`) or parquet file at `path`, checked to have `columns`."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    kind = "parquet" if path.suffix == ".parquet" else "feather"
    try:
        table = parquet.read_table(path) if kind == "parquet" else feather.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DataError(f"{path}: not a readable {kind} file ({one_line(error)})") from error
    require_columns(path, table, columns)
    return table


def require_columns(path: Path, table: pa.Table, columns: Iterable[str]) -> None:
    """Raise `DataError` naming the first of `columns` that `table` lacks."""
    for name in columns:
        if name not in table.column_names:
            raise DataError(f"{path}: column {name!r} missing (has {sorted(table.column_names)})")


def _column(path: Path, table: pa.Table, name: str) -> pa.ChunkedArray:
    column = table.column(name)
    if column.null_count:
        first = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataError(
            f"{path}: column {name!r} has {column.null_count} nulls (first at row {first})"
        )
    return column


def float_column(path: Path, table: pa.Table, name: str) -> NDArrayF64:
    """float64[N]; raises if the column is not numeric, has nulls or non-finite values."""
    column = _column(path, table, name)
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise DataError(f"{path}: column {name!r} has type {column.type}, expected a number")
    values = column.to_numpy().astype(np.float64, copy=False)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(f"{path}: column {name!r} is {values[bad[0]]} at row {int(bad[0])}")
    return values


def int_column(path: Path, table: pa.Table, name: str) -> NDArrayInt:
    """int64[N]; raises if the column is not an integer column or has nulls."""
    column = _column(path, table, name)
    if not pa.types.is_integer(column.type):
        raise DataError(f"{path}: column {name!r} has type {column.type}, expected an integer")
    return column.to_numpy().astype(np.int64, copy=False)


def bool_column(path: Path, table: pa.Table, name: str) -> np.ndarray:
    """bool[N]; raises if the column is not boolean or has nulls."""
    column = _column(path, table, name)
    if not pa.types.is_boolean(column.type):
        raise DataError(f"{path}: column {name!r} has type {column.type}, expected bool")
    return column.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def str_column(path: Path, table: pa.Table, name: str) -> np.ndarray:
    """str[N] (numpy unicode); raises if the column is not a string column or has nulls."""
    column = _column(path, table, name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise DataError(f"{path}: column {name!r} has type {column.type}, expected a string")
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=str)
