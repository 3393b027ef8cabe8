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
    """Step 1: every table. Later steps change the schema with ALTERs of their own, so when a
    step alters a table here, this step must keep creating the version-1 shape of it.

    Databases created before the unused ``alias_log`` table was dropped from the code still
    hold it; nothing reads or writes it.
    """
    metadata.create_all(conn, tables=[predictions, feedback, alerts, jobs])


# Ordered: step N (1-based) takes a database from version N-1 to N. Append only, never edit.
MIGRATIONS: list[Callable[[Connection], None]] = [_create_v1_tables]


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
