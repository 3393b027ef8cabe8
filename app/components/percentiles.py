"""Percentile rankings of an entity against its peer group."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts, common
from app import format as fmt


def percentiles_data(percentiles: list[dict], features: dict[str, dict]) -> pd.DataFrame:
    """One row of display text per feature ranked: Metric, Value, Rank, p10, Median, p90,
    Peers p10 – p90, Interpretation, Message, Peer group, Peers."""
    rows = []
    for p in percentiles:
        f = features.get(p["feature"])
        rows.append({
            "Metric": p.get("label", p["feature"]), "Value": fmt.value(f, p["value"]), "Rank": _rank_text(p),
            "p10": fmt.value(f, p["p10"]), "Median": fmt.value(f, p["p50"]), "p90": fmt.value(f, p["p90"]),
            "Peers p10 – p90": f"{fmt.value(f, p['p10'])} – {fmt.value(f, p['p90'])}",
            "Interpretation": p.get("interpretation") or "no better direction", "Message": p.get("message"),
            "Peer group": p["peer_group"], "Peers": f"{p['peer_count']:,}",
        })
    return pd.DataFrame(rows)


def _rank_text(p: dict) -> str:
    """'73rd percentile' (direction-aware), or for a feature without a better direction its
    plain position: 'above 73% of peers'."""
    if p.get("rank") is not None:
        return fmt.rank(p["rank"])
    return f"above {p['position']:.0f}% of peers" if p.get("position") is not None else "—"


PERCENTILE_HELP = {
    "Rank": st.column_config.Column(help="Direction-aware percentile among peers: 90th means better than 90% of them."),
    "Peers p10 – p90": st.column_config.Column(help="The middle 80% of peers: 10% have less, 10% have more."),
    "Peers": st.column_config.Column(help="How many peers the rank is computed against (the peer group in the caption)."),
}


def render(analysis: dict, features: dict[str, dict]) -> None:
    """The Analyze page's section: peer group caption, table and bullet chart."""
    st.subheader("Percentile rankings against peers")
    rows = analysis["percentiles"]
    if not rows:
        st.info("No score or figure was given, so there is nothing to rank.")
        return
    st.caption(f"Peer group: {rows[0]['peer_group']}. Ranks are direction-aware: a higher rank is better "
               "(for a feature without a better direction, its position among peers is shown).")
    table = percentiles_data(rows, features).rename(columns={"Median": "Peer median"})
    # Full width and tall enough for every row: a narrow column hid the median and peer count.
    st.dataframe(table[["Metric", "Value", "Rank", "Peer median", "Peers p10 – p90", "Interpretation", "Peers"]], hide_index=True, width="stretch",
                 height=36 * (len(table) + 1) + 4, column_config=PERCENTILE_HELP)
    this = "this " + fmt.entity(analysis)["singular"]
    common.chart(charts.plot_percentile_bullets(rows, fmt=lambda r: fmt.value(features.get(r["feature"]), r["value"]), this=this), "bullets")


def render_table(percentiles: list[dict], features: dict[str, dict]) -> None:
    """The Benchmarks page's table of one entity against its peers."""
    table = percentiles_data(percentiles, features)
    st.dataframe(table[["Metric", "Value", "Rank", "p10", "Median", "p90", "Peer group", "Message"]], hide_index=True, width="stretch")
