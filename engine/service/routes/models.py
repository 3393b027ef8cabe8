"""``models``: the registry (list, promote, rollback) and training jobs. Changes need the admin
token when one is set."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from engine.errors import ModelNotFoundError
from engine.service.auth import CLIENT, Admin
from engine.service.contracts import ReasonIn, TrainIn
from engine.service.jobs import job_out
from engine.service.responses import (
    BAD,
    CONFLICT,
    MISSING,
    UNAUTHORIZED,
    UNPARSABLE,
    AliasMoveOut,
    JobOut,
    ModelsOut,
    json_response,
)

router = APIRouter(tags=["models"])


@router.get("/models", response_model=None, responses={200: {"model": ModelsOut}}, dependencies=CLIENT)
def models(request: Request) -> Response:
    """Every registered version with its metrics, and where the aliases point."""
    versions = request.app.state.workspace.models()
    aliases: dict[str, str | None] = {"champion": None, "challenger": None}
    for v in versions:
        for alias in v.get("aliases", []):
            aliases[alias] = v["version"]
    return json_response({"aliases": aliases, "versions": versions})


def _moved(request: Request, entry: dict) -> Response:
    """An alias move and what is served after it."""
    served = request.app.state.serving.current()
    load_error = request.app.state.workspace.load_error
    return json_response({"move": entry, "serving": served.version, "load_error": load_error})


@router.post(
    "/models/{version}/promote",
    response_model=None,
    responses={
        200: {"model": AliasMoveOut},
        **UNAUTHORIZED,
        **MISSING,
        **CONFLICT,
        **BAD,
        **UNPARSABLE,
    },
)
def promote(request: Request, version: str, actor: Admin, body: ReasonIn | None = None) -> Response:
    """Make a version the champion (after verifying its files); the server then serves it."""
    reason = (body.reason if body else None) or "promoted through the HTTP API"
    return _moved(request, request.app.state.workspace.promote(version, reason=reason, actor=actor))


@router.post(
    "/models/rollback",
    response_model=None,
    responses={200: {"model": AliasMoveOut}, **UNAUTHORIZED, **CONFLICT, **BAD, **UNPARSABLE},
)
def rollback(request: Request, actor: Admin, body: ReasonIn | None = None) -> Response:
    """Give the champion alias back to the previous champion."""
    reason = (body.reason if body else None) or "rolled back through the HTTP API"
    try:
        entry = request.app.state.workspace.rollback(reason=reason, actor=actor)
    except ModelNotFoundError as exc:  # nothing to roll back to: a state conflict, not a 404
        raise HTTPException(409, str(exc)) from None
    return _moved(request, entry)


@router.post(
    "/train",
    status_code=202,
    response_model=None,
    responses={202: {"model": JobOut}, **UNAUTHORIZED, **CONFLICT, **BAD, **UNPARSABLE},
)
def train(request: Request, body: TrainIn, actor: Admin) -> Response:
    """Start a training run in the background; poll ``/jobs/{id}``. A busy training lock
    (409) or unreadable data or schema files (422) are reported at once when they show
    within a few seconds."""
    return json_response(request.app.state.trainer.start(body, actor), 202)


@router.get("/jobs/{job_id}", response_model=None, responses={200: {"model": JobOut}, **MISSING}, dependencies=CLIENT)
def job(request: Request, job_id: str) -> Response:
    """Status, stage, progress (0..1) and result or error of a training job."""
    record = request.app.state.workspace.store.job(job_id)
    if record is None:
        raise HTTPException(404, f"Job '{job_id}' does not exist.")
    return json_response(job_out(record))
