"""Alerts and their lifecycle: open -> acknowledged -> resolved.

At most one unresolved alert per (kind, key): raising it again bumps its count, whether it is
open or acknowledged. The ``status`` column keeps only 'open'/'resolved' (the partial unique
index deduplicates on it, and SQLite cannot alter its CHECK constraint), so "acknowledged" is
derived: an open row with ``acknowledged_at`` set. Every alert returned carries its ``state``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.errors import AlertNotFoundError, AlertStateError
from engine.store.database import Database, now, storable
from engine.store.tables import ALERT_OPEN, alerts

STATES = ("open", "acknowledged", "resolved")
ACTOR_CHARS = 128  # the width of acknowledged_by / resolved_by


def state_of(alert: dict) -> str:
    """'resolved', 'acknowledged' or 'open', from the stored columns."""
    if alert["status"] == "resolved":
        return "resolved"
    return "acknowledged" if alert["acknowledged_at"] is not None else "open"


def _with_state(row) -> dict:
    alert = dict(row._mapping)
    return {**alert, "state": state_of(alert)}


def _state_filter(state: str) -> sa.ColumnElement[bool]:
    if state == "resolved":
        return ~ALERT_OPEN
    acknowledged = alerts.c.acknowledged_at.is_not(None)
    return sa.and_(ALERT_OPEN, acknowledged if state == "acknowledged" else ~acknowledged)


def raise_alert(
    db: Database, kind: str, key: str, severity: str, message: str, details: dict | None = None
) -> tuple[dict, bool]:
    """Open an alert, or bump the unresolved one with the same (kind, key).

    Returns ``(alert, created)``. One atomic upsert against the partial unique index on open
    alerts, so concurrent raises of one alert leave exactly one open row. An acknowledged alert
    stays acknowledged: only its count and ``last_seen`` change.
    """
    stamp = now()
    stmt = db.insert(alerts).values(
        kind=kind,
        key=key,
        severity=severity,
        message=message,
        details=details,
        status="open",
        count=1,
        created_at=stamp,
        last_seen=stamp,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[alerts.c.kind, alerts.c.key],
        index_where=ALERT_OPEN,
        set_={"last_seen": stmt.excluded.last_seen, "count": alerts.c.count + 1},
    ).returning(*alerts.c)
    with db.write() as conn:
        alert = _with_state(conn.execute(stmt).one())
    # Only a fresh insert leaves count at 1: every conflict increments it.
    return alert, alert["count"] == 1


def list_alerts(
    db: Database, open_only: bool = False, limit: int | None = 200, state: str | None = None
) -> list[dict]:
    """Alerts, newest first: all, the unresolved ones (``open_only``: open or acknowledged),
    or those in one lifecycle ``state``."""
    stmt = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if state is not None:
        if state not in STATES:
            raise ValueError(f"alert state {state!r} is not one of {', '.join(STATES)}")
        stmt = stmt.where(_state_filter(state))
    if open_only:
        stmt = stmt.where(ALERT_OPEN)
    with db.read() as conn:
        return [_with_state(row) for row in conn.execute(stmt)]


def acknowledge_alert(db: Database, alert_id: int, by: str) -> dict:
    """Mark an open alert as seen by ``by``; returns it. Acknowledging it again changes nothing.

    AlertNotFoundError for an unknown id; AlertStateError for a resolved alert.
    """
    # A conditional UPDATE is atomic on both backends: a concurrent resolve either happens
    # first (nothing matches, and the alert reads as resolved below) or waits for this one.
    update = (
        alerts.update()
        .where(alerts.c.id == alert_id, ALERT_OPEN, alerts.c.acknowledged_at.is_(None))
        .values(acknowledged_at=now(), acknowledged_by=_actor(by))
        .returning(*alerts.c)
    )
    with db.write() as conn:
        row = conn.execute(update).one_or_none()
        alert = _with_state(row) if row is not None else _get(conn, alert_id)
    if alert["state"] == "resolved":
        raise AlertStateError(
            f"Alert {alert_id} was resolved at {alert['resolved_at']:%Y-%m-%d %H:%M} UTC by "
            f"{alert['resolved_by'] or 'an unrecorded actor'}; only an open alert can be "
            "acknowledged (the next raise of the same condition opens a new alert)."
        )
    return alert


def resolve_alert(db: Database, alert_id: int, by: str) -> dict:
    """Close an alert (open or acknowledged) as ``by``; returns it. Resolving a resolved alert
    changes nothing; the next raise of the same (kind, key) opens a new alert.

    AlertNotFoundError for an unknown id.
    """
    update = (
        alerts.update()
        .where(alerts.c.id == alert_id, ALERT_OPEN)
        .values(status="resolved", resolved_at=now(), resolved_by=_actor(by))
        .returning(*alerts.c)
    )
    with db.write() as conn:
        row = conn.execute(update).one_or_none()
        return _with_state(row) if row is not None else _get(conn, alert_id)


def _get(conn: Connection, alert_id: int) -> dict:
    row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).one_or_none()
    if row is None:
        raise AlertNotFoundError(f"No alert with id {alert_id}.")
    return _with_state(row)


def _actor(by: str) -> str:
    return storable(str(by))[:ACTOR_CHARS]
