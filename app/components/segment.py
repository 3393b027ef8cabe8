"""The segment card and the radar of the company against its segment and peers."""

from __future__ import annotations

import streamlit as st

from app import charts


def segment_data(analysis: dict, features: dict[str, dict]) -> dict:
    """Name, description, size and colour of the segment, and the radar's series over the
    maturity scores: this company, the segment centroid and the peer median."""
    seg = analysis["segment"]
    axes = [n for n, f in features.items() if f["kind"] == "score" and n in seg["centroid"]]
    medians = {p["feature"]: p["p50"] for p in analysis["percentiles"]}
    colour = charts.segment_colour(seg["id"])
    return {
        "name": seg["name"],
        "description": seg.get("description", ""),
        "size": seg.get("size", 0),
        "colour": colour,
        "axes": [features[a]["label"] for a in axes],
        "series": {
            "this company": [analysis["profile"][a] for a in axes],
            "segment centroid": [seg["centroid"][a] for a in axes],
            "peer median": [medians.get(a, float("nan")) for a in axes],
        },
        "colours": {"this company": charts.COMPANY, "segment centroid": colour, "peer median": charts.PEERS},
    }


def render(analysis: dict, features: dict[str, dict]) -> None:
    data = segment_data(analysis, features)
    card, radar = st.columns([2, 3])
    with card:
        st.subheader("Segment")
        st.markdown(f"<div style='border-left:6px solid {data['colour']};padding-left:.8rem'>"
                    f"<h3 style='margin:0'>{data['name']}</h3><p>{data['description']}</p></div>", unsafe_allow_html=True)
        st.metric("Segment size", f"{data['size']:,} companies")
    with radar:
        st.plotly_chart(charts.plot_radar(data["axes"], data["series"], data["colours"]), width="stretch")
