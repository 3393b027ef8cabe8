"""The most similar entities of the training data (never the entity itself)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import format as fmt


def similar_data(analysis: dict) -> list[dict]:
    """Rows of the entity noun (its id), Distance (standardised units), Outcome and Did well,
    nearest first."""
    noun = fmt.entity(analysis)["singular"].capitalize()
    columns = {"id": noun, "distance": "Distance", "outcome": "Outcome", "desirable": "Did well"}
    return [{columns.get(k, k): v for k, v in s.items()} for s in analysis["similar"]]


def render(analysis: dict) -> None:
    st.subheader(f"Similar {fmt.entity(analysis)['plural']}")
    table = pd.DataFrame(similar_data(analysis))
    if not table.empty:
        st.dataframe(table.assign(Distance=table["Distance"].round(2)), hide_index=True, width="stretch",
                     column_config={"Distance": st.column_config.Column(help="How different the profiles are: the distance between them after every feature is put on a common scale (0 = identical).")})
