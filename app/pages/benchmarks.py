"""Industry × size × region explorer: distributions, monthly series, a company against peers."""

import pandas as pd
import streamlit as st

from app import charts, common
from app import format as fmt
from app.components import percentiles

st.title("Benchmarks")
schema = common.schema_dict()
feats = common.features()
sample = common.table("sample")
seg_cols = (schema.get("segments") or {}).get("columns", [])
seg_values = (schema.get("segments") or {}).get("values", {})
ALL = "All"

st.subheader("Peer group")
cols = st.columns(len(seg_cols) + 1)
chosen = {c: col.selectbox(fmt.label(c), [ALL] + seg_values.get(c, []), key=f"bm_{c}", format_func=lambda v: v if v == ALL else fmt.label(v))
          for c, col in zip(seg_cols, cols, strict=False)}
feature = cols[-1].selectbox("Feature", list(feats), format_func=lambda n: feats[n]["label"], key="bm_feature")
peers = sample
for c, v in chosen.items():
    if v != ALL:
        peers = peers[peers[c] == v]
values = peers[feature].dropna()
if values.empty:
    st.warning("No companies in this peer group. Widen it by choosing “All” for one of the keys.")
else:
    q = values.quantile([0.1, 0.25, 0.5, 0.75, 0.9])
    m = st.columns(4)
    m[0].metric("Companies", f"{len(values):,}")
    m[1].metric("Median", fmt.value(feats[feature], q[0.5]))
    m[2].metric("p25 – p75", f"{fmt.value(feats[feature], q[0.25])} – {fmt.value(feats[feature], q[0.75])}")
    m[3].metric("p10 – p90", f"{fmt.value(feats[feature], q[0.1])} – {fmt.value(feats[feature], q[0.9])}")
    st.plotly_chart(charts.plot_distribution(values, title=f"{feats[feature]['label']} in this peer group"), width="stretch")

st.subheader("Monthly benchmarks: trend and seasonality")
series = common.table("series")
if series is None or series.empty:
    st.info("This model version has no monthly benchmark series.")
else:
    industries = sorted(series["industry"].unique())
    default = chosen.get("industry") if chosen.get("industry") in industries else industries[0]
    s1, s2 = st.columns(2)
    industry = s1.selectbox("Industry", industries, index=industries.index(default), format_func=fmt.label, key="bm_series_industry")
    metrics = sorted(series["metric"].unique())
    metric = s2.selectbox("Metric", metrics, format_func=lambda n: feats.get(n, {}).get("label", fmt.label(n)), key="bm_series_metric")
    one = series[(series["industry"] == industry) & (series["metric"] == metric)][["month", "value"]].copy()
    one["month"] = pd.to_datetime(one["month"])
    c1, c2 = st.columns([3, 2])
    c1.plotly_chart(charts.plot_series(one, title=f"{feats.get(metric, {}).get('label', metric)} — {fmt.label(industry)}"), width="stretch")
    c2.plotly_chart(charts.plot_seasonality(one, title="Seasonality: average deviation from trend"), width="stretch")

st.subheader("A company against its peers")
id_col = schema.get("id")
if id_col:
    company = st.number_input("Company id", min_value=0, step=1, value=None, placeholder="e.g. 3", key="bm_company")
    if company is not None:
        match = sample[sample[id_col] == company]
        if match.empty:
            st.error(f"No company with id {company} in the training sample.")
        else:
            with common.user_errors():
                profile = {k: (None if fmt.is_missing(v) else v) for k, v in match.iloc[0].to_dict().items()}
                complete = all(profile.get(f) is not None for f in feats)
                result = common.workspace().champion().analyze(profile)
                percentiles.render_table(result.percentiles, feats)
