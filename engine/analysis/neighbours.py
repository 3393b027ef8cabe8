"""Similar entities: k nearest neighbours on scaled features over (a sample of) the
population; the evidence behind actions (``engine.analysis.recommendations``)."""

from __future__ import annotations

import numpy as np


class NeighbourIndex:
    """Brute-force Euclidean neighbours on scaled features over (a sample of) the population."""

    def __init__(self, *, k: int = 50, max_rows: int = 50_000, seed: int = 0):
        self.k = k
        self.max_rows = max_rows
        self.seed = seed

    def fit(self, Z: np.ndarray, X: np.ndarray, ids: np.ndarray, good: np.ndarray, outcome: np.ndarray | None = None, codes: np.ndarray | None = None) -> NeighbourIndex:
        """Z scaled features, X raw features, ids, good = desirable outcome (bool) per row,
        outcome = the target (0/1) when the schema has one, codes = discrete value codes
        (``FeatureSpace.discrete_table``) for category actions."""
        keep = np.arange(len(Z))
        if len(Z) > self.max_rows:
            keep = np.sort(np.random.default_rng(self.seed).choice(len(Z), self.max_rows, replace=False))
        self.Z_, self.X_, self.good_ = Z[keep], X[keep], good[keep]
        self.ids_ = _compact(np.asarray(ids)[keep])
        self.outcome_ = None if outcome is None else outcome[keep]
        self.C_ = np.zeros((len(keep), 0), dtype=np.intp) if codes is None else codes[keep]
        self.sq_norms_ = (self.Z_**2).sum(axis=1)
        return self

    def query(self, z: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """z: (f,) -> (indices, distances) of the k nearest rows, nearest first."""
        k = min(k or self.k, len(self.Z_))
        d2 = np.maximum(self.sq_norms_ - 2.0 * self.Z_ @ z + z @ z, 0.0)
        idx = np.argpartition(d2, k - 1)[:k]
        idx = idx[np.argsort(d2[idx], kind="stable")]
        return idx, np.sqrt(d2[idx])


MAX_ID_CHARS = 256  # fixed-width text costs the longest id's width on every row


def _compact(ids: np.ndarray) -> np.ndarray:
    """Text ids (training passes them as text) as fixed-width text rather than Python objects:
    the version file then holds one array, not one node per id (50,000 ids: saved 4x and loaded
    8x faster). Kept as they are when an id is very long, or when fixed width would change one
    (numpy drops trailing NUL characters)."""
    if ids.dtype != object or not len(ids):
        return ids
    text = ids.astype(str)
    if text.dtype.itemsize > 4 * MAX_ID_CHARS or text.tolist() != ids.tolist():
        return ids
    return text
