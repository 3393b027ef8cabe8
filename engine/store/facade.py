"""``Store``: the one object callers use; each method delegates to the module of its record kind.

Plain data goes in and out: dicts, lists and pandas DataFrames. Opening a Store applies any
missing schema migrations (``migrations``).
"""

from __future__ import annotations

import os

import pandas as pd

from engine.store import alerts, feedback, jobs, migrations, predictions
from engine.store.database import Database, default_url


class Store:
    """The operational database. Thread-safe; one instance can serve a whole process."""

    def __init__(self, url: str):
        self.url = url
        self._db = Database(url)
        self._engine = self._db.engine
        self.dialect: str = self._db.dialect
        try:
            migrations.migrate(self._db)
        except BaseException:
            self._db.dispose()
            raise

    @classmethod
    def for_home(cls, home: str | os.PathLike) -> Store:
        """The store for a product HOME (``BENCHAI_DB_URL`` wins over ``HOME/benchai.db``)."""
        return cls(default_url(home))

    def close(self) -> None:
        """Close every pooled connection."""
        self._db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"

    def schema_version(self) -> int:
        """The database's schema version (the number of migration steps applied)."""
        return migrations.current_version(self._db)

    # ----------------------------------------------------------------- prediction log

    def log_predictions(self, rows: list[dict]) -> list[int]:
        """Append predictions in one transaction; returns their new ids in row order."""
        return predictions.log_predictions(self._db, rows)

    def predictions(
        self,
        start=None,
        end=None,
        model_version: str | None = None,
        alias: str | None = None,
        limit: int | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Logged predictions with ``start <= ts < end``, oldest first; only ``columns`` when
        given (see ``predictions.read_predictions``)."""
        return predictions.read_predictions(self._db, start, end, model_version, alias, limit, columns)

    def prediction_count(self, start=None, end=None) -> int:
        """How many predictions were logged with ``start <= ts < end``."""
        return predictions.prediction_count(self._db, start, end)

    # ----------------------------------------------------------------- feedback

    def add_feedback(self, rows: list[dict]) -> feedback.FeedbackCounts:
        """Record actual outcomes in one transaction, each identity once (see ``feedback``);
        returns how many rows were recorded, how many of them corrections, and duplicates."""
        return feedback.add_feedback(self._db, rows)

    def first_predictions(self, entity_ids) -> dict:
        return feedback.first_predictions(self._db, entity_ids)

    def feedback_count(self, since=None) -> int:
        """How many current feedback rows (not superseded by a correction) have
        ``ts >= since`` (all of them without ``since``)."""
        return feedback.feedback_count(self._db, since)

    def labelled_predictions(
        self, start=None, end=None, model_version: str | None = None
    ) -> pd.DataFrame:
        """Predictions with their actual outcome, oldest first (see
        ``feedback.labelled_predictions``)."""
        return feedback.labelled_predictions(self._db, start, end, model_version)

    # ----------------------------------------------------------------- alerts

    def raise_alert(
        self, kind: str, key: str, severity: str, message: str, details: dict | None = None
    ) -> tuple[dict, bool]:
        """Open an alert, or bump the open one with the same (kind, key); returns
        ``(alert, created)``."""
        return alerts.raise_alert(self._db, kind, key, severity, message, details)

    def alerts(
        self, open_only: bool = False, limit: int | None = 200, state: str | None = None
    ) -> list[dict]:
        """Alerts, newest first, each with its ``state``: all of them, the unresolved ones
        (``open_only``: open or acknowledged), or those in one ``state``."""
        return alerts.list_alerts(self._db, open_only, limit, state)

    def acknowledge_alert(self, alert_id: int, by: str) -> dict:
        """Mark an open alert as seen by ``by`` (a no-op if already acknowledged); returns it.
        Refuses an unknown id (AlertNotFoundError) and a resolved alert (AlertStateError)."""
        return alerts.acknowledge_alert(self._db, alert_id, by)

    def resolve_alert(self, alert_id: int, by: str) -> dict:
        """Close an alert as ``by`` (a no-op if already resolved); returns it. The next raise of
        the same (kind, key) opens a new alert."""
        return alerts.resolve_alert(self._db, alert_id, by)

    # ----------------------------------------------------------------- training jobs

    def create_job(self, kind: str, params: dict) -> str:
        """Queue a job record; returns its id (uuid4 hex)."""
        return jobs.create_job(self._db, kind, params)

    def update_job(self, job_id: str, **fields) -> None:
        """Update a job's status, stage, progress (0..1), message, version, result or times."""
        jobs.update_job(self._db, job_id, **fields)

    def delete_job(self, job_id: str) -> None:
        """Forget a job record (one that was refused before it ran)."""
        jobs.delete_job(self._db, job_id)

    def job(self, job_id: str) -> dict | None:
        """One job as a dict, or None."""
        return jobs.get_job(self._db, job_id)

    def jobs(self, limit: int = 50) -> list[dict]:
        """Jobs, newest first."""
        return jobs.list_jobs(self._db, limit)
