"""Schema versions: ordered migration steps recorded in the ``schema_version`` table.

``migrate`` applies the missing steps in one transaction, so an older database is upgraded
when a Store opens it.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.store.database import Database, now
from engine.store.tables import alerts, feedback, jobs, metadata, predictions, schema_version

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


# Ordered: step N (1-based) takes a database from version N-1 to N. Append only, never edit.
MIGRATIONS: list[Callable[[Connection], None]] = [_create_v1_tables, _add_alert_lifecycle]


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
