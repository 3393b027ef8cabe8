"""Reading a user's table (CSV or Parquet): the one table reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engine.errors import DataError


def read_table(path: str | Path) -> pd.DataFrame:
    """CSV (UTF-8, any delimiter pandas sniffs) or Parquet -> DataFrame; DataError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Data file {path} does not exist; expected a CSV or Parquet file.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".txt", ".gz"):
            return pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"Data file {path} is not UTF-8 text; save it as UTF-8 CSV.") from None
    except Exception as exc:  # pandas/pyarrow raise many types for a file that is not a table
        raise DataError(f"Data file {path} could not be read as a table: {exc}") from None
    raise DataError(f"Data file {path} has suffix '{suffix}'; expected .csv or .parquet.")
