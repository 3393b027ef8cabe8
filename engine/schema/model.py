"""The dataset schema (a TOML file): DESIGN.md, "Data contract".

A schema names the features (assessment scores, business metrics, yes/no flags and categories),
the optional segment columns that define peer groups (broad to narrow), the optional target
(binary or numeric), the optional id and time columns and the entity noun used in every
sentence. Every key is checked: an unknown key or a bad value is an error naming the key and
what was expected (``engine.schema.parsing``). Version-1 schemas (numeric features only) are
valid version-2 schemas.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

NUMERIC_KINDS = ("score", "metric")
KINDS = (*NUMERIC_KINDS, "binary", "category")
DIRECTIONS = ("higher", "lower", "none")
TARGET_KINDS = ("binary", "numeric")
TRUE_WORDS = ("1", "1.0", "true", "yes", "y", "t")
FALSE_WORDS = ("0", "0.0", "false", "no", "n", "f")
DEFAULT_NA = ("", " ", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "?")



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
    actionable: bool = True
    required: bool = False
    values: tuple[str, ...] = ()  # category: allowed values (declared, or learned at training)
    positive: str | None = None  # binary: the text that means "yes" besides 1/true/yes

    @property
    def numeric(self) -> bool:
        """Scores and metrics: ranked, z-scored, shown with percentiles."""
        return self.kind in NUMERIC_KINDS

    @property
    def expected(self) -> str:
        """What a valid value is, in words: 'a number between 0 and 5', 'yes or no'."""
        if self.kind == "binary":
            return "yes or no (1/0, true/false" + (f", {self.positive!r}" if self.positive else "") + ")"
        if self.kind == "category":
            return "one of " + list_values(self.values)
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

    def as_binary(self, value: Any) -> float | None:
        """1.0 / 0.0 for a recognised yes/no value, None otherwise (NaN stays for the caller)."""
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, int | float):
            return float(value) if value in (0, 1) else None
        text = str(value).strip()
        if self.positive is not None and text == self.positive:
            return 1.0
        lowered = text.lower()
        if lowered in TRUE_WORDS:
            return 1.0
        if lowered in FALSE_WORDS:
            return 0.0
        return None  # a typo is refused, never read as "no"


OUTPUTS = {"binary": "probability", "numeric": "prediction"}  # target kind -> model output name


@dataclass(frozen=True)
class Target:
    column: str
    positive: Any = 1
    label: str = "Outcome"
    desirable: bool = True
    kind: str = "binary"

    @property
    def output(self) -> str:
        """The outcome model's output column in tables (scores, the prediction log, drift)."""
        return OUTPUTS[self.kind]


@dataclass(frozen=True)
class Entity:
    singular: str = "company"
    plural: str = "companies"


@dataclass(frozen=True)
class Schema:
    name: str
    features: tuple[Feature, ...]
    id: str | None = None
    target: Target | None = None
    segments: tuple[str, ...] = ()
    # Allowed values of each segment column; filled from the training data when not declared.
    segment_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    entity: Entity = Entity()
    na_values: tuple[str, ...] = ()
    time: str | None = None
    drift: dict = field(default_factory=dict)  # {"tests": {col: test}, "thresholds": {col: x}}

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def numeric_features(self) -> tuple[Feature, ...]:
        """Features on a numeric axis in the models: scores, metrics and binary (0/1) flags."""
        return tuple(f for f in self.features if f.kind != "category")

    @property
    def numeric_names(self) -> list[str]:
        return [f.name for f in self.numeric_features]

    @property
    def category_features(self) -> tuple[Feature, ...]:
        return tuple(f for f in self.features if f.kind == "category")

    @property
    def category_names(self) -> list[str]:
        return [f.name for f in self.category_features]

    @property
    def score_names(self) -> list[str]:
        return [f.name for f in self.features if f.kind == "score"]

    @property
    def missing_markers(self) -> list[str]:
        """Strings read as missing in tables: the usual blanks plus the schema's ``na_values``."""
        return list(dict.fromkeys((*DEFAULT_NA, *self.na_values)))

    def entity_id(self, profile: dict) -> str | None:
        """A profile's id under the schema's id column, as text (ids of any type)."""
        return as_text(profile.get(self.id)) if self.id else None

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    def allowed_values(self, column: str) -> tuple[str, ...]:
        """Known values of a segment column or category feature (empty when not known)."""
        if column in self.segment_values:
            return self.segment_values[column]
        for f in self.category_features:
            if f.name == column:
                return f.values
        return ()

    def with_learned_values(self, values: dict[str, tuple[str, ...]]) -> Schema:
        """Fill the values of segment columns and category features not declared in the file."""
        segments = {c: tuple(values[c]) for c in self.segments if c in values}
        features = tuple(
            replace(f, values=tuple(values[f.name])) if f.kind == "category" and not f.values and f.name in values else f
            for f in self.features
        )
        return replace(self, features=features, segment_values={**segments, **self.segment_values})

    def to_dict(self) -> dict:
        """The TOML shape (what ``parse_schema`` reads), with the known values."""
        d: dict[str, Any] = {"name": self.name, "features": [_feature_dict(f) for f in self.features]}
        d["entity"] = asdict(self.entity)
        for key in ("id", "time"):
            if getattr(self, key):
                d[key] = getattr(self, key)
        if self.na_values:
            d["na_values"] = list(self.na_values)
        if self.target:
            d["target"] = asdict(self.target)
            if self.target.kind == "numeric":
                del d["target"]["positive"]  # a numeric target has no positive class
        if self.segments:
            values = {k: list(v) for k, v in self.segment_values.items()}
            d["segments"] = {"columns": list(self.segments), "values": values}
        if self.drift:
            d["drift"] = self.drift
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Schema:
        from engine.schema.parsing import parse_schema  # parsing builds on this module

        return parse_schema(d)


def as_text(value: Any) -> str | None:
    """Text of a value, None when missing (floats that are whole numbers lose their '.0': 3.0 -> '3')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def list_values(values: tuple[str, ...] | list[str] | None) -> str:
    """'retail, technology, ...' (at most 12 shown), or 'a text value' when none are known."""
    if not values:
        return "a text value"
    shown = ", ".join(values[:12])
    return shown + (", ..." if len(values) > 12 else "")


def _feature_dict(f: Feature) -> dict:
    d = asdict(f)
    d["values"] = list(f.values)
    if not f.numeric:
        del d["better"]  # a direction belongs to scores and metrics only
    return {k: v for k, v in d.items() if v is not None and v != []}
