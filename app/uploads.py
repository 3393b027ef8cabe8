"""Reading uploaded files into tables, with messages that name what is wrong."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pandas as pd

from engine import api
from engine.errors import DataError

MAX_BYTES = 200 * 1024 * 1024
MAX_ROWS = 2_000_000
TABLE_TYPES = ("csv", "parquet")


def read_table(name: str, data: bytes) -> pd.DataFrame:
    """Uploaded bytes -> DataFrame, or DataError naming the problem."""
    suffix = Path(name).suffix.lower().lstrip(".")
    if len(data) > MAX_BYTES:
        raise DataError(f"{name}: the file is {len(data) / 1e6:,.0f} MB; the limit is {MAX_BYTES / 1e6:,.0f} MB.")
    if not data:
        raise DataError(f"{name}: the file is empty; expected a CSV or Parquet table.")
    if suffix not in TABLE_TYPES:
        raise DataError(f"{name}: not a table; expected a .csv or .parquet file, got '.{suffix or '?'}'.")
    if suffix == "parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises many types for a bad file
            raise DataError(f"{name}: not a readable Parquet table ({type(exc).__name__}).") from exc
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(f"{name}: wrong encoding; expected UTF-8 text (byte {exc.start} is not valid UTF-8). Save the file as 'CSV UTF-8' and upload it again.") from exc
        try:
            frame = pd.read_csv(io.StringIO(text))
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataError(f"{name}: not a readable CSV table ({str(exc).strip().splitlines()[0]}).") from exc
    if len(frame) > MAX_ROWS:
        raise DataError(f"{name}: {len(frame):,} rows; the limit is {MAX_ROWS:,} rows.")
    if frame.empty or len(frame.columns) < 2:
        raise DataError(f"{name}: the table has {len(frame):,} rows and {len(frame.columns)} column(s); expected a table with a header row and data.")
    return frame


def check_against(frame: pd.DataFrame, schema) -> pd.DataFrame:
    """Check a table against a schema (path or Schema) with the engine's rules."""
    checked, _ = api.load_dataset(frame, schema)
    return checked


def check_schema_bytes(frame: pd.DataFrame, schema_bytes: bytes, name: str = "schema.toml") -> None:
    """Validate an uploaded schema TOML and the table against it, without storing anything."""
    try:
        schema_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: wrong encoding; expected UTF-8 TOML text.") from exc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schema.toml"
        path.write_bytes(schema_bytes)
        api.load_dataset(frame, path)
