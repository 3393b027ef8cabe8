"""Request models: those generated from the served dataset schema (so ``/openapi.json`` lists
the real features, kinds, bounds and segment values) and the static admin bodies.

Pydantic checks the JSON shape and the bounds the schema declares; the engine's
``validate_profile`` (inside ``Analyzer.analyze``) stays the one rule, so both read the same
schema and a profile accepted here is never refused by the engine for another reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from engine.schema import Feature, Schema
from engine.service.problems import Problems

MAX_ROWS = 100_000  # per /score or /feedback request
ID_MAX_LENGTH = 128  # the prediction log's company_id column

_STRICT = ConfigDict(strict=True, extra="ignore", populate_by_name=True)
# Only the named fields, at least one of them (so the OpenAPI document says what is accepted).
_STRICT_CLOSED = ConfigDict(
    strict=True, extra="forbid", populate_by_name=True, json_schema_extra={"minProperties": 1}
)


# ----- field types of one schema ------------------------------------------------------------
def feature_type(f: Feature, optional: bool, nullable: bool = True) -> tuple:
    """(type, Field) of one feature: a finite number within the feature's bounds, yes/no for a
    binary feature (true/false, 1/0 or words such as "Yes"), one of the values of a category."""
    text = f.label + (f" ({f.unit})" if f.unit else "") + f"; {f.kind}"
    text += {"higher": ", higher is better.", "lower": ", lower is better.", "none": "."}[f.better]
    if optional:
        text += " Optional: null or absent means unknown."
    if f.kind == "binary":
        text += " Expected " + f.expected + "."
        value = bool | Literal[0, 1] | Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
    elif f.kind == "category":
        value = Literal[tuple(f.values)] if f.values else Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
    else:
        value = Annotated[float, Field(ge=f.min, le=f.max, allow_inf_nan=False)]
    kind = value | None if optional and nullable else value
    field = Field(None if optional else ..., alias=f.name, title=f.label, description=text)
    return kind, field


def segment_type(schema: Schema, column: str, optional: bool) -> tuple:
    """(type, Field) of one segment column: an enum of its known values, else short text."""
    values = schema.segment_values.get(column)
    kind = (
        Literal[tuple(values)]
        if values
        else Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
    )
    text = f"Peer-group key '{column}'" + (f"; one of {len(values)} values." if values else ".")
    if optional:
        return kind | None, Field(None, alias=column, description=text + " Null or absent: unknown (broader peers).")
    return kind, Field(..., alias=column, description=text)


def _id_field(schema: Schema) -> tuple:
    # Lax int: JSON Schema counts 3.0 as an integer.
    id_type = (
        Annotated[str, Field(max_length=ID_MAX_LENGTH)] | Annotated[int, Field(strict=False)] | None
    )
    text = "Row identity (optional); used to match feedback."
    return id_type, Field(None, alias=schema.id, description=text)


def profile_model(
    name: str,
    schema: Schema,
    *,
    features_optional: bool,
    segments: str,
    with_id: bool,
    doc: str,
    config: ConfigDict | None = None,
    nullable: bool = True,
    honour_required: bool = True,
) -> type[BaseModel]:
    """A profile-shaped model. ``segments``: "required", "optional" or "none" (left out)."""
    # Field names are positional placeholders with the real column as alias, so a column called
    # e.g. "json" or "model_config" cannot clash with pydantic's own attributes.
    fields: dict[str, tuple] = {}
    for i, column in enumerate(schema.segments if segments != "none" else ()):
        fields[f"s{i}"] = segment_type(schema, column, segments == "optional")
    for i, f in enumerate(schema.features):
        fields[f"f{i}"] = feature_type(f, features_optional and not (f.required and honour_required), nullable)
    if with_id and schema.id:
        fields["row_id"] = _id_field(schema)
    return create_model(name, __config__=config or _STRICT, __doc__=doc, **fields)


# ----- the contracts of one schema ----------------------------------------------------------
@dataclass(frozen=True)
class Contracts:
    """The request models of one dataset schema."""

    schema: Schema
    profile: type[BaseModel]
    what_if: type[BaseModel]
    compare: type[BaseModel]
    score: type[BaseModel]

    def parse(self, model: type[BaseModel], body: bytes) -> BaseModel:
        """Validate a JSON body; raises Problems listing every field-level problem."""
        try:
            return model.model_validate_json(body)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False, include_input=False)
            raise Problems([self._problem(e) for e in errors]) from None

    def _problem(self, error: dict) -> dict:
        loc = ["body", *error["loc"]]
        msg = error["msg"]
        if error["type"] == "missing":
            column = loc[-1]
            if column in self.schema.feature_names:
                msg += f"; expected {self.schema.feature(column).expected}"
            elif column in self.schema.segment_values:
                msg += "; expected one of " + ", ".join(self.schema.segment_values[column][:12])
        return {"loc": loc, "msg": msg, "type": error["type"]}


def _profile_models(schema: Schema) -> tuple[type[BaseModel], ...]:
    """-> (Profile, ProfileChanges, FeatureValues). Any feature not marked required and any
    segment value may be null or absent: the analysis works without it and lists it."""
    noun = schema.entity.singular
    return (
        profile_model(
            "Profile", schema, features_optional=True, segments="optional", with_id=True,
            doc=f"One {noun}: segment columns and features; unknown ones may be null or absent.",
        ),
        profile_model(
            "ProfileChanges", schema, features_optional=True, segments="optional", with_id=False,
            doc="Fields to change; null or absent fields stay as they are.", honour_required=False,
        ),
        profile_model(
            "FeatureValues", schema, features_optional=True, segments="none", with_id=False,
            doc="Feature values to rank; give at least one.", config=_STRICT_CLOSED, nullable=False, honour_required=False,
        ),
    )  # fmt: skip


def build_contracts(schema: Schema) -> Contracts:
    """Request models (pydantic) for a dataset schema: bounds, enums and labels included."""
    profile, changes, values = _profile_models(schema)
    peers = create_model(
        "PeerGroup",
        __config__=ConfigDict(strict=True, extra="forbid", populate_by_name=True),
        __doc__="The peer group: one value per segment column.",
        **{f"s{i}": segment_type(schema, c, False) for i, c in enumerate(schema.segments)},
    )
    what_if = create_model(
        "WhatIfRequest",
        __config__=_STRICT,
        profile=(profile, Field(..., description=f"The {schema.entity.singular} as it is.")),
        changes=(changes, Field(default_factory=changes, description="The fields to change.")),
    )
    peer_default = ... if schema.segments else peers()
    compare = create_model(
        "CompareRequest",
        __config__=_STRICT,
        values=(values, Field(..., description="Feature values to rank against the peer group.")),
        peer_group=(peers, Field(peer_default, description="Segment values of the peer group.")),
    )
    rows = Field(..., min_length=1, max_length=MAX_ROWS, description=f"{schema.entity.plural.capitalize()} to score.")
    score = create_model("ScoreRequest", __config__=_STRICT, rows=(list[profile], rows))
    return Contracts(schema, profile, what_if, compare, score)


def add_request_bodies(doc: dict, contracts: Contracts) -> None:
    """Put the schema-generated request models into an OpenAPI document (operations marked
    with ``x-contract``: the name of a ``Contracts`` field)."""
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for operations in doc.get("paths", {}).values():
        for op in operations.values():
            name = op.pop("x-contract", None)
            if name is None:
                continue
            model = getattr(contracts, name)
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[model.__name__] = schema
            ref = {"$ref": f"#/components/schemas/{model.__name__}"}
            content = {"application/json": {"schema": ref}}
            if name == "score":
                text = "A CSV table with a header row: segment columns and features."
                content["text/csv"] = {
                    "schema": {"type": "string", "minLength": 1, "description": text}
                }
            op["requestBody"] = {"required": True, "content": content}


# ----- static request bodies ----------------------------------------------------------------
class ReasonIn(BaseModel):
    reason: str | None = Field(None, max_length=500, description="Why; kept in the audit log.")


class TrainIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    data: str | None = Field(
        None,
        max_length=4096,
        description="CSV/Parquet path on the server (default: the built-in dataset's table in HOME/demo).",
    )
    schema_path: str | None = Field(
        None,
        alias="schema",
        max_length=4096,
        description="Schema TOML path on the server (default: HOME/demo/schema.toml).",
    )
    promote: bool = Field(True, description="Promote when the new version passes the quality gate.")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    k: int | None = Field(
        None, ge=2, le=30, description="Number of segments (default: chosen by silhouette)."
    )
    force: bool = Field(
        False,
        description="Train even when a version was trained on the same data, schema and parameters "
        "(otherwise the job succeeds at once with that version and `unchanged` true).",
    )


_EntityId = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)] | Annotated[int, Field(strict=True)] | None


class FeedbackRow(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["prediction_id"]}, {"required": ["entity_id"]}, {"required": ["company_id"]}]
        },
    )
    prediction_id: int = Field(None, ge=1, le=2**63 - 1, description="From an /analyze response.")
    entity_id: _EntityId = Field(None, description="The entity's id (the value of the schema's id column); matches its latest prediction before ``ts``.")
    company_id: _EntityId = Field(None, description="The former name of ``entity_id`` (kept for existing clients).")
    outcome: Literal[0, 1]
    ts: datetime | None = Field(None, description="When the outcome was observed (default: now).")

    @model_validator(mode="after")
    def _names_a_prediction(self) -> FeedbackRow:
        if self.prediction_id is None and self.entity_id is None and self.company_id is None:
            raise ValueError("give a prediction_id or an entity_id")
        return self


class FeedbackIn(BaseModel):
    rows: list[FeedbackRow] = Field(..., min_length=1, max_length=MAX_ROWS)
