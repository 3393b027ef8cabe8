"""The segment card and the radar of the entity against its segment and peers (the radar
only when the dataset has assessment scores; otherwise a table of the clustered features)."""

from __future__ import annotations

import streamlit as st

from app import charts, common
from app import format as fmt


def segment_data(analysis: dict, features: dict[str, dict]) -> dict:
    """Name, description, size and colour of the segment, and the radar's series over the
    assessment scores: this entity, the segment centroid and the peer median (no axes when the
    dataset has no scores); ``centroid`` rows compare every clustered feature with the segment."""
    seg = analysis["segment"]
    this = "this " + fmt.entity(analysis)["singular"]
    axes = [n for n, f in features.items() if f["kind"] == "score" and n in seg["centroid"]]
    medians = {p["feature"]: p["p50"] for p in analysis["percentiles"]}
    colour = charts.segment_colour(seg["id"])
    centroid = [
        {"Feature": features.get(n, {}).get("label", fmt.label(n)), this.capitalize(): fmt.value(features.get(n), analysis["profile"].get(n)),
         "Segment centre": fmt.value(features.get(n), v)}
        for n, v in seg["centroid"].items()
    ]
    return {
        "plural": fmt.entity(analysis)["plural"],
        "centroid": centroid,
        "name": seg["name"],
        "description": seg.get("description", ""),
        "size": seg.get("size", 0),
        "colour": colour,
        "axes": [features[a]["label"] for a in axes],
        "series": {
            this: [analysis["profile"][a] for a in axes],
            "segment centroid": [seg["centroid"][a] for a in axes],
            "peer median": [medians.get(a, float("nan")) for a in axes],
        },
        "colours": {this: charts.ENTITY, "segment centroid": colour, "peer median": charts.PEERS},
    }


def render(analysis: dict, features: dict[str, dict]) -> None:
    data = segment_data(analysis, features)
    card, radar = st.columns([2, 3])
    with card:
        st.subheader("Segment")
        st.markdown(f"<div style='border-left:6px solid {data['colour']};padding-left:.8rem'>"
                    f"<h3 style='margin:0'>{data['name']}</h3><p>{data['description']}</p></div>", unsafe_allow_html=True)
        st.metric("Segment size", f"{data['size']:,} {data['plural']}", help=f"Training {data['plural']} in this segment: groups of similar profiles found by clustering (Segments page).")
    with radar:
        if data["axes"]:
            common.chart(charts.plot_radar(data["axes"], data["series"], data["colours"]), "radar")
        else:
            st.caption("The segment is built from these features (centre: the segment's typical values).")
            st.dataframe(data["centroid"], hide_index=True, width="stretch")
