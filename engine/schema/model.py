"""The dataset schema (a TOML file).

A schema names the numeric features (assessment scores and business metrics), the optional
segment columns that define peer groups (broad to narrow), the optional binary target and the
optional id column. See DESIGN.md, "Data contract".
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import SchemaError

KINDS = ("score", "metric")
DIRECTIONS = ("higher", "lower", "none")


@dataclass(frozen=True)
class Feature:
    name: str
    label: str
    kind: str = "metric"
    better: str = "higher"
    min: float | None = None
    max: float | None = None
    action: str | None = None
    unit: str | None = None

    @property
    def expected(self) -> str:
        """What a valid value is, in words: 'a number between 0 and 5'."""
        if self.min is not None and self.max is not None:
            return f"a number between {self.min:g} and {self.max:g}"
        if self.min is not None:
            return f"a number of at least {self.min:g}"
        if self.max is not None:
            return f"a number of at most {self.max:g}"
        return "a number"

    @property
    def sign(self) -> int:
        """+1 when higher is better, -1 when lower is better, 0 when neither."""
        return {"higher": 1, "lower": -1, "none": 0}[self.better]


@dataclass(frozen=True)
class Target:
    column: str
    positive: Any = 1
    label: str = "Outcome"
    desirable: bool = True


@dataclass(frozen=True)
class Schema:
    name: str
    features: tuple[Feature, ...]
    id: str | None = None
    target: Target | None = None
    segments: tuple[str, ...] = ()
    # Allowed values of each segment column; filled from the training data when not declared.
    segment_values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def score_names(self) -> list[str]:
        return [f.name for f in self.features if f.kind == "score"]

    def entity_id(self, profile: dict) -> str | None:
        """A profile's id under the schema's id column, as text (ids of any type)."""
        value = profile.get(self.id) if self.id else None
        return None if value is None else str(value)

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def with_segment_values(self, values: dict[str, tuple[str, ...]]) -> Schema:
        merged = {**values, **self.segment_values}
        return Schema(self.name, self.features, self.id, self.target, self.segments, merged)

    def to_dict(self) -> dict:
        """The TOML shape (what ``parse_schema`` reads), with the known segment values."""
        d = {"name": self.name, "features": [asdict(f) for f in self.features]}
        if self.id:
            d["id"] = self.id
        if self.target:
            d["target"] = asdict(self.target)
        if self.segments:
            values = {k: list(v) for k, v in self.segment_values.items()}
            d["segments"] = {"columns": list(self.segments), "values": values}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Schema:
        return parse_schema(d)


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
    value = d[key]
    if not isinstance(value, kind):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SchemaError(f"{where}: key '{key}' should be a {expected}, got {value!r}.")
    return value


def parse_schema(raw: dict, source: str = "schema") -> Schema:
    """Build a Schema from parsed TOML (or a manifest's dict), checking every key."""
    name = raw.get("name", "Dataset")
    if not isinstance(name, str):
        raise SchemaError(f"{source}: key 'name' should be a string, got {name!r}.")
    id_col = raw.get("id")
    if id_col is not None and not isinstance(id_col, str):
        raise SchemaError(f"{source}: key 'id' should be a column name (string), got {id_col!r}.")
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
    return Schema(name=name, features=tuple(features), id=id_col, target=target, segments=segments, segment_values=segment_values)


def _parse_feature(rf: Any, where: str, source: str) -> Feature:
    if not isinstance(rf, dict):
        raise SchemaError(f"{where} should be a table, got {rf!r}.")
    fname = _require(rf, "name", str, where)
    where = f"{source}: feature '{fname}'"
    kind = rf.get("kind", "metric")
    if kind not in KINDS:
        raise SchemaError(f"{where}: 'kind' should be one of {list(KINDS)}, got {kind!r}.")
    better = rf.get("better", "higher")
    if better not in DIRECTIONS:
        raise SchemaError(f"{where}: 'better' should be one of {list(DIRECTIONS)}, got {better!r}.")
    bounds = {}
    for key in ("min", "max"):
        v = rf.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise SchemaError(f"{where}: '{key}' should be a number, got {v!r}.")
        bounds[key] = None if v is None else float(v)
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] >= bounds["max"]:
        raise SchemaError(f"{where}: 'min' ({bounds['min']}) should be below 'max' ({bounds['max']}).")
    for key in ("label", "action", "unit"):
        if rf.get(key) is not None and not isinstance(rf[key], str):
            raise SchemaError(f"{where}: '{key}' should be a string, got {rf[key]!r}.")
    label = rf.get("label") or fname.replace("_", " ").capitalize()
    return Feature(name=fname, label=label, kind=kind, better=better, action=rf.get("action"), unit=rf.get("unit"), **bounds)


def _parse_target(rt: Any, source: str) -> Target:
    if not isinstance(rt, dict):
        raise SchemaError(f"{source}: 'target' should be a table, got {rt!r}.")
    column = _require(rt, "column", str, f"{source}: [target]")
    desirable = rt.get("desirable", True)
    if not isinstance(desirable, bool):
        raise SchemaError(f"{source}: [target] 'desirable' should be true or false, got {desirable!r}.")
    label = rt.get("label", column.replace("_", " ").capitalize())
    return Target(column=column, positive=rt.get("positive", 1), label=label, desirable=desirable)


def _parse_segments(rs: Any, source: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    if not isinstance(rs, dict):
        raise SchemaError(f"{source}: 'segments' should be a table with 'columns', got {rs!r}.")
    cols = _require(rs, "columns", list, f"{source}: [segments]")
    if not all(isinstance(c, str) for c in cols):
        raise SchemaError(f"{source}: [segments] 'columns' should be a list of column names, got {cols!r}.")
    declared = rs.get("values") or {}
    if not isinstance(declared, dict):
        raise SchemaError(f"{source}: [segments] 'values' should be a table of lists, got {declared!r}.")
    return tuple(cols), {k: tuple(str(x) for x in v) for k, v in declared.items()}
