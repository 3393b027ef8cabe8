"""Models: registry, side-by-side comparison, retrain, promote/rollback, upload, settings."""

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from app import common, uploads
from app import format as fmt
from engine import api

st.title("Models")
home = common.home()
registry = api.models(home=home)
METRICS = ["roc_auc", "accuracy", "f1", "precision", "recall", "pr_auc", "brier"]


def flat(m: dict) -> dict:
    metrics = m.get("metrics") or {}
    row = {"version": m["version"], "created": m["created"], "aliases": ", ".join(m["aliases"]), "rows": f"{m['rows']:,}",
           "segments": metrics.get("segments_k")}
    row |= {f"holdout {k}": round(metrics.get("holdout", {}).get(k, float("nan")), 4) for k in ("roc_auc", "accuracy", "f1")}
    row["data_fingerprint"] = (m.get("data_fingerprint") or "")[:19] + "…"
    return row


st.subheader("Registry")
st.dataframe(pd.DataFrame([flat(m) for m in registry]), hide_index=True, width="stretch")

versions = [m["version"] for m in registry]
if len(versions) >= 1:
    st.subheader("Compare two versions")
    c1, c2 = st.columns(2)
    a = c1.selectbox("Version A", versions, index=len(versions) - 1, key="cmp_a")
    b = c2.selectbox("Version B", versions, index=max(len(versions) - 2, 0), key="cmp_b")
    by = {m["version"]: m.get("metrics") or {} for m in registry}
    rows = []
    for split in ("holdout", "cv"):
        for k in METRICS:
            va, vb = by[a].get(split, {}).get(k), by[b].get(split, {}).get(k)
            rows.append({"metric": f"{split} {k}", a if a != b else f"{a} (A)": fmt.number(va, 4), b if a != b else f"{b} (B)": fmt.number(vb, 4),
                         "difference (A − B)": fmt.number(va - vb, 4) if va is not None and vb is not None else "—"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader("Retrain, promote, roll back")
admin = common.is_admin()
if not admin:
    common.require_admin()
demo = home / "demo"
r1, r2, r3 = st.columns(3)
with r1:
    if st.button("Retrain on the demo data", disabled=not admin, key="retrain", type="primary"):
        with st.status("Training a new version…", expanded=True) as status, common.user_errors():
            bar = st.progress(0.0)
            result = api.train(demo / "companies.csv", demo / "schema.toml", home=home,
                               series=demo / "benchmarks_monthly.csv" if (demo / "benchmarks_monthly.csv").is_file() else None,
                               progress=lambda step, f: bar.progress(min(1.0, float(f)), text=f"Training: {step}"), actor=common.actor())
            status.update(label=f"Trained {result['version']}: {result['reason']}", state="complete")
            common.clear_caches()
with r2:
    target = st.selectbox("Promote version", versions, index=len(versions) - 1, key="promote_version")
    if st.button("Promote to champion", disabled=not admin, key="promote"):
        with common.user_errors():
            api.promote(target, home=home, reason="promoted in the app", actor=common.actor())
            common.clear_caches()
            st.success(f"{target} is now the champion.")
with r3:
    st.write("")
    if st.button("Roll back the champion", disabled=not admin, key="rollback"):
        with common.user_errors():
            moved = api.rollback(home=home, reason="rolled back in the app", actor=common.actor())
            common.clear_caches()
            st.success(f"Rolled back: champion is now {moved.get('to', moved)}.")

st.subheader("Train on your own dataset")
u1, u2 = st.columns(2)
data_file = u1.file_uploader("Dataset (CSV or Parquet)", type=list(uploads.TABLE_TYPES), key="train_data")
schema_file = u2.file_uploader("Schema (TOML)", type=["toml"], key="train_schema")
if st.button("Check and train", disabled=not admin or data_file is None or schema_file is None, key="train_upload"):
    with common.user_errors():
        frame = uploads.read_table(data_file.name, data_file.getvalue())
        uploads.check_schema_bytes(frame, schema_file.getvalue(), schema_file.name)  # nothing stored yet
        folder = home / "uploads" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        folder.mkdir(parents=True, exist_ok=True)
        data_path = folder / ("data.parquet" if data_file.name.lower().endswith(".parquet") else "data.csv")
        data_path.write_bytes(data_file.getvalue())
        (folder / "schema.toml").write_bytes(schema_file.getvalue())
        with st.status("Training on the uploaded dataset…", expanded=True) as status:
            bar = st.progress(0.0)
            result = api.train(data_path, folder / "schema.toml", home=home, actor=common.actor(),
                               progress=lambda step, f: bar.progress(min(1.0, float(f)), text=f"Training: {step}"))
            status.update(label=f"Trained {result['version']}: {result['reason']}", state="complete")
        common.clear_caches()

st.subheader("Audit log")
log = api.audit_log(home=home)
st.dataframe(pd.DataFrame(log[::-1]), hide_index=True, width="stretch")

st.subheader("Serving settings")
cfg = api.settings(home=home)
with st.form("settings"):
    share = st.slider("Challenger share of traffic", 0.0, 1.0, float(cfg["challenger_share"]), 0.05)
    shadow = st.toggle("Shadow mode: also score every request with the challenger", value=bool(cfg["shadow"]))
    policy = st.selectbox("Retrain policy", ["manual", "auto"], index=["manual", "auto"].index(cfg["retrain_policy"]))
    if st.form_submit_button("Save settings", disabled=not admin):
        with common.user_errors():
            api.update_settings({"challenger_share": share, "shadow": shadow, "retrain_policy": policy}, home=home)
            st.success("Settings saved.")
