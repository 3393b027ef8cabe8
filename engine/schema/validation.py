"""Validation against a schema: one profile (``validate_profile``) and a whole table
(``check_frame``). Every surface (CLI, HTTP, pages, scoring) goes through these two.

Both produce the same clean values: scores and metrics as floats, binary features as 1.0/0.0,
segment columns and categories as text, and a missing value as NaN (features) or None (text).
A value is missing when it is absent, null, NaN, or one of the schema's missing markers
(blank, "NA", "?", ... plus the schema's ``na_values``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import DataError, ProfileError
from engine.schema.model import Feature, Schema, as_text, list_values

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


def _is_missing(value: Any, markers: set[str]) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in markers


def validate_profile(schema: Schema, profile: dict, *, check_required: bool = True) -> dict:
    """Check one profile; returns a clean copy or raises ProfileError.

    Any feature or segment value may be missing (it becomes NaN or None) unless the feature is
    ``required`` (and ``check_required``: a benchmark of a few values needs no others). Every
    problem is collected before raising, so the user fixes them all at once.
    """
    if not isinstance(profile, dict):
        raise ProfileError([{"field": "profile", "problem": f"expected a JSON object, got {type(profile).__name__}"}])
    markers = set(schema.missing_markers)
    problems: list[dict] = []
    clean: dict[str, Any] = {}
    for col in schema.segments:
        value = profile.get(col)
        allowed = schema.segment_values.get(col)
        if _is_missing(value, markers):
            clean[col] = None
        elif allowed and as_text(value) not in allowed:
            problems.append({"field": col, "problem": f"unknown value {as_text(value)!r}; expected one of {list_values(allowed)}"})
        else:
            clean[col] = as_text(value)
    for f in schema.features:
        raw = profile.get(f.name)
        if _is_missing(raw, markers):
            if f.required and check_required:
                problems.append({"field": f.name, "problem": "missing; it is required, expected " + f.expected})
            clean[f.name] = None if f.kind == "category" else math.nan
            continue
        value, problem = _clean_value(f, raw)
        if problem:
            problems.append({"field": f.name, "problem": problem})
        else:
            clean[f.name] = value
    if schema.id and profile.get(schema.id) is not None:
        clean[schema.id] = str(profile[schema.id])
    if not problems and len(missing_features(schema, clean)) == len(schema.features):
        problems.append({"field": "profile", "problem": "no feature value given; expected at least one of " + ", ".join(schema.feature_names[:12])})
    if problems:
        raise ProfileError(problems)
    return clean


def _clean_value(f: Feature, raw: Any) -> tuple[Any, str | None]:
    """One present value -> (clean value, None) or (None, the problem in words)."""
    if f.kind == "category":
        text = as_text(raw)
        if f.values and text not in f.values:
            return None, f"unknown value {text!r}; expected {f.expected}"
        return text, None
    if f.kind == "binary":
        flag = f.as_binary(raw)
        return (flag, None) if flag is not None else (None, f"not yes or no: {raw!r}; expected {f.expected}")
    number = _as_number(raw)
    if number is None:
        return None, f"not a number: {raw!r}; expected " + f.expected
    if math.isnan(number) or math.isinf(number):
        return None, f"{raw!r} is not a finite number; expected " + f.expected
    if (f.min is not None and number < f.min) or (f.max is not None and number > f.max):
        return None, f"{number:g} is outside the bounds; expected " + f.expected
    return number, None


def as_times(values: pd.Series) -> pd.Series:
    """A time column as UTC timestamps (any format, mixed time zones); NaT where unreadable."""
    return pd.to_datetime(values.astype(str), errors="coerce", format="mixed", utc=True)


def missing_features(schema: Schema, clean: dict) -> list[str]:
    """Names of the features a clean profile leaves missing, in schema order."""
    return [f.name for f in schema.features if _is_missing(clean.get(f.name), set())]


TRAINING_BAD_ROW_SHARE = 0.01  # training leaves out at most this share of rows that fail the schema


def check_frame(df: pd.DataFrame, schema: Schema, *, require_target: bool = False, source: str = "data", max_bad_share: float = 0.0) -> pd.DataFrame:
    """Check columns and values; returns a clean copy (see the module docstring) with the target
    as 0/1 (binary) or a float (numeric). Rows that fail the schema (text in a number column,
    a value outside a feature's bounds, an unknown category, no feature value at all) are left
    out when they are at most ``max_bad_share`` of the rows (the copy's ``attrs["left_out"]``
    says which and why); otherwise DataError names every failing column and what was expected."""
    needed = list(schema.segments) + schema.feature_names
    if require_target and schema.target is not None:
        needed.append(schema.target.column)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; the schema expects {needed}.")
    if len(df) == 0:
        raise DataError(f"{source}: the table has no rows.")
    markers = schema.missing_markers
    out = pd.DataFrame(index=df.index)
    problems: list[tuple[np.ndarray, str]] = []  # (failing rows, the problem in words)
    if schema.id and schema.id in df.columns:
        out[schema.id] = _texts(df[schema.id].astype(object).where(df[schema.id].notna()))
    if schema.time and schema.time in df.columns:
        out[schema.time] = df[schema.time]
    for col in list(schema.segments) + schema.category_names:
        out[col] = _known_text(_texts(_blank_to_na(df[col], markers)), schema.allowed_values(col), col, problems)
    for f in schema.numeric_features:
        values = _blank_to_na(df[f.name], markers)
        out[f.name] = _binary_column(values, f, problems) if f.kind == "binary" else _feature_numbers(values, f, problems)
    empty = out[schema.feature_names].isna().all(axis=1).to_numpy()
    if empty.any():
        problems.append((empty, f"{int(empty.sum())} row(s) have no feature value (rows {_rows(empty)}, counting from 0); expected at least one of {schema.feature_names[:12]}"))
    if schema.target is not None and schema.target.column in df.columns:
        values = _blank_to_na(df[schema.target.column], markers)
        if schema.target.kind == "numeric":
            out[schema.target.column] = _numbers(values, schema.target.column, problems)
        else:
            out[schema.target.column] = target_labels(values, schema)
    return _without_bad_rows(out, problems, max_bad_share, source)


def check_training_columns(frame: pd.DataFrame, schema: Schema, source: str = "data") -> None:
    """What a table to train on needs beyond valid rows: the target column with some values
    (when the schema has a target) and features that vary. DataError names every column."""
    problems = []
    target = schema.target.column if schema.target is not None else None
    if target is not None and (target not in frame.columns or frame[target].isna().all()):
        where = "is not in the table" if target not in frame.columns else "has no value on any row"
        problems.append(f"the schema's target column '{target}' {where}; expected the outcome to learn (or remove [target] from the schema to train without a prediction)")
    empty = [f.name for f in schema.features if frame[f.name].isna().all()]
    if empty:
        problems.append(f"feature(s) {empty} are missing on every row; expected values to learn from (or remove them from the schema)")
    constant = [f.name for f in schema.features if f.name not in empty and frame[f.name].nunique(dropna=True) < 2]
    if constant:
        problems.append(f"feature(s) {constant} have one value on every row, so they cannot tell {schema.entity.plural} apart; expected at least two values (or remove them from the schema)")
    if problems:
        raise DataError(f"{source}: " + "; ".join(problems) + ".")


def _without_bad_rows(out: pd.DataFrame, problems: list[tuple[np.ndarray, str]], max_bad_share: float, source: str) -> pd.DataFrame:
    if not problems:
        return out
    bad = np.logical_or.reduce([rows for rows, _ in problems])
    words = "; ".join(text for _, text in problems)
    if bad.all():
        raise DataError(f"{source}: every row fails the schema: {words}.")
    if bad.sum() > max_bad_share * len(out):
        allowed = f" ({int(bad.sum()):,} of {len(out):,} rows fail, more than the {max_bad_share:.0%} training may leave out)" if max_bad_share else ""
        raise DataError(f"{source}: {words}{allowed}.")
    kept = out.loc[~bad]
    kept.attrs["left_out"] = {"rows": int(bad.sum()), "of": len(out), "problems": [text for _, text in problems]}
    return kept


def _rows(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask)[:MAX_BAD_EXAMPLES].tolist()


def _examples(values: pd.Series, mask) -> list[str]:
    return values[mask].astype(str).head(MAX_BAD_EXAMPLES).tolist()


def _known_text(values: pd.Series, allowed: tuple[str, ...], name: str, problems: list) -> pd.Series:
    """Text values; values outside the known ones are a problem (a table's unknown category
    would otherwise be read as missing without a word)."""
    if allowed:
        unknown = values.notna() & ~values.isin(allowed)
        if unknown.any():
            examples = sorted(values[unknown].unique())[:MAX_BAD_EXAMPLES]
            problems.append((unknown.to_numpy(), f"column '{name}' has {int(unknown.sum())} value(s) outside the known ones, such as {examples}; expected one of {list_values(allowed)}"))
    return values


def _texts(values: pd.Series) -> pd.Series:
    """``as_text`` of every value (the dtype ``Series.map`` gives), worked out once per distinct
    value: a segment column repeats a few. Every missing marker (pd.NA too) is missing. True and
    1 are one key to pandas but not one text: such a column goes value by value."""
    codes, distinct = pd.factorize(values)
    if any(isinstance(v, bool | np.bool_) for v in distinct):
        return values.map(as_text)
    texts = np.array([as_text(v) for v in distinct] + [None], dtype=object)  # code -1: missing
    return pd.Series(texts[codes], index=values.index, dtype=object).infer_objects()


def _blank_to_na(values: pd.Series, markers: list[str]) -> pd.Series:
    """Missing markers (blank, 'NA', the schema's na_values, ...) become NaN."""
    if values.dtype != object and not pd.api.types.is_string_dtype(values):
        return values
    values = values.astype(object)
    codes, distinct = pd.factorize(values)  # each distinct value is looked at once
    known = set(markers)
    blank = np.array([(v.strip() if isinstance(v, str) else v) in known for v in distinct] + [False])  # code -1: missing
    return values.where(~blank[codes])


def _numbers(values: pd.Series, name: str, problems: list) -> pd.Series:
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna() & values.notna()
    if bad.any():
        problems.append((bad.to_numpy(), f"column '{name}' should hold numbers; found {int(bad.sum())} non-numeric value(s) such as {_examples(values, bad)}"))
    return numeric.astype(float).replace([np.inf, -np.inf], np.nan)


def _feature_numbers(values: pd.Series, f: Feature, problems: list) -> pd.Series:
    """A score or metric column; values outside the feature's bounds are a problem."""
    numbers = _numbers(values, f.name, problems)
    outside = pd.Series(False, index=numbers.index)
    if f.min is not None:
        outside |= numbers < f.min
    if f.max is not None:
        outside |= numbers > f.max
    if outside.any():
        problems.append((outside.to_numpy(), f"column '{f.name}' should hold {f.expected}; found {int(outside.sum())} value(s) outside the bounds such as {_examples(numbers, outside)}"))
    return numbers


def _binary_column(values: pd.Series, f: Feature, problems: list) -> pd.Series:
    known = values.notna()
    flags = values.map(lambda v: f.as_binary(v) if pd.notna(v) else None)
    bad = known & flags.isna()
    if bad.any():
        problems.append((bad.to_numpy(), f"column '{f.name}' should hold {f.expected}; found {int(bad.sum())} other value(s) such as {_examples(values, bad)}"))
    return flags.astype(float)


def target_positive(values: pd.Series, schema: Schema) -> pd.Series:
    """True where a binary target equals the schema's positive value (as text or as a number:
    1 matches '1' and 1.0); everything else that is not missing is the other class."""
    positive = schema.target.positive
    labels = (values.astype(str).str.strip() == str(positive)) | (values == positive)
    if isinstance(positive, int | float) and not isinstance(positive, bool):
        labels |= pd.to_numeric(values, errors="coerce") == positive
    return labels


def target_labels(values: pd.Series, schema: Schema) -> pd.Series:
    """1 where the target equals the schema's positive value, 0 otherwise, NaN when missing.
    A table whose rows are all negative is valid (a month in which no customer churned);
    training, which needs both outcomes, says so (``engine.training.fit``)."""
    return target_positive(values, schema).astype(float).where(values.notna())
