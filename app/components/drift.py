"""Drift of the current data against the version's training reference."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts, common
from app import format as fmt


def verdict_text(report: dict) -> str:
    """The verdict in words, the same one the metrics, the table and the alerts show: whether
    the inputs drifted as a whole, which columns drifted (even below the dataset's share), and
    whether the model's predictions drifted; or that there are too few rows for a verdict."""
    ds = report["dataset"]
    if not report.get("enough_rows", True):
        return (f"Not enough rows yet for a verdict: {report['n_current']:,} in {report['source']}, "
                f"{report['min_rows']:,} needed. The statistics below are shown for information only.")
    inputs = (f"Input drift: {ds['n_drifted']} of {ds['n_columns']} columns drifted ({fmt.percent(ds['drifted_share'])}), "
              f"more than the {fmt.percent(ds['dataset_threshold'], 0)} that makes the dataset drift" if ds["dataset_drift"]
              else f"No input drift as a whole: {ds['n_drifted']} of {ds['n_columns']} columns drifted, under the {fmt.percent(ds['dataset_threshold'], 0)} that makes the dataset drift")
    prob = report.get("probability")
    outputs = "" if not prob else "; the model's predictions drifted" if prob["drifted"] else "; the model's predictions are stable"
    return f"{inputs}{outputs} (in {report['source']})."


def tone(report: dict) -> str:
    """'info' without a verdict, 'error' for input or prediction drift, 'warning' when only
    some columns drifted, else 'success'."""
    if not report.get("enough_rows", True):
        return "info"
    ds, prob = report["dataset"], report.get("probability") or {}
    if ds["dataset_drift"] or prob.get("drifted"):
        return "error"
    return "warning" if ds["n_drifted"] else "success"


def columns_data(report: dict, features: dict[str, dict]) -> pd.DataFrame:
    """Per column (by its label): the verdict in words, the test's statistic against its
    threshold and the missing share in training and now. (PSI is in the JSON report; it does not
    decide, so it is not shown beside the statistic that does.)"""
    rows = []
    for c in report["columns"]:
        verdict = ("values drifted" if c["drifted"] else "") + (" and " if c["drifted"] and c["missing_drifted"] else "") + ("missing share moved" if c["missing_drifted"] else "")
        rows.append({
            "Column": features.get(c["column"], {}).get("label", fmt.label(c["column"])),
            "Verdict": verdict or ("stable" if report.get("enough_rows", True) else "no verdict yet"),
            "Test": TEST_WORDS.get(c["test"], c["test"]),
            "Statistic": c["statistic"],
            "Threshold": c["threshold"],
            "Missing (training → now)": f"{fmt.percent(c['reference_missing'], 0)} → {fmt.percent(c['current_missing'], 0)}",
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
    inputs = ("DRIFT" if ds["dataset_drift"] else f"{ds['n_drifted']} column(s)" if ds["n_drifted"] else "No drift") if enough else "No verdict yet"
    m[0].metric("Input drift", inputs, help=f"The inputs drift as a whole when at least {fmt.percent(ds['dataset_threshold'], 0)} of the columns drift; "
                "a column can drift on its own below that share (the table says which).")
    m[1].metric("Drifted columns", f"{ds['n_drifted']} of {ds['n_columns']}", help="Columns whose values or share of missing values moved (table below).")
    m[2].metric("Rows checked", f"{report['n_current']:,}", help=f"Rows compared with the training data: {report['source']}.")
    prob = report.get("probability")
    if prob:
        m[3].metric("Prediction drift", ("DRIFT" if prob["drifted"] else "stable") if enough else "No verdict yet",
                    help="Did the model's predictions move against its predictions on the training data? "
                    f"{TEST_WORDS.get(prob['test'], prob['test'])} = {fmt.number(prob['statistic'])}, drifts at {fmt.number(prob['threshold'])}.")
    getattr(st, tone(report))(verdict_text(report))
    left_out = report.get("left_out")
    if left_out:  # rows outside the schema (e.g. beyond a feature's bounds) are not compared
        st.warning(f"{left_out['rows']:,} of {left_out['of']:,} rows were left out because they fail the schema: " + "; ".join(left_out["problems"]) + ".")
    table = columns_data(report, features)
    # Full width and tall enough for every column: a narrow table hid the statistic and rows.
    st.dataframe(table.style.format({"Statistic": "{:.3f}", "Threshold": "{:.3f}"}, na_rep="—"), hide_index=True, width="stretch", height=36 * (len(table) + 1) + 4,
                 column_config={"Verdict": st.column_config.Column(help="What moved in this column against the training data."),
                                  "Test": st.column_config.Column(help="What the statistic measures."),
                                  "Statistic": st.column_config.Column(help="How far this column moved, in the test's own measure (see Test)."),
                                  "Threshold": st.column_config.Column(help="The column drifts when its statistic reaches this (and the move is beyond chance)."),
                                  "Missing (training → now)": st.column_config.Column(help="Share of rows without a value, in training and now.")})
    st.caption("A column drifts when its statistic passes the threshold and the difference is beyond chance (p < 0.01), "
                 "or when its share of missing values moved by 5 points or more; the dataset drifts when enough columns do.")
    left, right = st.columns([1, 2])
    columns = [c["column"] for c in report["columns"]]
    drifted = report["dataset"]["drifted_columns"]
    column = left.selectbox("Distribution of", columns, index=columns.index(drifted[0]) if drifted else 0,
                             format_func=lambda c: features.get(c, {}).get("label", fmt.label(c)) + (" ⚠️" if c in drifted else ""), key="mon_column")
    if column in current.columns:
        common.chart(charts.plot_reference_vs_current(reference[column], current[column], title="Reference (training) vs current"), "reference_vs_current", right)
