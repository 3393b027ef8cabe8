"""The serving settings form: challenger share, shadow mode, retrain policy."""

from __future__ import annotations

import streamlit as st

from app import common
from engine.api import Workspace

POLICIES = ["manual", "auto"]


def render(ws: Workspace, admin: bool) -> None:
    st.subheader("Serving settings")
    cfg = ws.settings
    with st.form("settings"):
        share = st.slider("Challenger share of traffic", 0.0, 1.0, float(cfg["challenger_share"]), 0.05)
        shadow = st.toggle("Shadow mode: also score every request with the challenger", value=bool(cfg["shadow"]))
        policy = st.selectbox("Retrain policy", POLICIES, index=POLICIES.index(cfg["retrain_policy"]))
        if st.form_submit_button("Save settings", disabled=not admin):
            with common.user_errors():
                ws.update_settings({"challenger_share": share, "shadow": shadow, "retrain_policy": policy})
                st.success("Settings saved.")
