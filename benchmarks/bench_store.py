"""Write throughput of the operational store (engine.store), printed as a markdown table.

    python benchmarks/bench_store.py [--scale 0.2]

Measures prediction-log inserts in batches of 1, 100 and 10,000 rows, and single-row feedback
writes from 1 and from 8 threads. Runs on SQLite in a temp dir and, when BENCHAI_TEST_PG_URL is
set (see .ci/postgres.sh), on PostgreSQL in a throwaway schema. Rows are shaped like real
analyze() logs: a ~15-field profile and a small outputs dict.

Floor, in the same run and database: the same rows written by the database driver alone
(sqlite3's ``executemany``, psycopg2's ``execute_values``, of one plain INSERT into a table of
the same columns, JSON as text, one transaction per batch or call, one connection per thread):
what any store of these rows costs.
Prints library versions, thread settings and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from engine.store import Store  # noqa: E402
from engine.store.predictions import PREDICTION_COLUMNS  # noqa: E402

FLOOR_TABLE = "bench_floor"
FLOOR_COLUMNS = tuple(c for c in PREDICTION_COLUMNS if c != "id")  # "ts" first

# (label, batch size, total rows at scale 1)
PREDICTION_CASES = [
    ("prediction log, batch 1", 1, 2_000),
    ("prediction log, batch 100", 100, 20_000),
    ("prediction log, batch 10,000", 10_000, 100_000),
]
# (label, threads, total single-row calls at scale 1)
FEEDBACK_CASES = [
    ("feedback, 1 row/call, 1 thread", 1, 4_000),
    ("feedback, 1 row/call, 8 threads", 8, 8_000),
]


def prediction_row(i: int) -> dict:
    profile = {f"score_{k}": (i * 7 + k) % 50 / 10 for k in range(10)}
    profile.update(
        industry="retail", size="medium", region="EU", revenue=1.5e6 + i, employees=120 + i % 40
    )
    return {
        "model_version": "20240301-120000-abc123",
        "alias": "champion",
        "company_id": f"c{i}",
        "profile": profile,
        "outputs": {"segment": i % 6, "probability": (i % 100) / 100, "anomalies": 2},
        "probability": (i % 100) / 100,
        "segment": f"s{i % 6}",
        "source": "analyze",
        "request_id": uuid.uuid4().hex,
    }


def rate(rows: int, work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return rows / (time.perf_counter() - start)


def bench_predictions(store: Store, batch: int, total: int) -> float:
    batches = [[prediction_row(i) for i in range(b, b + batch)] for b in range(0, total, batch)]
    return rate(total, lambda: [store.log_predictions(rows) for rows in batches])


def bench_feedback(store: Store, threads: int, total: int) -> float:
    per_thread = total // threads

    def writer(t: int) -> None:
        for i in range(per_thread):
            store.add_feedback([{"company_id": f"t{t}-{i}", "outcome": i % 2}])

    def run() -> None:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(writer, range(threads)))

    return rate(per_thread * threads, run)


def floor_values(row: dict) -> tuple:
    """A prediction row as the driver takes it: JSON as text, the time as ISO text."""
    return (time.strftime("%Y-%m-%d %H:%M:%S"), *(json.dumps(row[c]) if c in ("profile", "outputs") else row[c] for c in FLOOR_COLUMNS[1:]))


def floor_rates(url: str, scale: float) -> dict[str, float]:
    """Rows/s of each case written by the driver alone (see the module docstring)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    sqlite = engine.dialect.name == "sqlite"
    columns = ", ".join(FLOOR_COLUMNS)
    insert = f"INSERT INTO {FLOOR_TABLE} ({columns}) VALUES " + (f"({', '.join(['?'] * len(FLOOR_COLUMNS))})" if sqlite else "%s")
    with engine.begin() as conn:
        key = "INTEGER PRIMARY KEY" if sqlite else "BIGSERIAL PRIMARY KEY"
        conn.exec_driver_sql(f"CREATE TABLE {FLOOR_TABLE} (id {key}, ts TEXT, model_version TEXT, alias TEXT, company_id TEXT, profile TEXT, outputs TEXT, probability FLOAT, segment TEXT, source TEXT, request_id TEXT)")

    def write(batches: list[list[tuple]]) -> None:
        from psycopg2.extras import execute_values

        conn = engine.raw_connection()
        try:
            for rows in batches:
                if sqlite:
                    conn.cursor().executemany(insert, rows)
                else:
                    execute_values(conn.cursor(), insert, rows, page_size=1000)
                conn.commit()
        finally:
            conn.close()

    results = {}
    for label, batch, total in PREDICTION_CASES:
        total = max(batch, int(total * scale))
        batches = [[floor_values(prediction_row(i)) for i in range(b, b + batch)] for b in range(0, total, batch)]
        results[label] = rate(total, lambda batches=batches: write(batches))
    for label, threads, total in FEEDBACK_CASES:
        per_thread = max(threads, int(total * scale)) // threads
        rows = [[[floor_values(prediction_row(i))] for i in range(per_thread)] for _ in range(threads)]

        def run(rows=rows, threads=threads) -> None:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(write, rows))

        results[label] = rate(per_thread * threads, run)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE {FLOOR_TABLE}")
    engine.dispose()
    return results


def bench(url: str, scale: float) -> dict[str, tuple[float, float]]:
    """label -> (store rows/s, floor rows/s)."""
    results = {}
    with Store(url) as store:
        for label, batch, total in PREDICTION_CASES:
            results[label] = bench_predictions(store, batch, max(batch, int(total * scale)))
        for label, threads, total in FEEDBACK_CASES:
            results[label] = bench_feedback(store, threads, max(threads, int(total * scale)))
    floor = floor_rates(url, scale)
    return {label: (rate_, floor[label]) for label, rate_ in results.items()}


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.db"


@contextmanager
def postgres_url(base_url: str) -> Iterator[str]:
    """``base_url`` pointed at a fresh schema, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def table(results: dict[str, dict[str, tuple[float, float]]]) -> str:
    lines = ["| database | write | rows/s | floor rows/s (driver alone) | ÷ floor |", "| --- | --- | ---: | ---: | ---: |"]
    for backend, rows in results.items():
        for label, (rate_, floor) in rows.items():
            lines.append(f"| {backend} | {label} | {rate_:,.0f} | {floor:,.0f} | {rate_ / floor:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the number of rows written (default 1.0)"
    )
    args = parser.parse_args()
    results = {}
    with sqlite_url() as url:
        results["SQLite"] = bench(url, args.scale)
    pg_url = os.environ.get("BENCHAI_TEST_PG_URL")
    if pg_url:
        with postgres_url(pg_url) as url:
            results["PostgreSQL"] = bench(url, args.scale)
    else:
        print("(BENCHAI_TEST_PG_URL not set: PostgreSQL skipped)\n")
    from importlib.metadata import version

    threads = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    libs = " · ".join(f"{n} {version(n)}" for n in ("sqlalchemy", "psycopg2-binary", "orjson"))
    print(f"python {platform.python_version()} · sqlite {__import__('sqlite3').sqlite_version} · {libs} · {os.cpu_count()} CPUs · {threads} · load average {os.getloadavg()[0]:.2f}\n")
    print(table(results))


if __name__ == "__main__":
    main()
