"""Monitoring: drift, probability drift, performance over time, alerts, volume."""

import streamlit as st

from app import charts, common, uploads
from app import format as fmt
from app.components import alerts, drift

st.title("Monitoring")
ws = common.workspace()
feats = common.features()
cfg = ws.settings

top = st.columns([2, 2, 3])
days = top[0].slider("Window (days)", 1, 90, int(cfg["drift_window_days"]), key="mon_days")
auto = top[1].toggle("Auto-refresh every 30 s", key="mon_auto")
upload = top[2].file_uploader("Or check drift of an uploaded table", type=list(uploads.TABLE_TYPES), key="mon_upload")


def drift_section() -> None:
    current = None
    with common.user_errors():
        if upload is not None:
            frame = uploads.read_table(upload.name, upload.getvalue())
            report, current = ws.monitoring.drift(frame), frame
        else:
            report, current = common.drift_snapshot(str(ws.home), days, common.version())
    if current is not None:
        drift.render(report, current, common.table("sample"), feats)


@st.fragment(run_every=30 if auto else None)
def live() -> None:
    drift_section()
    st.subheader("Performance over time")
    perf = common.performance_snapshot(str(ws.home), common.version())
    if not perf["realised"] and not perf["estimated"]:
        st.info("No predictions logged yet.")
    else:
        metric = st.radio("Metric", ["roc_auc", "accuracy", "f1"], horizontal=True, format_func=fmt.metric_name, key="mon_metric",
                          help="Realised: computed from recorded outcomes. Estimated: from the predicted probabilities alone (calibrated on training), before outcomes arrive.")
        st.caption(f"{fmt.metric_name(metric)}: {fmt.metric_help(metric)}")
        threshold = {"roc_auc": cfg["min_roc_auc"], "accuracy": cfg["min_accuracy"]}.get(metric)
        common.chart(charts.plot_performance(perf["realised"], perf["estimated"], metric, threshold), "performance")
    a, v = st.columns(2)
    with a:
        checked = common.alerts_checked(str(ws.home), common.version())
        alerts.render(ws.monitoring.alerts(open_only=False), common.is_admin())
        st.caption(f"Rules last checked at {checked} over the last {cfg['drift_window_days']} days (the monitoring window in Settings)"
                   + (f"; the drift above is for the last {days} days." if days != int(cfg["drift_window_days"]) else "."))
    with v:
        st.subheader("Prediction volume")
        volume = common.volume_snapshot(str(ws.home), common.version())
        st.caption(f"{volume['total']:,} predictions · {volume['feedback']:,} outcomes recorded")
        if volume["daily"]:
            common.chart(charts.plot_volume(volume["daily"]), "volume")


live()

