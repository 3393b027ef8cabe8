"""Reading uploaded files into tables, with messages that name what is wrong."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from engine import api
from engine.errors import DataError
from engine.schema import tables

MAX_BYTES = 200 * 1000 * 1000  # below Streamlit's own upload limit (.streamlit/config.toml)
MAX_ROWS = 2_000_000
MAX_COLUMNS = 2_000
TABLE_TYPES = tables.TABLE_TYPES


def read_table(name: str, data: bytes) -> pd.DataFrame:
    """Uploaded bytes -> DataFrame (the engine's one table reader), or DataError naming the problem."""
    frame = tables.read_table_bytes(name, data, max_bytes=MAX_BYTES, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)
    if frame.empty or len(frame.columns) < 2:
        raise DataError(f"{name}: the table has {len(frame):,} rows and {len(frame.columns)} column(s); expected a table with a header row and data.")
    return frame


def check_schema_bytes(frame: pd.DataFrame, schema_bytes: bytes, name: str = "schema.toml") -> None:
    """Validate an uploaded schema TOML and the table against it with the rules of training,
    without storing anything."""
    try:
        schema_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: wrong encoding; expected UTF-8 TOML text.") from exc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schema.toml"
        path.write_bytes(schema_bytes)
        api.load_dataset(frame, path, training=True)
