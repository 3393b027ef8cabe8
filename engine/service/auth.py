"""Bearer tokens: the admin token for every state change (feedback, train, promote, rollback,
acknowledging and resolving alerts) and an optional client token for the reading endpoints
(analyze, what-if, score, benchmarks, models, jobs, drift, alerts); ``/health`` stays open.

``create_app`` keeps them in ``app.state.token`` (env ``BENCHAI_API_TOKEN``; none: local mode,
admin endpoints open) and ``app.state.client_token`` (env ``BENCHAI_CLIENT_TOKEN``; none:
reading endpoints open). The admin token also opens the reading endpoints.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

TOKEN_ENV = "BENCHAI_API_TOKEN"
CLIENT_TOKEN_ENV = "BENCHAI_CLIENT_TOKEN"

_bearer = HTTPBearer(
    auto_error=False,
    description=f"Admin endpoints need 'Authorization: Bearer <token>' when {TOKEN_ENV} is set.",
)


# Both checks are async: they never block, and FastAPI would run a plain function in its thread
# pool, a thread hop on every request.
async def admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    """The actor of an admin call; 401 unless the bearer token matches (when one is set)."""
    token: str | None = request.app.state.token
    if not token:
        return "api (local mode)"
    _check(credentials, (token,), "Admin endpoint: send 'Authorization: Bearer <token>' with the server's API token.")
    return "api (token)"


Admin = Annotated[str, Depends(admin)]


async def client(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    """401 on a reading endpoint unless the client (or admin) token is sent, when one is set."""
    client_token: str | None = request.app.state.client_token
    if not client_token:
        return "open"
    _check(credentials, (client_token, request.app.state.token), "Send 'Authorization: Bearer <token>' with the server's client token.")
    return "client"


def _check(credentials: HTTPAuthorizationCredentials | None, tokens: tuple[str | None, ...], refusal: str) -> None:
    """401 with ``refusal`` unless the bearer credentials equal one of ``tokens``."""
    given = credentials.credentials.encode() if credentials is not None else b""
    if not any(t and hmac.compare_digest(given, t.encode()) for t in tokens):
        raise HTTPException(401, refusal, headers={"WWW-Authenticate": "Bearer"})


CLIENT = [Depends(client)]  # a router's or endpoint's ``dependencies``
