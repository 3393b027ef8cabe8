"""Next best actions: what better-doing similar entities do differently."""

from __future__ import annotations

import streamlit as st

from app import format as fmt

SHOWN = 5
MODEL_EFFECT_HELP = "The outcome model's estimate if only this moved; an estimate, not a causal promise."


def actions_data(analysis: dict, features: dict[str, dict]) -> list[dict]:
    """One row of display text per recommendation, best first: action, feature label, the
    change (current → target), expected effect, peer uplift, model effect and evidence ids."""
    rows = []
    for r in analysis["recommendations"]:
        f = features.get(r["feature"])
        rows.append({
            "action": r["action"],
            "label": r.get("label", r["feature"]),
            "change": f"{fmt.value(f, r['current'])} → {fmt.value(f, r['target'])}",
            "expected_effect": fmt.percent(r["expected_effect"]),
            "peer_uplift": fmt.percent(r["peer_uplift"]),
            "model_effect": fmt.percent(r.get("model_effect")),
            "evidence": ", ".join(str(e) for e in r["evidence"]),
        })
    return rows


def render(analysis: dict, features: dict[str, dict]) -> None:
    st.subheader("Next best actions")
    plural = fmt.entity(analysis)["plural"]
    rows = actions_data(analysis, features)
    if not rows:
        st.info(analysis.get("no_action_reason") or f"No action found for this {fmt.entity(analysis)['singular']}.")
    for r in rows[:SHOWN]:
        with st.container(border=True):
            st.markdown(f"**{r['action']}**  \n{r['label']}: {r['change']}")
            c1, c2, c3 = st.columns(3)
            c1.metric("Expected effect", r["expected_effect"])
            c2.metric("Peer uplift", r["peer_uplift"])
            c3.metric("Model effect", r["model_effect"], help=MODEL_EFFECT_HELP)
            st.caption(f"Evidence: similar {plural} {r['evidence']}")
    st.caption("Model effect is a model estimate, not a causal promise.")
