"""How a schema's features become arrays for the models: the one encoding of a profile or a
table (both already clean, see ``engine.schema.validation``).

- numeric ``X`` (n, f): scores, metrics and binary flags (0/1), NaN when missing;
- discrete codes ``C`` (n, d): binary flags and categories as value codes, -1 when missing
  (what the frequency statistics and rare-value anomalies count);
- the neighbour space: scaled numeric values next to one-hot categories weighted so that a
  category mismatch costs as much as a one-unit difference (Gower-style mixed distance).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from engine.analysis.peers import text_codes
from engine.schema import Schema

CATEGORY_WEIGHT = 1.0 / math.sqrt(2.0)  # two one-hot entries differ on a mismatch: distance 1


class FeatureSpace:
    """The encoding of one schema (with its category values known)."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.numeric = schema.numeric_features
        self.numeric_names = [f.name for f in self.numeric]
        self.binary = np.array([f.kind == "binary" for f in self.numeric], dtype=bool)
        self.discrete = tuple(f for f in schema.features if f.kind in ("binary", "category"))
        self.categories = schema.category_features
        self.widths = [2 if f.kind == "binary" else max(len(f.values), 1) for f in self.discrete]

    # ----- tables --------------------------------------------------------------------------
    def numeric_table(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.numeric_names].to_numpy(dtype=float)

    def discrete_table(self, frame: pd.DataFrame) -> np.ndarray:
        C = np.full((len(frame), len(self.discrete)), -1, dtype=np.intp)
        for j, f in enumerate(self.discrete):
            if f.kind == "binary":
                v = frame[f.name].to_numpy(dtype=float)
                C[:, j] = np.where(np.isnan(v), -1, np.nan_to_num(v)).astype(np.intp)
            else:
                C[:, j] = text_codes(frame[f.name], f.values)
        return C

    # ----- one profile ---------------------------------------------------------------------
    def numeric_row(self, clean: dict) -> np.ndarray:
        return np.array([clean[n] for n in self.numeric_names], dtype=float)

    def discrete_row(self, clean: dict) -> np.ndarray:
        out = np.full(len(self.discrete), -1, dtype=np.intp)
        for j, f in enumerate(self.discrete):
            value = clean.get(f.name)
            if f.kind == "binary":
                out[j] = -1 if value is None or math.isnan(value) else int(value)
            elif value is not None and value in f.values:
                out[j] = f.values.index(value)
        return out

    def value_text(self, j: int, code: int) -> str:
        """The words for discrete feature j's value code: 'yes'/'no' or the category."""
        f = self.discrete[j]
        return ("no", "yes")[code] if f.kind == "binary" else f.values[code]

    # ----- neighbour space -----------------------------------------------------------------
    def neighbour_space(self, Z: np.ndarray, C: np.ndarray) -> np.ndarray:
        """Scaled numeric values (n, f) + weighted one-hot categories -> (n, f + sum of widths)."""
        parts = [Z]
        for j, f in enumerate(self.discrete):
            if f.kind != "category":
                continue
            onehot = np.zeros((len(Z), len(f.values)))
            known = C[:, j] >= 0
            onehot[np.flatnonzero(known), C[known, j]] = CATEGORY_WEIGHT
            parts.append(onehot)
        return np.hstack(parts)
