"""The prediction-log writer: one thread, many analyses per transaction ("group commit").

Requests wait for their row id, so the response can name it; under load the writer commits
everything that queued up during the previous commit at once. Shadow scoring (the
challenger's unserved analysis of the same profile) also runs here, off the response path.
A bad row or a failing store never leaves a request waiting.
"""

from __future__ import annotations

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
    """Writes served analyses to ``workspace.log_analyses`` from one writer thread."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

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
            if future is not None:
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
