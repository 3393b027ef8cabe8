"""Example profiles picked from a dataset itself (no column names assumed): a typical entity,
a top performer and one at risk, each a real row of the table, for "try a sample" buttons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.analysis.scaling import robust_scale
from engine.schema import Schema


def example_profiles(frame: pd.DataFrame, schema: Schema) -> dict[str, dict]:
    """Name -> a row of ``frame`` (a checked table): the row closest to the medians of every
    score and metric; the best and the worst on the target (or, without one, on the mean
    direction-aware percentile of the features with a direction) among rows near typical."""
    if frame.empty:
        return {}
    noun = schema.entity.singular
    numeric = [f.name for f in schema.features if f.numeric]
    X = frame[numeric].to_numpy(dtype=float)
    Z = (X - np.nanmedian(X, axis=0)) / robust_scale(X) if numeric else np.zeros((len(frame), 0))
    distance = np.nansum(np.abs(Z), axis=1) + np.isnan(Z).sum(axis=1)  # a gap counts as far
    picks = {f"A typical {noun}": int(np.argmin(distance))}
    score = _performance(frame, schema)
    if score is not None:
        near = distance <= np.nanquantile(distance, 0.5)  # ordinary rows, not outliers
        picks["A top performer"] = int(np.nanargmax(np.where(near, score, np.nan)))
        picks["One at risk"] = int(np.nanargmin(np.where(near, score, np.nan)))
    return {name: frame.iloc[i].to_dict() for name, i in picks.items()}


def _performance(frame: pd.DataFrame, schema: Schema) -> np.ndarray | None:
    """Higher = doing better: the desirable outcome first, then the mean direction-aware rank."""
    directed = [f for f in schema.features if f.numeric and f.sign != 0]
    ranks = None
    if directed:
        signed = pd.DataFrame({f.name: frame[f.name] * f.sign for f in directed})
        ranks = signed.rank(pct=True).mean(axis=1).fillna(0.5).to_numpy()
    target = schema.target.column if schema.target else None
    if target and target in frame.columns and frame[target].notna().any():
        y = frame[target].to_numpy(dtype=float)
        good = y if schema.target.desirable else -y
        good = np.where(np.isnan(good), np.nanmin(good) - 1, good)
        return good * 10 + (ranks if ranks is not None else 0)  # outcome first, ranks break ties
    return ranks
