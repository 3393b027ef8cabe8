"""Response shapes and JSON out.

Responses are written as JSON bytes directly with the project's one encoder
(``engine.encoding``: NaN/inf as null, numpy values as plain numbers); the models below only
document them in the OpenAPI document.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal

from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from engine import encoding
from engine.analysis.results import JSON_FIELDS, Analysis
from engine.service.auth import TOKEN_ENV


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (``engine.encoding.dumps_bytes``)."""
    return encoding.dumps_bytes(value)


def json_response(value: Any, status_code: int = 200) -> Response:
    return Response(content=dumps(value), status_code=status_code, media_type="application/json")


# ----- errors -------------------------------------------------------------------------------
class ProblemOut(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ProblemsOut(BaseModel):
    detail: list[ProblemOut]


class MessageOut(BaseModel):
    detail: str


# The error answers an operation documents (``responses={...}`` of a route).
BAD = {422: {"model": ProblemsOut, "description": "Invalid input: every field-level problem."}}
UNPARSABLE = {400: {"model": MessageOut, "description": "The body is not JSON."}}
MISSING = {404: {"model": MessageOut, "description": "Unknown version or job."}}
CONFLICT = {
    409: {
        "model": MessageOut,
        "description": "Conflicting state (training running, tampered version, nothing to roll back to).",
    }
}
UNAUTHORIZED = {
    401: {
        "model": MessageOut,
        "description": f"Missing or wrong bearer token ({TOKEN_ENV} is set).",
    }
}


# ----- analysis -----------------------------------------------------------------------------
def _result_model(name: str, result: type, **extra) -> type[BaseModel]:
    """A response model generated from a typed engine result: its JSON fields with their
    types (so the OpenAPI document follows the result), plus the service's own fields."""
    hints = typing.get_type_hints(result)
    fields = {f.name: (hints[f.name], f.default if f.default is not dataclasses.MISSING else ...) for f in dataclasses.fields(result) if f.name in JSON_FIELDS}
    return create_model(name, __config__=ConfigDict(extra="allow"), **fields, **extra)


AnalysisOut = _result_model(
    "AnalysisOut",
    Analysis,
    alias=(Literal["champion", "challenger"], Field("champion", description="Which model served it (HOME setting challenger_share).")),
    prediction_id=(int | None, Field(None, description="Id in the prediction log; use it with /feedback.")),
)


class WhatIfOut(BaseModel):
    model_version: str | None
    profile: dict | None = None
    prediction: dict | None = Field(
        None,
        description="probability, label, base_value and SHAP contributions; null without an outcome model.",
    )


class ScoreOut(BaseModel):
    model_version: str | None
    rows: list[dict]


# ----- benchmarks ---------------------------------------------------------------------------
class CompareOut(BaseModel):
    model_version: str | None
    peer_group: dict
    percentiles: list[dict]


class SegmentsOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    model_version: str | None
    segments: list[dict]


class FeaturesOut(BaseModel):
    model_version: str | None
    schema_name: str
    segments: list[dict]
    target: dict | None
    features: list[dict]


# ----- models and jobs ----------------------------------------------------------------------
class ModelsOut(BaseModel):
    aliases: dict[str, str | None]
    versions: list[dict]


class AliasMoveOut(BaseModel):
    move: dict
    serving: str | None
    load_error: str | None = None


class JobOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    status: str
    stage: str | None = None
    progress: float = 0.0
    version: str | None = None
    result: dict | None = None
    error: str | None = None


# ----- monitoring ---------------------------------------------------------------------------
class FeedbackOut(BaseModel):
    count: int = Field(description="Rows recorded (same as 'recorded').")
    recorded: int = Field(description="Rows stored: a first outcome for their prediction (or entity and time), or a correction.")
    corrected: int = Field(description="Of the recorded rows, those that replaced a different outcome recorded earlier (the latest wins).")
    duplicates: int = Field(description="Rows already recorded (sent before, to this server or another), left as they were.")
    matched: int = Field(description="Rows sent that label a logged prediction.")
    unmatched: int = Field(description="Rows sent with no logged prediction at or before their time (yet).")


class AlertOut(BaseModel):
    id: int
    kind: str = Field(description="data_drift, column_drift, estimated_performance, realised_performance, feedback_ready or auto_retrain.")
    key: str = Field(description="What makes two raises the same alert (with kind).")
    severity: str
    message: str
    details: dict | None = None
    state: Literal["open", "acknowledged", "resolved"]
    count: int = Field(description="How often the condition was raised while unresolved.")
    created_at: str = Field(description="ISO time, UTC.")
    last_seen: str
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    resolved_at: str | None = None
    resolved_by: str | None = Field(None, description="'monitor: condition cleared' when a later check no longer finds it.")


class AlertsOut(BaseModel):
    alerts: list[AlertOut] = Field(description="Newest first, at most 200.")


MISSING_ALERT = {404: {"model": MessageOut, "description": "No alert with that id."}}
RESOLVED_ALERT = {409: {"model": MessageOut, "description": "The alert is resolved: it cannot be acknowledged."}}


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    model_version: str | None
    schema_name: str
    auth: Literal["bearer token", "open (local mode)"]
    local_mode: bool
    prediction_log: bool
    load_error: str | None = None
    signing: Literal["signed versions required", "unsigned"]
    signing_warning: str | None = None
