"""The Analyze page's profile form: load a company or a sample profile, edit, submit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import format as fmt

SAMPLES = ("High tech, low strategy", "All-round leader", "Early-stage")


def _scores(schema: dict) -> list[str]:
    return [f["name"] for f in schema["features"] if f["kind"] == "score"]


def sample_profile(sample: pd.DataFrame, schema: dict, name: str) -> dict:
    """A real company of the training sample that fits one of ``SAMPLES``: the largest
    technology-minus-strategy gap, the highest mean score, or the lowest."""
    scores = _scores(schema)
    s = sample.dropna(subset=scores)
    mean = s[scores].mean(axis=1)
    if name == "High tech, low strategy":
        tech = next((n for n in scores if n == "technology"), scores[0])
        strat = next((n for n in scores if n == "strategy"), scores[-1])
        pick = (s[tech] - s[strat]).idxmax()
    elif name == "All-round leader":
        pick = mean.idxmax()
    else:
        pick = mean.idxmin()
    return s.loc[pick].to_dict()


def form_values(row: dict, schema: dict, sample: pd.DataFrame) -> dict:
    """Widget key -> value of a profile: unknown segment values become the first allowed one,
    missing numbers the sample median, scores are rounded to the slider's 0.1 step."""
    values = (schema.get("segments") or {}).get("values", {})
    out = {}
    for c in (schema.get("segments") or {}).get("columns", []):
        out[f"in_{c}"] = str(row.get(c)) if row.get(c) in values.get(c, [row.get(c)]) else values[c][0]
    for f in schema["features"]:
        v = row.get(f["name"])
        if fmt.is_missing(v):
            v = float(sample[f["name"]].median())
        out[f"in_{f['name']}"] = round(float(v), 1) if f["kind"] == "score" else float(v)
    return out


def set_profile(schema: dict, sample: pd.DataFrame, row: dict, company_id=None) -> None:
    """Put a profile into the form's widgets."""
    st.session_state.update(form_values(row, schema, sample))
    st.session_state["company_id"] = company_id


def _pickers(schema: dict, sample: pd.DataFrame) -> None:
    id_col = schema.get("id")
    with st.container(border=True):
        left, mid, right = st.columns([2, 2, 3])
        with left:
            company = st.number_input("Company id", min_value=0, step=1, value=None, placeholder="e.g. 3", key="load_id",
                                      help="Load a company of the training sample by its id.") if id_col else None
            if st.button("Load company", key="load_btn", disabled=company is None):
                match = sample[sample[id_col] == company] if id_col else sample.iloc[0:0]
                if match.empty:
                    st.error(f"No company with id {company} in the training sample.")
                else:
                    set_profile(schema, sample, match.iloc[0].to_dict(), company)
                    st.rerun()
        with mid:
            choice = st.selectbox("Sample profile", SAMPLES, key="sample_choice")
            if st.button("Use sample profile", key="sample_btn"):
                set_profile(schema, sample, sample_profile(sample, schema, choice), None)
                st.rerun()
        with right:
            loaded = st.session_state.get("company_id")
            st.caption(f"Profile of company **{loaded}**" if loaded is not None else "A custom profile (no company id).")


def render(schema: dict, sample: pd.DataFrame) -> dict | None:
    """The pickers and the form; -> the profile entered when **Analyze** was pressed, else None."""
    segments = schema.get("segments") or {}
    seg_cols, seg_values, id_col = segments.get("columns", []), segments.get("values", {}), schema.get("id")
    if "in_" + schema["features"][0]["name"] not in st.session_state:
        set_profile(schema, sample, sample.iloc[0].to_dict(), sample.iloc[0][id_col] if id_col else None)
    _pickers(schema, sample)
    with st.form("profile"):
        cols = st.columns(max(len(seg_cols), 1))
        for c, col in zip(seg_cols, cols, strict=False):
            col.selectbox(fmt.label(c), seg_values.get(c, []), key=f"in_{c}", format_func=fmt.label)
        st.markdown("**Maturity scores**")
        cols = st.columns(4)
        for i, f in enumerate(f for f in schema["features"] if f["kind"] == "score"):
            cols[i % 4].slider(f["label"], min_value=float(f["min"] or 0), max_value=float(f["max"] or 5), step=0.1, key=f"in_{f['name']}")
        st.markdown("**Business metrics**")
        cols = st.columns(4)
        for i, f in enumerate(f for f in schema["features"] if f["kind"] != "score"):
            unit = f" ({f['unit']})" if f.get("unit") else ""
            cols[i % 4].number_input(f["label"] + unit, min_value=f.get("min"), max_value=f.get("max"), key=f"in_{f['name']}", format="%.4g")
        if not st.form_submit_button("Analyze", type="primary"):
            return None
    profile = {c: st.session_state[f"in_{c}"] for c in seg_cols}
    profile |= {f["name"]: st.session_state[f"in_{f['name']}"] for f in schema["features"]}
    company_id = st.session_state.get("company_id")
    if id_col and company_id is not None:
        profile[id_col] = int(company_id)
    return profile
