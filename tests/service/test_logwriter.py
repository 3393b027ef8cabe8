"""The prediction-log writer on SQLite: requests that reach the event loop together share one
commit on the loop (no writer thread), each id names its own request's row, and a request
given up on, or a failing store, costs the others nothing."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from engine import api
from engine.encoding import dumps_bytes
from engine.service.logwriter import SOURCE, PredictionLog
from engine.workspace import Workspace


def _analyses(home, n: int) -> list:
    """Analyses of ``n`` rows taken straight from the version's training sample."""
    workspace = api.workspace(home)
    return [workspace.model().analyze(row) for row in workspace.table("sample").head(n).to_dict("records")]


@pytest.fixture(params=["demo", "customers"])
def home(request, writable_home):
    return writable_home(request.param)


def test_requests_together_share_one_commit_on_the_loop(home, monkeypatch):
    workspace = api.workspace(home)
    analyses = _analyses(home, 12)
    commits = []
    write = workspace.store.log_predictions
    monkeypatch.setattr(workspace.store, "log_predictions", lambda rows: commits.append(len(rows)) or write(rows))
    log = PredictionLog(workspace)

    async def serve():
        return await asyncio.gather(*(log.write(a) for a in analyses))

    ids = asyncio.run(serve())
    assert commits == [12] and log._thread is None  # one transaction, written on the loop
    logged = workspace.store.predictions().set_index("id")
    assert len(set(ids)) == 12
    for analysis, row_id in zip(analyses, ids, strict=True):  # each id is its own request's row
        row = logged.loc[row_id]
        profile = json.loads(dumps_bytes(analysis.profile))  # as stored: a gap (NaN) is null
        assert (row["company_id"], row["profile"], row["source"]) == (analysis.entity_id, profile, SOURCE)
        assert row["outputs"]["segment"]["name"] == analysis.segment["name"]


def test_a_request_given_up_on_or_a_failing_store_costs_the_others_nothing(home, monkeypatch, caplog):
    workspace = api.workspace(home)
    analyses = _analyses(home, 4)
    log = PredictionLog(workspace)

    async def one_cancelled():
        tasks = [asyncio.ensure_future(log.write(a)) for a in analyses]
        await asyncio.sleep(0)  # every request has queued its row
        tasks[1].cancel()  # its client went away before the commit
        return await asyncio.gather(*tasks, return_exceptions=True)

    with caplog.at_level(logging.ERROR):
        ids = asyncio.run(one_cancelled())
    assert isinstance(ids[1], asyncio.CancelledError)
    kept = [ids[0], *ids[2:]]
    assert all(isinstance(i, int) for i in kept) and not caplog.records
    assert set(kept) <= set(workspace.store.predictions()["id"])

    def broken(rows):
        raise OSError("disk full")

    monkeypatch.setattr(workspace.store, "log_predictions", broken)

    async def serve():
        return await asyncio.wait_for(asyncio.gather(*(log.write(a) for a in analyses)), 30)

    assert asyncio.run(serve()) == [None] * 4  # answered, without an id, rather than left waiting


def test_a_database_that_cannot_be_opened_answers_without_an_id(home, monkeypatch, caplog):
    """Serving does not fail because monitoring storage does: the request gets its analysis
    with no prediction id, and the failure is logged once per batch."""
    analyses = _analyses(home, 3)

    def unopenable(self):
        raise OSError("disk I/O error")

    monkeypatch.setattr(Workspace, "store", property(unopenable))
    log = PredictionLog(api.workspace(home))

    async def serve():
        return await asyncio.wait_for(asyncio.gather(*(log.write(a) for a in analyses)), 30)

    with caplog.at_level(logging.ERROR):
        assert asyncio.run(serve()) == [None] * 3
    assert "disk I/O error" in caplog.text
