"""A scored table for people: schema labels as column names, rounded numbers, and a one-line
meaning per column (the engine's raw columns stay available for machines)."""

from __future__ import annotations

import pandas as pd

from app import format as fmt


def scores_table(scored: pd.DataFrame, schema: dict) -> tuple[pd.DataFrame, dict[str, str]]:
    """-> (table with readable columns and rounded values, column -> what it means)."""
    labels = {f["name"]: f["label"] for f in schema["features"]}
    target = (schema.get("target") or {}).get("label", "the outcome")
    noun = fmt.entity(schema)
    out, meaning = pd.DataFrame(index=scored.index), {}

    def put(name: str, values, what: str) -> None:
        out[name], meaning[name] = values, what

    if schema.get("id") and schema["id"] in scored.columns:
        put(f"{noun['singular'].capitalize()} id", scored[schema["id"]], f"The {noun['singular']}'s id, as uploaded.")
    put("Segment", scored["segment"], f"The group of similar {noun['plural']} it belongs to (Segments page).")
    put("Anomalies", scored["anomaly_count"], "How many of its values are unusual for its peers (as on the Analyze page).")
    put("Most unusual value (robust z)", scored["anomaly_max_z"].round(1),
        "How far its most unusual value lies from its peers' median, in typical spreads (robust z-score); 3 or more is unusual.")
    if "probability" in scored.columns:
        put(f"Probability of '{target}' (%)", (scored["probability"] * 100).round(1), "The outcome model's probability, in percent.")
    if "prediction" in scored.columns:
        put(f"Predicted {target.lower()}", scored["prediction"].map(_significant), "The outcome model's prediction, in the target's units.")
    for column in scored.columns:
        kind, _, name = column.partition("_")
        if kind == "rank" and name in labels:
            put(f"{labels[name]}: percentile", scored[column].round(0), f"Direction-aware percentile among its peers: higher is better ({labels[name]}).")
        elif kind == "position" and name in labels:
            put(f"{labels[name]}: % of peers below", scored[column].round(0), f"Share of peers with a lower {labels[name].lower()} (no better direction).")
    return out, meaning


def _significant(x: float) -> float:
    """Four significant digits, as a number (so the table still sorts)."""
    return float(fmt.number(x).replace(",", "")) if not fmt.is_missing(x) else x
