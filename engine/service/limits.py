"""What one request may cost: a body limit answered with 413 before the body is read in full,
a cap on concurrent table scorings (each holds a table and its scores in memory) and a time
limit on them. Settings from the environment, each with a default.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import Callable

from fastapi import HTTPException
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
    """At most ``slots`` table scorings at once (env BENCHAI_MAX_CONCURRENT_SCORES, default 2).
    A request waits up to ``timeout_s`` (env BENCHAI_SCORE_TIMEOUT_S, default 120) for a slot,
    without holding a thread and before its body is read, and as long again for its work; then
    503 in words. A slot is freed only when its work has really ended, so memory stays bounded.

        async with heavy.slot() as slot:
            body = await request.body()
            return await slot.run(work, body)
    """

    def __init__(self, slots: int | None = None, timeout_s: float | None = None):
        self.slots = slots or int(os.environ.get(MAX_SCORES_ENV, "2"))
        self.timeout_s = timeout_s or float(os.environ.get(SCORE_TIMEOUT_ENV, "120"))
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one per event loop

    @contextlib.asynccontextmanager
    async def slot(self):
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.setdefault(loop, asyncio.Semaphore(self.slots))
        try:
            await asyncio.wait_for(semaphore.acquire(), self.timeout_s)
        except TimeoutError:
            raise HTTPException(503, f"The server is scoring {self.slots} tables already and none finished within {self.timeout_s:g} s; retry later.", headers={"Retry-After": "10"}) from None
        held = _Slot(self.timeout_s)
        try:
            yield held
        finally:
            if held.future is None or held.future.done():
                semaphore.release()
            else:  # timed out: the work goes on in its thread, and keeps the slot until it ends
                held.future.add_done_callback(lambda _done: semaphore.release())


class _Slot:
    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self.future: asyncio.Future | None = None

    async def run(self, work: Callable, *args):
        self.future = asyncio.get_running_loop().run_in_executor(None, work, *args)
        try:
            return await asyncio.wait_for(asyncio.shield(self.future), self.timeout_s)
        except TimeoutError:
            raise HTTPException(503, f"Scoring took longer than {self.timeout_s:g} s ({SCORE_TIMEOUT_ENV}); send fewer rows per request.") from None
