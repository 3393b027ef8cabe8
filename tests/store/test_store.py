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


def test_sqlite_log_rows_are_stored_as_sqlalchemy_stores_them(tmp_path):
    """The SQLite prediction log writes through the driver's cursor with the columns' own
    types: the stored bytes are those of SQLAlchemy's insert of the same rows (times, JSON text
    with NaN as null and NULs dropped, numbers, missing values)."""
    from engine.store.predictions import _prediction_params
    from engine.store.tables import predictions

    rows = [
        prediction(),
        prediction(ts=datetime(2024, 3, 1, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))), company_id=None, probability=None, request_id=None),
        prediction(profile={"x": float("nan"), "n\x00ame": "a\x00b", "z": np.float32(1.5)}, outputs=None, probability=np.float64(0.25)),
    ]
    fast, plain = Store(f"sqlite:///{tmp_path}/fast.db"), Store(f"sqlite:///{tmp_path}/plain.db")
    with fast, plain:
        assert fast.log_predictions(rows) == [1, 2, 3]
        with plain._db.write() as conn:
            conn.execute(predictions.insert(), [_prediction_params(i, r) for i, r in enumerate(rows)])
        stored = []
        for s in (fast, plain):
            with s._db.read() as conn:
                stored.append(conn.exec_driver_sql("SELECT * FROM predictions ORDER BY id").all())
        assert stored[0] == stored[1]
        assert "NaN" not in str(stored[0]) and "\x00" not in str(stored[0])
        pd.testing.assert_frame_equal(fast.predictions(), plain.predictions())


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
    pids = store.log_predictions([prediction(), prediction(company_id="c2")])
    assert store.add_feedback(
        [
            {"prediction_id": pids[0], "outcome": 1, "ts": at(5)},
            {"company_id": "c9", "outcome": np.int64(0), "ts": at(10)},
            {"prediction_id": pids[1], "company_id": "c2", "outcome": True},
        ]
    ) == feedback.FeedbackCounts(recorded=3, corrected=0, duplicates=0)
    assert store.feedback_count() == 3
    assert store.feedback_count(since=at(6)) == 2
    # A blank ts cell of an uploaded table (NaN/NaT) means "now", like a missing one.
    store.add_feedback(
        [
            {"company_id": "c8", "outcome": 1, "ts": float("nan")},
            {"company_id": "c9", "outcome": 1, "ts": pd.NaT},
        ]
    )
    assert store.feedback_count(since=datetime.now(UTC) - timedelta(minutes=1)) == 3
    assert store.add_feedback([]).to_dict() == {"recorded": 0, "corrected": 0, "duplicates": 0}


def feedback_rows(store) -> list[dict]:
    """Every stored feedback row, superseded ones included, in insertion order."""
    with store._engine.connect() as conn:
        query = sa.text("SELECT prediction_id, company_id, outcome, ts, superseded_at FROM feedback ORDER BY id")
        return [dict(r._mapping) for r in conn.execute(query.columns(ts=UTCDateTime, superseded_at=UTCDateTime))]


def labels(store) -> dict:
    """prediction id -> the outcome that labels it."""
    df = store.labelled_predictions()
    return dict(zip(df["prediction_id"], df["outcome"], strict=True))


def test_feedback_sent_twice_is_recorded_once(store):
    pids = store.log_predictions([prediction(ts=at(0)), prediction(ts=at(1), company_id="c2")])
    batch = [
        {"prediction_id": pids[0], "outcome": 1},  # no ts: stamped on arrival, still one identity
        {"prediction_id": pids[1], "company_id": "c2", "outcome": 0, "ts": at(20)},
        {"company_id": "c1", "outcome": 1, "ts": at(30)},
    ]
    first = store.add_feedback(batch)
    assert first == feedback.FeedbackCounts(recorded=3, corrected=0, duplicates=0)
    stored = feedback_rows(store)
    again = store.add_feedback(batch)
    assert again == feedback.FeedbackCounts(recorded=0, corrected=0, duplicates=3)
    assert feedback_rows(store) == stored  # left as they were: first arrival time kept
    assert store.feedback_count() == 3
    # Within one batch too: the second copy of a row is a duplicate.
    [pid] = store.log_predictions([prediction(ts=at(2), company_id="c3")])
    twice = store.add_feedback([{"prediction_id": pid, "outcome": 1}] * 2)
    assert (twice.recorded, twice.duplicates) == (1, 1) and store.feedback_count() == 4


def test_a_different_outcome_later_is_a_correction(store):
    [pid] = store.log_predictions([prediction(ts=at(0))])
    store.add_feedback([{"prediction_id": pid, "outcome": 1, "ts": at(10)}])
    fixed = store.add_feedback([{"prediction_id": pid, "outcome": 0, "ts": at(20)}])
    assert fixed == feedback.FeedbackCounts(recorded=1, corrected=1, duplicates=0)
    assert labels(store) == {pid: 0} and store.feedback_count() == 1
    # The replaced row is kept as history, marked superseded.
    history = feedback_rows(store)
    assert [(r["outcome"], r["superseded_at"] is not None) for r in history] == [(1, True), (0, False)]
    # A retry of the first row (its own, older time) changes nothing: the latest wins.
    stale = store.add_feedback([{"prediction_id": pid, "outcome": 1, "ts": at(10)}])
    assert stale == feedback.FeedbackCounts(recorded=0, corrected=0, duplicates=1)
    assert labels(store) == {pid: 0} and feedback_rows(store) == history
    # Corrected back, and corrected twice within one batch: each later row wins.
    back = store.add_feedback(
        [{"prediction_id": pid, "outcome": 1}, {"prediction_id": pid, "outcome": 0}]
    )
    assert back == feedback.FeedbackCounts(recorded=2, corrected=2, duplicates=0)
    assert labels(store) == {pid: 0} and store.feedback_count() == 1
    assert [r["superseded_at"] is None for r in feedback_rows(store)] == [False] * 3 + [True]


def test_entity_feedback_is_identified_by_its_time(store):
    ids = store.log_predictions([prediction(ts=at(0)), prediction(ts=at(10))])
    store.add_feedback([{"company_id": "c1", "outcome": 1, "ts": at(5)}])
    # Another time is another observation (it labels a later prediction) ...
    later = store.add_feedback([{"company_id": "c1", "outcome": 1, "ts": at(15)}])
    assert later.recorded == 1 and labels(store) == {ids[0]: 1, ids[1]: 1}
    # ... the same time with another outcome corrects it.
    fixed = store.add_feedback([{"company_id": "c1", "outcome": 0, "ts": at(5)}])
    assert fixed.corrected == 1 and labels(store) == {ids[0]: 0, ids[1]: 1}
    assert store.feedback_count() == 2
    # Without a time each arrival is a new observation (documented: send ts for retries).
    store.add_feedback([{"company_id": "c1", "outcome": 1}])
    store.add_feedback([{"company_id": "c1", "outcome": 1}])
    assert store.feedback_count() == 4


def test_two_stores_sending_the_same_feedback_at_once_record_it_once(db_url):
    """Like two servers on one database: every row lands once and the counts add up."""
    rounds, size = 12, 40
    with Store(db_url) as first, Store(db_url) as second:
        pids = first.log_predictions([prediction(company_id=f"c{i}") for i in range(rounds * size)])
        batches = [
            [{"prediction_id": pid, "outcome": pid % 2} for pid in pids[r * size : (r + 1) * size]]
            for r in range(rounds)
        ]
        barrier = threading.Barrier(2)

        def send(store: Store) -> list[feedback.FeedbackCounts]:
            out = []
            for batch in batches:
                barrier.wait()  # both send the same batch at the same moment
                out.append(store.add_feedback(batch))
            return out

        with ThreadPoolExecutor(2) as pool:
            results = [c for counts in pool.map(send, [first, second]) for c in counts]
        assert sum(c.recorded for c in results) == rounds * size
        assert sum(c.duplicates for c in results) == rounds * size
        assert len(feedback_rows(first)) == first.feedback_count() == rounds * size


def test_migration_keeps_feedback_recorded_twice_before_it(db_url, monkeypatch):
    """A database from before step 3 holding repeated feedback upgrades without losing a row;
    the latest row of each identity stays current, so the labels do not change."""
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
    with Store(db_url) as old:
        pids = old.log_predictions(
            [prediction(ts=at(0)), prediction(ts=at(1), company_id="c2"), prediction(company_id="c3")]
        )
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:  # the version-2 shape (step 1 creates today's tables)
        for index in ("uq_feedback_prediction", "uq_feedback_company_ts"):
            conn.exec_driver_sql(f"DROP INDEX {index}")
        conn.exec_driver_sql("ALTER TABLE feedback DROP COLUMN superseded_at")
    engine.dispose()
    monkeypatch.undo()
    legacy = [
        (pids[0], None, 1, at(10)),
        (pids[0], None, 1, at(10)),  # identical but for the id
        (pids[0], None, 0, at(20)),  # a correction: the latest wins
        (pids[1], "c2", 1, at(30)),
        (pids[1], "c2", 1, at(40)),  # sent again later
        (None, "c3", 0, at(5)),
        (None, "c3", 1, at(5)),  # same time, later id: wins
        (None, "c4", 1, at(50)),
    ]
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        for pid, cid, outcome, ts in legacy:
            conn.execute(
                sa.text("INSERT INTO feedback (prediction_id, company_id, outcome, ts) VALUES (:p, :c, :o, :t)")
                .bindparams(sa.bindparam("t", type_=UTCDateTime)),
                {"p": pid, "c": cid, "o": outcome, "t": ts},
            )
    engine.dispose()

    with Store(db_url) as s:
        assert s.schema_version() == 3
        rows = feedback_rows(s)
        assert [(r["prediction_id"], r["company_id"], r["outcome"], r["ts"]) for r in rows] == legacy
        assert [r["superseded_at"] is None for r in rows] == [False, False, True, False, True, False, True, True]
        assert s.feedback_count() == 4
        assert labels(s) == {pids[0]: 0, pids[1]: 1, pids[2]: 1}
        # The database itself now refuses a second current row for one prediction.
        with pytest.raises(sa.exc.IntegrityError), s._engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO feedback (prediction_id, outcome, ts) VALUES (:p, 1, :t)")
                .bindparams(sa.bindparam("t", type_=UTCDateTime)),
                {"p": pids[0], "t": at(60)},
            )
        resent = s.add_feedback(
            [{"prediction_id": p, "company_id": c, "outcome": o, "ts": t} for p, c, o, t in legacy]
        )
        # Sent again in order, every row is already recorded, except the same-time correction
        # of c3: with no later time to tell them apart it is applied again (same labels).
        assert resent == feedback.FeedbackCounts(recorded=2, corrected=2, duplicates=6)
        assert s.feedback_count() == 4
        assert labels(s) == {pids[0]: 0, pids[1]: 1, pids[2]: 1}


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
        assert s.schema_version() == len(migrations.MIGRATIONS) == 3
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
