"""Admin actions on versions: retrain, promote, roll back, train on an uploaded dataset."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import streamlit as st

from app import common, uploads
from engine.api import Workspace
from engine.demo.replay import built_in_table


def _train(ws: Workspace, status, data, schema, **options) -> None:
    """Train with a progress bar in ``status``, which ends with the quality gate's verdict, or
    says that nothing changed when a version was already trained on the same data."""
    bar = st.progress(0.0)
    result = ws.train(data, schema, actor=common.actor(), progress=lambda step, f: bar.progress(min(1.0, float(f)), text=f"Training: {step}"), **options)
    if result["unchanged"]:
        bar.empty()
        status.update(label="Nothing changed", state="complete")
        reason = result["reason"]
        st.info(f"{reason[:1].upper()}{reason[1:]}. No new version was trained.")
        return
    status.update(label=f"Trained {result['version']}: {result['reason']}", state="complete")


def render_actions(ws: Workspace, versions: list[str], admin: bool) -> None:
    """Retrain on the built-in data, promote a version, roll back the champion."""
    demo = ws.home / "demo"
    table = built_in_table(demo)
    r1, r2, r3 = st.columns(3)
    with r1:
        if st.button("Retrain on the built-in data", disabled=not admin or table is None, key="retrain", type="primary"):
            with st.status("Training a new version…", expanded=True) as status, common.user_errors():
                series = demo / "benchmarks_monthly.csv"
                _train(ws, status, table, demo / "schema.toml", series=series if series.is_file() else None)
    with r2:
        target = st.selectbox("Promote version", versions, index=len(versions) - 1, key="promote_version")
        if st.button("Promote to champion", disabled=not admin, key="promote"):
            with common.user_errors():
                ws.promote(target, reason="promoted in the app", actor=common.actor())
                st.success(f"{target} is now the champion.")
    with r3:
        st.write("")
        if st.button("Roll back the champion", disabled=not admin, key="rollback"):
            with common.user_errors():
                moved = ws.rollback(reason="rolled back in the app", actor=common.actor())
                st.success(f"Rolled back: champion is now {moved.get('to', moved)}.")


def render_upload(ws: Workspace, admin: bool) -> None:
    """Check an uploaded dataset and schema (nothing stored until both pass), then train."""
    st.subheader("Train on your own dataset")
    u1, u2 = st.columns(2)
    data_file = u1.file_uploader("Dataset (CSV or Parquet)", type=list(uploads.TABLE_TYPES), key="train_data")
    schema_file = u2.file_uploader("Schema (TOML)", type=["toml"], key="train_schema")
    if not st.button("Check and train", disabled=not admin or data_file is None or schema_file is None, key="train_upload"):
        return
    with common.user_errors():
        frame = uploads.read_table(data_file.name, data_file.getvalue())
        uploads.check_schema_bytes(frame, schema_file.getvalue(), schema_file.name)
        folder = ws.home / "uploads" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        folder.mkdir(parents=True, exist_ok=True)
        data_path = folder / ("data.parquet" if data_file.name.lower().endswith(".parquet") else "data.csv")
        data_path.write_bytes(data_file.getvalue())
        (folder / "schema.toml").write_bytes(schema_file.getvalue())
        try:
            with st.status("Training on the uploaded dataset…", expanded=True) as status:
                _train(ws, status, data_path, folder / "schema.toml")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # kept only behind a version (automatic retrains read it)
            raise
