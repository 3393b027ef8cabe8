"""The operational store: prediction log, feedback, alerts, training jobs and the alias log.

One SQLAlchemy Core module that runs on SQLite (the embedded default, ``HOME/benchai.db``) and on
PostgreSQL (``BENCHAI_DB_URL``). Plain data goes in and out: dicts, lists and pandas DataFrames.

- Schema changes are ordered migration steps recorded in ``schema_version``; ``Store()`` applies
  the missing ones in one transaction, so an older database is upgraded on start.
- Timestamps are stored in UTC and always come back timezone-aware (UTC).
- Every write method is one transaction: a batch with one bad row writes nothing.
- SQLite writers are serialized (one lock per database file in this process, ``BEGIN IMMEDIATE``
  plus a busy timeout across processes), so concurrent writes wait instead of failing with
  "database is locked"; WAL keeps readers unblocked meanwhile.
"""

from __future__ import annotations

import json
import math
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from engine.encoding import finite

ALIASES = ("champion", "challenger", "shadow", "direct")
SOURCES = ("analyze", "score", "replay", "api")
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
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Arbitrary constant key for pg_advisory_xact_lock: makes concurrent migrations take turns.
PG_MIGRATION_LOCK = 0x6265_6E63_6861_69  # "benchai"


def default_url(home: str | os.PathLike) -> str:
    """The database URL: env ``BENCHAI_DB_URL`` if set, else SQLite at ``HOME/benchai.db``."""
    return os.environ.get("BENCHAI_DB_URL") or f"sqlite:///{Path(home)}/benchai.db"


# --------------------------------------------------------------------------- value helpers


def _now() -> datetime:
    return datetime.now(UTC)


def _to_utc(value: Any) -> datetime | None:
    """A datetime, date, pandas Timestamp or ISO string as an aware UTC datetime (naive = UTC).

    Missing values (None, NaN, NaT: blank cells of an uploaded table) give None.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if not isinstance(value, datetime) or value is pd.NaT:
        if not isinstance(value, str | date | np.datetime64):
            raise ValueError(f"expected a datetime, got {type(value).__name__} {value!r}")
        value = pd.Timestamp(value)
        if value is pd.NaT:
            return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(sa.TypeDecorator):
    """DateTime(timezone=True) that stores UTC and returns aware UTC datetimes on both backends.

    SQLite has no timezone support (it would silently drop the offset), so values are converted
    to UTC before binding; naive values read back are UTC by construction.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return _to_utc(value)

    def process_result_value(self, value, dialect):
        return _to_utc(value)


def _json_default(value: Any) -> Any:
    # numpy scalars/arrays and timestamps show up in analysis outputs; store them as plain JSON.
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_dumps(value: Any) -> str:
    # Fast path first; PostgreSQL rejects the NaN token json.dumps writes by default.
    try:
        return json.dumps(value, default=_json_default, allow_nan=False)
    except ValueError:
        return json.dumps(finite(value), default=_json_default, allow_nan=False)


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- schema

metadata = sa.MetaData()
# SQLite only auto-assigns ids to an INTEGER PRIMARY KEY (BIGINT would not alias the rowid).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON(none_as_null=True)

version_table = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

predictions = sa.Table(
    "predictions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("alias", sa.String(16), nullable=False),
    sa.Column("company_id", sa.String(128)),
    sa.Column("profile", Json),
    sa.Column("outputs", Json),
    sa.Column("probability", sa.Float),
    sa.Column("segment", sa.String(128)),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Index("ix_predictions_ts", "ts"),
    sa.Index("ix_predictions_version_ts", "model_version", "ts"),
    # Feedback by company matches the latest prediction at or before a time: this index serves it.
    sa.Index("ix_predictions_company_ts", "company_id", "ts"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("prediction_id", BigId, sa.ForeignKey("predictions.id", ondelete="CASCADE")),
    sa.Column("company_id", sa.String(128)),
    sa.Column("outcome", sa.SmallInteger, nullable=False),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.CheckConstraint("outcome IN (0, 1)", name="ck_feedback_outcome"),
    sa.CheckConstraint(
        "prediction_id IS NOT NULL OR company_id IS NOT NULL", name="ck_feedback_target"
    ),
    sa.Index("ix_feedback_prediction", "prediction_id"),
    sa.Index("ix_feedback_company_ts", "company_id", "ts"),
    sa.Index("ix_feedback_ts", "ts"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("details", Json),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen", UTCDateTime, nullable=False),
    sa.Column("resolved_at", UTCDateTime),
    sa.CheckConstraint("status IN ('open', 'resolved')", name="ck_alerts_status"),
    sa.Index("ix_alerts_status", "status"),
)
# A literal (not a bound parameter): ON CONFLICT must match the partial index predicate as text.
_ALERT_OPEN = alerts.c.status == sa.literal_column("'open'")
# At most one OPEN alert per (kind, key): the database itself deduplicates concurrent raises.
sa.Index(
    "uq_alerts_open_kind_key",
    alerts.c.kind,
    alerts.c.key,
    unique=True,
    sqlite_where=_ALERT_OPEN,
    postgresql_where=_ALERT_OPEN,
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("params", Json),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(64)),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("message", sa.Text),
    sa.Column("version", sa.String(64)),
    sa.Column("result", Json),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Index("ix_jobs_created", "created_at"),
)

alias_log = sa.Table(
    "alias_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ts", UTCDateTime, nullable=False),
    sa.Column("alias", sa.String(32), nullable=False),
    sa.Column("from_version", sa.String(64)),
    sa.Column("to_version", sa.String(64)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
)


def _create_v1_tables(conn: Connection) -> None:
    """Step 1: every table. Later steps change the schema with ALTERs of their own, so when a
    step alters a table here, this step must keep creating the version-1 shape of it."""
    metadata.create_all(conn, tables=[predictions, feedback, alerts, jobs, alias_log])


# Ordered: step N (1-based) takes a database from version N-1 to N. Append only, never edit.
MIGRATIONS: list[Callable[[Connection], None]] = [_create_v1_tables]


# --------------------------------------------------------------------------- engine setup

_SQLITE_WRITE_LOCKS: dict[str, threading.RLock] = {}
_SQLITE_LOCKS_GUARD = threading.Lock()


def _sqlite_write_lock(database: str) -> threading.RLock:
    """One lock per database file, shared by every Store on it in this process."""
    key = database if database == ":memory:" else str(Path(database).resolve())
    with _SQLITE_LOCKS_GUARD:
        return _SQLITE_WRITE_LOCKS.setdefault(key, threading.RLock())


def _make_sqlite_engine(url: sa.URL) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if not in_memory:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        json_serializer=_json_dumps,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        # An in-memory database exists per connection: share one connection across threads.
        **({"poolclass": StaticPool} if in_memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy (not the driver) emit BEGIN, so writes can use BEGIN IMMEDIATE below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; fsync per checkpoint only
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front (waiting via busy_timeout); a deferred
        # transaction that later upgrades to write can fail at once with "database is locked".
        write = conn.get_execution_options().get("benchai_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _make_engine(url: str) -> tuple[Engine, Any]:
    """The engine and the lock writers hold (a real lock only for SQLite)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(parsed), _sqlite_write_lock(parsed.database or ":memory:")
    engine = sa.create_engine(
        parsed, json_serializer=_json_dumps, pool_pre_ping=True, pool_size=10, max_overflow=10
    )
    return engine, nullcontext()


def _insert_for(dialect: str):
    """The dialect's INSERT construct (both support ON CONFLICT ... DO UPDATE)."""
    return pg_dialect.insert if dialect == "postgresql" else sqlite_dialect.insert


# --------------------------------------------------------------------------- the store

_PREDICTION_COLUMNS = [
    "id",
    "ts",
    "model_version",
    "alias",
    "company_id",
    "profile",
    "outputs",
    "probability",
    "segment",
    "source",
    "request_id",
]
_PREDICTION_KEYS = set(_PREDICTION_COLUMNS) - {"id"}  # what a caller may give (the id is ours)
_FEEDBACK_KEYS = {"prediction_id", "company_id", "outcome", "ts"}
_LABELLED_COLUMNS = [
    "prediction_id",
    "ts",
    "model_version",
    "alias",
    "company_id",
    "probability",
    "outcome",
]


class Store:
    """The operational database. Thread-safe; one instance can serve a whole process."""

    def __init__(self, url: str):
        self.url = url
        self._engine, self._write_lock = _make_engine(url)
        self.dialect: str = self._engine.dialect.name
        self._insert = _insert_for(self.dialect)
        try:
            self._migrate()
        except BaseException:
            self._engine.dispose()
            raise

    @classmethod
    def for_home(cls, home: str | os.PathLike) -> Store:
        """The store for a product HOME (``BENCHAI_DB_URL`` wins over ``HOME/benchai.db``)."""
        return cls(default_url(home))

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"

    # ----------------------------------------------------------------- transactions

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, committed on success and rolled back on any error."""
        with self._write_lock, self._engine.connect() as conn:
            conn.execution_options(benchai_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    # ----------------------------------------------------------------- migrations

    def _migrate(self) -> None:
        """Apply the missing MIGRATIONS steps, all in one transaction."""
        with self._write() as conn:
            if self.dialect == "postgresql":
                # Two processes starting at once on a fresh database would both CREATE TABLE.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_MIGRATION_LOCK)))
            version_table.create(conn, checkfirst=True)
            current = conn.execute(sa.select(sa.func.max(version_table.c.version))).scalar() or 0
            for number, step in enumerate(MIGRATIONS, start=1):
                if number > current:
                    step(conn)
                    conn.execute(version_table.insert().values(version=number, applied_at=_now()))

    def schema_version(self) -> int:
        """The database's schema version (the number of migration steps applied)."""
        with self._read() as conn:
            return conn.execute(sa.select(sa.func.max(version_table.c.version))).scalar() or 0

    # ----------------------------------------------------------------- prediction log

    def log_predictions(self, rows: list[dict]) -> list[int]:
        """Append predictions in one transaction; returns their new ids in row order."""
        if not rows:
            return []
        params = [self._prediction_params(i, row) for i, row in enumerate(rows)]
        with self._write() as conn:
            if self.dialect == "sqlite":
                return _insert_sqlite_rows(conn, predictions, params)
            # Batched multi-row INSERT ... RETURNING ("insertmanyvalues"), ids in row order.
            stmt = predictions.insert().returning(predictions.c.id, sort_by_parameter_order=True)
            return [row_id for (row_id,) in conn.execute(stmt, params)]

    @staticmethod
    def _prediction_params(i: int, row: Mapping) -> dict:
        unknown = set(row) - _PREDICTION_KEYS
        if unknown:
            raise ValueError(
                f"prediction row {i}: unknown key(s) {sorted(unknown)}; "
                f"expected some of {sorted(_PREDICTION_KEYS)}"
            )
        if not row.get("model_version"):
            raise ValueError(f"prediction row {i}: model_version is required")
        alias, source = row.get("alias"), row.get("source", "analyze")
        if alias not in ALIASES:
            raise ValueError(f"prediction row {i}: alias is {alias!r}; expected one of {ALIASES}")
        if source not in SOURCES:
            raise ValueError(f"prediction row {i}: source is {source!r}; expected one of {SOURCES}")
        try:
            return {
                "ts": _to_utc(row.get("ts")) or _now(),
                "model_version": str(row["model_version"]),
                "alias": alias,
                "company_id": _str_or_none(row.get("company_id")),
                "profile": row.get("profile"),
                "outputs": row.get("outputs"),
                "probability": _float_or_none(row.get("probability")),
                "segment": _str_or_none(row.get("segment")),
                "source": source,
                "request_id": _str_or_none(row.get("request_id")),
            }
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prediction row {i}: {exc}") from exc

    def predictions(
        self,
        start=None,
        end=None,
        model_version: str | None = None,
        alias: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Logged predictions with ``start <= ts < end``, oldest first.

        With ``limit``, the most recent ``limit`` of them (still oldest first). ``profile`` and
        ``outputs`` come back as dicts, ``ts`` as a UTC datetime64.
        """
        cond = _time_window(predictions.c.ts, start, end)
        if model_version is not None:
            cond.append(predictions.c.model_version == model_version)
        if alias is not None:
            cond.append(predictions.c.alias == alias)
        stmt = sa.select(*(predictions.c[c] for c in _PREDICTION_COLUMNS)).where(*cond)
        if limit is not None:
            stmt = stmt.order_by(predictions.c.ts.desc(), predictions.c.id.desc()).limit(limit)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        frame = _frame(rows, _PREDICTION_COLUMNS)
        return frame.sort_values(["ts", "id"], ignore_index=True)

    def prediction_count(self, start=None, end=None) -> int:
        """How many predictions were logged with ``start <= ts < end``."""
        return self._count(predictions, _time_window(predictions.c.ts, start, end))

    # ----------------------------------------------------------------- feedback

    def add_feedback(self, rows: list[dict]) -> int:
        """Record actual outcomes in one transaction; returns how many rows were written.

        Each row names a ``prediction_id`` or a ``company_id`` (or both) and an ``outcome``
        (0 or 1). A row that refers to an unknown prediction id fails the whole batch.
        """
        if not rows:
            return 0
        params = [self._feedback_params(i, row) for i, row in enumerate(rows)]
        with self._write() as conn:
            self._check_prediction_ids(conn, params)
            conn.execute(feedback.insert(), params)
        return len(params)

    @staticmethod
    def _feedback_params(i: int, row: Mapping) -> dict:
        unknown = set(row) - _FEEDBACK_KEYS
        if unknown:
            raise ValueError(
                f"feedback row {i}: unknown key(s) {sorted(unknown)}; "
                f"expected some of {sorted(_FEEDBACK_KEYS)}"
            )
        prediction_id, company_id = row.get("prediction_id"), row.get("company_id")
        if prediction_id is None and company_id is None:
            raise ValueError(
                f"feedback row {i}: needs a prediction_id or a company_id, got neither"
            )
        outcome = row.get("outcome")
        # bool and numpy integers are fine; 2, 0.5 or "yes" are not.
        if isinstance(outcome, str) or outcome is None or outcome not in (0, 1):
            raise ValueError(f"feedback row {i}: outcome is {outcome!r}; expected 0 or 1")
        try:
            return {
                "prediction_id": None if prediction_id is None else int(prediction_id),
                "company_id": _str_or_none(company_id),
                "outcome": int(outcome),
                "ts": _to_utc(row.get("ts")) or _now(),
            }
        except (TypeError, ValueError) as exc:
            raise ValueError(f"feedback row {i}: {exc}") from exc

    @staticmethod
    def _check_prediction_ids(conn: Connection, params: list[dict]) -> None:
        """Name the first row whose prediction id does not exist (the foreign key would only
        say that some row failed)."""
        wanted = {p["prediction_id"] for p in params if p["prediction_id"] is not None}
        found: set[int] = set()
        ids = sorted(wanted)
        for chunk in range(0, len(ids), 500):  # stay well under bound-parameter limits
            part = ids[chunk : chunk + 500]
            found.update(
                conn.execute(
                    sa.select(predictions.c.id).where(predictions.c.id.in_(part))
                ).scalars()
            )
        for i, p in enumerate(params):
            if p["prediction_id"] is not None and p["prediction_id"] not in found:
                raise ValueError(
                    f"feedback row {i}: prediction_id {p['prediction_id']} does not exist"
                )

    def feedback_count(self, since=None) -> int:
        """How many feedback rows have ``ts >= since`` (all of them without ``since``)."""
        return self._count(feedback, _time_window(feedback.c.ts, since, None))

    def labelled_predictions(
        self, start=None, end=None, model_version: str | None = None
    ) -> pd.DataFrame:
        """Predictions with their actual outcome, oldest first.

        Feedback with a ``prediction_id`` labels that prediction. Feedback with only a
        ``company_id`` labels, for each model version, that version's latest prediction for the
        company at or before the feedback time (so champion, challenger and shadow predictions
        of one request are all labelled). When several feedback rows label one prediction, the
        latest wins. ``start``/``end``/``model_version`` filter the predictions.
        """
        labelled = self._labelled_query(model_version).subquery("labelled")
        stmt = (
            sa.select(*(labelled.c[c] for c in _LABELLED_COLUMNS))
            .where(labelled.c.feedback_rank == 1, *_time_window(labelled.c.ts, start, end))
            .order_by(labelled.c.ts, labelled.c.prediction_id)
        )
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return _frame(rows, _LABELLED_COLUMNS)

    @staticmethod
    def _labelled_query(model_version: str | None) -> sa.Select:
        """Every (prediction, feedback) match, ranked so that rank 1 is the latest feedback."""
        p, f = predictions, feedback
        version = [p.c.model_version == model_version] if model_version is not None else []
        cols = [
            p.c.id.label("prediction_id"),
            p.c.ts,
            p.c.model_version,
            p.c.alias,
            p.c.company_id,
            p.c.probability,
            f.c.outcome,
            f.c.id.label("feedback_id"),
            f.c.ts.label("feedback_ts"),
        ]
        by_id = sa.select(*cols).join_from(f, p, p.c.id == f.c.prediction_id).where(*version)
        # Filtering by version before ranking is safe: the ranking is per version anyway.
        newest_first = sa.func.row_number().over(
            partition_by=(f.c.id, p.c.model_version), order_by=(p.c.ts.desc(), p.c.id.desc())
        )
        candidates = (
            sa.select(*cols, newest_first.label("prediction_rank"))
            .join_from(f, p, sa.and_(p.c.company_id == f.c.company_id, p.c.ts <= f.c.ts))
            .where(f.c.prediction_id.is_(None), *version)
            .subquery("candidates")
        )
        by_company = sa.select(*(candidates.c[c.name] for c in cols)).where(
            candidates.c.prediction_rank == 1
        )
        matched = sa.union_all(by_id, by_company).subquery("matched")
        latest_feedback = sa.func.row_number().over(
            partition_by=matched.c.prediction_id,
            order_by=(matched.c.feedback_ts.desc(), matched.c.feedback_id.desc()),
        )
        return sa.select(*matched.c, latest_feedback.label("feedback_rank"))

    # ----------------------------------------------------------------- alerts

    def raise_alert(
        self, kind: str, key: str, severity: str, message: str, details: dict | None = None
    ) -> tuple[dict, bool]:
        """Open an alert, or bump the open one with the same (kind, key).

        Returns ``(alert, created)``. One atomic upsert against the partial unique index on open
        alerts, so concurrent raises of one alert leave exactly one open row.
        """
        now = _now()
        stmt = self._insert(alerts).values(
            kind=kind,
            key=key,
            severity=severity,
            message=message,
            details=details,
            status="open",
            count=1,
            created_at=now,
            last_seen=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[alerts.c.kind, alerts.c.key],
            index_where=_ALERT_OPEN,
            set_={"last_seen": stmt.excluded.last_seen, "count": alerts.c.count + 1},
        ).returning(*alerts.c)
        with self._write() as conn:
            alert = dict(conn.execute(stmt).one()._mapping)
        # Only a fresh insert leaves count at 1: every conflict increments it.
        return alert, alert["count"] == 1

    def alerts(self, open_only: bool = False, limit: int = 200) -> list[dict]:
        """Alerts, newest first."""
        stmt = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
        if open_only:
            stmt = stmt.where(_ALERT_OPEN)
        return self._dicts(stmt)

    def resolve_alert(self, alert_id: int) -> None:
        """Close an alert (a no-op if already resolved); the next raise opens a new one."""
        with self._write() as conn:
            status = conn.execute(
                sa.select(alerts.c.status).where(alerts.c.id == alert_id)
            ).scalar()
            if status is None:
                raise LookupError(f"no alert with id {alert_id}")
            conn.execute(
                alerts.update()
                .where(alerts.c.id == alert_id, _ALERT_OPEN)
                .values(status="resolved", resolved_at=_now())
            )

    # ----------------------------------------------------------------- training jobs

    def create_job(self, kind: str, params: dict) -> str:
        """Queue a job record; returns its id (uuid4 hex)."""
        job_id, now = uuid.uuid4().hex, _now()
        with self._write() as conn:
            conn.execute(
                jobs.insert().values(
                    id=job_id,
                    kind=kind,
                    params=params,
                    status="queued",
                    progress=0.0,
                    created_at=now,
                    updated_at=now,
                )
            )
        return job_id

    def update_job(self, job_id: str, **fields) -> None:
        """Update a job's status, stage, progress (0..1), message, version, result or times.

        Moving to "running" stamps ``started_at``; to "succeeded"/"failed" stamps
        ``finished_at`` unless given.
        """
        values = _job_values(fields)
        now = _now()
        values["updated_at"] = now
        status = values.get("status")
        if status == "running":
            # Keep the first start time when a job is set running more than once.
            values.setdefault(
                "started_at", sa.func.coalesce(jobs.c.started_at, sa.literal(now, UTCDateTime()))
            )
        if status in ("succeeded", "failed"):
            values.setdefault("finished_at", now)
        with self._write() as conn:
            if conn.execute(jobs.update().where(jobs.c.id == job_id).values(values)).rowcount == 0:
                raise LookupError(f"no training job with id {job_id!r}")

    def job(self, job_id: str) -> dict | None:
        """One job as a dict, or None."""
        rows = self._dicts(sa.select(jobs).where(jobs.c.id == job_id))
        return rows[0] if rows else None

    def jobs(self, limit: int = 50) -> list[dict]:
        """Jobs, newest first."""
        return self._dicts(
            sa.select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit)
        )

    # ----------------------------------------------------------------- alias log

    def log_alias_move(
        self,
        alias: str,
        from_version: str | None,
        to_version: str | None,
        reason: str,
        actor: str = "local",
    ) -> None:
        """Record that ``alias`` moved from one version to another (None: unset)."""
        with self._write() as conn:
            conn.execute(
                alias_log.insert().values(
                    ts=_now(),
                    alias=alias,
                    from_version=from_version,
                    to_version=to_version,
                    reason=reason,
                    actor=actor,
                )
            )

    def alias_log(self, limit: int = 200) -> list[dict]:
        """Alias moves, newest first."""
        return self._dicts(sa.select(alias_log).order_by(alias_log.c.id.desc()).limit(limit))

    # ----------------------------------------------------------------- small helpers

    def _count(self, table: sa.Table, cond: list) -> int:
        with self._read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table).where(*cond)).scalar()

    def _dicts(self, stmt) -> list[dict]:
        with self._read() as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]


def _insert_sqlite_rows(conn: Connection, table: sa.Table, params: list[dict]) -> list[int]:
    """Insert with the driver's executemany and return the new ids in row order.

    SQLAlchemy cannot batch an ordered RETURNING on SQLite (it falls back to one statement per
    row, ~10x slower). It is not needed: inside our BEGIN IMMEDIATE transaction no one else
    writes, and SQLite gives each new row max(id) + 1, so the ids are the next len(params)
    integers. The check after the insert guards that reasoning.
    """
    max_id = sa.select(sa.func.max(table.c.id))
    before = conn.execute(max_id).scalar() or 0
    conn.execute(table.insert(), params)
    after = conn.execute(max_id).scalar()
    if after != before + len(params):
        raise RuntimeError(
            f"{table.name}: expected ids {before + 1}..{before + len(params)}, "
            f"the largest is {after}"
        )  # rolls the batch back
    return list(range(before + 1, after + 1))


def _time_window(column, start, end) -> list:
    """Conditions for ``start <= column < end`` (either bound optional)."""
    cond = []
    if start is not None:
        cond.append(column >= _to_utc(start))
    if end is not None:
        cond.append(column < _to_utc(end))
    return cond


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    """Rows as a DataFrame whose ``ts`` is a UTC datetime64, even when empty."""
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


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
            values[name] = _to_utc(values[name])
    return values
