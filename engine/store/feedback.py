"""Feedback: actual outcomes (0 or 1), and the predictions they label."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import DataError
from engine.store.database import Database, now, str_or_none, time_window, to_utc
from engine.store.predictions import rows_frame
from engine.store.tables import feedback, predictions

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


def add_feedback(db: Database, rows: list[dict]) -> int:
    """Record actual outcomes in one transaction; returns how many rows were written.

    Each row names a ``prediction_id`` or a ``company_id`` (or both) and an ``outcome``
    (0 or 1). A row that refers to an unknown prediction id fails the whole batch.
    """
    if not rows:
        return 0
    params = [_feedback_params(i, row) for i, row in enumerate(rows)]
    with db.write() as conn:
        _check_prediction_ids(conn, params)
        conn.execute(feedback.insert(), params)
    return len(params)


def _feedback_params(i: int, row: Mapping) -> dict:
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
            "ts": to_utc(row.get("ts")) or now(),
        }
    except (TypeError, ValueError) as exc:
        raise DataError(f"feedback row {i}: {exc}") from exc


def _check_prediction_ids(conn: Connection, params: list[dict]) -> None:
    """Name the first row whose prediction id does not exist (the foreign key would only say
    that some row failed)."""
    wanted = {p["prediction_id"] for p in params if p["prediction_id"] is not None}
    found: set[int] = set()
    ids = sorted(wanted)
    for chunk in range(0, len(ids), 500):  # stay well under bound-parameter limits
        part = ids[chunk : chunk + 500]
        found.update(
            conn.execute(sa.select(predictions.c.id).where(predictions.c.id.in_(part))).scalars()
        )
    for i, p in enumerate(params):
        if p["prediction_id"] is not None and p["prediction_id"] not in found:
            raise DataError(f"feedback row {i}: prediction_id {p['prediction_id']} does not exist; expected the id a logged analysis returned (nothing was recorded).")


def first_predictions(db: Database, entity_ids) -> dict[str, pd.Timestamp]:
    """The time of the first logged prediction of each given entity id that has one (what a
    feedback row keyed by entity id can label: a prediction at or before its time)."""
    ids = sorted({str(i) for i in entity_ids if i is not None})
    out: dict[str, pd.Timestamp] = {}
    with db.read() as conn:
        for chunk in range(0, len(ids), 500):  # stay well under bound-parameter limits
            stmt = (
                sa.select(predictions.c.company_id, sa.func.min(predictions.c.ts))
                .where(predictions.c.company_id.in_(ids[chunk : chunk + 500]))
                .group_by(predictions.c.company_id)
            )
            out.update({cid: pd.Timestamp(to_utc(ts)) for cid, ts in conn.execute(stmt)})
    return out


def feedback_count(db: Database, since=None) -> int:
    """How many feedback rows have ``ts >= since`` (all of them without ``since``)."""
    return db.count(feedback, time_window(feedback.c.ts, since, None))


def labelled_predictions(
    db: Database, start=None, end=None, model_version: str | None = None
) -> pd.DataFrame:
    """Predictions with their actual outcome, oldest first.

    Feedback with a ``prediction_id`` labels that prediction. Feedback with only a
    ``company_id`` labels, for each model version, that version's latest prediction for the
    company at or before the feedback time (so champion, challenger and shadow predictions of
    one request are all labelled). When several feedback rows label one prediction, the latest
    wins. ``start``/``end``/``model_version`` filter the predictions.
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
    by_id = sa.select(*cols).join_from(f, p, p.c.id == f.c.prediction_id).where(*version)
    # Filtering by version before ranking is safe: the ranking is per version anyway.
    newest_first = sa.func.row_number().over(
        partition_by=(f.c.id, p.c.model_version), order_by=(p.c.ts.desc(), p.c.id.desc())
    )
    candidates = (
        sa.select(*cols, newest_first.label("prediction_rank"))
        .join_from(f, p, sa.and_(p.c.company_id == f.c.company_id, p.c.ts <= f.c.ts))
        .where(f.c.prediction_id.is_(None), *version)
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
