"""Alerts: at most one open alert per (kind, key); raising it again bumps its count."""

from __future__ import annotations

import sqlalchemy as sa

from engine.store.database import Database, now
from engine.store.tables import ALERT_OPEN, alerts


def raise_alert(
    db: Database, kind: str, key: str, severity: str, message: str, details: dict | None = None
) -> tuple[dict, bool]:
    """Open an alert, or bump the open one with the same (kind, key).

    Returns ``(alert, created)``. One atomic upsert against the partial unique index on open
    alerts, so concurrent raises of one alert leave exactly one open row.
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
        alert = dict(conn.execute(stmt).one()._mapping)
    # Only a fresh insert leaves count at 1: every conflict increments it.
    return alert, alert["count"] == 1


def list_alerts(db: Database, open_only: bool = False, limit: int = 200) -> list[dict]:
    """Alerts, newest first."""
    stmt = sa.select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(ALERT_OPEN)
    return db.dicts(stmt)


def resolve_alert(db: Database, alert_id: int) -> None:
    """Close an alert (a no-op if already resolved); the next raise opens a new one."""
    with db.write() as conn:
        status = conn.execute(sa.select(alerts.c.status).where(alerts.c.id == alert_id)).scalar()
        if status is None:
            raise LookupError(f"no alert with id {alert_id}")
        conn.execute(
            alerts.update()
            .where(alerts.c.id == alert_id, ALERT_OPEN)
            .values(status="resolved", resolved_at=now())
        )
