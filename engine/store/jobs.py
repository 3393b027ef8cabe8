"""Training job records: queued, running, then succeeded or failed."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from engine.store.database import Database, UTCDateTime, now, to_utc
from engine.store.tables import jobs

JOB_STATUSES = ("queued", "running", "succeeded", "failed")
JOB_FIELDS = (
    "status",
    "stage",
    "progress",
    "message",
    "version",
    "result",
    "started_at",
    "finished_at",
)


def create_job(db: Database, kind: str, params: dict) -> str:
    """Queue a job record; returns its id (uuid4 hex)."""
    job_id, stamp = uuid.uuid4().hex, now()
    with db.write() as conn:
        conn.execute(
            jobs.insert().values(
                id=job_id,
                kind=kind,
                params=params,
                status="queued",
                progress=0.0,
                created_at=stamp,
                updated_at=stamp,
            )
        )
    return job_id


def update_job(db: Database, job_id: str, **fields) -> None:
    """Update a job's status, stage, progress (0..1), message, version, result or times.

    Moving to "running" stamps ``started_at``; to "succeeded"/"failed" stamps ``finished_at``
    unless given.
    """
    values = _job_values(fields)
    stamp = now()
    values["updated_at"] = stamp
    status = values.get("status")
    if status == "running":
        # Keep the first start time when a job is set running more than once.
        values.setdefault(
            "started_at", sa.func.coalesce(jobs.c.started_at, sa.literal(stamp, UTCDateTime()))
        )
    if status in ("succeeded", "failed"):
        values.setdefault("finished_at", stamp)
    with db.write() as conn:
        if conn.execute(jobs.update().where(jobs.c.id == job_id).values(values)).rowcount == 0:
            raise LookupError(f"no training job with id {job_id!r}")


def _job_values(fields: dict) -> dict:
    """Validated column values for update_job."""
    unknown = set(fields) - set(JOB_FIELDS)
    if unknown:
        raise ValueError(
            f"update_job: unknown field(s) {sorted(unknown)}; expected some of {list(JOB_FIELDS)}"
        )
    values = dict(fields)
    if "status" in values and values["status"] not in JOB_STATUSES:
        raise ValueError(
            f"update_job: status is {values['status']!r}; expected one of {JOB_STATUSES}"
        )
    if "progress" in values:
        progress = float(values["progress"])
        if not 0.0 <= progress <= 1.0:
            raise ValueError(f"update_job: progress is {progress}; expected 0..1")
        values["progress"] = progress
    for name in ("started_at", "finished_at"):
        if name in values:
            values[name] = to_utc(values[name])
    return values


def delete_job(db: Database, job_id: str) -> None:
    """Forget a job record (one that was refused before it ran)."""
    with db.write() as conn:
        conn.execute(jobs.delete().where(jobs.c.id == job_id))


def get_job(db: Database, job_id: str) -> dict | None:
    """One job as a dict, or None."""
    rows = db.dicts(sa.select(jobs).where(jobs.c.id == job_id))
    return rows[0] if rows else None


def list_jobs(db: Database, limit: int = 50) -> list[dict]:
    """Jobs, newest first."""
    return db.dicts(sa.select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit))
