"""Anomalies: robust per-feature z-scores (population and peer group), unusual gaps between
assessment dimensions, and a multivariate IsolationForest score.

Why median/MAD-style z-scores: the mean and standard deviation are dragged by the very
outliers we look for, and financial ratios have heavy tails. We use the median and a robust
spread (IQR/1.349, falling back to MAD) on an asinh scale for heavy-tailed features, and the
modified z-score cut-off of 3.5 recommended by Iglewicz and Hoaglin.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from itertools import combinations

import numpy as np
from sklearn.ensemble import IsolationForest

from engine.analysis.isolation import PackedIsolationForest
from engine.analysis.peers import PeerStats
from engine.analysis.quantiles import SortedColumns
from engine.analysis.scaling import robust_scale_sorted
from engine.threads import compute_threads

Z_THRESHOLD = 3.5
SEVERITIES = ((8.0, "high"), (5.0, "medium"), (Z_THRESHOLD, "low"))
GAP_MIN_POINTS = 1.5  # a gap must also be large in the scores' own units to be worth showing
# Gaps are multimodal (each persona has its typical gaps), so a unimodal z alone flags whole
# personas; a gap must also lie outside the population's central 99.8% for that pair.
GAP_RARE_PERCENT = 0.1
MULTIVARIATE_QUANTILE = 0.01  # the most isolated 1% of the training population is flagged
SMALL_BATCH = 2_000  # below this the packed forest is faster than scikit-learn's loop


VALUE_ANOMALY_SHARE = 0.05  # at most this share of training rows gets a value anomaly


def severity(z: float, cut: float = Z_THRESHOLD) -> str | None:
    """'high', 'medium', 'low' or None; the levels scale with the version's cut-off ``cut``."""
    scale = cut / Z_THRESHOLD
    for level, name in SEVERITIES:
        if abs(z) >= level * scale:
            return name
    return None


def calibrated_cut(z: np.ndarray) -> float:
    """The z cut-off of a version: 3.5 (Iglewicz–Hoaglin), raised until at most
    ``VALUE_ANOMALY_SHARE`` of the training rows have any |z| beyond it. With many features
    (30 ratios) a fixed 3.5 flags a quarter of ordinary rows somewhere; this keeps "unusual"
    unusual. z: (n, f) robust z of the training rows against their peers (NaN for gaps)."""
    worst = np.nanmax(np.where(np.isnan(z), 0.0, np.abs(z)), axis=1) if z.size else np.zeros(0)
    if not len(worst):
        return Z_THRESHOLD
    return float(max(Z_THRESHOLD, np.quantile(worst, 1.0 - VALUE_ANOMALY_SHARE)))


def robust_z(stats: PeerStats, X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """X: (n, f) raw; groups: (n, f) group id per value -> (n, f) robust z (NaN stays NaN)."""
    f = np.arange(X.shape[1])
    return (stats.transform(X) - stats.center_[groups, f]) / stats.scale_[groups, f]


class GapModel:
    """Robust distribution of the difference between every pair of assessment scores."""

    def fit(self, X: np.ndarray, score_index: list[int]) -> GapModel:
        self.pairs_ = list(combinations(score_index, 2))
        G = self.gaps(X)
        if not self.pairs_:
            self.center_, self.scale_, self.lo_, self.hi_ = np.zeros(0), np.ones(0), np.zeros(0), np.zeros(0)
            return self
        columns = SortedColumns(G)  # one sort for every statistic
        self.center_ = columns.medians()
        self.scale_ = robust_scale_sorted(G, columns)
        self.lo_, self.hi_ = columns.percentiles([GAP_RARE_PERCENT, 100 - GAP_RARE_PERCENT])
        return self

    def gaps(self, X: np.ndarray) -> np.ndarray:
        if not self.pairs_:
            return np.zeros((len(X), 0))
        i, j = np.array(self.pairs_).T
        return X[:, i] - X[:, j]

    def z(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """-> (gaps, robust z, flagged), each (n, pairs). Flagged: large, beyond the z cut-off
        and outside the population's central range for that pair."""
        G = self.gaps(X)
        Z = (G - self.center_) / self.scale_
        with np.errstate(invalid="ignore"):
            flagged = (np.abs(G) >= GAP_MIN_POINTS) & (np.abs(Z) >= Z_THRESHOLD) & ((self.lo_ > G) | (self.hi_ < G))
        return G, Z, flagged


class MultivariateScorer:
    """IsolationForest on scaled features; flags the most isolated share of the population."""

    def __init__(self, *, n_estimators: int = 100, seed: int = 0):
        self.n_estimators = n_estimators
        self.seed = seed

    def fit(self, Z: np.ndarray) -> MultivariateScorer:
        self.forest_ = IsolationForest(n_estimators=self.n_estimators, random_state=self.seed).fit(Z)
        self.packed_ = PackedIsolationForest(self.forest_)
        self.threshold_ = float(np.quantile(self.score(Z), MULTIVARIATE_QUANTILE))
        return self

    def score(self, Z: np.ndarray) -> np.ndarray:
        """(n, f) scaled imputed features -> (n,) scores in [-1, 0], lower = more isolated.

        A large batch is split by rows across the compute threads (scikit-learn's tree walk
        releases the GIL). Its own ``n_jobs`` would split by trees and add their terms in
        whatever order the threads finish, so the same row could get a different last bit.
        """
        if len(Z) < SMALL_BATCH:
            return self.packed_.score_samples(Z)
        threads = min(compute_threads(), len(Z) // SMALL_BATCH)
        if threads <= 1:
            return self.forest_.score_samples(Z)
        with ThreadPoolExecutor(threads) as pool:
            return np.concatenate(list(pool.map(self.forest_.score_samples, np.array_split(Z, threads))))
