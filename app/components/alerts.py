"""Monitoring alerts, newest first."""

from __future__ import annotations

import streamlit as st

SHOWN = 20


def alerts_data(alerts: list[dict]) -> list[dict]:
    """Severity and one line of text per alert: message, lifecycle state and how often it was seen."""
    return [{"severity": a["severity"], "text": f"**{a['severity'].upper()}** · {a['message']} ({a['state']}, seen {a['count']}×)"} for a in alerts]


def render(alerts: list[dict]) -> None:
    st.subheader("Alerts")
    if not alerts:
        st.success("No alerts.")
    for a in alerts_data(alerts[:SHOWN]):
        box = {"high": st.error, "medium": st.warning}.get(a["severity"], st.info)
        box(a["text"])
