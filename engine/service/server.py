"""HTTP API over the engine: ``python -m engine serve`` runs ``create_app(home)`` under uvicorn.

Every endpoint calls ``engine.api``; this module only translates HTTP to those calls and back.

- Request models are generated from the served version's dataset schema (features with their
  bounds and labels, segment values as enums), so ``/openapi.json`` documents the real
  contract. They are rebuilt, with the OpenAPI document, when a promotion or rollback changes
  the schema being served.
- The champion is loaded once and kept in ``app.state.models``; each request checks (one
  ``stat`` call) whether ``HOME/models/aliases.json`` changed and reloads the champion when
  another process or endpoint moved it. A version that fails to load leaves the previous one
  serving, and ``/health`` says so.
- User mistakes never give a 5xx: invalid input -> 422 listing every field problem, unknown
  version or job -> 404, tampered version or training already running -> 409, missing or wrong
  bearer token on admin endpoints -> 401.
- Every ``/analyze`` result goes to the prediction log (``api.log_analyses``) from one writer
  thread that commits whatever requests arrived meanwhile in one transaction ("group commit");
  the response carries the new ``prediction_id`` for ``/feedback``.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import io
import json
import logging
import os
import queue
import socket
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator
from starlette.concurrency import run_in_threadpool

from engine import api
from engine.encoding import finite
from engine.errors import (
    BenchError,
    DataError,
    IntegrityError,
    ModelNotFoundError,
    ProfileError,
    TrainingBusyError,
)
from engine.schema import Feature, Schema

log = logging.getLogger("engine.service.server")

TOKEN_ENV = "BENCHAI_API_TOKEN"
MAX_ROWS = 100_000  # per /score or /feedback request
LOG_BATCH = 256  # analyses per prediction-log transaction
ANALYSIS_CACHE = 1024  # recent analyses kept per served version (about 35 kB each)
TRAIN_START_WAIT_S = 5.0  # how long POST /train waits to report a busy lock or bad files at once
ID_MAX_LENGTH = 128  # the prediction log's company_id column

try:  # orjson is optional: about 5x faster on the analysis JSON, and writes NaN as null
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None


# ----- JSON out -----------------------------------------------------------------------------
def _default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, datetime | date | pd.Timestamp):
        return o.isoformat()
    if isinstance(o, set | frozenset | tuple):
        return list(o)
    return str(o)


def dumps(obj: Any) -> bytes:
    """JSON bytes with NaN/inf written as null and numpy values as plain numbers."""
    if orjson is not None:
        return orjson.dumps(
            obj, default=_default, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
        )
    try:  # fast path; most payloads hold no NaN
        return json.dumps(obj, default=_default, allow_nan=False, separators=(",", ":")).encode()
    except ValueError:
        return json.dumps(
            finite(obj), default=_default, allow_nan=False, separators=(",", ":")
        ).encode()


def _json(obj: Any, status_code: int = 200) -> Response:
    return Response(content=dumps(obj), status_code=status_code, media_type="application/json")


# ----- errors -------------------------------------------------------------------------------
class Problems(Exception):
    """A 422 with a FastAPI-style detail list: ``[{"loc": [...], "msg": ..., "type": ...}]``."""

    def __init__(self, detail: list[dict]):
        self.detail = detail
        super().__init__(detail)


def _profile_problems(exc: ProfileError, where: Callable[[str], list]) -> Problems:
    return Problems(
        [
            {"loc": where(p["field"]), "msg": p["problem"], "type": "value_error.profile"}
            for p in exc.problems
        ]
    )


def _message(exc: Exception, kind: str = "value_error", loc: tuple = ("body",)) -> Problems:
    return Problems([{"loc": list(loc), "msg": str(exc), "type": kind}])


def _install_error_handlers(app: FastAPI) -> None:
    async def problems(_request: Request, exc: Problems) -> Response:
        return _json({"detail": exc.detail}, 422)

    async def status(code: int, exc: Exception) -> Response:
        return _json({"detail": str(exc)}, code)

    async def profile_error(_request: Request, exc: ProfileError) -> Response:
        return await problems(_request, _profile_problems(exc, lambda f: ["body", f]))

    async def not_found(_request: Request, exc: Exception) -> Response:
        return await status(404, exc)

    async def conflict(_request: Request, exc: Exception) -> Response:
        return await status(409, exc)

    async def bench_error(_request: Request, exc: BenchError) -> Response:
        # Any other deliberate engine error: input at fault (ValueError) -> 422, else 400.
        if isinstance(exc, ValueError):
            return await problems(_request, _message(exc))
        return await status(400, exc)

    app.add_exception_handler(Problems, problems)
    app.add_exception_handler(ProfileError, profile_error)
    app.add_exception_handler(ModelNotFoundError, not_found)
    app.add_exception_handler(IntegrityError, conflict)
    app.add_exception_handler(TrainingBusyError, conflict)
    app.add_exception_handler(BenchError, bench_error)


# ----- request contracts generated from the dataset schema ---------------------------------
def _feature_type(f: Feature, optional: bool, nullable: bool = True) -> tuple:
    text = f.label + (f" ({f.unit})" if f.unit else "") + f"; {f.kind}"
    text += {"higher": ", higher is better.", "lower": ", lower is better.", "none": "."}[f.better]
    if optional:
        text += " Optional: null or absent means unknown."
    number = Annotated[float, Field(ge=f.min, le=f.max, allow_inf_nan=False)]
    kind = number | None if optional and nullable else number
    field = Field(None if optional else ..., alias=f.name, title=f.label, description=text)
    return kind, field


def _segment_type(schema: Schema, column: str, optional: bool) -> tuple:
    values = schema.segment_values.get(column)
    kind = (
        Literal[tuple(values)]
        if values
        else Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
    )
    text = f"Peer-group key '{column}'" + (f"; one of {len(values)} values." if values else ".")
    if optional:
        return kind | None, Field(
            None, alias=column, description=text + " Null or absent: unchanged."
        )
    return kind, Field(..., alias=column, description=text)


_STRICT = ConfigDict(strict=True, extra="ignore", populate_by_name=True)
# Only the named fields, at least one of them (so the OpenAPI document says what is accepted).
_STRICT_CLOSED = ConfigDict(
    strict=True, extra="forbid", populate_by_name=True, json_schema_extra={"minProperties": 1}
)


def _profile_model(
    name: str,
    schema: Schema,
    *,
    features_optional: bool,
    segments: str,
    with_id: bool,
    doc: str,
    config: ConfigDict | None = None,
    nullable: bool = True,
) -> type[BaseModel]:
    """``segments``: "required", "optional" or "none" (left out)."""
    # Field names are positional placeholders with the real column as alias, so a column called
    # e.g. "json" or "model_config" cannot clash with pydantic's own attributes.
    fields: dict[str, tuple] = {}
    for i, column in enumerate(schema.segments if segments != "none" else ()):
        fields[f"s{i}"] = _segment_type(schema, column, segments == "optional")
    for i, f in enumerate(schema.features):
        fields[f"f{i}"] = _feature_type(f, features_optional, nullable)
    if with_id and schema.id:
        # Lax int: JSON Schema counts 3.0 as an integer.
        id_type = (
            Annotated[str, Field(max_length=ID_MAX_LENGTH)]
            | Annotated[int, Field(strict=False)]
            | None
        )
        fields["row_id"] = (
            id_type,
            Field(
                None,
                alias=schema.id,
                description="Row identity (optional); used to match feedback.",
            ),
        )
    return create_model(name, __config__=config or _STRICT, __doc__=doc, **fields)


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
            raise Problems(
                [
                    self._problem(e)
                    for e in exc.errors(
                        include_url=False, include_context=False, include_input=False
                    )
                ]
            ) from None

    def _problem(self, error: dict) -> dict:
        loc = ["body", *error["loc"]]
        msg = error["msg"]
        if error["type"] == "missing" and loc:
            column = loc[-1]
            if column in self.schema.feature_names:
                msg += f"; expected {self.schema.feature(column).expected}"
            elif column in self.schema.segment_values:
                msg += "; expected one of " + ", ".join(self.schema.segment_values[column][:12])
        return {"loc": loc, "msg": msg, "type": error["type"]}


def build_contracts(schema: Schema) -> Contracts:
    """Request models (pydantic) for a dataset schema: bounds, enums and labels included."""
    profile = _profile_model(
        "Profile",
        schema,
        features_optional=False,
        segments="required",
        with_id=True,
        doc="One company: every segment column and every feature.",
    )
    partial = _profile_model(
        "PartialProfile",
        schema,
        features_optional=True,
        segments="required",
        with_id=True,
        doc="One company; unknown features may be null or absent.",
    )
    changes = _profile_model(
        "ProfileChanges",
        schema,
        features_optional=True,
        segments="optional",
        with_id=False,
        doc="Fields to change; null or absent fields stay as they are.",
    )
    values = _profile_model(
        "FeatureValues",
        schema,
        features_optional=True,
        segments="none",
        with_id=False,
        doc="Feature values to rank; give at least one.",
        config=_STRICT_CLOSED,
        nullable=False,
    )
    peers = create_model(
        "PeerGroup",
        __config__=ConfigDict(strict=True, extra="forbid", populate_by_name=True),
        __doc__="The peer group: one value per segment column.",
        **{f"s{i}": _segment_type(schema, c, False) for i, c in enumerate(schema.segments)},
    )
    what_if = create_model(
        "WhatIfRequest",
        __config__=_STRICT,
        profile=(partial, Field(..., description="The company as it is.")),
        changes=(changes, Field(default_factory=changes, description="The fields to change.")),
    )
    compare = create_model(
        "CompareRequest",
        __config__=_STRICT,
        values=(values, Field(..., description="Feature values to rank against the peer group.")),
        peer_group=(
            peers,
            Field(
                ... if schema.segments else peers(), description="Segment values of the peer group."
            ),
        ),
    )
    score = create_model(
        "ScoreRequest",
        __config__=_STRICT,
        rows=(
            list[partial],
            Field(..., min_length=1, max_length=MAX_ROWS, description="Companies to score."),
        ),
    )
    return Contracts(schema, profile, what_if, compare, score)


# ----- response shapes (documentation; responses are written as JSON bytes directly) --------
class ProblemOut(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ProblemsOut(BaseModel):
    detail: list[ProblemOut]


class MessageOut(BaseModel):
    detail: str


class AnalysisOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    model_version: str | None
    alias: Literal["champion", "challenger"] = Field(
        "champion", description="Which model served it (HOME setting challenger_share)."
    )
    prediction_id: int | None = Field(
        None, description="Id in the prediction log; use it with /feedback."
    )
    profile: dict
    segment: dict
    anomalies: list[dict]
    recommendations: list[dict]
    similar: list[dict]
    percentiles: list[dict]
    prediction: dict | None = None


class WhatIfOut(BaseModel):
    model_version: str | None
    profile: dict | None = None
    prediction: dict | None = Field(
        None,
        description="probability, label, base_value and SHAP contributions; null without an outcome model.",
    )


class CompareOut(BaseModel):
    model_version: str | None
    peer_group: dict
    percentiles: list[dict]


class ScoreOut(BaseModel):
    model_version: str | None
    rows: list[dict]


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


class FeedbackOut(BaseModel):
    count: int


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    model_version: str | None
    schema_name: str
    auth: Literal["bearer token", "open (local mode)"]
    local_mode: bool
    prediction_log: bool
    load_error: str | None = None


# ----- static request bodies ----------------------------------------------------------------
class ReasonIn(BaseModel):
    reason: str | None = Field(None, max_length=500, description="Why; kept in the audit log.")


class TrainIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    data: str | None = Field(
        None,
        max_length=4096,
        description="CSV/Parquet path on the server (default: HOME/demo/companies.csv).",
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


class FeedbackRow(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["prediction_id"]}, {"required": ["company_id"]}]
        },
    )
    prediction_id: int = Field(None, ge=1, le=2**63 - 1, description="From an /analyze response.")
    company_id: (
        Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
        | Annotated[int, Field(strict=True)]
    ) = Field(None, description="Matches the company's latest prediction before ``ts``.")
    outcome: Literal[0, 1]
    ts: datetime | None = Field(None, description="When the outcome was observed (default: now).")

    @model_validator(mode="after")
    def _names_a_prediction(self) -> FeedbackRow:
        if self.prediction_id is None and self.company_id is None:
            raise ValueError("give a prediction_id or a company_id")
        return self


class FeedbackIn(BaseModel):
    rows: list[FeedbackRow] = Field(..., min_length=1, max_length=MAX_ROWS)


# ----- the served model ---------------------------------------------------------------------
class Served:
    """One loaded version and what the API derives from it (all immutable per version)."""

    def __init__(self, model, contracts: Contracts, home: Path):
        self.model = model
        self.version: str | None = model.version
        self.contracts = contracts
        self._home = home
        self._details: dict | None = None
        self._lock = threading.Lock()
        self._analyses: OrderedDict[tuple, tuple] = OrderedDict()
        schema = model.schema
        self.features = {
            "model_version": self.version,
            "schema_name": schema.name,
            "segments": [
                {"column": c, "values": list(schema.segment_values.get(c, ()))}
                for c in schema.segments
            ],
            "target": None
            if schema.target is None
            else {
                "column": schema.target.column,
                "label": schema.target.label,
                "desirable": schema.target.desirable,
            },
            "features": [
                {
                    "name": f.name,
                    "label": f.label,
                    "kind": f.kind,
                    "better": f.better,
                    "min": f.min,
                    "max": f.max,
                    "unit": f.unit,
                    "action": f.action,
                }
                for f in schema.features
            ],
        }

    def analyze(self, profile: dict) -> tuple:
        """-> (Analysis, its JSON bytes). A version's analysis of a profile never changes, so
        recent results are kept (LRU): re-analysing a company, as a UI or a demo does, skips
        the models and the JSON encoding. Only the event loop calls this (no lock)."""
        key = tuple(profile.values())  # the validated profile: fixed field order
        hit = self._analyses.get(key)
        if hit is not None:
            self._analyses.move_to_end(key)
            return hit
        result = api.analyze(profile, model=self.model)
        hit = self._analyses[key] = (result, dumps(result.to_dict()))
        if len(self._analyses) > ANALYSIS_CACHE:
            self._analyses.popitem(last=False)
        return hit

    def details(self) -> dict:
        """``api.version_details`` of this version, read (and hash-verified) once."""
        with self._lock:
            if self._details is None:
                self._details = api.version_details(self.version, home=self._home)
            return self._details


def _stat(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class ModelHolder:
    """The champion (and challenger) being served, and HOME's serving settings.

    Each request checks, with one ``stat`` per file, whether ``models/aliases.json`` or
    ``settings.json`` changed, and reloads what moved: promotions, rollbacks and settings
    changes made by another process or endpoint take effect at the next request.
    """

    def __init__(self, home: Path, on_change: Callable[[], None] = lambda: None):
        self.home = home
        self._aliases = home / "models" / "aliases.json"
        self._settings = home / "settings.json"
        self._lock = threading.Lock()
        self._contracts: dict[str, Contracts] = {}
        self._on_change = on_change
        self.load_error: str | None = None
        self._stamps = (_stat(self._aliases), _stat(self._settings))
        self.served = self._load("champion")
        self.challenger: Served | None = None
        self.settings: dict = {}
        self._refresh(self._stamps, force=True)

    def _load(self, ref: str) -> Served:
        model = api.load_model(ref, home=self.home)
        key = json.dumps(model.schema.to_dict(), sort_keys=True, default=str)
        if key not in self._contracts:
            self._contracts[key] = build_contracts(model.schema)
        return Served(model, self._contracts[key], self.home)

    def current(self) -> Served:
        """The champion, reloaded first if an alias or the settings moved (two stat calls)."""
        stamps = (_stat(self._aliases), _stat(self._settings))
        if stamps != self._stamps:
            self._refresh(stamps)
        return self.served

    def route(self, company_id) -> tuple[str, Served, Served | None]:
        """Like the app: -> (alias, version that serves this company, shadow version or None).

        The challenger serves a stable hash-share of companies (setting ``challenger_share``);
        with ``shadow`` on it also scores, unserved, what the champion serves.
        """
        champion, challenger, cfg = self.served, self.challenger, self.settings  # after current()
        if challenger is None:
            return "champion", champion, None
        if (
            cfg.get("challenger_share", 0) > 0
            and api.serving_alias(company_id, home=self.home) == "challenger"
        ):
            return "challenger", challenger, None
        return "champion", champion, challenger if cfg.get("shadow") else None

    def _refresh(self, stamps: tuple, force: bool = False) -> None:
        with self._lock:
            if stamps == self._stamps and not force:
                return  # another request reloaded meanwhile
            self._stamps = stamps
            if hasattr(api, "settings"):
                try:
                    self.settings = api.settings(home=self.home)
                except (OSError, ValueError) as exc:  # mid-write: keep the last good settings
                    log.warning(
                        "settings of %s unreadable, keeping the previous ones: %s", self.home, exc
                    )
            try:
                aliases = json.loads(self._aliases.read_text())
            except (OSError, ValueError):
                return  # mid-replace or unreadable: keep serving, retry on the next change
            champion, challenger = aliases.get("champion"), aliases.get("challenger")
            if champion and champion != self.served.version:
                try:
                    served = self._load(champion)
                except (BenchError, OSError) as exc:
                    self.load_error = f"champion {champion} could not be loaded, still serving {self.served.version}: {exc}"
                    log.error(self.load_error)
                else:
                    schema_changed = served.contracts is not self.served.contracts
                    self.served, self.load_error = served, None
                    log.info("now serving %s", champion)
                    if schema_changed:
                        self._on_change()
            if (self.challenger.version if self.challenger else None) != challenger:
                self.challenger = None
                if challenger and challenger != self.served.version:
                    try:
                        self.challenger = self._load(challenger)
                    except (BenchError, OSError) as exc:
                        log.error(
                            "challenger %s could not be loaded; the champion serves everyone: %s",
                            challenger,
                            exc,
                        )


# ----- the prediction log -------------------------------------------------------------------
class PredictionLog:
    """Writes analyses to the prediction log from one thread, many per transaction.

    Requests wait for their row id, so the response can name it; under load the writer
    commits everything that queued up during the previous commit at once. Shadow scoring
    (the challenger's unserved analysis) also runs here, off the response path.
    """

    def __init__(self, home: Path):
        self.home = home
        # TODO: without api.log_analyses (older facades) analyses are not logged.
        self._write = getattr(api, "log_analyses", None)
        self.enabled = self._write is not None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(
        self, analysis, alias: str = "champion", shadow: Served | None = None
    ) -> Future | None:
        """Queue one served analysis (and the shadow version to score the same profile with);
        the future resolves to the analysis' prediction id (None if not logged)."""
        if not self.enabled:
            return None
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="prediction-log", daemon=True
                    )
                    self._thread.start()
        future: Future = Future()
        self._queue.put((analysis, alias, future, shadow))
        return future

    def close(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            while len(batch) < LOG_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except Exception:  # keep the writer alive and never leave a request waiting
                log.exception("prediction log writer")
                for _, _, future, _ in batch:
                    if not future.done():
                        future.set_result(None)

    def _commit(self, batch: list) -> None:
        by_alias: dict[str, list] = {}
        for analysis, alias, future, shadow in batch:
            by_alias.setdefault(alias, []).append((analysis, future))
            if shadow is not None:
                try:
                    shadowed = api.analyze(analysis.profile, model=shadow.model)
                except ProfileError:
                    continue  # the challenger's schema does not take this profile
                except Exception:  # a failing shadow must never hold up the served requests
                    log.exception("shadow analysis with %s failed", shadow.version)
                    continue
                by_alias.setdefault("shadow", []).append((shadowed, None))
        done = []
        for alias, items in by_alias.items():
            try:
                ids = self._write([a for a, _ in items], home=self.home, alias=alias, source="api")
            except Exception:
                # Serving must not fail because monitoring storage does; the gap shows in the log.
                log.exception("could not write %d analyses to the prediction log", len(items))
                ids = [None] * len(items)
            done += [(future, row_id) for (_, future), row_id in zip(items, ids, strict=True)]
        for future, row_id in done:  # answer once the whole batch, shadows too, is written
            if future is not None:
                future.set_result(row_id)


# ----- training jobs ------------------------------------------------------------------------
class Trainer:
    """Runs ``api.train`` in a background thread; job records live in the operational store."""

    def __init__(self, home: Path, holder: ModelHolder):
        self.home = home
        self.holder = holder
        self._running = threading.Lock()  # one training per server process
        self._job: str | None = None

    def start(self, req: TrainIn, actor: str) -> dict:
        data, schema = req.data, req.schema_path
        if data is None or schema is None:
            demo = self.home / "demo"
            if not (demo / "companies.csv").is_file() or not (demo / "schema.toml").is_file():
                raise _message(
                    "give 'data' and 'schema' (paths on the server); there is no HOME/demo dataset to default to",
                    loc=("body",),
                )
            data = data or str(demo / "companies.csv")
            schema = schema or str(demo / "schema.toml")
        if not self._running.acquire(blocking=False):
            raise TrainingBusyError(
                f"Training already running (job {self._job}); wait for it to finish."
            )
        try:
            params = {
                "data": data,
                "schema": schema,
                "promote": req.promote,
                "seed": req.seed,
                "k": req.k,
                "actor": actor,
            }
            job_id = api.store(home=self.home).create_job("train", params)
        except BaseException:
            self._running.release()
            raise
        self._job = job_id
        started, failure = threading.Event(), []
        threading.Thread(
            target=self._run,
            args=(job_id, params, started, failure),
            name=f"train-{job_id}",
            daemon=True,
        ).start()
        # Wait until the run holds the HOME's training lock, so a busy lock or unreadable files
        # answer this request (409/422) rather than only the job record.
        started.wait(TRAIN_START_WAIT_S)
        if failure and isinstance(failure[0], BenchError):
            raise failure[0]
        return {**_job_out(api.store(home=self.home).job(job_id)), "url": f"/jobs/{job_id}"}

    def _run(self, job_id: str, params: dict, started: threading.Event, failure: list) -> None:
        store = api.store(home=self.home)

        def progress(stage: str, fraction: float) -> None:
            store.update_job(
                job_id, status="running", stage=stage, progress=min(max(fraction, 0.0), 1.0)
            )
            started.set()  # the first report comes once the training lock is held

        try:
            result = api.train(
                params["data"],
                params["schema"],
                home=self.home,
                promote=params["promote"],
                seed=params["seed"],
                k=params["k"],
                progress=progress,
                actor=params["actor"],
            )
        except Exception as exc:
            if not isinstance(exc, BenchError | ValueError):
                log.exception("training job %s failed", job_id)
            failure.append(exc)
            store.update_job(job_id, status="failed", message=str(exc) or type(exc).__name__)
        else:
            store.update_job(
                job_id,
                status="succeeded",
                stage="done",
                progress=1.0,
                version=result["version"],
                result=result,
                message=result["reason"],
            )
            self.holder.current()  # pick up a promotion at once
        finally:
            self._job = None
            self._running.release()
            started.set()


def _job_out(job: dict) -> dict:
    out = dict(job)
    out["error"] = job.get("message") if job.get("status") == "failed" else None
    return out


# ----- admin authentication -----------------------------------------------------------------
_bearer = HTTPBearer(
    auto_error=False,
    description=f"Admin endpoints need 'Authorization: Bearer <token>' when {TOKEN_ENV} is set.",
)


def _admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    """The actor of an admin call; 401 unless the bearer token matches (when one is set)."""
    token: str | None = request.app.state.token
    if not token:
        return "api (local mode)"
    given = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(given, token.encode()):
        raise HTTPException(
            401,
            "Admin endpoint: send 'Authorization: Bearer <token>' with the server's API token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return "api (token)"


Admin = Annotated[str, Depends(_admin)]


# ----- the app ------------------------------------------------------------------------------
def create_app(home: str | Path | None = None, *, token: str | None = None) -> FastAPI:
    """The FastAPI app serving HOME's champion. ``token`` (default: env BENCHAI_API_TOKEN)
    guards the admin endpoints; without one they are open (local mode).

    Raises ModelNotFoundError when HOME has no champion yet, IntegrityError when it is tampered.
    """
    home = Path(home) if home is not None else api.default_home()
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await run_in_threadpool(predictions.close)

    app = FastAPI(
        title="Benchmarking AI",
        version="1",
        description="Company benchmarking: segment, anomalies, recommendations, percentiles and outcome prediction for one company profile, "
        "batch scoring, benchmarks, model registry, training jobs, feedback and drift. Request bodies follow the served dataset schema.",
        lifespan=lifespan,
    )
    # A promotion to a version with another schema rebuilds the request models: regenerate
    # the OpenAPI document with them.
    holder = ModelHolder(home, on_change=lambda: setattr(app, "openapi_schema", None))
    predictions = PredictionLog(home)
    trainer = Trainer(home, holder)
    app.state.home = home
    app.state.models = holder
    app.state.predictions = predictions
    app.state.trainer = trainer
    app.state.token = token
    _install_error_handlers(app)
    bad = {422: {"model": ProblemsOut, "description": "Invalid input: every field-level problem."}}
    unparsable = {400: {"model": MessageOut, "description": "The body is not JSON."}}
    missing = {404: {"model": MessageOut, "description": "Unknown version or job."}}
    conflict = {
        409: {
            "model": MessageOut,
            "description": "Conflicting state (training running, tampered version, nothing to roll back to).",
        }
    }
    unauthorized = {
        401: {
            "model": MessageOut,
            "description": f"Missing or wrong bearer token ({TOKEN_ENV} is set).",
        }
    }

    # -- analysis (async: short CPU work runs on the loop; a thread hop only adds latency) ----
    @app.post(
        "/analyze",
        tags=["analysis"],
        response_model=None,
        responses={200: {"model": AnalysisOut}, **bad},
        openapi_extra={"x-contract": "profile"},
    )
    async def analyze(request: Request) -> Response:
        """Analyse one company profile: segment, anomalies, recommendations, similar companies,
        percentiles and (with a target) the outcome prediction with its SHAP explanation."""
        champion = holder.current()
        profile = champion.contracts.parse(
            champion.contracts.profile, await request.body()
        ).model_dump(by_alias=True)
        schema = champion.model.schema
        alias, served, shadow = holder.route(profile.get(schema.id) if schema.id else None)
        try:
            result, body = served.analyze(profile)
        except ProfileError:
            if served is champion:
                raise
            # The challenger's schema does not take this profile: the champion serves it.
            alias, served, shadow = "champion", champion, None
            result, body = served.analyze(profile)
        future = predictions.submit(result, alias, shadow)
        prediction_id = await asyncio.wrap_future(future) if future is not None else None
        # The cached JSON object, closed with this request's alias and prediction id.
        tail = b',"alias":' + dumps(alias) + b',"prediction_id":' + dumps(prediction_id) + b"}"
        return Response(body[:-1] + tail, media_type="application/json")

    @app.post(
        "/what-if",
        tags=["analysis"],
        response_model=None,
        responses={200: {"model": WhatIfOut}, **bad},
        openapi_extra={"x-contract": "what_if"},
    )
    async def what_if(request: Request) -> Response:
        """Outcome probability and SHAP contributions after changing some fields of a profile."""
        served = holder.current()
        req = served.contracts.parse(served.contracts.what_if, await request.body())
        profile = req.profile.model_dump(by_alias=True)
        changes = req.changes.model_dump(by_alias=True, exclude_none=True)
        try:
            result = api.what_if(profile, changes, model=served.model)
        except ProfileError as exc:
            raise _profile_problems(
                exc, lambda f: ["body", "changes" if f in changes else "profile", f]
            ) from None
        return _json(
            {
                "model_version": served.version,
                "profile": result.get("profile"),
                "prediction": result.get("prediction"),
            }
        )

    @app.post(
        "/benchmarks/compare",
        tags=["benchmarks"],
        response_model=None,
        responses={200: {"model": CompareOut}, **bad},
        openapi_extra={"x-contract": "compare"},
    )
    async def compare(request: Request) -> Response:
        """Percentile rank of the given feature values within a peer group (segment values)."""
        served = holder.current()
        req = served.contracts.parse(served.contracts.compare, await request.body())
        values = req.values.model_dump(by_alias=True, exclude_none=True)
        peer_group = req.peer_group.model_dump(by_alias=True)
        if not values:
            raise Problems(
                [
                    {
                        "loc": ["body", "values"],
                        "msg": "give at least one feature value; expected some of "
                        + ", ".join(served.model.schema.feature_names),
                        "type": "value_error",
                    }
                ]
            )
        # The facade's analyze has no partial mode; the served model's own analyze has.
        try:
            result = served.model.analyze({**peer_group, **values}, partial=True)
        except ProfileError as exc:
            raise _profile_problems(
                exc, lambda f: ["body", "values" if f in values else "peer_group", f]
            ) from None
        rows = [row for row in result.percentiles if row["feature"] in values]
        return _json(
            {"model_version": served.version, "peer_group": peer_group, "percentiles": rows}
        )

    @app.post(
        "/score",
        tags=["analysis"],
        response_model=None,
        responses={200: {"model": ScoreOut, "content": {"text/csv": {}}}, **bad},
        openapi_extra={"x-contract": "score"},
    )
    async def score(request: Request) -> Response:
        """Batch analysis: JSON ``{"rows": [...]}`` or a CSV body (Content-Type: text/csv); one
        output row per input row. Send ``Accept: text/csv`` for a CSV answer."""
        served = holder.current()
        body = await request.body()
        is_csv = request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv"
        as_csv = "text/csv" in request.headers.get("accept", "")
        return await run_in_threadpool(_score, served, body, is_csv, as_csv)

    # -- benchmarks -------------------------------------------------------------------------
    @app.get(
        "/benchmarks/segments",
        tags=["benchmarks"],
        response_model=None,
        responses={200: {"model": SegmentsOut}},
    )
    def segments(
        projection: Annotated[
            bool, Query(description="Include the 2-D projection of the training sample.")
        ] = False,
    ) -> Response:
        """Segments (personas) of the served version: name, size, description, centroid, outcome rate."""
        served = holder.current()
        insights = served.details()["insights"]
        out = {"model_version": served.version, "segments": insights.get("segments", [])}
        if projection:
            out["projection"] = insights.get("projection")
        return _json(out)

    @app.get(
        "/benchmarks/features",
        tags=["benchmarks"],
        response_model=None,
        responses={200: {"model": FeaturesOut}},
    )
    async def features() -> Response:
        """The dataset schema being served: features with bounds, kind, direction, label and action."""
        return _json(holder.current().features)

    # -- registry ---------------------------------------------------------------------------
    @app.get("/models", tags=["models"], response_model=None, responses={200: {"model": ModelsOut}})
    def models() -> Response:
        """Every registered version with its metrics, and where the aliases point."""
        versions = api.models(home=home)
        aliases: dict[str, str | None] = {"champion": None, "challenger": None}
        for v in versions:
            for alias in v.get("aliases", []):
                aliases[alias] = v["version"]
        return _json({"aliases": aliases, "versions": versions})

    def _moved(entry: dict) -> Response:
        served = holder.current()
        return _json({"move": entry, "serving": served.version, "load_error": holder.load_error})

    @app.post(
        "/models/{version}/promote",
        tags=["models"],
        response_model=None,
        responses={
            200: {"model": AliasMoveOut},
            **unauthorized,
            **missing,
            **conflict,
            **bad,
            **unparsable,
        },
    )
    def promote(version: str, actor: Admin, body: ReasonIn | None = None) -> Response:
        """Make a version the champion (after verifying its files); the server then serves it."""
        reason = (body.reason if body else None) or "promoted through the HTTP API"
        return _moved(api.promote(version, home=home, reason=reason, actor=actor))

    @app.post(
        "/models/rollback",
        tags=["models"],
        response_model=None,
        responses={200: {"model": AliasMoveOut}, **unauthorized, **conflict, **bad, **unparsable},
    )
    def rollback(actor: Admin, body: ReasonIn | None = None) -> Response:
        """Give the champion alias back to the previous champion."""
        reason = (body.reason if body else None) or "rolled back through the HTTP API"
        try:
            entry = api.rollback(home=home, reason=reason, actor=actor)
        except ModelNotFoundError as exc:
            raise HTTPException(409, str(exc)) from None
        return _moved(entry)

    # -- training ---------------------------------------------------------------------------
    @app.post(
        "/train",
        tags=["models"],
        status_code=202,
        response_model=None,
        responses={202: {"model": JobOut}, **unauthorized, **conflict, **bad, **unparsable},
    )
    def train(body: TrainIn, actor: Admin) -> Response:
        """Start a training run in the background; poll ``/jobs/{id}``. A busy training lock
        (409) or unreadable data or schema files (422) are reported at once when they show
        within a few seconds."""
        return _json(trainer.start(body, actor), 202)

    @app.get(
        "/jobs/{job_id}",
        tags=["models"],
        response_model=None,
        responses={200: {"model": JobOut}, **missing},
    )
    def job(job_id: str) -> Response:
        """Status, stage, progress (0..1) and result or error of a training job."""
        record = api.store(home=home).job(job_id)
        if record is None:
            raise HTTPException(404, f"Job '{job_id}' does not exist.")
        return _json(_job_out(record))

    # -- monitoring -------------------------------------------------------------------------
    @app.post(
        "/feedback",
        tags=["monitoring"],
        response_model=None,
        responses={200: {"model": FeedbackOut}, **bad, **unparsable},
    )
    def feedback(body: FeedbackIn) -> Response:
        """Record actual outcomes of earlier predictions (by prediction_id or company_id)."""
        rows = [r.model_dump() for r in body.rows]
        for r in rows:
            if r["company_id"] is not None:
                r["company_id"] = str(r["company_id"])
        try:
            if hasattr(api, "record_feedback"):
                count = api.record_feedback(rows, home=home)
            else:  # older facades: straight to the operational store
                count = api.store(home=home).add_feedback(rows)
        except ValueError as exc:  # DataError, or the store naming an unknown prediction id
            raise _message(exc, loc=("body", "rows")) from None
        return _json({"count": count})

    @app.get(
        "/drift",
        tags=["monitoring"],
        response_model=None,
        responses={
            200: {"description": "The drift report (DESIGN: drift)."},
            **conflict,
            501: {"model": MessageOut},
        },
    )
    def drift(
        days: Annotated[
            float | None,
            Query(
                gt=0,
                le=3650,
                description="Prediction-log window in days (default: the HOME's setting).",
            ),
        ] = None,
    ) -> Response:
        """Drift of the recently logged profiles against the served version's reference data."""
        if not hasattr(api, "drift"):
            raise HTTPException(
                501, "This engine has no drift report (engine.api.drift is missing)."
            )
        try:
            return _json(api.drift(home=home, days=days))
        except ValueError as exc:  # e.g. nothing logged in the window yet: not the caller's input
            if not isinstance(exc, BenchError):
                raise
            raise HTTPException(409, str(exc)) from None

    @app.get(
        "/health", tags=["monitoring"], response_model=None, responses={200: {"model": HealthOut}}
    )
    async def health() -> Response:
        """Liveness, the served model version, and whether admin endpoints need a token."""
        served = holder.current()
        return _json(
            {
                "status": "degraded" if holder.load_error else "ok",
                "model_version": served.version,
                "schema_name": served.model.schema.name,
                "auth": "bearer token" if token else "open (local mode)",
                "local_mode": not token,
                "prediction_log": predictions.enabled,
                "load_error": holder.load_error,
            }
        )

    def openapi() -> dict:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _add_request_bodies(doc, holder.served.contracts)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi
    return app


def _add_request_bodies(doc: dict, contracts: Contracts) -> None:
    """Put the schema-generated request models into the OpenAPI document (operations marked
    with ``x-contract``)."""
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
            content = {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            }
            if name == "score":
                content["text/csv"] = {
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "description": "A CSV table with a header row: segment columns and features.",
                    }
                }
            op["requestBody"] = {"required": True, "content": content}


def _score(served: Served, body: bytes, is_csv: bool, as_csv: bool) -> Response:
    """Parse a /score body (JSON rows or CSV), score it, and answer in JSON or CSV."""
    schema = served.model.schema
    if is_csv:
        frame = _read_csv(body, schema)
    else:
        rows = served.contracts.parse(served.contracts.score, body).rows
        columns = ([schema.id] if schema.id else []) + list(schema.segments) + schema.feature_names
        frame = pd.DataFrame.from_records(
            [r.model_dump(by_alias=True) for r in rows], columns=columns
        )
    result = api.score(frame, model=served.model)
    if as_csv:
        return Response(result.to_csv(index=False), media_type="text/csv")
    head = dumps({"model_version": served.version})[:-1]  # '{"model_version":"v0001"' + rows
    return Response(
        head + b',"rows":' + result.to_json(orient="records").encode() + b"}",
        media_type="application/json",
    )


def _read_csv(body: bytes, schema: Schema) -> pd.DataFrame:
    if not body.strip():
        raise _message("the CSV body is empty; expected a header row and at least one row")
    try:
        frame = pd.read_csv(io.BytesIO(body), encoding="utf-8")
    except UnicodeDecodeError:
        raise _message("the CSV body is not UTF-8 text") from None
    except Exception as exc:  # pandas raises many types for text that is not a table
        raise _message(f"the body could not be read as CSV: {exc}") from None
    if len(frame) > MAX_ROWS:
        raise _message(f"{len(frame)} rows; at most {MAX_ROWS} per request")
    # The outcome column is not needed to score, and a batch without positives would fail
    # the dataset check for it.
    if schema.target is not None and schema.target.column in frame.columns:
        frame = frame.drop(columns=[schema.target.column])
    return frame


# ----- command line -------------------------------------------------------------------------
WORKER_CRASH_WINDOW_S = 10.0  # a worker that dies this soon after starting is not restarted


@functools.cache
def _http_protocol() -> type:
    """uvicorn's HTTP protocol with TCP_NODELAY on every connection.

    asyncio sets it only on sockets whose proto is IPPROTO_TCP, and the socket uvicorn binds
    for its own multi-worker mode has proto 0: responses written in two parts (headers, body)
    then wait for the client's delayed ACK, about 40 ms each.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class NoDelayHTTPProtocol(AutoHTTPProtocol):
        def connection_made(self, transport) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)

    return NoDelayHTTPProtocol


def __getattr__(name: str):
    # uvicorn's worker processes import the protocol by name: engine.service.server:NoDelayHTTPProtocol
    if name == "NoDelayHTTPProtocol":
        return _http_protocol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def serve(
    home: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Run the API under uvicorn (``python -m engine serve``); blocks until stopped.

    With several workers each process loads the champion itself. On Linux every worker binds
    its own SO_REUSEPORT socket, so the kernel spreads connections evenly; with one shared
    socket (uvicorn's own workers) whichever worker wakes first accepts a whole burst of
    keep-alive connections and the others idle.
    """
    import uvicorn

    if workers < 1:
        raise DataError(f"--workers should be at least 1, got {workers}.")
    if not 0 <= port <= 65535:
        raise DataError(f"--port should be between 0 and 65535, got {port}.")
    home = Path(home) if home is not None else api.default_home()
    if workers == 1:
        uvicorn.run(
            create_app(home),
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
            http=_http_protocol(),
        )
        return
    api.load_model(home=home)  # fail here, with one clear message, rather than in every worker
    if not sys.platform.startswith("linux"):
        os.environ["BENCHAI_HOME"] = str(home.resolve())
        uvicorn.run(
            "engine.service.server:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=access_log,
            http="engine.service.server:NoDelayHTTPProtocol",
        )
        return
    if port == 0:
        raise DataError(
            "--port 0 (any free port) works with one worker only; give a port for --workers > 1."
        )
    _supervise(str(home.resolve()), host, port, workers, log_level, access_log)


def _reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(
        family, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )  # TCP proto: asyncio sets NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(home: str, host: str, port: int, log_level: str, access_log: bool) -> None:
    import uvicorn

    sock = _reuseport_socket(host, port)
    config = uvicorn.Config(
        create_app(home), log_level=log_level, access_log=access_log, http=_http_protocol()
    )
    uvicorn.Server(config).run(sockets=[sock])


def _supervise(
    home: str, host: str, port: int, workers: int, log_level: str, access_log: bool
) -> None:
    """Start ``workers`` processes on one port, restart any that dies, stop all on SIGINT/SIGTERM."""
    import multiprocessing
    import signal
    import time

    logging.basicConfig(level=log_level.upper(), format="%(levelname)s:     %(message)s")
    _reuseport_socket(host, port).close()  # a port in use fails here, once, not in each worker
    ctx = multiprocessing.get_context("spawn")  # the parent has loaded xgboost: no fork
    stopping = threading.Event()

    def start() -> tuple:
        proc = ctx.Process(
            target=_worker, args=(home, host, port, log_level, access_log), name="benchai-worker"
        )
        proc.start()
        return proc, time.monotonic()

    def stop(signum, _frame) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    procs = [start() for _ in range(workers)]
    log.info(
        "serving on http://%s:%d with %d workers (pids %s)",
        host,
        port,
        workers,
        [p.pid for p, _ in procs],
    )
    try:
        while not stopping.wait(0.5):
            for i, (proc, started) in enumerate(procs):
                if proc.is_alive():
                    continue
                if time.monotonic() - started < WORKER_CRASH_WINDOW_S:
                    log.error(
                        "worker %d exited with status %s right after starting; stopping",
                        proc.pid,
                        proc.exitcode,
                    )
                    stopping.set()
                    break
                log.warning(
                    "worker %d exited with status %s; starting another", proc.pid, proc.exitcode
                )
                procs[i] = start()
    finally:
        for proc, _ in procs:
            if proc.is_alive():
                proc.terminate()
        for proc, _ in procs:
            proc.join(30)
