"""The outcome prediction: probability gauge and the SHAP waterfall of its drivers."""

from __future__ import annotations

import streamlit as st

from app import charts, common
from app import format as fmt

TOP_DRIVERS = 10
WHY_PROBABILITY = ("Each bar is how much one feature moved this prediction away from the average prediction (the base value): green raises the "
                   "probability, red lowers it. The bars are in log-odds, the scale the model adds up before turning the sum into the probability on the left.")
WHY_NUMERIC = ("Each bar is how much one feature moved this prediction away from the average prediction (the base value), in the target's units: "
               "green raises it, red lowers it; the bars add up to the prediction on the left.")


def prediction_data(analysis: dict, features: dict[str, dict]) -> dict | None:
    """Probability (0..1 and as text) or, for a numeric target, the predicted value; the label
    sentence, the SHAP contributions (log-odds, or the target's units) and the top drivers as
    rows (label, value, contribution); None without an outcome model."""
    pred = analysis.get("prediction")
    if not pred:
        return None
    numeric = "probability" not in pred
    return {
        "numeric": numeric,
        "probability": pred.get("probability"),
        "probability_text": fmt.number(pred["value"]) if numeric else fmt.percent(pred["probability"]),
        "label_text": pred.get("label_text", ""),
        "base_value": pred["base_value"],
        "contributions": pred["contributions"],
        "labels": {c["feature"]: features.get(c["feature"], {}).get("label", fmt.label(c["feature"])) for c in pred["contributions"]},
        "drivers": [
            {"Driver": features.get(c["feature"], {}).get("label", c["feature"]), "Value": c["value"], "Contribution": c["contribution"]}
            for c in pred["contributions"][:TOP_DRIVERS]
        ],
    }


def render(analysis: dict, features: dict[str, dict], target_label: str) -> dict | None:
    """The prediction section; returns its data (None when there is no outcome model)."""
    data = prediction_data(analysis, features)
    if data is None:
        return None
    st.subheader("Prediction")
    g, w = st.columns([1, 2])
    with g:
        if data["numeric"]:
            st.metric(target_label, data["probability_text"], help="Predicted value from the outcome model (XGBoost regression).")
            st.markdown(f"**{data['label_text']}**")
        else:
            st.metric(target_label, data["probability_text"], help="Probability from the outcome model (XGBoost).")
            st.markdown(f"**{data['label_text']}**")
            common.chart(charts.plot_probability_gauge(data["probability"]), "gauge")
    with w:
        unit = "target units" if data["numeric"] else "log-odds"
        st.plotly_chart(charts.plot_waterfall(data["base_value"], data["contributions"], data["labels"], title="Why: SHAP contributions", unit=unit), width="stretch")
        st.caption(WHY_NUMERIC if data["numeric"] else WHY_PROBABILITY)  # the waterfall's meaning, with its unit
    return data
