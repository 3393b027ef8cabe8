"""Monitoring: drift, probability drift, performance over time, alerts, volume."""

import pandas as pd
import streamlit as st

from app import charts, common, uploads
from app import format as fmt
from engine import api

st.title("Monitoring")
feats = common.features()
cfg = api.settings(home=common.home())

top = st.columns([2, 2, 3])
days = top[0].slider("Window (days)", 1, 90, int(cfg["drift_window_days"]), key="mon_days")
auto = top[1].toggle("Auto-refresh every 30 s", key="mon_auto")
upload = top[2].file_uploader("Or check drift of an uploaded table", type=list(uploads.TABLE_TYPES), key="mon_upload")


def drift_section() -> None:
    home = common.home()
    current = None
    with common.user_errors():
        if upload is not None:
            frame = uploads.read_table(upload.name, upload.getvalue())
            report = api.drift(frame, home=home)
            current = frame
        else:
            report, current = common.drift_snapshot(str(home), days, common.version())
    if current is None:
        return
    ds = report["dataset"]
    m = st.columns(4)
    m[0].metric("Dataset verdict", "DRIFT" if ds["dataset_drift"] else "No drift")
    m[1].metric("Drifted columns", f"{ds['n_drifted']} of {ds['n_columns']}", help=f"Dataset drift when more than {fmt.percent(ds['dataset_threshold'], 0)} of columns drift.")
    m[2].metric("Rows checked", f"{report['n_current']:,}", help=report["source"])
    prob = report.get("probability")
    if prob:
        m[3].metric("Probability drift", "DRIFT" if prob["drifted"] else "stable", help=f"{prob['test']} = {prob['statistic']:.3f} (threshold {prob['threshold']})")
    (st.error if ds["dataset_drift"] else st.success)(
        f"{'Dataset drift detected' if ds['dataset_drift'] else 'No dataset drift'}: {ds['n_drifted']} of {ds['n_columns']} columns drifted ({fmt.percent(ds['drifted_share'])}) in {report['source']}.")
    table = pd.DataFrame(report["columns"])[["column", "test", "statistic", "threshold", "drifted", "psi"]]
    table["column"] = table["column"].map(lambda c: feats.get(c, {}).get("label", c))
    left, right = st.columns([3, 2])
    left.dataframe(table.style.format({"statistic": "{:.3f}", "threshold": "{:.3f}", "psi": "{:.3f}"}), hide_index=True, width="stretch")
    columns = [c["column"] for c in report["columns"]]
    drifted = [c["column"] for c in report["columns"] if c["drifted"]]
    column = right.selectbox("Distribution of", columns, index=columns.index(drifted[0]) if drifted else 0,
                             format_func=lambda c: feats.get(c, {}).get("label", c) + (" ⚠️" if c in drifted else ""), key="mon_column")
    reference = common.table("sample")
    if column in current.columns:
        right.plotly_chart(charts.plot_reference_vs_current(reference[column], current[column], title="Reference (training) vs current"), width="stretch")


@st.fragment(run_every=30 if auto else None)
def live() -> None:
    drift_section()
    home = common.home()
    st.subheader("Performance over time")
    perf = common.performance_snapshot(str(home), common.version())
    if not perf["realised"] and not perf["estimated"]:
        st.info("No predictions logged yet.")
    else:
        metric = st.radio("Metric", ["roc_auc", "accuracy", "f1"], horizontal=True, format_func=lambda m: {"roc_auc": "ROC AUC"}.get(m, m.capitalize()), key="mon_metric")
        threshold = {"roc_auc": cfg["min_roc_auc"], "accuracy": cfg["min_accuracy"]}.get(metric)
        st.plotly_chart(charts.plot_performance(perf["realised"], perf["estimated"], metric, threshold), width="stretch")
    a, v = st.columns(2)
    with a:
        st.subheader("Alerts")
        alerts = api.alerts(home=home, open_only=False)
        if not alerts:
            st.success("No alerts.")
        for al in alerts[:20]:
            box = {"high": st.error, "medium": st.warning}.get(al["severity"], st.info)
            box(f"**{al['severity'].upper()}** · {al['message']} ({al['status']}, seen {al['count']}×)")
    with v:
        st.subheader("Prediction volume")
        volume = common.volume_snapshot(str(home), common.version())
        st.caption(f"{volume['total']:,} predictions · {volume['feedback']:,} outcomes recorded")
        if volume["daily"]:
            st.plotly_chart(charts.plot_volume(volume["daily"]), width="stretch")


live()
