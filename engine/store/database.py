"""The connection side of the store: URLs, engines, transactions, timestamps.

One SQLAlchemy Core engine on SQLite (the embedded default, ``HOME/benchai.db``) or PostgreSQL
(``BENCHAI_DB_URL``).

- Timestamps are stored in UTC and always come back timezone-aware (UTC).
- Every write is one transaction (``Database.write``): a batch with one bad row writes nothing.
- SQLite writers are serialized (one lock per database file in this process, ``BEGIN IMMEDIATE``
  plus a busy timeout across processes), so concurrent writes wait instead of failing with
  "database is locked"; WAL keeps readers unblocked meanwhile.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
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

from engine.encoding import dumps_bytes

SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_url(home: str | os.PathLike) -> str:
    """The database URL: env ``BENCHAI_DB_URL`` if set, else SQLite at ``HOME/benchai.db``."""
    return os.environ.get("BENCHAI_DB_URL") or f"sqlite:///{Path(home)}/benchai.db"


# --------------------------------------------------------------------------- values and time


def now() -> datetime:
    return datetime.now(UTC)


def to_utc(value: Any) -> datetime | None:
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
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01 with a positive offset
        raise ValueError(f"time {value.isoformat()} is out of range in UTC") from None


def float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def str_or_none(value: Any) -> str | None:
    return None if value is None else storable(str(value))


def storable(value: Any) -> Any:
    """Text a database accepts: NUL characters removed (PostgreSQL refuses them in text and
    JSON alike, and one such row would fail every row committed with it), in nested data too."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def time_window(column, start, end) -> list:
    """Conditions for ``start <= column < end`` (either bound optional)."""
    cond = []
    if start is not None:
        cond.append(column >= to_utc(start))
    if end is not None:
        cond.append(column < to_utc(end))
    return cond


class UTCDateTime(sa.TypeDecorator):
    """DateTime(timezone=True) that stores UTC and returns aware UTC datetimes on both backends.

    SQLite has no timezone support (it would silently drop the offset), so values are converted
    to UTC before binding; naive values read back are UTC by construction.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return to_utc(value)

    def process_result_value(self, value, dialect):
        return to_utc(value)


# --------------------------------------------------------------------------- engines

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
        json_serializer=_json_text,
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


def _make_engine(url: str) -> tuple[Engine, AbstractContextManager]:
    """The engine and the lock writers hold (a real lock only for SQLite)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(parsed), _sqlite_write_lock(parsed.database or ":memory:")
    engine = sa.create_engine(
        parsed, json_serializer=_json_text, pool_pre_ping=True, pool_size=10, max_overflow=10
    )
    return engine, nullcontext()


# --------------------------------------------------------------------------- transactions


class Database:
    """An engine with the store's transaction discipline. Thread-safe."""

    def __init__(self, url: str):
        self.engine, self._write_lock = _make_engine(url)
        self.dialect: str = self.engine.dialect.name
        # The dialect's INSERT construct (both support ON CONFLICT ... DO UPDATE).
        self.insert = pg_dialect.insert if self.dialect == "postgresql" else sqlite_dialect.insert

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, committed on success and rolled back on any error."""
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(benchai_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def count(self, table: sa.Table, cond: list) -> int:
        with self.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table).where(*cond)).scalar()

    def dicts(self, stmt) -> list[dict]:
        with self.read() as conn:
            return [dict(row._mapping) for row in conn.execute(stmt)]


def _json_text(value: Any) -> str:
    """A JSON column's text (``engine.encoding``: NaN as null, numpy values as numbers), without
    NUL characters (``storable``). JSON writes a NUL as the escape \\u0000, so only a value whose
    text holds that escape is walked (a text holding a backslash and "u0000" is walked for nothing)."""
    text = dumps_bytes(value)
    return (dumps_bytes(storable(value)) if b"\\u0000" in text else text).decode()
