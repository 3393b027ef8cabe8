"""Validation against a schema: one profile (``validate_profile``) and a whole table
(``check_frame``). Every surface (CLI, HTTP, pages, scoring) goes through these two."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import DataError, ProfileError
from engine.schema.model import Schema

MAX_BAD_EXAMPLES = 3


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def validate_profile(schema: Schema, profile: dict, *, partial: bool = False) -> dict:
    """Check one profile; returns a clean copy (floats, strings) or raises ProfileError.

    Every problem is collected before raising, so the user fixes them all at once. With
    ``partial=True`` missing features are allowed and become NaN (the models impute them).
    """
    if not isinstance(profile, dict):
        raise ProfileError([{"field": "profile", "problem": f"expected a JSON object, got {type(profile).__name__}"}])
    problems: list[dict] = []
    clean: dict[str, Any] = {}
    for col in schema.segments:
        value = profile.get(col)
        allowed = schema.segment_values.get(col)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            problems.append({"field": col, "problem": "missing; expected one of " + _list(allowed)})
            continue
        value = str(value)
        if allowed and value not in allowed:
            problems.append({"field": col, "problem": f"unknown value {value!r}; expected one of {_list(allowed)}"})
            continue
        clean[col] = value
    for f in schema.features:
        if f.name not in profile or profile[f.name] is None:
            if partial:
                clean[f.name] = math.nan
            else:
                problems.append({"field": f.name, "problem": "missing; expected " + f.expected})
            continue
        raw = profile[f.name]
        number = _as_number(raw)
        if number is None:
            problems.append({"field": f.name, "problem": f"not a number: {raw!r}; expected " + f.expected})
            continue
        if math.isnan(number) or math.isinf(number):
            if partial and math.isnan(number):
                clean[f.name] = math.nan
                continue
            problems.append({"field": f.name, "problem": f"{raw!r} is not a finite number; expected " + f.expected})
            continue
        if (f.min is not None and number < f.min) or (f.max is not None and number > f.max):
            problems.append({"field": f.name, "problem": f"{number:g} is outside the bounds; expected " + f.expected})
            continue
        clean[f.name] = number
    if schema.id and profile.get(schema.id) is not None:
        clean[schema.id] = profile[schema.id]
    if problems:
        raise ProfileError(problems)
    return clean


def _list(values: tuple[str, ...] | None) -> str:
    if not values:
        return "a text value"
    shown = ", ".join(values[:12])
    return shown + (", ..." if len(values) > 12 else "")


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
