"""Training jobs: ``Workspace.train`` in a background thread; job records live in the
workspace's operational store, so any worker process can answer ``/jobs/{id}``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from engine.errors import BenchError, TrainingBusyError
from engine.service.contracts import TrainIn
from engine.service.problems import message
from engine.workspace import Workspace

log = logging.getLogger(__name__)

TRAIN_START_WAIT_S = 5.0  # how long POST /train waits to report a busy lock or bad files at once


def job_out(job: dict) -> dict:
    """A job record as ``/jobs/{id}`` answers it (``error``: the message of a failed job). The
    data and schema appear by file name only: server paths are nobody's business."""
    params = {k: Path(v).name if k in ("data", "schema") and v else v for k, v in (job.get("params") or {}).items()}
    return {**job, "params": params, "error": job.get("message") if job.get("status") == "failed" else None}


class Trainer:
    """One training at a time per server process; ``on_done`` runs after a successful one."""

    def __init__(self, workspace: Workspace, on_done: Callable[[], object] = lambda: None):
        self.workspace = workspace
        self._on_done = on_done
        self._running = threading.Lock()
        self._job: str | None = None

    def start(self, req: TrainIn, actor: str) -> dict:
        """Create the job record and start training; -> the job (with its ``url``). Raises
        TrainingBusyError (409), or a BenchError the run raised in its first seconds."""
        data, schema = _paths(req, self.workspace.home)
        params = {"data": data, "schema": schema, "actor": actor}
        params |= {"promote": req.promote, "seed": req.seed, "k": req.k, "force": req.force}
        if not self._running.acquire(blocking=False):
            raise TrainingBusyError(
                f"Training already running (job {self._job}); wait for it to finish."
            )
        try:
            job_id = self.workspace.store.create_job("train", params)
        except BaseException:
            self._running.release()
            raise
        self._job = job_id
        started, failure = threading.Event(), []
        threading.Thread(
            target=self._run,
            args=(job_id, params, started, failure),
            name=f"train-{job_id}",
            daemon=True,
        ).start()
        # Wait until the run holds the HOME's training lock, so a busy lock or unreadable files
        # answer this request (409/422) rather than only the job record.
        started.wait(TRAIN_START_WAIT_S)
        if failure and isinstance(failure[0], BenchError):
            self.workspace.store.delete_job(job_id)  # refused at once: answered, not a job
            raise failure[0]
        return {**job_out(self.workspace.store.job(job_id)), "url": f"/jobs/{job_id}"}

    def _run(self, job_id: str, params: dict, started: threading.Event, failure: list) -> None:
        store = self.workspace.store

        def progress(stage: str, fraction: float) -> None:
            store.update_job(
                job_id, status="running", stage=stage, progress=min(max(fraction, 0.0), 1.0)
            )
            started.set()  # the first report comes once the training lock is held

        try:
            options = {k: params[k] for k in ("promote", "seed", "k", "force", "actor")}
            result = self.workspace.train(
                params["data"], params["schema"], progress=progress, **options
            )
        except Exception as exc:
            if not isinstance(exc, BenchError | ValueError):
                log.exception("training job %s failed", job_id)
            failure.append(exc)
            store.update_job(job_id, status="failed", message=str(exc) or type(exc).__name__)
        else:
            store.update_job(
                job_id, status="succeeded", stage="done", progress=1.0,
                version=result["version"], result=result, message=result["reason"],
            )  # fmt: skip
            try:
                self._on_done()
            except Exception:  # the job succeeded; serving reports its own load problems
                log.exception("after training job %s", job_id)
        finally:
            self._job = None
            self._running.release()
            started.set()


def _paths(req: TrainIn, home: Path) -> tuple[str, str]:
    """The data and schema paths of a request, defaulting to the built-in dataset in HOME/demo."""
    from engine.demo.replay import built_in_table

    data, schema = req.data, req.schema_path
    if data is None or schema is None:
        demo = home / "demo"
        table = built_in_table(demo)
        if table is None or not (demo / "schema.toml").is_file():
            raise message(
                "give 'data' and 'schema' (paths on the server); there is no HOME/demo dataset to default to"
            )
        data = data or str(table)
        schema = schema or str(demo / "schema.toml")
    return data, schema
