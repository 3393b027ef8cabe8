"""Pure functions: data -> plotly figure. No Streamlit, no engine calls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.format import number, signed

# What each chart means, in one line for people: shown under the chart (``common.chart``).
MEANING = {
    "distribution": "How the values spread in this peer group: the bars count entities per value range; the box spans the middle half, its line is the median.",
    "series": "The peer group's median per month, with a 12-month moving average that shows the trend.",
    "seasonality": "How far each calendar month lies above or below the trend, on average over the years: a repeated seasonal swing.",
    "confusion": "Held-out rows by what happened (rows) and what the model said at a 50% threshold (columns): the diagonal is right.",
    "roc": "Each point is a threshold: the share of positives caught against the share of negatives wrongly flagged. Higher and further left is better; the diagonal is guessing.",
    "pr": "Each point is a threshold: the share of flagged rows that are right (precision) against the share of positives caught (recall).",
    "calibration": "Predicted probability against how often the outcome really happened: on the diagonal, a 30% prediction comes true 30% of the time.",
    "importance": "How much each feature moves predictions on average, in either direction (mean size of its SHAP contribution).",
    "dependence": "Each dot is one entity: the feature's value (across) against how much it moved that entity's prediction (up raises, down lowers).",
    "performance": "The model's quality week by week: realised from recorded outcomes, estimated from the predictions alone before outcomes arrive. The dashed line is the alert floor.",
    "volume": "Predictions served per day.",
    "projection": "Each dot is one entity on a map of all features squeezed into two directions: near dots have similar profiles, colours are segments.",
    "segment_size": "How many training entities each segment holds.",
    "outcome_rate": "The share of each segment's entities with the outcome in the training data.",
    "radar": "Each axis is a score: the further out, the higher. Compare the shapes to see where they differ.",
    "reference_vs_current": "Share of rows per value range (or category): the training data against the rows checked. ⚠️ marks a drifted column.",
    "bullets": "Per feature, on its own peers' scale: the light band holds the middle 80% of peers (p10 to p90), the darker one the middle half, the line is the peer median and the diamond is this entity, with its value.",
    "gauge": "The outcome model's probability for this profile.",
    "waterfall": "Each bar is how much one feature moved this prediction away from the average prediction (the base value): green raises it, red lowers it.",
}

# One colour per segment id, the same on every page.
SEGMENT_COLOURS = [
    "#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea",
    "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d",
]
ENTITY = "#111827"
PEERS = "#94a3b8"
REFERENCE = "#64748b"
CURRENT = "#f97316"
SEVERITY_COLOURS = {"high": "#dc2626", "medium": "#f97316", "low": "#ca8a04"}
LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "template": "plotly_white"}


def segment_colour(segment_id) -> str:
    return SEGMENT_COLOURS[int(segment_id) % len(SEGMENT_COLOURS)]


def _fig(fig: go.Figure, title: str | None = None, height: int | None = None) -> go.Figure:
    fig.update_layout(**LAYOUT, title=title, height=height)
    return fig


def plot_radar(axes: list[str], series: dict[str, list[float]], colours: dict[str, str] | None = None, title=None) -> go.Figure:
    """series: name -> values along ``axes`` (same order)."""
    fig = go.Figure()
    for name, values in series.items():
        colour = (colours or {}).get(name)
        fig.add_trace(go.Scatterpolar(r=list(values) + [values[0]], theta=axes + [axes[0]], name=name,
                                      line={"color": colour} if colour else None, fill="toself", opacity=0.55))
    fig.update_layout(polar={"radialaxis": {"visible": True}}, legend={"orientation": "h"})
    return _fig(fig, title, 420)


def plot_percentile_bullets(rows: list[dict], fmt=None, this: str = "this one") -> go.Figure:
    """rows: percentile rows (label, value, p10..p90, rank). One bullet per feature in one figure:
    each row is drawn on its own peers' scale (p10 at 10, p90 at 90, so features in different
    units line up): the p10–p90 band, the p25–p75 band, the peer median and the entity's value
    (named ``this``, beyond the band when outside it). Hover shows the values in their units."""
    names = [f"{r.get('label', r['feature'])} · " + (f"rank {r['rank']:.0f}" if r.get("rank") is not None else f"above {r.get('position', 0):.0f}% of peers") for r in rows]
    text = [fmt(r) if fmt else number(r["value"]) for r in rows]

    def at(r: dict, v: float) -> float:
        span = r["p90"] - r["p10"]
        return 50.0 if not span or v != v else min(max(10 + 80 * (v - r["p10"]) / span, -5.0), 105.0)

    peers = [f"p10 {number(r['p10'])} · p25 {number(r['p25'])} · median {number(r['p50'])} · p75 {number(r['p75'])} · p90 {number(r['p90'])}" for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=[80] * len(rows), base=[10] * len(rows), orientation="h", marker_color="#e2e8f0", name="p10–p90",
                         customdata=peers, hovertemplate="%{customdata}<extra></extra>"))
    fig.add_trace(go.Bar(y=names, x=[at(r, r["p75"]) - at(r, r["p25"]) for r in rows], base=[at(r, r["p25"]) for r in rows], orientation="h",
                         marker_color="#93c5fd", width=0.45, name="p25–p75", hoverinfo="skip"))
    fig.add_trace(go.Scatter(y=names, x=[at(r, r["p50"]) for r in rows], mode="markers", name="peer median",
                             marker={"symbol": "line-ns", "size": 18, "line": {"width": 3, "color": REFERENCE}},
                             customdata=[number(r["p50"]) for r in rows], hovertemplate="peer median %{customdata}<extra></extra>"))
    fig.add_trace(go.Scatter(y=names, x=[at(r, r["value"]) for r in rows], mode="markers+text", name=this, text=text, textposition="top center",
                             marker={"symbol": "diamond", "size": 13, "color": ENTITY}, hovertemplate=f"{this} %{{text}}<extra></extra>"))
    fig.update_layout(barmode="overlay", legend={"orientation": "h", "y": -0.08, "yanchor": "top"})
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[-8, 108], tickvals=[10, 50, 90], ticktext=["peers' p10", "middle", "peers' p90"], showgrid=False)
    return _fig(fig, None, 60 + 42 * max(len(rows), 1))


def plot_waterfall(base_value: float, contributions: list[dict], labels: dict | None = None, top: int = 10, title=None, unit: str = "log-odds") -> go.Figure:
    """SHAP waterfall: the average prediction (base value) + each feature's contribution = this
    prediction, on the model's own scale (log-odds for a probability, else the target's units)."""
    contributions = sorted(contributions, key=lambda c: -abs(c["contribution"]))
    shown, rest = contributions[:top], contributions[top:]
    names = [(labels or {}).get(c["feature"], c["feature"]) for c in shown]
    values = [c["contribution"] for c in shown]
    if rest:
        names.append(f"{len(rest)} other features")
        values.append(sum(c["contribution"] for c in rest))
    margin = base_value + sum(c["contribution"] for c in contributions)
    fig = go.Figure(go.Waterfall(
        orientation="h",
        y=["average (base value)"] + names + ["this prediction"],
        x=[base_value] + values + [margin],
        measure=["absolute"] + ["relative"] * len(values) + ["total"],
        increasing={"marker": {"color": "#16a34a"}}, decreasing={"marker": {"color": "#dc2626"}},
        totals={"marker": {"color": "#2563eb"}},
        text=[number(base_value)] + [signed(v) for v in values] + [number(margin)],
        hovertemplate="%{y}: %{text} " + unit + "<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=f"contribution ({unit})")
    return _fig(fig, title, 80 + 32 * (len(names) + 2))


def plot_distribution(values: pd.Series, title=None, marker: float | None = None, marker_name="this one") -> go.Figure:
    """Histogram with a box above it; optional vertical marker."""
    fig = make_subplots(rows=2, cols=1, row_heights=[0.2, 0.8], shared_xaxes=True, vertical_spacing=0.02)
    fig.add_trace(go.Box(x=values, name="", marker_color=SEGMENT_COLOURS[0], boxpoints=False, showlegend=False), row=1, col=1)
    fig.add_trace(go.Histogram(x=values, marker_color=SEGMENT_COLOURS[0], opacity=0.8, showlegend=False, nbinsx=40), row=2, col=1)
    if marker is not None:
        fig.add_vline(x=marker, line_color=ENTITY, line_dash="dash", annotation_text=marker_name)
    return _fig(fig, title, 380)


def plot_series(frame: pd.DataFrame, title=None, window: int = 12) -> go.Figure:
    """frame: month, value (one series) -> line with a rolling trend."""
    frame = frame.sort_values("month")
    trend = frame["value"].rolling(window, min_periods=max(2, window // 2), center=True).mean()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame["month"], y=frame["value"], name="monthly", line={"color": SEGMENT_COLOURS[0]}))
    fig.add_trace(go.Scatter(x=frame["month"], y=trend, name=f"{window}-month trend", line={"color": ENTITY, "width": 3}))
    fig.update_layout(legend={"orientation": "h"})
    return _fig(fig, title, 360)


def plot_seasonality(frame: pd.DataFrame, title=None) -> go.Figure:
    """Average deviation from the 12-month trend per calendar month."""
    frame = frame.sort_values("month").copy()
    trend = frame["value"].rolling(12, min_periods=6, center=True).mean()
    frame["deviation"] = frame["value"] - trend
    frame["calendar_month"] = pd.to_datetime(frame["month"]).dt.month
    season = frame.groupby("calendar_month")["deviation"].mean().reindex(range(1, 13))
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    fig = go.Figure(go.Bar(x=months, y=season.to_numpy(), marker_color=[SEGMENT_COLOURS[2] if v >= 0 else SEGMENT_COLOURS[3] for v in season.fillna(0)]))
    return _fig(fig, title, 300)


def plot_projection(x, y, segment_ids, names: dict[int, str], title=None) -> go.Figure:
    frame = pd.DataFrame({"x": x, "y": y, "segment": segment_ids})
    fig = go.Figure()
    for sid, g in frame.groupby("segment"):
        fig.add_trace(go.Scatter(x=g["x"], y=g["y"], mode="markers", name=names.get(int(sid), str(sid)),
                                   marker={"color": segment_colour(sid), "size": 5, "opacity": 0.7}))
    fig.update_layout(legend={"orientation": "h", "y": -0.1}, xaxis_title="main direction of difference (PC 1)", yaxis_title="second direction (PC 2)")
    return _fig(fig, title, 520)


def plot_segment_bars(segments: list[dict], key: str, title=None, percent=False) -> go.Figure:
    fig = go.Figure(go.Bar(x=[s["name"] for s in segments], y=[s[key] for s in segments],
                           marker_color=[segment_colour(s["id"]) for s in segments],
                           text=[f"{s[key]:.0%}" if percent else f"{s[key]:,}" for s in segments], textposition="outside"))
    if percent:
        fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(tickangle=-20)
    return _fig(fig, title, 380)


def plot_confusion(matrix: list[list[int]], labels=("negative", "positive"), title=None) -> go.Figure:
    m = np.asarray(matrix)
    fig = go.Figure(go.Heatmap(z=m, x=[f"predicted {label}" for label in labels], y=[f"actual {label}" for label in labels],
                               colorscale="Blues", text=[[f"{v:,}" for v in row] for row in m], texttemplate="%{text}", showscale=False))
    fig.update_yaxes(autorange="reversed")
    return _fig(fig, title, 320)


def plot_curve(x, y, x_title: str, y_title: str, title=None, diagonal=False) -> go.Figure:
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines", line={"color": SEGMENT_COLOURS[0], "width": 3}, showlegend=False))
    if diagonal:
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": PEERS}, showlegend=False))
    fig.update_xaxes(title=x_title, range=[0, 1])
    fig.update_yaxes(title=y_title, range=[0, 1.02])
    return _fig(fig, title, 340)


def plot_importance(rows: list[dict], labels: dict | None = None, title=None, unit: str = "log-odds") -> go.Figure:
    rows = sorted(rows, key=lambda r: r["mean_abs_shap"])
    fig = go.Figure(go.Bar(x=[r["mean_abs_shap"] for r in rows], y=[(labels or {}).get(r["feature"], r["feature"]) for r in rows],
                           orientation="h", marker_color=SEGMENT_COLOURS[0]))
    fig.update_xaxes(title=f"average |contribution| ({unit})")
    return _fig(fig, title, 60 + 26 * len(rows))


def plot_dependence(values, shap_values, feature: str, title=None, unit: str = "log-odds") -> go.Figure:
    fig = go.Figure(go.Scattergl(x=values, y=shap_values, mode="markers", marker={"color": shap_values, "colorscale": "RdBu", "size": 6, "opacity": 0.7}))
    fig.update_xaxes(title=feature)
    fig.update_yaxes(title=f"contribution ({unit})")
    return _fig(fig, title, 380)


def plot_reference_vs_current(reference: pd.Series, current: pd.Series, title=None) -> go.Figure:
    """Overlaid normalised distributions (numbers) or category shares (text)."""
    fig = go.Figure()
    if pd.api.types.is_numeric_dtype(reference) and pd.api.types.is_numeric_dtype(current):
        for s, name, colour in ((reference, "reference", REFERENCE), (current, "current", CURRENT)):
            fig.add_trace(go.Histogram(x=s.dropna(), name=name, histnorm="probability", opacity=0.6, marker_color=colour, nbinsx=40))
        fig.update_layout(barmode="overlay")
    else:
        ref = reference.astype(str).value_counts(normalize=True)
        cur = current.astype(str).value_counts(normalize=True)
        cats = sorted(set(ref.index) | set(cur.index))
        fig.add_trace(go.Bar(x=cats, y=ref.reindex(cats).fillna(0), name="reference", marker_color=REFERENCE))
        fig.add_trace(go.Bar(x=cats, y=cur.reindex(cats).fillna(0), name="current", marker_color=CURRENT))
        fig.update_yaxes(tickformat=".0%")
    fig.update_layout(legend={"orientation": "h"})
    return _fig(fig, title, 340)


def plot_performance(realised: list[dict], estimated: list[dict], metric: str, threshold: float | None = None, title=None) -> go.Figure:
    fig = go.Figure()
    for rows, name, colour, dash in ((realised, "realised (feedback)", SEGMENT_COLOURS[0], None), (estimated, "estimated (no labels)", CURRENT, "dot")):
        if rows:
            fig.add_trace(go.Scatter(x=[r["bucket"] for r in rows], y=[r.get(metric) for r in rows], name=name, mode="lines+markers", line={"color": colour, "dash": dash}))
    if threshold is not None:
        fig.add_hline(y=threshold, line_dash="dash", line_color=SEVERITY_COLOURS["high"], annotation_text="alert threshold")
    fig.update_layout(legend={"orientation": "h"})
    return _fig(fig, title, 340)


def plot_volume(daily: list[dict], title=None) -> go.Figure:
    fig = go.Figure(go.Bar(x=[d["day"] for d in daily], y=[d["predictions"] for d in daily], marker_color=SEGMENT_COLOURS[0]))
    return _fig(fig, title, 300)


def plot_probability_gauge(probability: float, title=None) -> go.Figure:
    fig = go.Figure(go.Indicator(mode="gauge+number", value=probability * 100, number={"suffix": "%"},
                                 gauge={"axis": {"range": [0, 100]}, "bar": {"color": SEGMENT_COLOURS[0]},
                                        "steps": [{"range": [0, 50], "color": "#f1f5f9"}, {"range": [50, 100], "color": "#dbeafe"}]}))
    fig = _fig(fig, title, 240)
    return fig.update_layout(margin={"l": 30, "r": 30, "t": 30, "b": 10})  # room for the 0 and 100 end labels
