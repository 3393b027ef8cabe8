"""Monitoring alerts, newest first, with their lifecycle: open -> acknowledged -> resolved, who
and when. Admins acknowledge and resolve them here (or over HTTP)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import common

SHOWN = 20
STATE_ICON = {"open": "🔔", "acknowledged": "👀", "resolved": "✅"}


def _when(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def alerts_data(alerts: list[dict]) -> list[dict]:
    """Per alert: id, severity, state, the message and one line of its history (raised when,
    how often seen, acknowledged and resolved by whom and when)."""
    rows = []
    for a in alerts:
        history = [f"raised {_when(a['created_at'])}", f"seen {a['count']}×"]
        if a.get("acknowledged_at") is not None:
            history.append(f"acknowledged by {a['acknowledged_by']} {_when(a['acknowledged_at'])}")
        if a["state"] == "resolved":
            history.append(f"resolved by {a.get('resolved_by') or 'unknown'} {_when(a.get('resolved_at'))}")
        rows.append({"id": a["id"], "severity": a["severity"], "state": a["state"],
                     "text": f"{STATE_ICON[a['state']]} **{a['severity'].upper()} · {a['state']}** · {a['message']}",
                     "history": " · ".join(history)})
    return rows


def _act(action: str, alert_id: int) -> None:
    ws = common.workspace()
    with common.user_errors():
        getattr(ws.monitoring, f"{action}_alert")(alert_id, common.actor())
        st.rerun()


def render(alerts: list[dict], admin: bool) -> None:
    st.subheader("Alerts", help="Raised by the monitor's rules (drift, performance under its floor, enough new outcomes to retrain). "
                 "Acknowledge one to say it is being looked at; resolve it when handled. A drift alert resolves itself when the drift is gone.")
    show_all = st.toggle("Show resolved alerts too", key="alerts_all")
    shown = [a for a in alerts if show_all or a["state"] != "resolved"]
    if not shown:
        st.success("No unresolved alerts.")
    for a in alerts_data(shown[:SHOWN]):
        box = {"high": st.error, "medium": st.warning}.get(a["severity"], st.info) if a["state"] != "resolved" else st.container(border=True).markdown
        box(a["text"])
        cols = st.columns([3, 2, 2])
        cols[0].caption(a["history"])
        if a["state"] == "open" and cols[1].button("Acknowledge", key=f"alert_ack_{a['id']}", disabled=not admin):
            _act("acknowledge", a["id"])
        if a["state"] != "resolved" and cols[2].button("Resolve", key=f"alert_resolve_{a['id']}", disabled=not admin):
            _act("resolve", a["id"])
    if not admin:
        st.caption("Acknowledging and resolving alerts are admin actions: sign in in the sidebar.")
