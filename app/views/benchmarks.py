"""Peer-group explorer: distributions, monthly series, one entity against its peers."""

import pandas as pd
import streamlit as st

from app import charts, common
from app import format as fmt
from app.components import percentiles
from app.components.id_search import id_box, row_of
from engine.analysis.series import ALL as SERIES_ALL

st.title("Benchmarks")
schema = common.schema_dict()
noun = fmt.entity(schema)
feats = common.features()
ranked = {n: f for n, f in feats.items() if f["kind"] in ("score", "metric")}
sample = common.table("sample")
seg_cols = (schema.get("segments") or {}).get("columns", [])
seg_values = (schema.get("segments") or {}).get("values", {})
ALL = "All"

st.subheader("Peer group")
cols = st.columns(len(seg_cols) + 1)
chosen = {c: col.selectbox(fmt.label(c), [ALL] + seg_values.get(c, []), key=f"bm_{c}") for c, col in zip(seg_cols, cols, strict=False)}
feature = cols[-1].selectbox("Feature", list(ranked), format_func=lambda n: ranked[n]["label"], key="bm_feature")
peers = sample
for c, v in chosen.items():
    if v != ALL:
        peers = peers[peers[c] == v]
values = peers[feature].dropna() if feature else pd.Series(dtype=float)
if values.empty:
    st.warning(f"No {noun['plural']} with a value in this peer group. Widen it by choosing “All” for one of the keys.")
else:
    q = values.quantile([0.1, 0.25, 0.5, 0.75, 0.9])
    f = ranked[feature]
    m = st.columns(4)
    m[0].metric(noun["plural"].capitalize(), f"{len(values):,}", help=f"Training {noun['plural']} in this peer group with a value for {f['label'].lower()}.")
    m[1].metric("Median", fmt.value(f, q[0.5]), help="Half of the peer group is below this value, half above.")
    m[2].metric("p25 – p75", f"{fmt.value(f, q[0.25])} – {fmt.value(f, q[0.75])}", help="The middle half of the peer group: a quarter is below, a quarter above.")
    m[3].metric("p10 – p90", f"{fmt.value(f, q[0.1])} – {fmt.value(f, q[0.9])}", help="The middle 80% of the peer group: a tenth is below, a tenth above.")
    common.chart(charts.plot_distribution(values, title=f"{f['label']} in this peer group"), "distribution")

st.subheader("Monthly benchmarks")
series = common.table("series")
if series is None or series.empty:
    st.info("This model version has no monthly series (the schema names no time column and none was given at training).")
else:
    group_col = next(c for c in series.columns if c not in ("month", "metric", "value"))
    groups = sorted(series[group_col].astype(str).unique())
    picked = str(chosen.get(group_col, ALL)).replace(ALL, SERIES_ALL)
    s1, s2 = st.columns(2)
    group = s1.selectbox(fmt.label(group_col), groups, index=groups.index(picked) if picked in groups else 0, key=f"bm_series_{group_col}_{picked}")
    metrics = sorted(series["metric"].unique())
    metric = s2.selectbox("Metric", metrics, format_func=lambda n: feats.get(n, {}).get("label", fmt.label(n)), key="bm_series_metric")
    one = series[(series[group_col].astype(str) == group) & (series["metric"] == metric)][["month", "value"]].copy()
    one["month"] = pd.to_datetime(one["month"])
    c1, c2 = st.columns([3, 2])
    common.chart(charts.plot_series(one, title=f"{feats.get(metric, {}).get('label', metric)} — {group}"), "series", c1)
    if one["month"].nunique() >= 24:  # seasonality needs two years around a 12-month trend
        common.chart(charts.plot_seasonality(one, title="Seasonality: average deviation from trend"), "seasonality", c2)
    else:
        c2.caption(f"Seasonality needs at least 24 months of medians; this series has {one['month'].nunique()}.")

st.subheader(f"A {noun['singular']} against its peers")
id_col = schema.get("id")
if id_col:
    picked_id = id_box(sample, id_col, noun["singular"], "bm_entity")
    if picked_id is not None:
        row = row_of(sample, id_col, picked_id)
        with common.user_errors():
            profile = {k: v for k, v in row.items() if not fmt.is_missing(v)}
            percentiles.render_table(common.workspace().champion().benchmark(profile), feats)
