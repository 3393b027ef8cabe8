"""The most similar companies of the training sample."""

from __future__ import annotations

import pandas as pd
import streamlit as st

COLUMNS = {"id": "Company", "distance": "Distance", "outcome": "Outcome", "desirable": "Did well"}


def similar_data(analysis: dict) -> list[dict]:
    """Rows of Company, Distance (standardised units), Outcome and Did well, nearest first."""
    return [{COLUMNS.get(k, k): v for k, v in s.items()} for s in analysis["similar"]]


def render(analysis: dict) -> None:
    st.subheader("Similar companies")
    table = pd.DataFrame(similar_data(analysis))
    if not table.empty:
        st.dataframe(table.assign(Distance=table["Distance"].round(3)), hide_index=True, width="stretch")
