"""What if? Sliders on the top drivers and the probability after moving them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts, common
from app import format as fmt

N_DRIVERS = 4


def slider_specs(analysis: dict, features: dict[str, dict], sample: pd.DataFrame) -> list[dict]:
    """One control per top driver: name, label, kind ("number", "choice"), its start value and,
    for a number, range (lo, hi) and step; for a choice, the options. Metric sliders keep to
    the sample's 1–99% range (widened to include the current value); a value the profile left
    missing starts at the sample median (it counts as changed only once moved)."""
    drivers = [c["feature"] for c in analysis["prediction"]["contributions"] if c["feature"] in features][:N_DRIVERS]
    specs = []
    for name in drivers:
        f, current = features[name], analysis["profile"].get(name)
        if f["kind"] == "category":
            options = list(f.get("values") or [])
            specs.append({"name": name, "label": f["label"], "kind": "choice", "options": options, "current": current if current in options else None})
            continue
        if f["kind"] == "binary":
            specs.append({"name": name, "label": f["label"], "kind": "choice", "options": ["yes", "no"], "current": None if fmt.is_missing(current) else fmt.value(f, current)})
            continue
        known = sample[name].dropna()
        start = float(known.median()) if fmt.is_missing(current) else float(current)
        lo = float(f["min"]) if f.get("min") is not None else min(start, float(known.min()))
        hi = float(f["max"]) if f.get("max") is not None else max(start, float(known.max()))
        if f["kind"] != "score":
            lo, hi = max(lo, float(known.quantile(0.01))), min(hi, float(known.quantile(0.99)))
            lo, hi = min(lo, start), max(hi, start)
        step = 0.1 if f["kind"] == "score" else (hi - lo) / 100 or 1.0
        specs.append({"name": name, "label": f["label"], "kind": "number", "lo": lo, "hi": hi, "current": start, "step": step})
    return specs


def changed_values(specs: list[dict], values: dict) -> dict:
    """The control values that differ from where they started (yes/no stay words: the engine's
    validation reads them)."""
    out = {}
    for s in specs:
        v = values[s["name"]]
        if s["kind"] == "number" and abs(v - s["current"]) > 1e-9 or s["kind"] == "choice" and v is not None and v != s["current"]:
            out[s["name"]] = v
    return out


def _control(col, spec: dict, key: str):
    if spec["kind"] == "number":
        return col.slider(spec["label"], spec["lo"], spec["hi"], spec["current"], step=spec["step"], key=key)
    index = spec["options"].index(spec["current"]) if spec["current"] in spec["options"] else None
    return col.selectbox(spec["label"], spec["options"], index=index, placeholder="not given", key=key)


@st.fragment
def render(analysis: dict, features: dict[str, dict], sample: pd.DataFrame, state_key: str) -> None:
    """Controls for the top drivers; only this block re-runs when they move. The new
    probability comes from the version that made the analysis on screen. ``state_key`` names
    the profile and version on screen: controls of another analysis never carry over."""
    st.markdown("#### What if?")
    specs = slider_specs(analysis, features, sample)
    cols = st.columns(len(specs) or 1)
    values = {s["name"]: _control(col, s, f"wi_{state_key}_{s['name']}") for col, s in zip(cols, specs, strict=False)}
    changed = changed_values(specs, values)
    with common.user_errors():
        new = common.workspace().what_if(analysis["profile"], changed, ref=analysis["model_version"])["prediction"]
        if "value" in new:  # a numeric target: the predicted value, in its own units
            old = analysis["prediction"]["value"]
            change = _settled(new["value"] - old)
            st.metric("Predicted value after the changes", fmt.number(new["value"]), delta=fmt.signed(change), delta_color="normal" if change else "off", delta_arrow="auto" if change else "off",
                      help="The change against the prediction above, in the target's units (4 significant digits).")
        else:
            old = analysis["prediction"]["probability"]
            change = _settled((new["probability"] - old) * 100)
            st.metric("Probability after the changes", fmt.percent(new["probability"]), delta=f"{fmt.signed(change)} points", delta_color="normal" if change else "off", delta_arrow="auto" if change else "off",
                      help="The change against the prediction above, in percentage points (shown to 4 significant digits, so a small move never reads as zero).")
        if changed:
            labels = {n: f["label"] for n, f in features.items()}
            unit = "target units" if "value" in new else "log-odds"
            common.chart(charts.plot_waterfall(new["base_value"], new["contributions"], labels, title="Contributions after the changes", unit=unit), "waterfall")


def _settled(difference: float) -> float:
    """A difference without float noise: recomputing an unchanged profile gives exactly 0."""
    return round(difference, 9)
