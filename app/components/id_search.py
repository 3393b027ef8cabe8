"""Finding one entity of the training sample by its id (ids of any type, as text)."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def id_box(sample: pd.DataFrame, id_col: str, singular: str, key: str, help: str | None = None) -> str | None:
    """A search box over the sample's ids; -> the chosen id, or None."""
    ids = sample[id_col].dropna().astype(str).tolist()
    return st.selectbox(f"{singular.capitalize()} id", ids, index=None, placeholder=f"Type to search {len(ids):,} ids", key=key, help=help)


def row_of(sample: pd.DataFrame, id_col: str, entity_id: str) -> dict:
    """The sample row with that id (the box only offers ids the sample has)."""
    return sample[sample[id_col].astype(str) == entity_id].iloc[0].to_dict()
