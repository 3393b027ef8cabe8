"""A printable, self-contained HTML report of one analysis (no scripts, no external files)."""

from __future__ import annotations

from html import escape

from app import format as fmt
from app.components import actions, anomalies, percentiles, prediction, segment, similar

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#1f2937;max-width:960px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.15rem;border-bottom:1px solid #e5e7eb;padding-bottom:.2rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem} th,td{border-bottom:1px solid #e5e7eb;padding:.3rem .4rem;text-align:left}
.badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;color:#fff;font-size:.8rem}
.high{background:#dc2626}.medium{background:#f97316}.low{background:#ca8a04}
.muted{color:#6b7280;font-size:.85rem} .card{background:#f3f6fb;border-radius:.5rem;padding:.8rem 1rem}
@media print{body{margin:0}}
"""


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(analysis: dict, features: dict[str, dict], entity_id: str | None = None) -> str:
    """analysis: Analysis.to_dict(); features: name -> schema feature dict. Every section is
    built from the same component data as the Analyze page."""
    seg = segment.segment_data(analysis, features)
    noun = fmt.entity(analysis)
    title = f"Benchmarking AI — {noun['singular']} report"
    parts = [f"<h1>{escape(title)}</h1>",
             f"<p class='muted'>Model version {escape(str(analysis.get('model_version')))}"
             + (f" · {noun['singular']} {escape(str(entity_id))}" if entity_id is not None else "") + "</p>",
             f"<div class='card'><b>Segment:</b> {escape(seg['name'])}<br><span class='muted'>{escape(seg['description'])}</span></div>"]
    pred = prediction.prediction_data(analysis, features)
    if pred:
        what = "predicted value" if pred["numeric"] else "probability"
        parts.append(f"<h2>Prediction</h2><p><b>{escape(pred['label_text'])}</b> — {what} {pred['probability_text']}.</p>")
        rows = [[escape(d["Driver"]), escape(str(d["Value"])), f"{d['Contribution']:+.3f}"] for d in pred["drivers"]]
        parts.append(_table(["Driver", "Value", "SHAP contribution (" + ("in the target's units" if pred["numeric"] else "log-odds") + ")"], rows))
    parts.append("<h2>Anomalies</h2>")
    found = anomalies.anomalies_data(analysis)
    if found:
        parts.append(_table(["Severity", "What"], [[f"<span class='badge {a['severity']}'>{a['severity']}</span>", escape(a["message"])] for a in found]))
    else:
        parts.append("<p>No unusual values.</p>")
    parts.append("<h2>Next best actions</h2>")
    todo = actions.actions_data(analysis, features)
    if todo:
        rows = [[escape(r["action"]), r["change"], r["expected_effect"], r["peer_uplift"], r["model_effect"], escape(r["evidence"])] for r in todo]
        parts.append(_table(["Action", "From → to", "Expected effect", "Peer uplift", "Model effect*", f"Evidence ({noun['singular']} ids)"], rows))
        parts.append("<p class='muted'>* Model effect is the outcome model's estimate if only this feature changed; an estimate, not a causal promise.</p>")
    else:
        parts.append("<p>No actions found.</p>")
    parts.append("<h2>Percentile rankings against peers</h2>")
    ranks = percentiles.percentiles_data(analysis["percentiles"], features)
    columns = ["Metric", "Value", "Rank", "Peers p10 – p90", "Peer group", "Peers"]
    parts.append(_table(columns, [[escape(str(v)) for v in row] for row in ranks[columns].itertuples(index=False)] if len(ranks) else []))
    parts.append(f"<h2>Similar {escape(noun['plural'])}</h2>")
    near = similar.similar_data(analysis)
    key = noun["singular"].capitalize()
    rows = [[escape(str(r[key])), f"{r['Distance']:.2f}", escape(str(r.get("Outcome")))] for r in near]
    parts.append(_table([key, "Distance", "Outcome"], rows))
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>"
