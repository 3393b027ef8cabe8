"""Analyze one company: profile form -> workspace.analyze_and_log (which routes between champion
and challenger) -> segment, prediction with SHAP, what-if, anomalies, actions, percentiles,
similar companies and downloads."""

import json

import streamlit as st

from app import common, report
from app.components import (
    actions,
    anomalies,
    percentiles,
    prediction,
    profile_form,
    segment,
    similar,
    what_if,
)

st.title("Analyze a company")
schema = common.schema_dict()
feats = common.features()
sample = common.table("sample")

profile = profile_form.render(schema, sample)
if profile is not None:
    with common.user_errors():
        result, alias = common.workspace().analyze_and_log(profile)
        st.session_state["analysis"] = result.to_dict()
        st.session_state["analysis_alias"] = alias

analysis = st.session_state.get("analysis")
if not analysis:
    st.info("Fill in the profile (or load a company) and press **Analyze**.")
    st.stop()

st.divider()
st.caption(f"Served by model {analysis['model_version']} ({st.session_state.get('analysis_alias', 'champion')}).")
segment.render(analysis, feats)
if prediction.render(analysis, feats, (schema.get("target") or {}).get("label", "")):
    what_if.render(analysis, feats, sample)

a_col, r_col = st.columns(2)
with a_col:
    anomalies.render(analysis)
with r_col:
    actions.render(analysis, feats)
percentiles.render(analysis, feats)
similar.render(analysis)

d1, d2 = st.columns(2)
d1.download_button("Download analysis (JSON)", json.dumps(analysis, indent=2, default=str), file_name="analysis.json", mime="application/json")
d2.download_button("Download report (HTML)", report.render_html(analysis, feats), file_name="analysis_report.html", mime="text/html")
