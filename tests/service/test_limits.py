"""What one request may cost: the body limit (413 before the body is read), the column and row
caps checked while reading a table, and the cap on concurrent scorings with its time limit."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from engine.service import TOKEN_ENV, create_app
from engine.service.limits import MAX_BODY_ENV, HeavyWork


@pytest.fixture
def client(home, monkeypatch, tmp_path):
    import shutil

    monkeypatch.delenv("BENCHAI_DB_URL", raising=False)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(MAX_BODY_ENV, "0.01")  # 10 kB
    served = tmp_path / "home"
    shutil.copytree(home, served)
    return TestClient(create_app(served, token=""))


def test_a_body_over_the_limit_is_413_with_the_limit_in_words(client):
    response = client.post("/score", content=b"a,b\n" + b"1,2\n" * 5000, headers={"content-type": "text/csv"})
    assert response.status_code == 413 and "over the limit of 10 kB" in response.text
    assert "BENCHAI_MAX_BODY_MB" in response.json()["detail"]


def test_a_chunked_body_over_the_limit_is_stopped_while_it_arrives(client):
    def chunks():
        for _ in range(100):
            yield b"x" * 1000

    response = client.post("/score", content=chunks(), headers={"content-type": "text/csv"})
    assert response.status_code == 413


def test_a_header_with_too_many_columns_is_refused_before_parsing(client, monkeypatch):
    monkeypatch.setenv(MAX_BODY_ENV, "50")
    wide = TestClient(create_app(client.app.state.workspace.home, token=""))
    header = ",".join(f"c{i}" for i in range(3000)).encode()
    response = wide.post("/score", content=header + b"\n" + b"1," * 2999 + b"1\n", headers={"content-type": "text/csv"})
    assert response.status_code == 422 and "the limit is 2,000" in str(response.json()["detail"])


def test_concurrent_scorings_beyond_the_slots_wait_then_get_503():
    """One slot: a second request waits (holding no thread) and is told to retry; a request whose
    work passes the time limit is answered 503 but keeps its slot until the work ends."""
    heavy = HeavyWork(slots=1, timeout_s=0.3)

    async def score(seconds: float):
        async with heavy.slot() as slot:
            return await slot.run(time.sleep, seconds) or "done"

    async def scenario():
        slow = asyncio.ensure_future(score(0.8))
        await asyncio.sleep(0.05)
        with pytest.raises(HTTPException) as refused:
            await score(0.0)
        assert refused.value.status_code == 503 and "retry later" in refused.value.detail
        with pytest.raises(HTTPException, match="took longer"):
            await slow
        with pytest.raises(HTTPException, match="retry later"):
            await score(0.0)  # the slow work still runs (until 0.8 s): its slot is not free yet
        await asyncio.sleep(0.6)
        assert await score(0.0) == "done"  # the slot came back when the work ended

    asyncio.run(scenario())


def test_many_queued_scorings_do_not_starve_the_ones_running():
    """Waiting requests hold no thread: 60 at once with 2 slots all finish (the thread pool
    once filled with waiters while the holders could not start)."""
    heavy = HeavyWork(slots=2, timeout_s=30)

    async def score():
        async with heavy.slot() as slot:
            return await slot.run(time.sleep, 0.01) or "done"

    async def burst():
        return await asyncio.gather(*(score() for _ in range(60)))

    assert asyncio.run(burst()) == ["done"] * 60
