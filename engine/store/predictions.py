"""The prediction log: one row per model output (champion, challenger, shadow or direct)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.store.database import (
    Database,
    float_or_none,
    now,
    str_or_none,
    time_window,
    to_utc,
)
from engine.store.tables import predictions

ALIASES = ("champion", "challenger", "shadow", "direct")
SOURCES = ("analyze", "score", "replay", "api")
PREDICTION_COLUMNS = [
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
PREDICTION_KEYS = set(PREDICTION_COLUMNS) - {"id"}  # what a caller may give (the id is ours)


def log_predictions(db: Database, rows: list[dict]) -> list[int]:
    """Append predictions in one transaction; returns their new ids in row order."""
    if not rows:
        return []
    params = [_prediction_params(i, row) for i, row in enumerate(rows)]
    with db.write() as conn:
        if db.dialect == "sqlite":
            return _insert_sqlite_rows(conn, predictions, params)
        # Batched multi-row INSERT ... RETURNING ("insertmanyvalues"), ids in row order.
        stmt = predictions.insert().returning(predictions.c.id, sort_by_parameter_order=True)
        return [row_id for (row_id,) in conn.execute(stmt, params)]


def _prediction_params(i: int, row: Mapping) -> dict:
    unknown = set(row) - PREDICTION_KEYS
    if unknown:
        raise ValueError(
            f"prediction row {i}: unknown key(s) {sorted(unknown)}; "
            f"expected some of {sorted(PREDICTION_KEYS)}"
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
            "ts": to_utc(row.get("ts")) or now(),
            "model_version": str(row["model_version"]),
            "alias": alias,
            "company_id": str_or_none(row.get("company_id")),
            "profile": row.get("profile"),  # JSON columns: their text drops NULs (database._json_text)
            "outputs": row.get("outputs"),
            "probability": float_or_none(row.get("probability")),
            "segment": str_or_none(row.get("segment")),
            "source": source,
            "request_id": str_or_none(row.get("request_id")),
        }
    except (TypeError, ValueError) as exc:
        raise ValueError(f"prediction row {i}: {exc}") from exc


def _insert_sqlite_rows(conn: Connection, table: sa.Table, params: list[dict]) -> list[int]:
    """Insert with the driver's executemany and return the new ids in row order.

    SQLAlchemy cannot batch an ordered RETURNING on SQLite (it falls back to one statement per
    row, ~10x slower). It is not needed: inside our BEGIN IMMEDIATE transaction no one else
    writes, and SQLite gives each new row max(id) + 1, so the ids are the next len(params)
    integers. The check after the insert guards that reasoning. The statements go to the
    driver's cursor directly, values converted by the columns' own SQLAlchemy types: a served
    request logs one row at a time, and SQLAlchemy's statement machinery cost more than SQLite.
    """
    columns = list(params[0])
    dialect = conn.dialect
    convert = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    rows = [tuple(v if f is None else f(v) for f, v in zip(convert, (p[c] for c in columns), strict=True)) for p in params]
    cursor = conn.connection.driver_connection.cursor()
    try:
        max_id = f"SELECT max(id) FROM {table.name}"
        before = cursor.execute(max_id).fetchone()[0] or 0
        cursor.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
        after = cursor.execute(max_id).fetchone()[0]
    finally:
        cursor.close()
    if after != before + len(params):
        raise RuntimeError(
            f"{table.name}: expected ids {before + 1}..{before + len(params)}, "
            f"the largest is {after}"
        )  # rolls the batch back
    return list(range(before + 1, after + 1))


def read_predictions(
    db: Database,
    start=None,
    end=None,
    model_version: str | None = None,
    alias: str | None = None,
    limit: int | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Logged predictions with ``start <= ts < end``, oldest first.

    With ``limit``, the most recent ``limit`` of them (still oldest first). ``profile`` and
    ``outputs`` come back as dicts, ``ts`` as a UTC datetime64. ``columns``: only these (and
    ``id`` and ``ts``, which order the rows); the ``outputs`` of every analysis are most of the
    log, and most readers do not need them.
    """
    unknown = set(columns or ()) - set(PREDICTION_COLUMNS)
    if unknown:
        raise ValueError(f"unknown prediction column(s) {sorted(unknown)}; expected some of {PREDICTION_COLUMNS}")
    wanted = [c for c in PREDICTION_COLUMNS if columns is None or c in {"id", "ts", *columns}]
    cond = time_window(predictions.c.ts, start, end)
    if model_version is not None:
        cond.append(predictions.c.model_version == model_version)
    if alias is not None:
        cond.append(predictions.c.alias == alias)
    stmt = sa.select(*(predictions.c[c] for c in wanted)).where(*cond)
    if limit is not None:
        stmt = stmt.order_by(predictions.c.ts.desc(), predictions.c.id.desc()).limit(limit)
    with db.read() as conn:
        rows = conn.execute(stmt).all()
    frame = rows_frame(rows, wanted)
    return frame.sort_values(["ts", "id"], ignore_index=True)


def prediction_count(db: Database, start=None, end=None) -> int:
    """How many predictions were logged with ``start <= ts < end``."""
    return db.count(predictions, time_window(predictions.c.ts, start, end))


def rows_frame(rows, columns: list[str]) -> pd.DataFrame:
    """Rows as a DataFrame whose ``ts`` is a UTC datetime64, even when empty."""
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame
