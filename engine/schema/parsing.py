"""Reading a schema: the TOML file or a manifest's dict -> ``Schema``, every key checked.

An unknown key or a bad value raises SchemaError naming the file, the key and what was
expected; keys that apply to one kind only (``better`` to scores and metrics, ``values`` to
categories, ``positive`` to flags and binary targets) are refused elsewhere.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from engine.errors import SchemaError
from engine.schema.model import (
    DIRECTIONS,
    KINDS,
    NUMERIC_KINDS,
    TARGET_KINDS,
    Entity,
    Feature,
    Schema,
    Target,
    as_text,
)

TOP_KEYS = {"name", "id", "entity", "na_values", "time", "target", "segments", "drift", "features"}
FEATURE_KEYS = {"name", "label", "kind", "better", "min", "max", "unit", "actionable", "required", "action", "values", "positive"}
TARGET_KEYS = {"column", "kind", "positive", "label", "desirable"}
SEGMENT_KEYS = {"columns", "values"}
DRIFT_KEYS = {"tests", "thresholds"}
ENTITY_KEYS = {"singular", "plural"}


def load_schema(path: str | Path) -> Schema:
    """Read and check a schema TOML file; raises SchemaError naming the bad key."""
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"Schema file {path} does not exist; expected a TOML file.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"Schema file {path} is not valid TOML: {exc}") from None
    return parse_schema(raw, source=str(path))


def _require(d: dict, key: str, kind: type | tuple, where: str) -> Any:
    if key not in d:
        raise SchemaError(f"{where}: missing required key '{key}'.")
    return _typed(d, key, kind, where)


def _typed(d: dict, key: str, kind: type | tuple, where: str, default: Any = None) -> Any:
    """d[key] checked against ``kind`` (bool is never a number), or ``default`` when absent."""
    if key not in d:
        return default
    value = d[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    wrong_bool = isinstance(value, bool) and bool not in kinds
    if wrong_bool or not isinstance(value, kinds):
        expected = " or ".join(_TYPE_WORDS.get(k, k.__name__) for k in kinds)
        raise SchemaError(f"{where}: '{key}' should be {expected}, got {value!r}.")
    return value


_TYPE_WORDS = {str: "a string", bool: "true or false", int: "a number", float: "a number", list: "a list", dict: "a table"}


def _no_unknown(d: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise SchemaError(f"{where}: unknown key '{unknown[0]}'; expected one of {sorted(allowed)}.")


def _one_of(value: Any, choices: tuple, key: str, where: str) -> Any:
    if value not in choices:
        raise SchemaError(f"{where}: '{key}' should be one of {list(choices)}, got {value!r}.")
    return value


def parse_schema(raw: dict, source: str = "schema") -> Schema:
    """Build a Schema from parsed TOML (or a manifest's dict), checking every key."""
    _no_unknown(raw, TOP_KEYS, source)
    name = _typed(raw, "name", str, source, "Dataset")
    id_col = raw.get("id")
    if id_col is not None and not isinstance(id_col, str):
        raise SchemaError(f"{source}: key 'id' should be a column name (string), got {id_col!r}.")
    time_col = _typed(raw, "time", str, source)
    na_values = _typed(raw, "na_values", list, source, [])
    if not all(isinstance(v, str) for v in na_values):
        raise SchemaError(f"{source}: 'na_values' should be a list of strings, got {na_values!r}.")
    raw_features = _require(raw, "features", list, source)
    if not raw_features:
        raise SchemaError(f"{source}: 'features' is empty; expected at least one [[features]] table.")
    features: list[Feature] = []
    for i, rf in enumerate(raw_features):
        feature = _parse_feature(rf, f"{source}: features[{i}]", source)
        if feature.name in {f.name for f in features}:
            raise SchemaError(f"{source}: feature '{feature.name}' is declared twice; feature names must be unique.")
        features.append(feature)
    target = _parse_target(raw["target"], source) if "target" in raw else None
    segments, segment_values = _parse_segments(raw["segments"], source) if "segments" in raw else ((), {})
    names = [f.name for f in features]
    for col in segments:
        if col in names:
            raise SchemaError(f"{source}: '{col}' is both a segment column and a feature.")
    if target is not None and (target.column in names or target.column in segments):
        raise SchemaError(f"{source}: target column '{target.column}' is also a feature or segment.")
    return Schema(
        name=name,
        features=tuple(features),
        id=id_col,
        target=target,
        segments=segments,
        segment_values=segment_values,
        entity=_parse_entity(raw.get("entity"), source),
        na_values=tuple(na_values),
        time=time_col,
        drift=_parse_drift(raw.get("drift"), names + list(segments), source),
    )


def _parse_feature(rf: Any, where: str, source: str) -> Feature:
    if not isinstance(rf, dict):
        raise SchemaError(f"{where} should be a table, got {rf!r}.")
    fname = _require(rf, "name", str, where)
    where = f"{source}: feature '{fname}'"
    _no_unknown(rf, FEATURE_KEYS, where)
    kind = _one_of(rf.get("kind", "metric"), KINDS, "kind", where)
    numeric = kind in NUMERIC_KINDS
    for key, only in (("better", NUMERIC_KINDS), ("min", NUMERIC_KINDS), ("max", NUMERIC_KINDS), ("values", ("category",)), ("positive", ("binary",))):
        if key in rf and kind not in only:
            raise SchemaError(f"{where}: '{key}' applies to {' and '.join(only)} features only, not to kind {kind!r}.")
    better = _one_of(rf.get("better", "higher" if numeric else "none"), DIRECTIONS, "better", where)
    bounds = {key: _typed(rf, key, (int, float), where) for key in ("min", "max")}
    bounds = {k: None if v is None else float(v) for k, v in bounds.items()}
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] >= bounds["max"]:
        raise SchemaError(f"{where}: 'min' ({bounds['min']}) should be below 'max' ({bounds['max']}).")
    text = {key: _typed(rf, key, str, where) for key in ("label", "action", "unit")}
    values = _typed(rf, "values", list, where, [])
    if len(set(map(str, values))) != len(values) or any(isinstance(v, dict | list) for v in values):
        raise SchemaError(f"{where}: 'values' should be a list of distinct values, got {values!r}.")
    positive = _typed(rf, "positive", (str, int, bool), where)
    return Feature(
        name=fname,
        label=text["label"] or fname.replace("_", " ").capitalize(),
        kind=kind,
        better=better,
        action=text["action"],
        unit=text["unit"],
        actionable=_typed(rf, "actionable", bool, where, kind != "category"),
        required=_typed(rf, "required", bool, where, False),
        values=tuple(as_text(v) for v in values),  # 1.0 is '1', as the data's text reads it
        positive=None if positive is None else str(positive),
        **bounds,
    )


def _parse_target(rt: Any, source: str) -> Target:
    where = f"{source}: [target]"
    if not isinstance(rt, dict):
        raise SchemaError(f"{source}: 'target' should be a table, got {rt!r}.")
    _no_unknown(rt, TARGET_KEYS, where)
    column = _require(rt, "column", str, where)
    kind = _one_of(rt.get("kind", "binary"), TARGET_KINDS, "kind", where)
    desirable = rt.get("desirable", True)
    if not isinstance(desirable, bool):
        raise SchemaError(f"{where} 'desirable' should be true or false, got {desirable!r}.")
    if kind == "numeric" and "positive" in rt:
        raise SchemaError(f"{where}: 'positive' applies to a binary target only, not to kind 'numeric'.")
    label = _typed(rt, "label", str, where) or column.replace("_", " ").capitalize()
    positive = _typed(rt, "positive", (str, int, float, bool), where, 1)
    return Target(column=column, positive=positive, label=label, desirable=desirable, kind=kind)


def _parse_segments(rs: Any, source: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    if not isinstance(rs, dict):
        raise SchemaError(f"{source}: 'segments' should be a table with 'columns', got {rs!r}.")
    _no_unknown(rs, SEGMENT_KEYS, f"{source}: [segments]")
    cols = _require(rs, "columns", list, f"{source}: [segments]")
    if not all(isinstance(c, str) for c in cols):
        raise SchemaError(f"{source}: [segments] 'columns' should be a list of column names, got {cols!r}.")
    declared = rs.get("values") or {}
    if not isinstance(declared, dict):
        raise SchemaError(f"{source}: [segments] 'values' should be a table of lists, got {declared!r}.")
    return tuple(cols), {k: tuple(as_text(x) for x in v) for k, v in declared.items()}


def _parse_entity(re: Any, source: str) -> Entity:
    if re is None:
        return Entity()
    where = f"{source}: 'entity'"
    if not isinstance(re, dict):
        raise SchemaError(f'{where} should be a table like {{ singular = "customer", plural = "customers" }}, got {re!r}.')
    _no_unknown(re, ENTITY_KEYS, where)
    singular = _require(re, "singular", str, where)
    plural = _typed(re, "plural", str, where, singular + "s")
    if not singular.strip() or not plural.strip():
        raise SchemaError(f"{where}: 'singular' and 'plural' should be non-empty words.")
    return Entity(singular=singular, plural=plural)


def _parse_drift(rd: Any, columns: list[str], source: str) -> dict:
    if rd is None:
        return {}
    from engine.monitoring.drift import available_tests  # the registered drift tests

    names = {test.name for test in available_tests()}

    where = f"{source}: [drift]"
    if not isinstance(rd, dict):
        raise SchemaError(f"{where} should be a table with 'tests' and/or 'thresholds', got {rd!r}.")
    _no_unknown(rd, DRIFT_KEYS, where)
    tests = _typed(rd, "tests", dict, where, {})
    thresholds = _typed(rd, "thresholds", dict, where, {})
    for col in (*tests, *thresholds):
        if col not in columns:
            raise SchemaError(f"{where}: '{col}' is not a feature or segment column; expected one of {columns}.")
    for col, test in tests.items():
        if test not in names:
            raise SchemaError(f"{where} tests.{col}: should be one of {sorted(names)}, got {test!r}.")
    for col, value in thresholds.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise SchemaError(f"{where} thresholds.{col}: should be a positive number, got {value!r}.")
    return {"tests": dict(tests), "thresholds": {k: float(v) for k, v in thresholds.items()}}
