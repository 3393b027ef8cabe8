"""``monitoring``: feedback on earlier predictions, drift of the prediction log, alerts and
their lifecycle (acknowledge, resolve), health."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response

from engine.errors import BenchError
from engine.registry.signing import unsigned_warning
from engine.service.auth import CLIENT, Admin
from engine.service.contracts import FeedbackIn
from engine.service.problems import message
from engine.service.responses import (
    BAD,
    CONFLICT,
    MISSING_ALERT,
    RESOLVED_ALERT,
    UNAUTHORIZED,
    UNPARSABLE,
    AlertOut,
    AlertsOut,
    FeedbackOut,
    HealthOut,
    json_response,
)

router = APIRouter(tags=["monitoring"])


@router.post(
    "/feedback", response_model=None, responses={200: {"model": FeedbackOut}, **BAD, **UNPARSABLE, **UNAUTHORIZED}
)
def feedback(request: Request, body: FeedbackIn, actor: Admin) -> Response:
    """Record actual outcomes of earlier predictions (by prediction_id or the entity's id).
    A row already recorded, through this server or another on the same database, is counted
    in ``duplicates`` and left as it was; a different outcome later is a correction."""
    rows = [r.model_dump() for r in body.rows]
    try:
        result = request.app.state.workspace.monitoring.record_feedback(rows)
    except ValueError as exc:  # DataError, or the store naming an unknown prediction id
        raise message(exc, loc=("body", "rows")) from None
    return json_response({"count": result["recorded"], **result})


@router.get(
    "/drift",
    dependencies=CLIENT,
    response_model=None,
    responses={200: {"description": "The drift report (DESIGN: drift)."}, **CONFLICT},
)
def drift(
    request: Request,
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
    try:
        return json_response(request.app.state.workspace.monitoring.drift(days=days))
    except ValueError as exc:  # e.g. nothing logged in the window yet: not the caller's input
        if not isinstance(exc, BenchError):
            raise
        raise HTTPException(409, str(exc)) from None


# Beyond a 64-bit id the databases cannot even compare it: refused as invalid input (422).
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The alert's id (GET /alerts).")]


def _alert_out(alert: dict) -> dict:
    """The alert as the API shows it: its lifecycle ``state`` stands in for the stored status
    (which reads 'open' for an acknowledged alert)."""
    return {k: v for k, v in alert.items() if k != "status"}


@router.get("/alerts", dependencies=CLIENT, response_model=None, responses={200: {"model": AlertsOut}, **BAD})
def alerts(
    request: Request,
    state: Annotated[
        Literal["open", "acknowledged", "resolved", "all"] | None,
        Query(description="Which alerts (default: those not resolved, open or acknowledged)."),
    ] = None,
) -> Response:
    """Monitoring alerts, newest first, with who acknowledged or resolved them and when."""
    monitoring = request.app.state.workspace.monitoring
    if state is None:
        found = monitoring.alerts(open_only=True)
    else:
        found = monitoring.alerts(state=None if state == "all" else state)
    return json_response({"alerts": [_alert_out(a) for a in found]})


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=None,
    responses={200: {"model": AlertOut}, **UNAUTHORIZED, **MISSING_ALERT, **RESOLVED_ALERT, **BAD},
)
def acknowledge_alert(request: Request, alert_id: AlertId, actor: Admin) -> Response:
    """Mark an open alert as seen (it stays unresolved; raising it again only bumps its count).
    Acknowledging it twice changes nothing."""
    alert = request.app.state.workspace.monitoring.acknowledge_alert(alert_id, by=actor)
    return json_response(_alert_out(alert))


@router.post(
    "/alerts/{alert_id}/resolve",
    response_model=None,
    responses={200: {"model": AlertOut}, **UNAUTHORIZED, **MISSING_ALERT, **BAD},
)
def resolve_alert(request: Request, alert_id: AlertId, actor: Admin) -> Response:
    """Close an alert; the next raise of the same condition opens a new one. Resolving it twice
    changes nothing."""
    alert = request.app.state.workspace.monitoring.resolve_alert(alert_id, by=actor)
    return json_response(_alert_out(alert))


@router.get("/health", response_model=None, responses={200: {"model": HealthOut}})
async def health(request: Request) -> Response:
    """Liveness, the served model version, and whether admin endpoints need a token."""
    state = request.app.state
    served = state.serving.current()
    load_error = state.workspace.load_error
    return json_response(
        {
            "status": "degraded" if load_error else "ok",
            "model_version": served.version,
            "schema_name": served.model.schema.name,
            "auth": "bearer token" if state.token else "open (local mode)",
            "local_mode": not state.token,
            "prediction_log": True,
            "load_error": load_error,
            "signing": "unsigned" if unsigned_warning() else "signed versions required",
            "signing_warning": unsigned_warning(),
        }
    )
