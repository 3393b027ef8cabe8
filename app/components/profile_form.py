"""The Analyze page's profile form: load an entity by id or an example profile, edit, submit.

Every widget fits its feature's kind: a number box for scores and figures, yes/no for a flag,
a select box for a category or segment. Any of them may be left "not given" (unless the schema
marks the feature required): the analysis then works without it and says so.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import format as fmt
from app.components.id_search import id_box, row_of
from engine.analysis.examples import example_profiles
from engine.schema import Schema

NOT_GIVEN = None  # a select box showing its placeholder ("not given")


def form_values(row: dict, schema: dict) -> dict:
    """Field name -> widget value of a profile. Unknown or missing values become "not given"."""
    out = {}
    segments = schema.get("segments") or {}
    for c in segments.get("columns", []):
        value = row.get(c)
        out[c] = str(value) if not fmt.is_missing(value) and str(value) in segments.get("values", {}).get(c, []) else NOT_GIVEN
    for f in schema["features"]:
        v = row.get(f["name"])
        if fmt.is_missing(v):
            out[f["name"]] = NOT_GIVEN
        elif f["kind"] == "binary":
            out[f["name"]] = fmt.value(f, v)
        elif f["kind"] == "category":
            out[f["name"]] = str(v) if str(v) in f.get("values", []) else NOT_GIVEN
        else:
            out[f["name"]] = round(float(v), 1) if f["kind"] == "score" else float(v)
    return out


def widget_key(name: str) -> str:
    """The form widget of a field for the profile loaded now. Every load gets new widgets: the
    browser keeps a form's unsubmitted values per widget, and reusing one would send the
    previous profile's values with the next Analyze."""
    return f"in_{st.session_state.get('profile_load', 0)}_{name}"


def set_profile(schema: dict, row: dict, entity_id=None) -> None:
    """Put a profile into (new) form widgets; the results of the previous profile go away."""
    st.session_state["profile_load"] = st.session_state.get("profile_load", 0) + 1
    st.session_state.update({widget_key(name): value for name, value in form_values(row, schema).items()})
    st.session_state["entity_id"] = entity_id
    st.session_state.pop("analysis", None)


@st.cache_data(show_spinner=False, max_entries=8)
def examples(schema: dict, sample: pd.DataFrame) -> dict[str, dict]:
    return example_profiles(sample, Schema.from_dict(schema))


@st.fragment  # choosing an id or an example reruns only this box, not the page's results
def _pickers(schema: dict, sample: pd.DataFrame) -> None:
    id_col, noun = schema.get("id"), fmt.entity(schema)["singular"]
    with st.container(border=True):
        left, mid, right = st.columns([2, 2, 3])
        with left:
            if id_col:
                chosen = id_box(sample, id_col, noun, "load_id", help=f"Load a {noun} of the training sample by its id.")
                if st.button(f"Load {noun}", key="load_btn", disabled=chosen is None):
                    set_profile(schema, row_of(sample, id_col, chosen), chosen)
                    st.rerun()
        with mid:
            options = examples(schema, sample)
            choice = st.selectbox("Example profile", list(options), key="sample_choice")
            if st.button("Use example profile", key="sample_btn", disabled=choice is None):
                row = options[choice]
                set_profile(schema, row, str(row[id_col]) if id_col and not fmt.is_missing(row.get(id_col)) else None)
                st.rerun()
        with right:
            loaded = st.session_state.get("entity_id")
            st.caption(f"Profile of {noun} **{loaded}**" if loaded is not None else f"A custom profile (no {noun} id).")


def _inputs(schema: dict) -> None:
    segments = schema.get("segments") or {}
    seg_cols = segments.get("columns", [])
    if seg_cols:
        cols = st.columns(len(seg_cols))
        for c, col in zip(seg_cols, cols, strict=True):
            col.selectbox(fmt.label(c), segments.get("values", {}).get(c, []), key=widget_key(c), placeholder="not given")
    groups = (("score", "Scores"), ("metric", "Figures"), ("binary", "Yes / no"), ("category", "Categories"))
    for kind, heading in groups:
        feats = [f for f in schema["features"] if f["kind"] == kind]
        if not feats:
            continue
        st.markdown(f"**{heading}**")
        cols = st.columns(4)
        for i, f in enumerate(feats):
            label = f["label"] + (f" ({f['unit']})" if f.get("unit") else "") + (" *" if f.get("required") else "")
            col, key = cols[i % 4], widget_key(f["name"])
            if kind == "binary":
                col.selectbox(label, ["yes", "no"], key=key, placeholder="not given")
            elif kind == "category":
                col.selectbox(label, f.get("values", []), key=key, placeholder="not given")
            else:
                col.number_input(label, min_value=f.get("min"), max_value=f.get("max"), key=key, placeholder="not given",
                                 step=0.1 if kind == "score" else None, format="%.1f" if kind == "score" else "%g")


def _profile(schema: dict) -> dict:
    """The form's values as a profile ("not given" left out; yes/no as words, which the
    engine's validation reads)."""
    seg_cols = (schema.get("segments") or {}).get("columns", [])
    profile = {c: st.session_state.get(widget_key(c)) for c in seg_cols}
    profile |= {f["name"]: st.session_state.get(widget_key(f["name"])) for f in schema["features"]}
    profile = {k: v for k, v in profile.items() if v is not None}
    if schema.get("id") and st.session_state.get("entity_id") is not None:
        profile[schema["id"]] = str(st.session_state["entity_id"])
    return profile


def render(schema: dict, sample: pd.DataFrame) -> dict | None:
    """The pickers and the form; -> the profile entered when **Analyze** was pressed, else None."""
    if widget_key(schema["features"][0]["name"]) not in st.session_state:
        first = sample.iloc[0].to_dict()
        set_profile(schema, first, str(first[schema["id"]]) if schema.get("id") else None)
    _pickers(schema, sample)
    with st.form("profile"):
        _inputs(schema)
        st.caption("Leave a field empty when it is not known: the analysis works without it and lists it as not given."
                   + (" Fields marked * are required." if any(f.get("required") for f in schema["features"]) else ""))
        if not st.form_submit_button("Analyze", type="primary"):
            return None
    return _profile(schema)
