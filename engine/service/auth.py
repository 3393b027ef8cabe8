"""The bearer token of the admin endpoints (train, promote, rollback).

``create_app`` keeps the token in ``app.state.token`` (default: env ``BENCHAI_API_TOKEN``);
without one the admin endpoints are open (local mode).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

TOKEN_ENV = "BENCHAI_API_TOKEN"

_bearer = HTTPBearer(
    auto_error=False,
    description=f"Admin endpoints need 'Authorization: Bearer <token>' when {TOKEN_ENV} is set.",
)


def admin(
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


Admin = Annotated[str, Depends(admin)]
