"""The registry table and the side-by-side comparison of two versions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import format as fmt

METRICS = ["roc_auc", "accuracy", "f1", "precision", "recall", "pr_auc", "brier"]


def registry_data(models: list[dict]) -> list[dict]:
    """One row per version (``Workspace.models()``): aliases, rows, segments, held-out metrics."""
    rows = []
    for m in models:
        metrics = m.get("metrics") or {}
        row = {"Version": m["version"], "Created": m["created"], "Aliases": ", ".join(m["aliases"]), "Rows": f"{m['rows']:,}",
               "Segments": metrics.get("segments_k")}
        held = metrics.get("holdout", {})
        keys = ("rmse", "mae", "r2") if "rmse" in held else ("roc_auc", "accuracy", "f1")
        row |= {f"Held-out {fmt.metric_name(k)}": fmt.number(held.get(k)) for k in keys}
        row["Data fingerprint"] = (m.get("data_fingerprint") or "")[:19] + "…"
        rows.append(row)
    return rows


def compare_data(models: list[dict], a: str, b: str) -> list[dict]:
    """Held-out and cross-validated metrics of versions ``a`` and ``b`` and their difference."""
    by = {m["version"]: m.get("metrics") or {} for m in models}
    rows = []
    for split in ("holdout", "cv"):
        for k in METRICS:
            va, vb = by[a].get(split, {}).get(k), by[b].get(split, {}).get(k)
            rows.append({"Metric": f"{'Held-out' if split == 'holdout' else 'Cross-validated'} {fmt.metric_name(k)}", a if a != b else f"{a} (A)": fmt.number(va), b if a != b else f"{b} (B)": fmt.number(vb),
                         "Difference (A − B)": fmt.signed(va - vb) if va is not None and vb is not None else "—"})
    return rows


def render(models: list[dict]) -> None:
    st.subheader("Registry")
    st.dataframe(pd.DataFrame(registry_data(models)), hide_index=True, width="stretch",
                 column_config={"Data fingerprint": st.column_config.Column(help="A hash of the training table: equal prints mean the same rows.")})
    versions = [m["version"] for m in models]
    if not versions:
        return
    st.subheader("Compare two versions")
    c1, c2 = st.columns(2)
    a = c1.selectbox("Version A", versions, index=len(versions) - 1, key="cmp_a")
    b = c2.selectbox("Version B", versions, index=max(len(versions) - 2, 0), key="cmp_b")
    st.dataframe(pd.DataFrame(compare_data(models, a, b)), hide_index=True, width="stretch")
