"""engine.store on SQLite and (when BENCHAI_TEST_PG_URL is set) PostgreSQL."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest_pg import BACKENDS, database_url

from engine.errors import AlertNotFoundError, AlertStateError
from engine.store import Store, default_url, feedback, migrations
from engine.store.database import UTCDateTime
from engine.store.predictions import PREDICTION_COLUMNS

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(db_url):
    with Store(db_url) as s:
        yield s


def prediction(**overrides) -> dict:
    row = {
        "model_version": "v1",
        "alias": "champion",
        "company_id": "c1",
        "profile": {"technology": 3.5, "industry": "retail"},
        "outputs": {"segment": {"id": 2}},
        "probability": 0.4,
        "segment": "s2",
        "source": "analyze",
        "request_id": "r1",
        "ts": T0,
    }
    row.update(overrides)
    return row


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# ----------------------------------------------------------------------------- setup


def test_default_url_uses_env_or_sqlite_under_home(monkeypatch, tmp_path):
    monkeypatch.delenv("BENCHAI_DB_URL", raising=False)
    assert default_url(tmp_path) == f"sqlite:///{tmp_path}/benchai.db"
    monkeypatch.setenv("BENCHAI_DB_URL", "postgresql+psycopg2://u:p@h/db")
    assert default_url(tmp_path) == "postgresql+psycopg2://u:p@h/db"


def test_for_home_creates_the_sqlite_file(monkeypatch, tmp_path):
    monkeypatch.delenv("BENCHAI_DB_URL", raising=False)
    home = tmp_path / "new" / "home"
    with Store.for_home(home) as s:
        assert s.dialect == "sqlite"
        assert s.url == f"sqlite:///{home}/benchai.db"
    assert (home / "benchai.db").exists()


def test_sqlite_connection_settings(tmp_path):
    with Store(f"sqlite:///{tmp_path}/x.db") as s, s._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_dialect_and_tables(store):
    assert store.dialect in ("sqlite", "postgresql")
    tables = set(sa.inspect(store._engine).get_table_names())
    assert {"schema_version", "predictions", "feedback", "alerts", "jobs"} <= tables
    assert store.schema_version() == len(migrations.MIGRATIONS)


# ----------------------------------------------------------------------------- migrations


def test_missing_migration_step_is_applied_once(db_url, monkeypatch):
    Store(db_url).close()  # an existing database at the current version
    latest = len(migrations.MIGRATIONS)
    calls = []

    def add_note_column(conn):
        calls.append(1)
        conn.exec_driver_sql("ALTER TABLE alerts ADD COLUMN note VARCHAR(100)")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, add_note_column])
    with Store(db_url) as s:
        assert s.schema_version() == latest + 1
        columns = {c["name"] for c in sa.inspect(s._engine).get_columns("alerts")}
    assert "note" in columns
    with Store(db_url) as s:  # reopening applies nothing more
        assert s.schema_version() == latest + 1
    assert calls == [1]


def test_failing_migration_step_changes_nothing(db_url, monkeypatch):
    Store(db_url).close()

    def broken(conn):
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="boom"):
        Store(db_url)
    monkeypatch.undo()
    with Store(db_url) as s:
        assert s.schema_version() == len(migrations.MIGRATIONS)
        assert "half_done" not in sa.inspect(s._engine).get_table_names()


def test_database_with_the_old_alias_log_table_still_opens(db_url):
    """Databases made before the unused alias_log table left the code keep it, untouched."""
    Store(db_url).close()
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alias_log (id INTEGER PRIMARY KEY, alias VARCHAR(32))")
    engine.dispose()
    with Store(db_url) as s:
        assert s.schema_version() == len(migrations.MIGRATIONS)
        assert "alias_log" in sa.inspect(s._engine).get_table_names()


# ----------------------------------------------------------------------------- prediction log


def test_log_predictions_round_trip(store):
    ids = store.log_predictions(
        [
            prediction(
                ts=datetime(2024, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
                profile={"a": np.float64(1.5), "b": float("nan"), "c": np.int64(3)},
                probability=np.float32(0.25),
            ),
            prediction(
                alias="shadow",
                company_id=None,
                profile=None,
                outputs=None,
                ts=None,
                probability=None,
                source="score",
            ),
        ]
    )
    assert len(ids) == 2 and ids[0] < ids[1]
    df = store.predictions()
    assert list(df["id"]) == ids
    first, second = df.iloc[0], df.iloc[1]
    assert isinstance(df["ts"].dtype, pd.DatetimeTZDtype) and str(df["ts"].dt.tz) == "UTC"
    assert first["ts"] == pd.Timestamp("2024-03-01 12:00", tz="UTC")  # +02:00 stored as UTC
    assert first["profile"] == {"a": 1.5, "b": None, "c": 3}  # NaN -> null, numpy -> JSON
    assert first["outputs"] == {"segment": {"id": 2}}
    assert first["probability"] == pytest.approx(0.25)
    assert (
        first["model_version"],
        first["alias"],
        first["company_id"],
        first["segment"],
        first["source"],
        first["request_id"],
    ) == ("v1", "champion", "c1", "s2", "analyze", "r1")
    assert second["profile"] is None and pd.isna(second["probability"])
    assert abs(second["ts"] - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=1)


def test_naive_timestamps_are_utc(store):
    store.log_predictions([prediction(ts=datetime(2024, 3, 1, 12, 0))])
    assert store.predictions()["ts"][0] == pd.Timestamp("2024-03-01 12:00", tz="UTC")


def test_predictions_filters_and_count(store):
    store.log_predictions(
        [
            prediction(
                ts=at(i),
                model_version="v1" if i % 2 else "v2",
                alias="champion" if i < 6 else "challenger",
            )
            for i in range(10)
        ]
    )
    assert len(store.predictions()) == 10
    window = store.predictions(start=at(2), end=at(5))  # start inclusive, end exclusive
    assert list(window["ts"]) == [pd.Timestamp(at(i)) for i in (2, 3, 4)]
    assert set(store.predictions(model_version="v2")["model_version"]) == {"v2"}
    assert len(store.predictions(alias="challenger")) == 4
    latest = store.predictions(limit=3)  # the most recent three, oldest first
    assert list(latest["ts"]) == [pd.Timestamp(at(i)) for i in (7, 8, 9)]
    assert store.prediction_count() == 10
    assert store.prediction_count(start=at(8)) == 2
    assert store.prediction_count(end=at(8)) == 8
    assert store.prediction_count(start="2024-03-01T12:02:00Z", end=at(4)) == 2


def test_empty_predictions_frame_has_columns(store):
    df = store.predictions()
    assert df.empty and list(df.columns) == PREDICTION_COLUMNS
    assert isinstance(df["ts"].dtype, pd.DatetimeTZDtype)
    assert store.log_predictions([]) == []


@pytest.mark.parametrize(
    "bad, problem",
    [
        ({"alias": "boss"}, "alias"),
        ({"source": "web"}, "source"),
        ({"model_version": ""}, "model_version"),
        ({"prob": 0.2}, "unknown key"),
        ({"ts": "not a date"}, "row 2"),
        ({"probability": "high"}, "row 2"),
    ],
)
def test_bad_prediction_row_fails_the_whole_batch(store, bad, problem):
    rows = [prediction(), prediction(), prediction(**bad)]
    with pytest.raises(ValueError, match=problem) as err:
        store.log_predictions(rows)
    assert "prediction row 2" in str(err.value)
    assert store.prediction_count() == 0


@pytest.mark.slow
def test_large_batch_is_one_insert_with_ids_in_order(store):
    n = 100_000
    rows = [
        {
            "model_version": "v1",
            "alias": "direct",
            "company_id": f"c{i}",
            "profile": {"x": i},
            "outputs": {"p": i / n},
            "probability": i / n,
            "source": "replay",
            "ts": T0,
        }
        for i in range(n)
    ]
    ids = store.log_predictions(rows)
    assert len(ids) == n and ids == sorted(ids) and len(set(ids)) == n
    assert store.prediction_count() == n
    df = store.predictions(limit=1)
    assert df["id"][0] == ids[-1] and df["company_id"][0] == f"c{n - 1}"


# ----------------------------------------------------------------------------- feedback


def test_add_feedback_and_count(store):
    [pid] = store.log_predictions([prediction()])
    assert (
        store.add_feedback(
            [
                {"prediction_id": pid, "outcome": 1, "ts": at(5)},
                {"company_id": "c9", "outcome": np.int64(0), "ts": at(10)},
                {"prediction_id": pid, "company_id": "c1", "outcome": True},
            ]
        )
        == 3
    )
    assert store.feedback_count() == 3
    assert store.feedback_count(since=at(6)) == 2
    # A blank ts cell of an uploaded table (NaN/NaT) means "now", like a missing one.
    store.add_feedback(
        [
            {"company_id": "c9", "outcome": 1, "ts": float("nan")},
            {"company_id": "c9", "outcome": 1, "ts": pd.NaT},
        ]
    )
    assert store.feedback_count(since=datetime.now(UTC) - timedelta(minutes=1)) == 3
    assert store.add_feedback([]) == 0


@pytest.mark.parametrize(
    "bad, problem",
    [
        ({"outcome": 1}, "needs a prediction_id or a company_id"),
        ({"company_id": "c1", "outcome": 2}, "outcome"),
        ({"company_id": "c1", "outcome": "yes"}, "outcome"),
        ({"company_id": "c1"}, "outcome"),
        ({"prediction_id": 999_999, "outcome": 1}, "prediction_id 999999 does not exist"),
        ({"company_id": "c1", "outcome": 1, "when": at(1)}, "unknown key"),
    ],
)
def test_bad_feedback_row_fails_the_whole_batch(store, bad, problem):
    [pid] = store.log_predictions([prediction()])
    rows = [{"prediction_id": pid, "outcome": 1}, {"company_id": "c1", "outcome": 0}, bad]
    with pytest.raises(ValueError, match=problem) as err:
        store.add_feedback(rows)
    assert "feedback row 2" in str(err.value)
    assert store.feedback_count() == 0


def test_database_constraint_failure_rolls_back_the_batch(store, monkeypatch):
    # Skip the Python-side id check so the foreign key itself rejects the last row.
    monkeypatch.setattr(feedback, "_check_prediction_ids", lambda conn, params: None)
    [pid] = store.log_predictions([prediction()])
    with pytest.raises(sa.exc.IntegrityError):
        store.add_feedback(
            [{"prediction_id": pid, "outcome": 1}, {"prediction_id": pid + 1000, "outcome": 1}]
        )
    assert store.feedback_count() == 0


@pytest.mark.slow
def test_concurrent_single_row_feedback_writes(store):
    def writer(worker: int) -> None:
        for i in range(1000):
            store.add_feedback([{"company_id": f"w{worker}-{i}", "outcome": i % 2}])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))  # re-raises any writer's error
    assert store.feedback_count() == 8000


@pytest.mark.slow
def test_two_sqlite_stores_in_threads_and_another_process(tmp_path):
    url = f"sqlite:///{tmp_path}/shared.db"
    first, second = Store(url), Store(url)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as procs, ThreadPoolExecutor(4) as threads:
        remote = procs.submit(_write_feedback, url, "p", 500)
        local = [
            threads.submit(_write_feedback_with, s, f"t{k}", 500)
            for k, s in enumerate([first, second, first, second])
        ]
        for f in [remote, *local]:
            f.result()
    assert first.feedback_count() == 2500
    first.close()
    second.close()


def _write_feedback(url: str, prefix: str, n: int) -> None:
    with Store(url) as s:
        _write_feedback_with(s, prefix, n)


def _write_feedback_with(s: Store, prefix: str, n: int) -> None:
    for i in range(n):
        s.add_feedback([{"company_id": f"{prefix}-{i}", "outcome": 1}])


# ----------------------------------------------------------------------------- labelled


def test_labelled_by_prediction_id(store):
    ids = store.log_predictions(
        [prediction(ts=at(0), probability=0.9), prediction(ts=at(1), probability=0.2)]
    )
    store.add_feedback([{"prediction_id": ids[0], "outcome": 1, "ts": at(60)}])
    df = store.labelled_predictions()
    assert list(df.columns) == [
        "prediction_id",
        "ts",
        "model_version",
        "alias",
        "company_id",
        "probability",
        "outcome",
    ]
    assert df.to_dict("records") == [
        {
            "prediction_id": ids[0],
            "ts": pd.Timestamp(at(0)),
            "model_version": "v1",
            "alias": "champion",
            "company_id": "c1",
            "probability": 0.9,
            "outcome": 1,
        }
    ]


def test_labelled_by_company_uses_latest_prediction_at_or_before_feedback(store):
    ids = store.log_predictions(
        [
            prediction(ts=at(0)),
            prediction(ts=at(10)),
            prediction(ts=at(30)),
            prediction(ts=at(5), company_id="other"),
        ]
    )
    store.add_feedback(
        [
            {"company_id": "c1", "outcome": 1, "ts": at(20)},
            {"company_id": "c1", "outcome": 0, "ts": at(-5)},  # before any
            {"company_id": "nobody", "outcome": 1, "ts": at(20)},
        ]
    )
    df = store.labelled_predictions()
    assert list(df["prediction_id"]) == [ids[1]] and list(df["outcome"]) == [1]
    store.add_feedback([{"company_id": "c1", "outcome": 0, "ts": at(30)}])  # exactly at ts
    assert list(store.labelled_predictions()["prediction_id"]) == [ids[1], ids[2]]


def test_labelled_by_company_labels_each_versions_latest_prediction(store):
    ids = store.log_predictions(
        [
            prediction(ts=at(0), model_version="v1", alias="champion"),
            prediction(ts=at(0), model_version="v2", alias="shadow"),
            prediction(ts=at(1), model_version="v1", alias="champion"),
        ]
    )
    store.add_feedback([{"company_id": "c1", "outcome": 1, "ts": at(5)}])
    df = store.labelled_predictions()
    assert sorted(df["prediction_id"]) == [ids[1], ids[2]]
    v2 = store.labelled_predictions(model_version="v2")
    assert list(v2["prediction_id"]) == [ids[1]] and list(v2["alias"]) == ["shadow"]


def test_labelled_latest_feedback_wins_and_filters(store):
    ids = store.log_predictions(
        [
            prediction(ts=at(0)),
            prediction(ts=at(10), company_id="c2"),
            prediction(ts=at(20), company_id="c3", model_version="v2"),
        ]
    )
    store.add_feedback(
        [
            {"prediction_id": ids[0], "outcome": 1, "ts": at(30)},
            {"prediction_id": ids[0], "outcome": 0, "ts": at(40)},  # correction: wins
            {"company_id": "c2", "outcome": 1, "ts": at(50)},
            {"company_id": "c3", "outcome": 1, "ts": at(50)},
        ]
    )
    df = store.labelled_predictions()
    assert list(df["prediction_id"]) == ids and list(df["outcome"]) == [0, 1, 1]
    assert list(store.labelled_predictions(start=at(5), end=at(20))["prediction_id"]) == [ids[1]]
    assert list(store.labelled_predictions(model_version="v2")["prediction_id"]) == [ids[2]]
    empty = store.labelled_predictions(start=at(100))
    assert empty.empty and isinstance(empty["ts"].dtype, pd.DatetimeTZDtype)


# ----------------------------------------------------------------------------- alerts


def test_raise_alert_deduplicates_open_alerts(store):
    first, created = store.raise_alert("drift", "technology", "warning", "PSI 0.3", {"psi": 0.3})
    assert created and first["count"] == 1 and first["status"] == "open"
    assert first["details"] == {"psi": 0.3} and first["created_at"].tzinfo is not None
    again, created = store.raise_alert("drift", "technology", "warning", "PSI 0.31")
    assert not created and again["id"] == first["id"] and again["count"] == 2
    assert again["last_seen"] >= first["last_seen"]
    other, created = store.raise_alert("drift", "size", "critical", "PSI 0.5")
    assert created and other["id"] != first["id"]
    assert [a["id"] for a in store.alerts()] == [other["id"], first["id"]]  # newest first


def test_resolved_alert_is_raised_anew(store):
    first, _ = store.raise_alert("performance", "auc", "critical", "AUC fell")
    store.resolve_alert(first["id"], "ana")
    store.resolve_alert(first["id"], "ana")  # idempotent
    second, created = store.raise_alert("performance", "auc", "critical", "AUC fell again")
    assert created and second["id"] != first["id"]
    assert [a["id"] for a in store.alerts(open_only=True)] == [second["id"]]
    resolved = [a for a in store.alerts() if a["id"] == first["id"]][0]
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    assert len(store.alerts(limit=1)) == 1
    with pytest.raises(LookupError):
        store.resolve_alert(123_456, "ana")


def test_concurrent_raise_leaves_one_open_alert(store):
    for round_ in range(5):
        barrier = threading.Barrier(8)

        def raise_it(_, key=f"k{round_}", barrier=barrier):
            barrier.wait()
            return store.raise_alert("drift", key, "warning", "same alert")

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(raise_it, range(8)))
        assert sum(created for _, created in results) == 1
        assert len({alert["id"] for alert, _ in results}) == 1
        assert max(alert["count"] for alert, _ in results) == 8
    assert len(store.alerts(open_only=True)) == 5


def test_alert_lifecycle_records_who_and_when(store):
    alert, _ = store.raise_alert("data_drift", "v1", "high", "Dataset drift")
    assert alert["state"] == "open" and alert["status"] == "open"
    assert (alert["acknowledged_at"], alert["acknowledged_by"], alert["resolved_by"]) == (None,) * 3

    before = datetime.now(UTC)
    acked = store.acknowledge_alert(alert["id"], "ana")
    assert (acked["state"], acked["status"], acked["acknowledged_by"]) == ("acknowledged", "open", "ana")
    assert before <= acked["acknowledged_at"] <= datetime.now(UTC)
    assert acked["resolved_at"] is None
    again = store.acknowledge_alert(alert["id"], "bob")  # a no-op: the first acknowledger stays
    assert again == acked
    assert [a["state"] for a in store.alerts(open_only=True)] == ["acknowledged"]

    resolved = store.resolve_alert(alert["id"], "carl")
    assert (resolved["state"], resolved["status"], resolved["resolved_by"]) == ("resolved", "resolved", "carl")
    assert resolved["acknowledged_by"] == "ana"  # the history is kept
    assert acked["acknowledged_at"] <= resolved["resolved_at"] <= datetime.now(UTC)
    assert store.resolve_alert(alert["id"], "dora") == resolved  # a no-op
    with pytest.raises(AlertStateError, match=f"Alert {alert['id']} was resolved .* by carl"):
        store.acknowledge_alert(alert["id"], "bob")
    assert store.alerts(open_only=True) == []
    assert store.alerts() == [resolved]


def test_an_open_alert_can_be_resolved_without_acknowledgement(store):
    alert, _ = store.raise_alert("feedback_ready", "1", "low", "Enough feedback")
    resolved = store.resolve_alert(alert["id"], "monitor")
    assert resolved["state"] == "resolved" and resolved["acknowledged_at"] is None


def test_raising_an_acknowledged_alert_bumps_it_and_keeps_it_acknowledged(store):
    first, _ = store.raise_alert("column_drift", "v1:size", "medium", "Drift in size")
    acked = store.acknowledge_alert(first["id"], "ana")
    again, created = store.raise_alert("column_drift", "v1:size", "medium", "Drift in size")
    assert not created and again["id"] == first["id"] and again["count"] == 2
    assert again["state"] == "acknowledged"
    assert (again["acknowledged_at"], again["acknowledged_by"]) == (acked["acknowledged_at"], "ana")
    store.resolve_alert(first["id"], "ana")
    fresh, created = store.raise_alert("column_drift", "v1:size", "medium", "Drift in size")
    assert created and fresh["id"] != first["id"] and fresh["count"] == 1
    assert fresh["state"] == "open" and fresh["acknowledged_by"] is None


def test_alerts_by_state(store):
    opened, _ = store.raise_alert("drift", "a", "high", "a")
    acked, _ = store.raise_alert("drift", "b", "high", "b")
    closed, _ = store.raise_alert("drift", "c", "high", "c")
    store.acknowledge_alert(acked["id"], "ana")
    store.resolve_alert(closed["id"], "ana")
    ids = {state: [a["id"] for a in store.alerts(state=state)] for state in ("open", "acknowledged", "resolved")}
    assert ids == {"open": [opened["id"]], "acknowledged": [acked["id"]], "resolved": [closed["id"]]}
    assert [a["id"] for a in store.alerts(open_only=True)] == [acked["id"], opened["id"]]
    assert [a["state"] for a in store.alerts()] == ["resolved", "acknowledged", "open"]
    with pytest.raises(ValueError, match="'closed' is not one of open, acknowledged, resolved"):
        store.alerts(state="closed")


def test_unknown_alert_id_is_refused_by_name(store):
    for change in (store.acknowledge_alert, store.resolve_alert):
        with pytest.raises(AlertNotFoundError, match="No alert with id 123456"):
            change(123_456, "ana")


def test_concurrent_acknowledgements_keep_the_first(store):
    alert, _ = store.raise_alert("drift", "k", "warning", "same alert")
    barrier = threading.Barrier(8)

    def acknowledge(i):
        barrier.wait()
        return store.acknowledge_alert(alert["id"], f"user{i}")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(acknowledge, range(8)))
    assert len({(r["acknowledged_by"], r["acknowledged_at"]) for r in results}) == 1
    assert store.alerts()[0]["acknowledged_by"] == results[0]["acknowledged_by"]


def test_migration_from_version_1_keeps_alerts_open(db_url, monkeypatch):
    """A database made before the lifecycle columns existed: step 2 adds them and its alerts
    come back open, ready to be acknowledged."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
    Store(db_url).close()
    engine = sa.create_engine(db_url)
    v1_alerts = sa.table(
        "alerts", *(sa.column(c) for c in ("kind", "key", "severity", "message", "status")),
        sa.column("created_at", UTCDateTime), sa.column("last_seen", UTCDateTime),
    )
    with engine.begin() as conn:
        for column in ("acknowledged_at", "acknowledged_by", "resolved_by"):  # the version-1 shape
            conn.exec_driver_sql(f"ALTER TABLE alerts DROP COLUMN {column}")
        conn.execute(v1_alerts.insert().values(kind="data_drift", key="v1", severity="high", message="old", status="open", created_at=T0, last_seen=T0))
    engine.dispose()
    monkeypatch.undo()

    with Store(db_url) as s:
        assert s.schema_version() == len(migrations.MIGRATIONS) == 2
        columns = {c["name"] for c in sa.inspect(s._engine).get_columns("alerts")}
        assert {"acknowledged_at", "acknowledged_by", "resolved_by"} <= columns
        (old,) = s.alerts()
        assert (old["message"], old["state"], old["count"], old["created_at"]) == ("old", "open", 1, T0)
        assert s.acknowledge_alert(old["id"], "ana")["state"] == "acknowledged"
        again, created = s.raise_alert("data_drift", "v1", "high", "old")
        assert not created and again["count"] == 2 and again["state"] == "acknowledged"
        assert s.resolve_alert(old["id"], "ana")["resolved_by"] == "ana"


# ----------------------------------------------------------------------------- jobs


def test_job_lifecycle(store):
    job_id = store.create_job("train", {"data": "companies.csv", "promote": True})
    assert len(job_id) == 32 and int(job_id, 16) >= 0
    job = store.job(job_id)
    assert job["status"] == "queued" and job["progress"] == 0
    assert job["params"] == {"data": "companies.csv", "promote": True}
    assert job["started_at"] is None and job["finished_at"] is None

    store.update_job(job_id, status="running", stage="clusters", progress=0.3)
    started = store.job(job_id)["started_at"]
    assert started is not None
    store.update_job(job_id, status="running", stage="xgboost", progress=0.7)
    assert store.job(job_id)["started_at"] == started  # first start kept
    store.update_job(
        job_id, status="succeeded", progress=1.0, version="v7", result={"auc": 0.81}, message="done"
    )
    job = store.job(job_id)
    assert (job["status"], job["stage"], job["progress"], job["version"], job["message"]) == (
        "succeeded",
        "xgboost",
        1.0,
        "v7",
        "done",
    )
    assert job["result"] == {"auc": 0.81} and job["finished_at"] >= started


def test_job_errors_and_listing(store):
    job_id = store.create_job("train", {})
    for bad in ({"status": "done"}, {"progress": 1.5}, {"colour": "red"}):
        with pytest.raises(ValueError):
            store.update_job(job_id, **bad)
    with pytest.raises(LookupError):
        store.update_job("0" * 32, status="running")
    assert store.job("0" * 32) is None
    finished = datetime(2024, 1, 1, tzinfo=UTC)
    store.update_job(job_id, status="failed", message="out of memory", finished_at=finished)
    assert store.job(job_id)["finished_at"] == finished
    later = store.create_job("score", {"rows": 10})
    assert [j["id"] for j in store.jobs()] == [later, job_id]
    assert len(store.jobs(limit=1)) == 1


def test_a_nul_character_is_stored_without_it_and_costs_no_other_row(store):
    """PostgreSQL refuses NUL in text and JSON: one such request once failed the whole group
    commit. It is cleaned on both backends, so every row of the batch is logged."""
    rows = [prediction(company_id=f"c{i}") for i in range(3)]
    rows[1] = prediction(company_id="c\x001", profile={"industry": "re\x00tail", "note\x00": "x"})
    ids = store.log_predictions(rows)
    assert len(ids) == 3 and all(isinstance(i, int) for i in ids)
    logged = store.predictions().set_index("id").loc[ids[1]]
    assert logged["company_id"] == "c1" and logged["profile"] == {"industry": "retail", "note": "x"}
    store.add_feedback([{"company_id": "c\x002", "outcome": 1, "ts": T0}])
    assert store.first_predictions(["c2"]) and store.feedback_count() == 1
