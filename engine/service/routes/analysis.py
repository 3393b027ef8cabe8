"""``analysis``: one profile (/analyze, /what-if) and a whole table (/score).

/analyze and /what-if are async: their short CPU work runs on the event loop, where a thread
hop would only add latency. /score runs in the thread pool.
"""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine.errors import DataError, ProfileError
from engine.schema import Schema
from engine.schema.tables import read_table_bytes
from engine.service.auth import CLIENT
from engine.service.contracts import MAX_ROWS
from engine.service.limits import MAX_COLUMNS
from engine.service.problems import message, profile_problems
from engine.service.responses import BAD, AnalysisOut, ScoreOut, WhatIfOut, dumps, json_response
from engine.service.serving import Served

router = APIRouter(tags=["analysis"], dependencies=CLIENT)


@router.post(
    "/analyze",
    response_model=None,
    responses={200: {"model": AnalysisOut}, **BAD},
    openapi_extra={"x-contract": "profile"},
)
async def analyze(request: Request) -> Response:
    """Analyse one profile: segment, anomalies, recommendations, similar entities,
    percentiles and (with a target) the outcome prediction with its SHAP explanation."""
    state = request.app.state
    champion = state.serving.current()
    contracts = champion.contracts
    profile = contracts.parse(contracts.profile, await request.body()).model_dump(by_alias=True)
    alias, served, shadow = state.serving.route(champion.model.schema.entity_id(profile))
    try:
        result, body = served.analyze(profile)
    except ProfileError:
        if served is champion:
            raise
        # The challenger's schema does not take this profile: the champion serves it.
        alias, served, shadow = "champion", champion, None
        result, body = served.analyze(profile)
    prediction_id = await state.predictions.write(result, alias, shadow)
    # The cached JSON object, closed with this request's alias and prediction id.
    tail = b',"alias":' + dumps(alias) + b',"prediction_id":' + dumps(prediction_id) + b"}"
    return Response(body[:-1] + tail, media_type="application/json")


@router.post(
    "/what-if",
    response_model=None,
    responses={200: {"model": WhatIfOut}, **BAD},
    openapi_extra={"x-contract": "what_if"},
)
async def what_if(request: Request) -> Response:
    """Outcome probability and SHAP contributions after changing some fields of a profile."""
    served = request.app.state.serving.current()
    req = served.contracts.parse(served.contracts.what_if, await request.body())
    profile = req.profile.model_dump(by_alias=True)
    changes = req.changes.model_dump(by_alias=True, exclude_none=True)
    try:
        result = served.model.what_if(profile, changes)
    except ProfileError as exc:
        raise profile_problems(
            exc, lambda f: ["body", "changes" if f in changes else "profile", f]
        ) from None
    out = {"profile": result.get("profile"), "prediction": result.get("prediction")}
    return json_response({"model_version": served.version, **out})


@router.post(
    "/score",
    response_model=None,
    responses={200: {"model": ScoreOut, "content": {"text/csv": {}}}, **BAD},
    openapi_extra={"x-contract": "score"},
)
async def score(request: Request) -> Response:
    """Batch analysis: JSON ``{"rows": [...]}`` or a CSV body (Content-Type: text/csv); one
    output row per input row. Send ``Accept: text/csv`` for a CSV answer."""
    served = request.app.state.serving.current()
    is_csv = request.headers.get("content-type", "").split(";")[0].strip().lower() == "text/csv"
    as_csv = "text/csv" in request.headers.get("accept", "")
    workspace = request.app.state.workspace
    # A slot first, then the body: a queued request holds neither a thread nor its table.
    async with request.app.state.heavy.slot() as slot:
        body = await request.body()
        return await slot.run(_score, workspace, served, body, is_csv, as_csv)


def _score(workspace, served: Served, body: bytes, is_csv: bool, as_csv: bool) -> Response:
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
    frame, _ = workspace.load_dataset(frame, schema)
    result = served.model.score(frame)
    if as_csv:
        return Response(result.to_csv(index=False), media_type="text/csv")
    # pandas writes the (possibly 100,000-row) table; NaN becomes null as with engine.encoding.
    head = dumps({"model_version": served.version})[:-1]  # '{"model_version":"v0001"' + rows
    rows_json = result.to_json(orient="records").encode()
    return Response(head + b',"rows":' + rows_json + b"}", media_type="application/json")


def _read_csv(body: bytes, schema: Schema) -> pd.DataFrame:
    try:
        frame = read_table_bytes("the CSV body", body, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)
    except DataError as exc:
        raise message(str(exc)) from None
    # The outcome column is not needed to score, and a batch without positives would fail
    # the dataset check for it.
    if schema.target is not None and schema.target.column in frame.columns:
        frame = frame.drop(columns=[schema.target.column])
    return frame
