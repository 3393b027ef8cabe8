"""The prediction-log writer: many analyses per transaction ("group commit").

Requests wait for their row id, so the response can name it. On SQLite (the embedded
default) a request's row is written on the event loop itself: the first row waiting schedules
one commit after the callbacks already due, so every request that reaches that point by then
shares it. A writer thread did this before: each commit waited for the GIL between its SQLite
calls while the loop ran analyses, and then for the loop to notice it was done, which cost
more than the commit itself (benchmarks/RESULTS.md: fewer requests/s, a higher p99). The price:
a commit that waits for another process's write lock (SQLite's busy timeout) holds the loop
meanwhile; the writes that share the file are short. PostgreSQL's round trips, and shadow
scoring (the challenger's unserved analysis of the same profile, a whole analysis), stay on the
writer thread, off the event loop. A bad row or a failing store never leaves a request waiting.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future

from engine.analysis.analyzer import Analysis, Analyzer
from engine.errors import ProfileError
from engine.workspace import Workspace

log = logging.getLogger(__name__)

LOG_BATCH = 256  # analyses per prediction-log transaction
SOURCE = "api"  # the prediction log's ``source`` of every row written here


class PredictionLog:
    """Writes served analyses to ``workspace.log_analyses``: on the event loop (``write``) or
    from one writer thread (``submit``)."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._due: list = []  # rows waiting for the event loop's next commit

    async def write(self, analysis: Analysis, alias: str = "champion", shadow: Analyzer | None = None) -> int | None:
        """Log one served analysis from the event loop -> its prediction id (None if it could
        not be logged). On SQLite without a shadow, group-committed on the loop; else ``submit``."""
        if shadow is not None or not self._commits_on_loop():
            return await asyncio.wrap_future(self.submit(analysis, alias, shadow))
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._due.append((analysis, alias, future, None))
        if len(self._due) == 1:
            loop.call_soon(self._commit_due)
        return await future

    def _commits_on_loop(self) -> bool:
        """SQLite's commits are short enough for the loop. Opening the store can fail (a locked
        or broken database): the writer thread then meets that failure where it is logged and
        answered without an id, rather than failing the request."""
        try:
            return self.workspace.store.dialect == "sqlite"
        except Exception:
            return False

    def _commit_due(self) -> None:
        batch, self._due = self._due, []
        self._write(batch)

    def submit(
        self, analysis: Analysis, alias: str = "champion", shadow: Analyzer | None = None
    ) -> Future:
        """Queue one served analysis (and the model to shadow-score its profile with); the
        future resolves to the analysis' prediction id (None if it could not be logged)."""
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
        """Write what is queued and stop the thread."""
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
            self._write(batch)

    def _write(self, batch: list) -> None:
        try:
            self._commit(batch)
        except Exception:  # keep the writer alive and never leave a request waiting
            log.exception("prediction log writer")
            for _, _, future, _ in batch:
                if not future.done():
                    future.set_result(None)

    def _one(self, analysis: Analysis, alias: str) -> int | None:
        try:
            return self.workspace.log_analyses([analysis], alias=alias, source=SOURCE)[0]
        except Exception:
            # Serving must not fail because monitoring storage does; the gap shows in the log.
            log.exception("could not write an analysis to the prediction log")
            return None

    def _commit(self, batch: list) -> None:
        by_alias: dict[str, list] = {}
        for analysis, alias, future, shadow in batch:
            by_alias.setdefault(alias, []).append((analysis, future))
            shadowed = _shadow(shadow, analysis.profile) if shadow is not None else None
            if shadowed is not None:
                by_alias.setdefault("shadow", []).append((shadowed, None))
        done = []
        for alias, items in by_alias.items():
            try:
                ids = self.workspace.log_analyses([a for a, _ in items], alias=alias, source=SOURCE)
            except Exception:
                # One bad row must not cost its neighbours theirs: write them one by one.
                log.exception("could not write %d analyses at once; writing them one by one", len(items))
                ids = [self._one(analysis, alias) for analysis, _ in items]
            done += [(future, row_id) for (_, future), row_id in zip(items, ids, strict=True)]
        for future, row_id in done:  # answer once the whole batch, shadows too, is written
            if future is not None and not future.done():  # a request given up on is cancelled
                future.set_result(row_id)


def _shadow(model: Analyzer, profile: dict) -> Analysis | None:
    """The shadow model's analysis of a served profile, or None when it cannot give one."""
    try:
        return model.analyze(profile)
    except ProfileError:
        return None  # the challenger's schema does not take this profile
    except Exception:  # a failing shadow must never hold up the served requests
        log.exception("shadow analysis with %s failed", model.version)
        return None
