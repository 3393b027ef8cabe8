"""Schema versions: ordered migration steps recorded in the ``schema_version`` table.

``migrate`` applies the missing steps in one transaction, so an older database is upgraded
when a Store opens it.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.store.database import Database, now
from engine.store.tables import (
    FEEDBACK_IDENTITIES,
    alerts,
    feedback,
    jobs,
    metadata,
    predictions,
    schema_version,
)

# Arbitrary constant key for pg_advisory_xact_lock: makes concurrent migrations take turns.
PG_MIGRATION_LOCK = 0x6265_6E63_6861_69  # "benchai"


def _create_v1_tables(conn: Connection) -> None:
    """Step 1: every table, in the shape ``tables`` defines today. A fresh database therefore
    already has what later steps add, so each later step checks before it alters.

    Databases created before the unused ``alias_log`` table was dropped from the code still
    hold it; nothing reads or writes it.
    """
    metadata.create_all(conn, tables=[predictions, feedback, alerts, jobs])


def _add_alert_lifecycle(conn: Connection) -> None:
    """Step 2: who acknowledged an alert and when, and who resolved it (nullable columns).

    Adds only the columns the table lacks: a database created by step 1 after they entered
    ``tables`` has them already.
    """
    present = {c["name"] for c in sa.inspect(conn).get_columns(alerts.name)}
    for column in (alerts.c.acknowledged_at, alerts.c.acknowledged_by, alerts.c.resolved_by):
        if column.name not in present:
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {alerts.name} ADD COLUMN {column.name} {kind}")


def _add_feedback_identity(conn: Connection) -> None:
    """Step 3: at most one current feedback row per identity (``engine.store.feedback``).

    Adds the ``superseded_at`` column, then marks as superseded every row that a later row of
    the same identity outranks (the order "latest wins" already used: time, then id), so the
    unique indexes can be built over a database that holds feedback sent twice. Nothing is
    deleted, and what each prediction is labelled with does not change. A database created by
    step 1 after these entered ``tables`` has the column and the indexes already.
    """
    present = {c["name"] for c in sa.inspect(conn).get_columns(feedback.name)}
    column = feedback.c.superseded_at
    if column.name not in present:
        kind = column.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE {feedback.name} ADD COLUMN {column.name} {kind}")
    conn.execute(_supersede_outranked_feedback())
    indexes = {i["name"] for i in sa.inspect(conn).get_indexes(feedback.name)}
    for index in FEEDBACK_IDENTITIES:
        if index.name not in indexes:
            index.create(conn)


def _supersede_outranked_feedback() -> sa.Update:
    """Mark each current feedback row that has a later row of the same identity."""
    f, later = feedback, feedback.alias("later")
    same_identity = sa.or_(
        sa.and_(f.c.prediction_id.is_not(None), later.c.prediction_id == f.c.prediction_id),
        sa.and_(
            f.c.prediction_id.is_(None),
            later.c.prediction_id.is_(None),
            later.c.company_id == f.c.company_id,
            later.c.ts == f.c.ts,
        ),
    )
    # Whether "later" is itself current does not matter: the update's result is the same in
    # whatever order a backend visits the rows (the latest of each identity stays current).
    outranks = sa.or_(later.c.ts > f.c.ts, sa.and_(later.c.ts == f.c.ts, later.c.id > f.c.id))
    has_later = sa.exists().where(same_identity, outranks)
    return f.update().where(f.c.superseded_at.is_(None), has_later).values(superseded_at=now())


# Ordered: step N (1-based) takes a database from version N-1 to N. Append only, never edit.
MIGRATIONS: list[Callable[[Connection], None]] = [
    _create_v1_tables,
    _add_alert_lifecycle,
    _add_feedback_identity,
]


def migrate(db: Database) -> None:
    """Apply the missing MIGRATIONS steps, all in one transaction."""
    with db.write() as conn:
        if db.dialect == "postgresql":
            # Two processes starting at once on a fresh database would both CREATE TABLE.
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_MIGRATION_LOCK)))
        schema_version.create(conn, checkfirst=True)
        current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
        for number, step in enumerate(MIGRATIONS, start=1):
            if number > current:
                step(conn)
                conn.execute(schema_version.insert().values(version=number, applied_at=now()))


def current_version(db: Database) -> int:
    """The database's schema version (the number of migration steps applied)."""
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
