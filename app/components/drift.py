"""Drift of the current data against the version's training reference."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts
from app import format as fmt


def verdict_text(report: dict) -> str:
    """One sentence: dataset drift or not, how many columns drifted, in which data (or that
    there are too few rows for a verdict)."""
    ds = report["dataset"]
    if not report.get("enough_rows", True):
        return (f"Not enough rows yet for a verdict: {report['n_current']:,} in {report['source']}, "
                f"{report['min_rows']:,} needed. The statistics below are shown for information only.")
    return (f"{'Dataset drift detected' if ds['dataset_drift'] else 'No dataset drift'}: {ds['n_drifted']} of {ds['n_columns']} "
            f"columns drifted ({fmt.percent(ds['drifted_share'])}) in {report['source']}.")


def columns_data(report: dict, features: dict[str, dict]) -> pd.DataFrame:
    """Per column (by its label): the verdict in words, the test's statistic against its
    threshold, the missing share in training and now, and PSI."""
    rows = []
    for c in report["columns"]:
        verdict = ("values drifted" if c["drifted"] else "") + (" and " if c["drifted"] and c["missing_drifted"] else "") + ("missing share moved" if c["missing_drifted"] else "")
        rows.append({
            "Column": features.get(c["column"], {}).get("label", c["column"]),
            "Verdict": verdict or ("stable" if report.get("enough_rows", True) else "no verdict yet"),
            "Test": TEST_WORDS.get(c["test"], c["test"]),
            "Statistic": c["statistic"],
            "Threshold": c["threshold"],
            "Missing (training → now)": f"{fmt.percent(c['reference_missing'], 0)} → {fmt.percent(c['current_missing'], 0)}",
            "PSI": c["psi"],
        })
    return pd.DataFrame(rows)


# The statistic each test reports, in words (the engine's registry has the full descriptions).
TEST_WORDS = {
    "ks_distance": "share of rows moved (KS distance)",
    "tvd": "share of rows in another category (total variation)",
    "ks": "KS p-value",
    "chisquare": "chi-square p-value",
    "wasserstein": "Wasserstein, in standard deviations",
    "jensenshannon": "Jensen–Shannon distance",
    "psi": "population stability index",
}


def render(report: dict, current: pd.DataFrame, reference: pd.DataFrame, features: dict[str, dict]) -> None:
    """Verdict metrics, the per-column table and one column's reference-vs-current chart."""
    ds = report["dataset"]
    m = st.columns(4)
    enough = report.get("enough_rows", True)
    m[0].metric("Dataset verdict", ("DRIFT" if ds["dataset_drift"] else "No drift") if enough else "Not enough rows yet")
    m[1].metric("Drifted columns", f"{ds['n_drifted']} of {ds['n_columns']}", help=f"Dataset drift when more than {fmt.percent(ds['dataset_threshold'], 0)} of columns drift.")
    m[2].metric("Rows checked", f"{report['n_current']:,}", help=report["source"])
    prob = report.get("probability")
    if prob:
        m[3].metric("Probability drift", "DRIFT" if prob["drifted"] else "stable", help=f"{prob['test']} = {prob['statistic']:.3f} (threshold {prob['threshold']})")
    (st.info if not enough else st.error if ds["dataset_drift"] else st.success)(verdict_text(report))
    left_out = report.get("left_out")
    if left_out:  # rows outside the schema (e.g. beyond a feature's bounds) are not compared
        st.warning(f"{left_out['rows']:,} of {left_out['of']:,} rows were left out because they fail the schema: " + "; ".join(left_out["problems"]) + ".")
    left, right = st.columns([3, 2])
    table = columns_data(report, features)
    left.dataframe(table.style.format({"Statistic": "{:.3f}", "Threshold": "{:.3f}", "PSI": "{:.3f}"}, na_rep="—"), hide_index=True, width="stretch")
    left.caption("A column drifts when its statistic passes the threshold and the difference is beyond chance (p < 0.01), "
                 "or when its share of missing values moved by 5 points or more; the dataset drifts when enough columns do.")
    columns = [c["column"] for c in report["columns"]]
    drifted = report["dataset"]["drifted_columns"]
    column = right.selectbox("Distribution of", columns, index=columns.index(drifted[0]) if drifted else 0,
                             format_func=lambda c: features.get(c, {}).get("label", c) + (" ⚠️" if c in drifted else ""), key="mon_column")
    if column in current.columns:
        right.plotly_chart(charts.plot_reference_vs_current(reference[column], current[column], title="Reference (training) vs current"), width="stretch")
