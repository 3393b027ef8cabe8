"""Analyze one entity: profile form -> workspace.analyze_and_log (which routes between champion
and challenger) -> segment, prediction with SHAP, what-if, anomalies, actions, percentiles,
similar entities and downloads. Results belong to the profile and version that made them."""

import hashlib
import json

import streamlit as st

from app import common, report
from app import format as fmt
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

schema = common.schema_dict()
noun = fmt.entity(schema)
st.title(f"Analyze a {noun['singular']}")
feats = common.features()
sample = common.table("sample")

profile = profile_form.render(schema, sample)
if profile is not None:
    with common.user_errors():
        st.session_state.pop("analysis", None)  # a refused profile leaves no old result behind
        result, alias = common.workspace().analyze_and_log(profile)
        st.session_state["analysis"] = result.to_dict()
        st.session_state["analysis_alias"] = alias
        st.session_state["analysis_id"] = result.entity_id

analysis = st.session_state.get("analysis")
if not analysis:
    st.info(f"Fill in the profile (or load a {noun['singular']}) and press **Analyze**.")
    st.stop()

# The profile and version on screen: what-if controls and downloads are keyed by them.
state_key = hashlib.sha256(json.dumps([analysis["model_version"], analysis["profile"]], sort_keys=True, default=str).encode()).hexdigest()[:12]
st.divider()
st.caption(f"Served by model {analysis['model_version']} ({st.session_state.get('analysis_alias', 'champion')}).")
if analysis.get("missing"):
    st.info("Not given: " + ", ".join(feats.get(n, {}).get("label", n) for n in analysis["missing"]) + ". The analysis works without them.")
segment.render(analysis, feats)
if prediction.render(analysis, feats, (schema.get("target") or {}).get("label", "")):
    what_if.render(analysis, feats, sample, state_key)

a_col, r_col = st.columns(2)
with a_col:
    anomalies.render(analysis)
with r_col:
    actions.render(analysis, feats)
percentiles.render(analysis, feats)
similar.render(analysis)

d1, d2 = st.columns(2)
d1.download_button("Download analysis (JSON)", json.dumps(analysis, indent=2, default=str), file_name="analysis.json", mime="application/json", key=f"dl_json_{state_key}")
d2.download_button("Download report (HTML)", report.render_html(analysis, feats, st.session_state.get("analysis_id")), file_name="analysis_report.html",
                   mime="text/html", key=f"dl_html_{state_key}")
