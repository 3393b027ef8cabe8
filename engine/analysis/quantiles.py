"""Quantiles read from sorted values, with numpy's numbers to the last bit.

numpy's nan-functions partition each column again for every call, and column by column in
Python once a NaN is present; sorting once and reading every quantile from the sorted runs gives
the same numbers (numpy's default "linear" method: the same virtual index, neighbours and
interpolation), tested against numpy. A zero always comes out +0.0: which of tied -0.0 and 0.0
numpy's partition picks is arbitrary.
"""

from __future__ import annotations

import numpy as np


def run_quantiles(v: np.ndarray, starts: np.ndarray, counts: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles ``q`` (fractions) of each run of sorted values (run i: ``v[starts[i]:][:counts[i]]``,
    counts >= 1) -> (runs, len(q)), computed as numpy's default ("linear") method does: the
    same virtual index, neighbours and interpolation, so the same bits as ``np.quantile``."""
    n = counts[:, None]
    virtual = (n - 1) * q
    previous = np.floor(virtual)
    above = virtual >= n - 1  # numpy takes the last value for these
    previous = np.where(above, -1.0, previous)
    gamma = virtual - previous
    lo = starts[:, None] + np.where(above, n - 1, previous).astype(np.intp)
    hi = starts[:, None] + np.where(above, n - 1, previous + 1).astype(np.intp)
    a, b = v[lo], v[hi]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def run_medians(v: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The median of each run of sorted values, as ``np.nanmedian``: the middle value, or the
    mean of the two middle values."""
    mid = starts + counts // 2
    return np.where(counts % 2 == 1, v[mid], (v[mid - 1] + v[mid]) / 2.0)


class SortedColumns:
    """The known values of every column of an (n, f) array, sorted once; NaN where a column has
    none (numpy warns and gives NaN there too)."""

    def __init__(self, x: np.ndarray):
        x = np.asarray(x, dtype=float)
        self.counts = (~np.isnan(x)).sum(axis=0)
        self.values = np.sort(x, axis=0).T.ravel()  # column by column; NaN sorts last
        self.starts = np.arange(x.shape[1]) * x.shape[0]
        self.empty = self.counts == 0

    def quantiles(self, q) -> np.ndarray:
        """-> (len(q), f): ``np.nanquantile(x, q, axis=0)``."""
        out = run_quantiles(self.values, self.starts, np.maximum(self.counts, 1), np.asarray(q, dtype=float)).T + 0.0
        out[:, self.empty] = np.nan
        return out

    def percentiles(self, percents) -> np.ndarray:
        """-> (len(percents), f): ``np.nanpercentile(x, percents, axis=0)``."""
        return self.quantiles(np.true_divide(percents, 100))  # as numpy turns them into fractions

    def medians(self) -> np.ndarray:
        """-> (f,): ``np.nanmedian(x, axis=0)``."""
        return np.where(self.empty, np.nan, run_medians(self.values, self.starts, np.maximum(self.counts, 1)) + 0.0)
