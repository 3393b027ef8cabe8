"""What one request may cost: a body limit answered with 413 before the body is read in full,
a cap on concurrent table scorings (each holds a table and its scores in memory) and a time
limit on them. Settings from the environment, each with a default.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_BODY_ENV, MAX_SCORES_ENV, SCORE_TIMEOUT_ENV = "BENCHAI_MAX_BODY_MB", "BENCHAI_MAX_CONCURRENT_SCORES", "BENCHAI_SCORE_TIMEOUT_S"
MAX_COLUMNS = 2_000  # a posted or uploaded table with more columns is refused before parsing


def max_body_bytes() -> int:
    return int(float(os.environ.get(MAX_BODY_ENV, "50")) * 1_000_000)


class BodyLimit:
    """ASGI middleware: 413 for a body over the limit, from its Content-Length at once, or as
    soon as a body without one has sent more (the handler never sees it)."""

    def __init__(self, app: ASGIApp, max_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes if max_bytes is not None else max_body_bytes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = f'{{"detail":"The request body is over the limit of {_size(self.max_bytes)} ({MAX_BODY_ENV}); send fewer rows per request."}}'.encode()
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n / 1e3:,.0f} kB"


class HeavyWork:
    """At most ``slots`` table scorings at once (env BENCHAI_MAX_CONCURRENT_SCORES, default 2):
    a request waits up to ``timeout_s`` for a slot and for its work (env BENCHAI_SCORE_TIMEOUT_S,
    default 120), then gets 503 with words saying why."""

    def __init__(self, slots: int | None = None, timeout_s: float | None = None):
        self.slots = slots or int(os.environ.get(MAX_SCORES_ENV, "2"))
        self.timeout_s = timeout_s or float(os.environ.get(SCORE_TIMEOUT_ENV, "120"))
        self._semaphore = threading.BoundedSemaphore(self.slots)

    async def run(self, work: Callable, *args):
        acquired = await run_in_threadpool(self._semaphore.acquire, True, self.timeout_s)
        if not acquired:
            raise HTTPException(503, f"The server is scoring {self.slots} tables already and none finished within {self.timeout_s:g} s; retry later.", headers={"Retry-After": "10"})
        future = asyncio.ensure_future(run_in_threadpool(self._release_after, work, *args))
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            raise HTTPException(503, f"Scoring took longer than {self.timeout_s:g} s ({SCORE_TIMEOUT_ENV}); send fewer rows per request.") from None

    def _release_after(self, work: Callable, *args):
        try:
            return work(*args)
        finally:
            self._semaphore.release()  # only when the work is really done: memory stays bounded
