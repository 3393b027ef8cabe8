"""Drift of the current data against the version's training reference."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts
from app import format as fmt


def verdict_text(report: dict) -> str:
    """One sentence: dataset drift or not, how many columns drifted, in which data."""
    ds = report["dataset"]
    return (f"{'Dataset drift detected' if ds['dataset_drift'] else 'No dataset drift'}: {ds['n_drifted']} of {ds['n_columns']} "
            f"columns drifted ({fmt.percent(ds['drifted_share'])}) in {report['source']}.")


def columns_data(report: dict, features: dict[str, dict]) -> pd.DataFrame:
    """Per column (by its label): test, statistic, threshold, drifted, PSI."""
    table = pd.DataFrame(report["columns"])[["column", "test", "statistic", "threshold", "drifted", "psi"]]
    table["column"] = table["column"].map(lambda c: features.get(c, {}).get("label", c))
    return table


def render(report: dict, current: pd.DataFrame, reference: pd.DataFrame, features: dict[str, dict]) -> None:
    """Verdict metrics, the per-column table and one column's reference-vs-current chart."""
    ds = report["dataset"]
    m = st.columns(4)
    m[0].metric("Dataset verdict", "DRIFT" if ds["dataset_drift"] else "No drift")
    m[1].metric("Drifted columns", f"{ds['n_drifted']} of {ds['n_columns']}", help=f"Dataset drift when more than {fmt.percent(ds['dataset_threshold'], 0)} of columns drift.")
    m[2].metric("Rows checked", f"{report['n_current']:,}", help=report["source"])
    prob = report.get("probability")
    if prob:
        m[3].metric("Probability drift", "DRIFT" if prob["drifted"] else "stable", help=f"{prob['test']} = {prob['statistic']:.3f} (threshold {prob['threshold']})")
    (st.error if ds["dataset_drift"] else st.success)(verdict_text(report))
    left, right = st.columns([3, 2])
    table = columns_data(report, features)
    left.dataframe(table.style.format({"statistic": "{:.3f}", "threshold": "{:.3f}", "psi": "{:.3f}"}), hide_index=True, width="stretch")
    columns = [c["column"] for c in report["columns"]]
    drifted = [c["column"] for c in report["columns"] if c["drifted"]]
    column = right.selectbox("Distribution of", columns, index=columns.index(drifted[0]) if drifted else 0,
                             format_func=lambda c: features.get(c, {}).get("label", c) + (" ⚠️" if c in drifted else ""), key="mon_column")
    if column in current.columns:
        right.plotly_chart(charts.plot_reference_vs_current(reference[column], current[column], title="Reference (training) vs current"), width="stretch")
