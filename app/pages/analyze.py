"""Analyze one company: profile form -> api.analyze_and_log -> segment, anomalies, actions,
percentiles, prediction with SHAP, what-if and downloads."""

import json

import pandas as pd
import streamlit as st

from app import charts, common, report
from app import format as fmt
from engine import api

SAMPLES = ("High tech, low strategy", "All-round leader", "Early-stage")
SEVERITY_ICON = {"high": "🔴", "medium": "🟠", "low": "🟡"}

st.title("Analyze a company")
schema = common.schema_dict()
feats = common.features()
sample = common.table("sample")
segments = schema.get("segments") or {}
seg_cols, seg_values = segments.get("columns", []), segments.get("values", {})
id_col = schema.get("id")
scores = [f for f in schema["features"] if f["kind"] == "score"]


def set_profile(row: dict, company_id=None) -> None:
    """Put a profile into the form's widgets (missing numbers become the sample median)."""
    for c in seg_cols:
        st.session_state[f"in_{c}"] = str(row.get(c)) if row.get(c) in seg_values.get(c, [row.get(c)]) else seg_values[c][0]
    for f in schema["features"]:
        v = row.get(f["name"])
        if fmt.is_missing(v):
            v = float(sample[f["name"]].median())
        st.session_state[f"in_{f['name']}"] = round(float(v), 1) if f["kind"] == "score" else float(v)
    st.session_state["company_id"] = company_id


def sample_profile(name: str) -> dict:
    """Pick a real company from the training sample that fits the description."""
    s = sample.dropna(subset=[f["name"] for f in scores])
    mean = s[[f["name"] for f in scores]].mean(axis=1)
    if name == "High tech, low strategy":
        tech = next((f["name"] for f in scores if f["name"] == "technology"), scores[0]["name"])
        strat = next((f["name"] for f in scores if f["name"] == "strategy"), scores[-1]["name"])
        pick = (s[tech] - s[strat]).idxmax()
    elif name == "All-round leader":
        pick = mean.idxmax()
    else:
        pick = mean.idxmin()
    return s.loc[pick].to_dict()


if "in_" + schema["features"][0]["name"] not in st.session_state:
    set_profile(sample.iloc[0].to_dict(), sample.iloc[0][id_col] if id_col else None)

with st.container(border=True):
    left, mid, right = st.columns([2, 2, 3])
    with left:
        company = st.number_input("Company id", min_value=0, step=1, value=None, placeholder="e.g. 3", key="load_id",
                                  help="Load a company of the training sample by its id.") if id_col else None
        if st.button("Load company", key="load_btn", disabled=company is None):
            match = sample[sample[id_col] == company] if id_col else sample.iloc[0:0]
            if match.empty:
                st.error(f"No company with id {company} in the training sample.")
            else:
                set_profile(match.iloc[0].to_dict(), company)
                st.rerun()
    with mid:
        choice = st.selectbox("Sample profile", SAMPLES, key="sample_choice")
        if st.button("Use sample profile", key="sample_btn"):
            row = sample_profile(choice)
            set_profile(row, None)
            st.rerun()
    with right:
        loaded = st.session_state.get("company_id")
        st.caption(f"Profile of company **{loaded}**" if loaded is not None else "A custom profile (no company id).")

with st.form("profile"):
    cols = st.columns(max(len(seg_cols), 1))
    for c, col in zip(seg_cols, cols, strict=False):
        col.selectbox(fmt.label(c), seg_values.get(c, []), key=f"in_{c}", format_func=fmt.label)
    st.markdown("**Maturity scores**")
    cols = st.columns(4)
    for i, f in enumerate(scores):
        cols[i % 4].slider(f["label"], min_value=float(f["min"] or 0), max_value=float(f["max"] or 5), step=0.1, key=f"in_{f['name']}")
    st.markdown("**Business metrics**")
    metrics = [f for f in schema["features"] if f["kind"] != "score"]
    cols = st.columns(4)
    for i, f in enumerate(metrics):
        unit = f" ({f['unit']})" if f.get("unit") else ""
        cols[i % 4].number_input(f["label"] + unit, min_value=f.get("min"), max_value=f.get("max"), key=f"in_{f['name']}", format="%.4g")
    submitted = st.form_submit_button("Analyze", type="primary")

if submitted:
    profile = {c: st.session_state[f"in_{c}"] for c in seg_cols}
    profile |= {f["name"]: st.session_state[f"in_{f['name']}"] for f in schema["features"]}
    company_id = st.session_state.get("company_id")
    if id_col and company_id is not None:
        profile[id_col] = int(company_id)
    with common.user_errors():
        home = common.home()
        alias = api.serving_alias(company_id, home=home)
        model = common.model(alias) or common.model("champion")
        shadow = common.model("challenger") if api.settings(home=home)["shadow"] else None
        result = api.analyze_and_log(profile, model=model, home=home, alias=alias, shadow=shadow)
        st.session_state["analysis"] = result.to_dict()
        st.session_state["analysis_alias"] = alias

analysis = st.session_state.get("analysis")
if not analysis:
    st.info("Fill in the profile (or load a company) and press **Analyze**.")
    st.stop()

labels = {n: f["label"] for n, f in feats.items()}
seg = analysis["segment"]
pct_rows = analysis["percentiles"]
st.divider()
st.caption(f"Served by model {analysis['model_version']} ({st.session_state.get('analysis_alias', 'champion')}).")

# ----- segment ----------------------------------------------------------------------------
card, radar = st.columns([2, 3])
with card:
    st.subheader("Segment")
    st.markdown(f"<div style='border-left:6px solid {charts.segment_colour(seg['id'])};padding-left:.8rem'>"
                f"<h3 style='margin:0'>{seg['name']}</h3><p>{seg['description']}</p></div>", unsafe_allow_html=True)
    st.metric("Segment size", f"{seg.get('size', 0):,} companies")
with radar:
    axes = [f["name"] for f in scores if f["name"] in seg["centroid"]]
    medians = {p["feature"]: p["p50"] for p in pct_rows}
    series = {
        "this company": [analysis["profile"][a] for a in axes],
        "segment centroid": [seg["centroid"][a] for a in axes],
        "peer median": [medians.get(a, float("nan")) for a in axes],
    }
    colours = {"this company": charts.COMPANY, "segment centroid": charts.segment_colour(seg["id"]), "peer median": charts.PEERS}
    st.plotly_chart(charts.plot_radar([labels[a] for a in axes], series, colours), width="stretch")

# ----- prediction -------------------------------------------------------------------------
pred = analysis.get("prediction")
if pred:
    st.subheader("Prediction")
    g, w = st.columns([1, 2])
    with g:
        st.metric(schema["target"]["label"], fmt.percent(pred["probability"]), help="Probability from the outcome model (XGBoost).")
        st.markdown(f"**{pred['label_text']}**")
        st.plotly_chart(charts.plot_probability_gauge(pred["probability"]), width="stretch")
    with w:
        st.plotly_chart(charts.plot_waterfall(pred["base_value"], pred["contributions"], labels, title="Why: SHAP contributions"), width="stretch")

    @st.fragment
    def what_if() -> None:
        """Sliders for the top drivers; only this block re-runs when they move."""
        st.markdown("#### What if?")
        drivers = [c["feature"] for c in pred["contributions"] if c["feature"] in feats][:4]
        cols = st.columns(len(drivers) or 1)
        changes = {}
        for col, name in zip(cols, drivers, strict=False):
            f = feats[name]
            current = float(analysis["profile"][name])
            lo = float(f["min"]) if f.get("min") is not None else min(current, float(sample[name].min()))
            hi = float(f["max"]) if f.get("max") is not None else max(current, float(sample[name].max()))
            if f["kind"] != "score":  # keep metric sliders to the observed range
                lo, hi = max(lo, float(sample[name].quantile(0.01))), min(hi, float(sample[name].quantile(0.99)))
                lo, hi = min(lo, current), max(hi, current)
            step = 0.1 if f["kind"] == "score" else (hi - lo) / 100 or 1.0
            changes[name] = col.slider(f["label"], lo, hi, current, step=step, key=f"wi_{name}")
        changed = {k: v for k, v in changes.items() if abs(v - float(analysis["profile"][k])) > 1e-9}
        with common.user_errors():
            model = common.model(st.session_state.get("analysis_alias", "champion")) or common.model("champion")
            out = api.what_if(analysis["profile"], changed, model=model)
            new = out["prediction"]
            st.metric("Probability after the changes", fmt.percent(new["probability"]),
                      delta=f"{(new['probability'] - pred['probability']) * 100:+.1f} points")
            if changed:
                st.plotly_chart(charts.plot_waterfall(new["base_value"], new["contributions"], labels, title="Contributions after the changes"), width="stretch")

    what_if()

# ----- anomalies and actions --------------------------------------------------------------
a_col, r_col = st.columns(2)
with a_col:
    st.subheader("Anomalies")
    if not analysis["anomalies"]:
        st.success("Nothing unusual: every value is within the normal range of its peers.")
    for a in analysis["anomalies"]:
        box = {"high": st.error, "medium": st.warning, "low": st.info}[a["severity"]]
        box(f"{SEVERITY_ICON[a['severity']]} **{a['severity'].upper()}** · {a['message']}")
with r_col:
    st.subheader("Next best actions")
    if not analysis["recommendations"]:
        st.info("No action found: similar companies that did better are not ahead on any feature.")
    for r in analysis["recommendations"][:5]:
        f = feats.get(r["feature"])
        with st.container(border=True):
            st.markdown(f"**{r['action']}**  \n{r['label']}: {fmt.value(f, r['current'])} → {fmt.value(f, r['target'])}")
            c1, c2, c3 = st.columns(3)
            c1.metric("Expected effect", fmt.percent(r["expected_effect"]))
            c2.metric("Peer uplift", fmt.percent(r["peer_uplift"]))
            c3.metric("Model effect", fmt.percent(r.get("model_effect")), help="The outcome model's estimate if only this moved; an estimate, not a causal promise.")
            st.caption(f"Evidence: similar companies {', '.join(str(e) for e in r['evidence'])}")
    st.caption("Model effect is a model estimate, not a causal promise.")

# ----- percentiles and similar companies --------------------------------------------------
st.subheader("Percentile rankings against peers")
if pct_rows:
    st.caption(f"Peer group: {pct_rows[0]['peer_group']} ({pct_rows[0]['peer_count']:,} companies). Ranks are direction-aware: higher is better.")
    table = pd.DataFrame([
        {"Metric": p["label"], "Value": fmt.value(feats.get(p["feature"]), p["value"]), "Rank": fmt.rank(p["rank"]),
         "Peer median": fmt.value(feats.get(p["feature"]), p["p50"]), "Interpretation": p["interpretation"], "Peers": f"{p['peer_count']:,}"}
        for p in pct_rows
    ])
    t, b = st.columns([2, 3])
    t.dataframe(table, hide_index=True, width="stretch")
    b.plotly_chart(charts.plot_percentile_bullets(pct_rows, fmt=lambda r: fmt.value(feats.get(r["feature"]), r["value"])), width="stretch")

st.subheader("Similar companies")
similar = pd.DataFrame(analysis["similar"])
if not similar.empty:
    similar["distance"] = similar["distance"].round(3)
    st.dataframe(similar.rename(columns={"id": "Company", "distance": "Distance", "outcome": "Outcome", "desirable": "Did well"}), hide_index=True, width="stretch")

# ----- downloads --------------------------------------------------------------------------
d1, d2 = st.columns(2)
d1.download_button("Download analysis (JSON)", json.dumps(analysis, indent=2, default=str), file_name="analysis.json", mime="application/json")
d2.download_button("Download report (HTML)", report.render_html(analysis, feats), file_name="analysis_report.html", mime="text/html")
