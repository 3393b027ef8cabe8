"""Percentile rankings of a company against its peer group."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts
from app import format as fmt


def percentiles_data(percentiles: list[dict], features: dict[str, dict]) -> pd.DataFrame:
    """One row of display text per feature ranked: Metric, Value, Rank, p10, Median, p90,
    Peers p10 – p90, Interpretation, Message, Peer group, Peers."""
    rows = []
    for p in percentiles:
        f = features.get(p["feature"])
        rows.append({
            "Metric": p.get("label", p["feature"]), "Value": fmt.value(f, p["value"]), "Rank": fmt.rank(p["rank"]),
            "p10": fmt.value(f, p["p10"]), "Median": fmt.value(f, p["p50"]), "p90": fmt.value(f, p["p90"]),
            "Peers p10 – p90": f"{fmt.value(f, p['p10'])} – {fmt.value(f, p['p90'])}",
            "Interpretation": p.get("interpretation"), "Message": p.get("message"),
            "Peer group": p["peer_group"], "Peers": f"{p['peer_count']:,}",
        })
    return pd.DataFrame(rows)


def render(analysis: dict, features: dict[str, dict]) -> None:
    """The Analyze page's section: peer group caption, table and bullet chart."""
    st.subheader("Percentile rankings against peers")
    rows = analysis["percentiles"]
    if not rows:
        return
    st.caption(f"Peer group: {rows[0]['peer_group']} ({rows[0]['peer_count']:,} companies). Ranks are direction-aware: higher is better.")
    table = percentiles_data(rows, features).rename(columns={"Median": "Peer median"})
    t, b = st.columns([2, 3])
    t.dataframe(table[["Metric", "Value", "Rank", "Peer median", "Interpretation", "Peers"]], hide_index=True, width="stretch")
    b.plotly_chart(charts.plot_percentile_bullets(rows, fmt=lambda r: fmt.value(features.get(r["feature"]), r["value"])), width="stretch")


def render_table(percentiles: list[dict], features: dict[str, dict]) -> None:
    """The Benchmarks page's table of one company against its peers."""
    table = percentiles_data(percentiles, features)
    st.dataframe(table[["Metric", "Value", "Rank", "p10", "Median", "p90", "Peer group", "Message"]], hide_index=True, width="stretch")
