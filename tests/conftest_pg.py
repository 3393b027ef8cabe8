"""Database backends for tests: SQLite in a temp dir, and PostgreSQL when CI provides one.

Import ``BACKENDS`` and ``database_url`` to run a test module against both databases:

    @pytest.fixture(params=BACKENDS)
    def db_url(request, tmp_path):
        with database_url(request.param, tmp_path) as url:
            yield url

PostgreSQL tests use env ``BENCHAI_TEST_PG_URL`` (``.ci/postgres.sh`` starts a server and prints
it) and skip without it. Each test gets a fresh schema, selected through ``search_path`` in the
URL, and the schema is dropped afterwards, so tests never see each other's tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ENV = "BENCHAI_TEST_PG_URL"
PG_SKIP_REASON = (
    "BENCHAI_TEST_PG_URL not set: PostgreSQL tests run in CI (.ci/postgres.sh starts a server)"
)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not os.environ.get(PG_ENV), reason=PG_SKIP_REASON),
    ),
]


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of ``backend``, cleaned up afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/benchai.db"
        return
    with pg_schema_url(os.environ[PG_ENV]) as url:
        yield url


@contextmanager
def pg_schema_url(base_url: str) -> Iterator[str]:
    """``base_url`` pointed at a new, empty schema; the schema is dropped on exit.

    Close every Store on the URL before exit: DROP SCHEMA waits for their locks.
    """
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    # libpq "options" sets search_path per connection, so unqualified tables land in the schema.
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
