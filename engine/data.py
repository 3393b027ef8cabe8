"""Reading a user's table (CSV or Parquet) and checking it against a schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.schema import Schema

MAX_BAD_EXAMPLES = 3


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


def check_frame(df: pd.DataFrame, schema: Schema, *, require_target: bool = False, source: str = "data") -> pd.DataFrame:
    """Check columns and types; returns a copy with numeric features, string segments and a 0/1
    target column (when present). Raises DataError naming the column and what was expected."""
    needed = list(schema.segments) + schema.feature_names
    if require_target and schema.target is not None:
        needed.append(schema.target.column)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; the schema expects {needed}.")
    if len(df) == 0:
        raise DataError(f"{source}: the table has no rows.")
    out = pd.DataFrame(index=df.index)
    if schema.id and schema.id in df.columns:
        out[schema.id] = df[schema.id]
    for col in schema.segments:
        values = df[col].astype(object)
        if values.isna().any():
            raise DataError(f"{source}: column '{col}' has {int(values.isna().sum())} empty value(s); segment columns need a value on every row.")
        out[col] = values.astype(str)
    for name in schema.feature_names:
        numeric = pd.to_numeric(df[name], errors="coerce")
        bad = numeric.isna() & df[name].notna()
        if bad.any():
            examples = df.loc[bad, name].astype(str).head(MAX_BAD_EXAMPLES).tolist()
            raise DataError(f"{source}: column '{name}' should hold numbers; found {int(bad.sum())} non-numeric value(s) such as {examples}.")
        numeric = numeric.astype(float).replace([np.inf, -np.inf], np.nan)
        out[name] = numeric
    if schema.target is not None and schema.target.column in df.columns:
        out[schema.target.column] = target_labels(df[schema.target.column], schema, source)
    return out


def target_labels(values: pd.Series, schema: Schema, source: str = "data") -> pd.Series:
    """1 where the target equals the schema's positive value, 0 otherwise, NaN when missing."""
    positive = schema.target.positive
    known = values.notna()
    as_text = values.astype(str).str.strip()
    labels = (as_text == str(positive)) | (values == positive)
    if known.any() and not labels[known].any():
        raise DataError(f"{source}: target column '{schema.target.column}' never equals the positive value {positive!r}; expected a binary outcome.")
    return labels.astype(float).where(known)
