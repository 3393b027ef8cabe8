"""Feedback: actual outcomes (0 or 1), and the predictions they label.

Identity: feedback sent twice is recorded once
----------------------------------------------
A feedback row is about its *identity*: the prediction it names (``prediction_id``, whether or
not it names the entity too), or, when it names none, the entity at one time (``company_id``,
``ts``): such a row labels the entity's
latest prediction at or before ``ts``, so its time is part of what it says. The store keeps at
most one *current* row per identity (unique partial indexes, ``tables.FEEDBACK_IDENTITIES``),
so a client's retry, or one file sent to two servers sharing a database, lands once. A row
whose identity is already recorded is:

- a **duplicate** when its outcome is the recorded one: left as it was (the first ``ts`` stays);
- a **correction** when its outcome differs and its ``ts`` is at or after the recorded one's:
  the recorded row is kept as history, marked ``superseded_at``, and the new row becomes
  current. Corrections must stay possible (an outcome is sometimes entered wrongly), and the
  rule "when several feedback rows label one prediction, the latest wins" already said which
  one counts; keeping the old row (rather than updating it) loses nothing;
- counted with the duplicates when its outcome differs but it is older than the recorded row:
  the latest wins, so it changes nothing.

The identity leaves out the time of a row with a ``prediction_id`` because a row sent without
``ts`` is stamped on arrival: a retry would never match itself. For the same reason a row keyed
by entity and sent without ``ts`` is a new observation each time it arrives (every row of one
batch gets the same arrival time): send ``ts`` with such rows when they may be sent again.
And a correction at the very time of the row it corrects cannot be told from that row's retry:
a batch holding both, sent again, applies the correction again (same labels, one more row of
history).

Batches take turns (an advisory lock on PostgreSQL, the write lock on SQLite), so that the
counts returned are exact when several servers record at once; the unique indexes and
``ON CONFLICT DO NOTHING`` keep a second current row out of the database whatever the writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import DataError
from engine.store.database import Database, now, str_or_none, time_window, to_utc
from engine.store.predictions import rows_frame
from engine.store.tables import FEEDBACK_CURRENT, feedback, predictions

FEEDBACK_KEYS = {"prediction_id", "company_id", "outcome", "ts"}
LABELLED_COLUMNS = [
    "prediction_id",
    "ts",
    "model_version",
    "alias",
    "company_id",
    "probability",
    "outcome",
]
# Arbitrary constant key for pg_advisory_xact_lock: feedback batches take turns (see above).
PG_FEEDBACK_LOCK = 0x6665_6564_6261_636B  # "feedback"
CHUNK = 500  # ids per IN (...): well under the backends' bound-parameter limits


@dataclass(frozen=True)
class FeedbackCounts:
    """What one ``add_feedback`` batch did; ``recorded + duplicates`` is the batch size."""

    recorded: int  # rows stored: a first outcome for their identity, or a correction
    corrected: int  # of those, the rows that superseded a different recorded outcome
    duplicates: int  # rows already recorded (same outcome, or older than the recorded one)

    def to_dict(self) -> dict:
        return asdict(self)


def add_feedback(db: Database, rows: list[dict]) -> FeedbackCounts:
    """Record actual outcomes in one transaction; -> how many were new, corrections, duplicates.

    Each row names a ``prediction_id`` or a ``company_id`` (or both) and an ``outcome``
    (0 or 1), optionally with ``ts`` (default: the batch's arrival time). A row that refers to
    an unknown prediction id fails the whole batch. See the module docstring for identity.
    """
    if not rows:
        return FeedbackCounts(0, 0, 0)
    arrived = now()
    params = [_feedback_params(i, row, arrived) for i, row in enumerate(rows)]
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_FEEDBACK_LOCK)))
        _check_prediction_ids(conn, params)
        plan = _plan(params, _current_rows(conn, params), arrived)
        if plan.supersede:
            for chunk in range(0, len(plan.supersede), CHUNK):
                ids = plan.supersede[chunk : chunk + CHUNK]
                conn.execute(
                    feedback.update().where(feedback.c.id.in_(ids)).values(superseded_at=arrived)
                )
        if plan.insert:
            conn.execute(db.insert(feedback).on_conflict_do_nothing(), plan.insert)
    return plan.counts


def _feedback_params(i: int, row: Mapping, arrived: datetime) -> dict:
    unknown = set(row) - FEEDBACK_KEYS
    if unknown:
        raise ValueError(
            f"feedback row {i}: unknown key(s) {sorted(unknown)}; "
            f"expected some of {sorted(FEEDBACK_KEYS)}"
        )
    prediction_id, company_id = row.get("prediction_id"), row.get("company_id")
    if prediction_id is None and company_id is None:
        raise ValueError(f"feedback row {i}: needs a prediction_id or a company_id, got neither")
    outcome = row.get("outcome")
    # bool and numpy integers are fine; 2, 0.5 or "yes" are not.
    if isinstance(outcome, str) or outcome is None or outcome not in (0, 1):
        raise ValueError(f"feedback row {i}: outcome is {outcome!r}; expected 0 or 1")
    try:
        return {
            "prediction_id": None if prediction_id is None else int(prediction_id),
            "company_id": str_or_none(company_id),
            "outcome": int(outcome),
            "ts": to_utc(row.get("ts")) or arrived,
        }
    except (TypeError, ValueError) as exc:
        raise DataError(f"feedback row {i}: {exc}") from exc


def _check_prediction_ids(conn: Connection, params: list[dict]) -> None:
    """Name the first row whose prediction id does not exist (the foreign key would only say
    that some row failed)."""
    wanted = {p["prediction_id"] for p in params if p["prediction_id"] is not None}
    found: set[int] = set()
    ids = sorted(wanted)
    for chunk in range(0, len(ids), CHUNK):
        part = ids[chunk : chunk + CHUNK]
        found.update(
            conn.execute(sa.select(predictions.c.id).where(predictions.c.id.in_(part))).scalars()
        )
    for i, p in enumerate(params):
        if p["prediction_id"] is not None and p["prediction_id"] not in found:
            raise DataError(f"feedback row {i}: prediction_id {p['prediction_id']} does not exist; expected the id a logged analysis returned (nothing was recorded).")


@dataclass
class _Plan:
    """What a batch writes: rows to insert, recorded rows to supersede, and the counts."""

    insert: list[dict]
    supersede: list[int]
    counts: FeedbackCounts


def _identity(p: Mapping) -> tuple:
    if p["prediction_id"] is not None:
        return ("prediction", p["prediction_id"])
    return ("entity", p["company_id"], p["ts"])


def _current_rows(conn: Connection, params: list[dict]) -> dict[tuple, dict]:
    """The current recorded row of each identity the batch names: identity -> id, outcome, ts."""
    f = feedback
    columns = (f.c.id, f.c.prediction_id, f.c.company_id, f.c.outcome, f.c.ts)
    pids = sorted({p["prediction_id"] for p in params if p["prediction_id"] is not None})
    by_entity = [p for p in params if p["prediction_id"] is None]
    queries = [
        sa.select(*columns).where(FEEDBACK_CURRENT, f.c.prediction_id.in_(pids[i : i + CHUNK]))
        for i in range(0, len(pids), CHUNK)
    ]
    for i in range(0, len(by_entity), CHUNK):  # (entity, time) pairs, matched exactly below
        part = by_entity[i : i + CHUNK]
        queries.append(
            sa.select(*columns).where(
                FEEDBACK_CURRENT,
                f.c.prediction_id.is_(None),
                f.c.company_id.in_({p["company_id"] for p in part}),
                f.c.ts.in_({p["ts"] for p in part}),
            )
        )
    wanted = {_identity(p) for p in params}
    found = {}
    for query in queries:
        for row in conn.execute(query).mappings():
            key = _identity(row)
            if key in wanted:
                found[key] = {"id": row["id"], "outcome": row["outcome"], "ts": row["ts"]}
    return found


def _plan(params: list[dict], current: dict[tuple, dict], arrived: datetime) -> _Plan:
    """Classify each row against what is recorded, in batch order (a later row of the batch
    sees the earlier ones): new, correction or duplicate (module docstring)."""
    state = dict(current)  # identity -> the current row: a recorded id, or a position in insert
    insert: list[dict] = []
    supersede: list[int] = []
    corrected = duplicates = 0
    for p in params:
        key = _identity(p)
        known = state.get(key)
        if known is not None and (known["outcome"] == p["outcome"] or p["ts"] < known["ts"]):
            duplicates += 1
            continue
        if known is not None:
            corrected += 1
            if known["id"] is not None:
                supersede.append(known["id"])
            else:  # corrected within this batch: stored as history
                insert[known["position"]]["superseded_at"] = arrived
        state[key] = {"id": None, "position": len(insert), "outcome": p["outcome"], "ts": p["ts"]}
        insert.append({**p, "superseded_at": None})
    return _Plan(insert, supersede, FeedbackCounts(len(insert), corrected, duplicates))


def first_predictions(db: Database, entity_ids) -> dict[str, pd.Timestamp]:
    """The time of the first logged prediction of each given entity id that has one (what a
    feedback row keyed by entity id can label: a prediction at or before its time)."""
    ids = sorted({str(i) for i in entity_ids if i is not None})
    out: dict[str, pd.Timestamp] = {}
    with db.read() as conn:
        for chunk in range(0, len(ids), CHUNK):
            stmt = (
                sa.select(predictions.c.company_id, sa.func.min(predictions.c.ts))
                .where(predictions.c.company_id.in_(ids[chunk : chunk + CHUNK]))
                .group_by(predictions.c.company_id)
            )
            out.update({cid: pd.Timestamp(to_utc(ts)) for cid, ts in conn.execute(stmt)})
    return out


def feedback_count(db: Database, since=None) -> int:
    """How many current feedback rows (corrected ones left out) have ``ts >= since`` (all of
    them without ``since``)."""
    return db.count(feedback, [FEEDBACK_CURRENT, *time_window(feedback.c.ts, since, None)])


def labelled_predictions(
    db: Database, start=None, end=None, model_version: str | None = None
) -> pd.DataFrame:
    """Predictions with their actual outcome, oldest first.

    Feedback with a ``prediction_id`` labels that prediction. Feedback with only a
    ``company_id`` labels, for each model version, that version's latest prediction for the
    company at or before the feedback time (so champion, challenger and shadow predictions of
    one request are all labelled). When several feedback rows label one prediction, the latest
    wins; rows superseded by a correction label nothing. ``start``/``end``/``model_version`` filter the predictions.
    """
    labelled = _labelled_query(model_version).subquery("labelled")
    stmt = (
        sa.select(*(labelled.c[c] for c in LABELLED_COLUMNS))
        .where(labelled.c.feedback_rank == 1, *time_window(labelled.c.ts, start, end))
        .order_by(labelled.c.ts, labelled.c.prediction_id)
    )
    with db.read() as conn:
        rows = conn.execute(stmt).all()
    return rows_frame(rows, LABELLED_COLUMNS)


def _labelled_query(model_version: str | None) -> sa.Select:
    """Every (prediction, feedback) match, ranked so that rank 1 is the latest feedback."""
    p, f = predictions, feedback
    version = [p.c.model_version == model_version] if model_version is not None else []
    cols = [
        p.c.id.label("prediction_id"),
        p.c.ts,
        p.c.model_version,
        p.c.alias,
        p.c.company_id,
        p.c.probability,
        f.c.outcome,
        f.c.id.label("feedback_id"),
        f.c.ts.label("feedback_ts"),
    ]
    by_id = (
        sa.select(*cols)
        .join_from(f, p, p.c.id == f.c.prediction_id)
        .where(FEEDBACK_CURRENT, *version)
    )
    # Filtering by version before ranking is safe: the ranking is per version anyway.
    newest_first = sa.func.row_number().over(
        partition_by=(f.c.id, p.c.model_version), order_by=(p.c.ts.desc(), p.c.id.desc())
    )
    candidates = (
        sa.select(*cols, newest_first.label("prediction_rank"))
        .join_from(f, p, sa.and_(p.c.company_id == f.c.company_id, p.c.ts <= f.c.ts))
        .where(f.c.prediction_id.is_(None), FEEDBACK_CURRENT, *version)
        .subquery("candidates")
    )
    by_company = sa.select(*(candidates.c[c.name] for c in cols)).where(
        candidates.c.prediction_rank == 1
    )
    matched = sa.union_all(by_id, by_company).subquery("matched")
    latest_feedback = sa.func.row_number().over(
        partition_by=matched.c.prediction_id,
        order_by=(matched.c.feedback_ts.desc(), matched.c.feedback_id.desc()),
    )
    return sa.select(*matched.c, latest_feedback.label("feedback_rank"))
