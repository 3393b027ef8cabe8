"""The operational database: prediction log, feedback, alerts and training jobs.

SQLAlchemy Core on SQLite (the embedded default, ``HOME/benchai.db``) or PostgreSQL
(``BENCHAI_DB_URL``). Modules:

- ``database``: URLs, engines (SQLite locks and pragmas, PostgreSQL pools), transactions,
  the UTC timestamp type and value helpers.
- ``tables``: the table definitions; ``migrations``: schema versions and upgrade steps.
- ``predictions``, ``feedback``, ``alerts``, ``jobs``: the operations on each kind of record.
- ``facade``: ``Store``, the object callers use, delegating to those modules.
"""

from engine.store.database import default_url
from engine.store.facade import Store

__all__ = ["Store", "default_url"]
