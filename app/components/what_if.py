"""What if? Sliders on the top drivers and the probability after moving them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts, common
from app import format as fmt

N_DRIVERS = 4


def slider_specs(analysis: dict, features: dict[str, dict], sample: pd.DataFrame) -> list[dict]:
    """One slider per top driver: name, label, range (lo, hi), current value and step. Metric
    sliders keep to the sample's 1–99% range (widened to include the current value)."""
    drivers = [c["feature"] for c in analysis["prediction"]["contributions"] if c["feature"] in features][:N_DRIVERS]
    specs = []
    for name in drivers:
        f = features[name]
        current = float(analysis["profile"][name])
        lo = float(f["min"]) if f.get("min") is not None else min(current, float(sample[name].min()))
        hi = float(f["max"]) if f.get("max") is not None else max(current, float(sample[name].max()))
        if f["kind"] != "score":
            lo, hi = max(lo, float(sample[name].quantile(0.01))), min(hi, float(sample[name].quantile(0.99)))
            lo, hi = min(lo, current), max(hi, current)
        step = 0.1 if f["kind"] == "score" else (hi - lo) / 100 or 1.0
        specs.append({"name": name, "label": f["label"], "lo": lo, "hi": hi, "current": current, "step": step})
    return specs


def changed_values(analysis: dict, values: dict[str, float]) -> dict[str, float]:
    """The slider values that differ from the analysed profile."""
    return {k: v for k, v in values.items() if abs(v - float(analysis["profile"][k])) > 1e-9}


@st.fragment
def render(analysis: dict, features: dict[str, dict], sample: pd.DataFrame) -> None:
    """Sliders for the top drivers; only this block re-runs when they move. The new
    probability comes from the version that made the analysis on screen."""
    st.markdown("#### What if?")
    specs = slider_specs(analysis, features, sample)
    cols = st.columns(len(specs) or 1)
    values = {s["name"]: col.slider(s["label"], s["lo"], s["hi"], s["current"], step=s["step"], key=f"wi_{s['name']}")
              for col, s in zip(cols, specs, strict=False)}
    changed = changed_values(analysis, values)
    with common.user_errors():
        new = common.workspace().what_if(analysis["profile"], changed, ref=analysis["model_version"])["prediction"]
        old = analysis["prediction"]["probability"]
        st.metric("Probability after the changes", fmt.percent(new["probability"]), delta=f"{(new['probability'] - old) * 100:+.1f} points")
        if changed:
            labels = {n: f["label"] for n, f in features.items()}
            st.plotly_chart(charts.plot_waterfall(new["base_value"], new["contributions"], labels, title="Contributions after the changes"), width="stretch")
