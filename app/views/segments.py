"""Segments: 2-D PCA map, sizes, outcome rates and profiles of every persona."""

import pandas as pd
import streamlit as st

from app import charts, common
from app import format as fmt

st.title("Segments")
plural = fmt.entity(common.schema_dict())["plural"]
insights = common.details()["insights"]
feats = common.features()
segments = insights["segments"]
names = {s["id"]: s["name"] for s in segments}
proj = insights["projection"]

MAP_POINTS = 1500  # more dots add drawing time in the browser, not information
every = max(1, -(-len(proj["x"]) // MAP_POINTS))
shown = f" (every {every}th of {len(proj['x']):,})" if every > 1 else ""
common.chart(charts.plot_projection(proj["x"][::every], proj["y"][::every], proj["segment"][::every], names,
                                    title=f"{plural.capitalize()} on a map of their profiles{shown}"), "projection")
c1, c2 = st.columns(2)
common.chart(charts.plot_segment_bars(segments, "size", title=f"{plural.capitalize()} per segment"), "segment_size", c1)
if all(s.get("outcome_rate") is not None for s in segments):
    common.chart(charts.plot_segment_bars(segments, "outcome_rate", title="Outcome rate per segment", percent=True), "outcome_rate", c2)

st.subheader("Segment profiles")
for s in segments:
    st.markdown(f"<span style='color:{charts.segment_colour(s['id'])};font-size:1.3rem'>●</span> **{s['name']}** — {s['description']}", unsafe_allow_html=True)
st.caption("Typical values: the median of each feature among the segment's members.")
centroids = pd.DataFrame({s["name"]: {n: fmt.value(feats.get(n), v) for n, v in s["centroid"].items()} for s in segments})
centroids.index = [feats.get(i, {}).get("label", i) for i in centroids.index]
st.dataframe(centroids, width="stretch")
scores = [n for n in segments[0]["centroid"] if feats.get(n, {}).get("kind") == "score"]
if scores:
    series = {s["name"]: [s["centroid"][n] for n in scores] for s in segments}
    colours = {s["name"]: charts.segment_colour(s["id"]) for s in segments}
    common.chart(charts.plot_radar([feats[n]["label"] for n in scores], series, colours, title="Segment medians (scores)"), "radar")
