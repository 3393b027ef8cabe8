"""Reading a user's table (CSV or Parquet), from a path or from uploaded bytes: the one table
reader of every surface (CLI, HTTP, pages), with messages that name what is wrong."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pandas as pd

from engine.errors import DataError

TABLE_TYPES = ("csv", "parquet")


def read_table(path: str | Path) -> pd.DataFrame:
    """CSV (UTF-8) or Parquet file -> DataFrame; DataError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Data file {path} does not exist; expected a CSV or Parquet file.")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".txt", ".gz"):
        raise DataError(f"Data file {path} has suffix '{suffix}'; expected .csv or .parquet.")
    return _parse(f"Data file {path}", path, parquet=suffix in (".parquet", ".pq"))


def read_table_bytes(name: str, data: bytes, *, max_bytes: int | None = None, max_rows: int | None = None, max_columns: int | None = None) -> pd.DataFrame:
    """An uploaded or posted table (``name`` says its kind by suffix; no suffix: CSV). The
    limits are checked while reading: a CSV header over ``max_columns`` before any parsing,
    rows beyond ``max_rows`` by reading one more and stopping."""
    suffix = Path(name).suffix.lower().lstrip(".") or "csv"
    if max_bytes is not None and len(data) > max_bytes:
        raise DataError(f"{name}: the file is {_megabytes(len(data))}; the limit is {_megabytes(max_bytes)}.")
    if not data.strip():
        raise DataError(f"{name}: the file is empty; expected a CSV or Parquet table with a header row.")
    if suffix not in TABLE_TYPES:
        raise DataError(f"{name}: not a table; expected a .csv or .parquet file, got '.{suffix}'.")
    source = io.BytesIO(data)
    if max_columns is not None and suffix == "csv":
        fields = _header_line(source).count(",") + 1
        if fields > max_columns:
            raise DataError(f"{name}: the header has {fields:,} columns; the limit is {max_columns:,}.")
    frame = _parse(name, source, parquet=suffix == "parquet", max_rows=max_rows)
    if max_rows is not None and len(frame) > max_rows:
        raise DataError(f"{name}: more than {max_rows:,} rows; the limit is {max_rows:,} per table.")
    if max_columns is not None and len(frame.columns) > max_columns:
        raise DataError(f"{name}: {len(frame.columns):,} columns; the limit is {max_columns:,}.")
    return frame


def _parse(name: str, source, *, parquet: bool, max_rows: int | None = None) -> pd.DataFrame:
    if isinstance(source, io.BytesIO):
        source.seek(0)
    try:
        frame = pd.read_parquet(source) if parquet else pd.read_csv(source, encoding="utf-8-sig", nrows=None if max_rows is None else max_rows + 1)
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: wrong encoding; expected UTF-8 text (byte {exc.start} is not valid UTF-8). Save it as 'CSV UTF-8'.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{name}: the file is empty; expected a table with a header row.") from None
    except Exception as exc:  # pandas/pyarrow raise many types for a file that is not a table
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{name}: could not be read as a {'Parquet' if parquet else 'CSV'} table ({first}).") from None
    if not parquet:
        _check_header(name, source)
    if not parquet and not frame.index.equals(pd.RangeIndex(len(frame))):
        # pandas reads rows with one field more than the header by turning the first column
        # into the index: every value would sit under the wrong column name.
        raise DataError(f"{name}: the rows have more fields than the header ({len(frame.columns) + frame.index.nlevels} against {len(frame.columns)}; a delimiter at the end of each row?), so every value would move to the wrong column; expected one field per header name.")
    return frame


def _check_header(name: str, source) -> None:
    """Refuse repeated column names: pandas would rename the second 'x' to 'x.1' and one of the
    two would be used without a word."""
    try:
        counts = Counter(n.strip() for n in next(csv.reader([_header_line(source)]), []))
    except csv.Error as exc:
        raise DataError(f"{name}: the header row could not be read as CSV ({exc}); expected one line of column names.") from None
    repeated = sorted(n for n, count in counts.items() if count > 1)
    if repeated:
        raise DataError(f"{name}: the header repeats {repeated}; expected each column name once (which one holds the values?).")


def _header_line(source) -> str:
    """The first line of a CSV file or buffer, read alone (no copy of the rest). A lone carriage
    return ends it too, as it ends a line for pandas."""
    if isinstance(source, io.BytesIO):
        source.seek(0)
        line = source.readline().decode("utf-8-sig", errors="replace")
    else:
        with open(source, encoding="utf-8-sig", errors="replace", newline="") as f:
            line = f.readline()
    return line.split("\r", 1)[0].rstrip("\n")


def _megabytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n < 10e6 else f"{n / 1e6:,.0f} MB"
