"""A printable, self-contained HTML report of one analysis (no scripts, no external files)."""

from __future__ import annotations

from html import escape

from app import format as fmt

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


def render_html(analysis: dict, features: dict[str, dict], title: str = "Benchmarking AI — company report") -> str:
    """analysis: Analysis.to_dict(); features: name -> schema feature dict."""
    seg = analysis["segment"]
    profile = analysis.get("profile", {})
    parts = [f"<h1>{escape(title)}</h1>",
             f"<p class='muted'>Model version {escape(str(analysis.get('model_version')))}"
             + (f" · company {escape(str(profile.get('company_id')))}" if profile.get("company_id") is not None else "") + "</p>",
             f"<div class='card'><b>Segment:</b> {escape(seg['name'])}<br><span class='muted'>{escape(seg.get('description', ''))}</span></div>"]
    pred = analysis.get("prediction")
    if pred:
        parts.append(f"<h2>Prediction</h2><p><b>{escape(pred.get('label_text', ''))}</b> — probability {fmt.percent(pred['probability'])}.</p>")
        rows = [[escape(features.get(c["feature"], {}).get("label", c["feature"])), escape(str(c["value"])), f"{c['contribution']:+.3f}"] for c in pred["contributions"][:10]]
        parts.append(_table(["Driver", "Value", "SHAP contribution (log-odds)"], rows))
    parts.append("<h2>Anomalies</h2>")
    if analysis["anomalies"]:
        parts.append(_table(["Severity", "What"], [[f"<span class='badge {a['severity']}'>{a['severity']}</span>", escape(a["message"])] for a in analysis["anomalies"]]))
    else:
        parts.append("<p>No unusual values.</p>")
    parts.append("<h2>Next best actions</h2>")
    if analysis["recommendations"]:
        rows = [[escape(r["action"]), f"{fmt.value(features.get(r['feature']), r['current'])} → {fmt.value(features.get(r['feature']), r['target'])}",
                 fmt.percent(r["expected_effect"]), fmt.percent(r["peer_uplift"]), fmt.percent(r.get("model_effect")),
                 escape(", ".join(str(e) for e in r["evidence"]))] for r in analysis["recommendations"]]
        parts.append(_table(["Action", "From → to", "Expected effect", "Peer uplift", "Model effect*", "Evidence (company ids)"], rows))
        parts.append("<p class='muted'>* Model effect is the outcome model's estimate if only this feature changed; an estimate, not a causal promise.</p>")
    else:
        parts.append("<p>No actions found.</p>")
    parts.append("<h2>Percentile rankings against peers</h2>")
    rows = [[escape(p.get("label", p["feature"])), fmt.value(features.get(p["feature"]), p["value"]), fmt.rank(p["rank"]),
             f"{fmt.value(features.get(p['feature']), p['p10'])} – {fmt.value(features.get(p['feature']), p['p90'])}",
             escape(p["peer_group"]), f"{p['peer_count']:,}"] for p in analysis["percentiles"]]
    parts.append(_table(["Metric", "Value", "Rank", "Peers p10 – p90", "Peer group", "Peers"], rows))
    parts.append("<h2>Similar companies</h2>")
    parts.append(_table(["Company", "Distance", "Outcome"], [[escape(str(s["id"])), f"{s['distance']:.2f}", escape(str(s.get("outcome")))] for s in analysis["similar"]]))
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>"
