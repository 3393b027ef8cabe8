"""Similar companies (k nearest neighbours) and next best actions drawn from them.

An action is a feature where similar companies with the desirable outcome are clearly ahead
of this company, and where being ahead goes with a better outcome rate among those neighbours.
Its peer evidence is that outcome-rate difference; the outcome model (when there is one) adds
its own estimate of the effect in ``engine.analysis.analyzer``.
"""

from __future__ import annotations

import numpy as np

MIN_GAP = 0.25  # robust-sd units: smaller gaps are noise, not an action
MIN_SUPPORT = 5  # desirable neighbours needed ahead of the company to suggest anything
MIN_UPLIFT = 0.05  # outcome-rate difference (probability points) that counts as evidence


class NeighbourIndex:
    """Brute-force Euclidean neighbours on scaled features over (a sample of) the population."""

    def __init__(self, *, k: int = 50, max_rows: int = 50_000, seed: int = 0):
        self.k = k
        self.max_rows = max_rows
        self.seed = seed

    def fit(self, Z: np.ndarray, X: np.ndarray, ids: np.ndarray, good: np.ndarray, outcome: np.ndarray | None = None) -> NeighbourIndex:
        """Z scaled features, X raw features, ids, good = desirable outcome (bool) per row,
        outcome = the target (0/1) when the schema has one."""
        keep = np.arange(len(Z))
        if len(Z) > self.max_rows:
            keep = np.sort(np.random.default_rng(self.seed).choice(len(Z), self.max_rows, replace=False))
        self.Z_, self.X_, self.ids_, self.good_ = Z[keep], X[keep], ids[keep], good[keep]
        self.outcome_ = None if outcome is None else outcome[keep]
        self.sq_norms_ = (self.Z_**2).sum(axis=1)
        return self

    def query(self, z: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """z: (f,) -> (indices, distances) of the k nearest rows, nearest first."""
        k = min(k or self.k, len(self.Z_))
        d2 = np.maximum(self.sq_norms_ - 2.0 * self.Z_ @ z + z @ z, 0.0)
        idx = np.argpartition(d2, k - 1)[:k]
        idx = idx[np.argsort(d2[idx], kind="stable")]
        return idx, np.sqrt(d2[idx])

    def actions(self, x: np.ndarray, idx: np.ndarray, signs: np.ndarray, scale: np.ndarray) -> list[dict]:
        """Candidate actions for raw profile x (f,) given its neighbours ``idx``.

        Each: feature index, target (median of desirable neighbours), gap in robust units,
        uplift (outcome rate of neighbours ahead on the feature minus those not ahead) and
        evidence (ids of desirable neighbours ahead, nearest first).
        """
        X, good = self.X_[idx], self.good_[idx]
        out = []
        for f in np.flatnonzero(signs != 0):
            known = ~np.isnan(X[:, f])
            if np.isnan(x[f]) or known.sum() < 2 * MIN_SUPPORT:
                continue
            ahead = known & (signs[f] * (X[:, f] - x[f]) > 0)
            support = ahead & good
            if support.sum() < MIN_SUPPORT or (known & ~ahead).sum() == 0:
                continue
            target = float(np.median(X[support, f]))
            gap = signs[f] * (target - x[f]) / scale[f]
            uplift = good[ahead].mean() - good[known & ~ahead].mean()
            if gap >= MIN_GAP and uplift >= MIN_UPLIFT:
                out.append(
                    {
                        "index": int(f),
                        "target": target,
                        "gap": float(gap),
                        "uplift": float(uplift),
                        "evidence": [_plain(i) for i in self.ids_[idx[support]][:10]],
                    }
                )
        return out


def _plain(value):
    return value.item() if hasattr(value, "item") else value
