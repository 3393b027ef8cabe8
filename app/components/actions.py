"""Next best actions: what better-doing similar entities do differently."""

from __future__ import annotations

import streamlit as st

from app import format as fmt

SHOWN = 5
PEER_UPLIFT_HELP = "Among similar {plural}: the share with the better outcome for those ahead on this feature minus the share for the rest."
EXPECTED_HELP = ("Ranks the actions: the average of the peer uplift and the model effect, each counted towards the better outcome "
                 "(for an outcome to avoid, a fall in its probability counts as a gain); for a numeric target, the peer uplift alone.")


def actions_data(analysis: dict, features: dict[str, dict]) -> list[dict]:
    """One row of display text per recommendation, best first: action, feature label, the
    change (current → target), expected effect, peer uplift, model effect and evidence ids."""
    rows = []
    numeric = (analysis.get("prediction") or {}).get("probability") is None and analysis.get("prediction") is not None
    for r in analysis["recommendations"]:
        f = features.get(r["feature"])
        rows.append({
            "action": r["action"],
            "label": r.get("label", r["feature"]),
            "change": f"{fmt.value(f, r['current'])} → {fmt.value(f, r['target'])}",
            "expected_effect": _points(r["expected_effect"]),
            "peer_uplift": _points(r["peer_uplift"]),
            "note": r.get("note", ""),
            # A probability moves in percentage points; a predicted number in its own units.
            "model_effect": fmt.signed(r.get("model_effect")) if numeric else _points(r.get("model_effect")),
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
            c1.metric("Expected effect", r["expected_effect"], help=EXPECTED_HELP)
            c2.metric("Peer uplift", r["peer_uplift"], help=PEER_UPLIFT_HELP.format(plural=plural))
            c3.metric("Model effect", r["model_effect"], help=r["note"])
            st.caption(f"Evidence: similar {plural} {r['evidence']}")
    st.caption("Model effect is a model estimate, not a causal promise.")


def _points(value) -> str:
    """A difference of two shares in percentage points: '+12.3 pts'."""
    return "—" if fmt.is_missing(value) else f"{100 * value:+.1f} pts"
