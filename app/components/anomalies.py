"""Anomalies: values unusual for the entity's peers, by severity; a favourable one is shown as
good news, not as a warning."""

from __future__ import annotations

import streamlit as st

SEVERITY_ICON = {"high": "🔴", "medium": "🟠", "low": "🟡"}


def anomalies_data(analysis: dict) -> list[dict]:
    """Rows of severity ('high', 'medium', 'low') and message, as the analysis orders them."""
    return [{"severity": a["severity"], "message": a["message"], "direction": a.get("direction", "neutral")} for a in analysis["anomalies"]]


def render(analysis: dict) -> None:
    st.subheader("Anomalies")
    rows = anomalies_data(analysis)
    if not rows:
        st.success("Nothing unusual: every value is within the normal range of its peers.")
    for a in rows:
        if a["direction"] == "favourable":
            st.success(f"✅ **FAVOURABLE** · {a['message']}")
            continue
        box = {"high": st.error, "medium": st.warning, "low": st.info}[a["severity"]]
        box(f"{SEVERITY_ICON[a['severity']]} **{a['severity'].upper()}** · {a['message']}")
