"""A mergeable quantile sketch for statistics over tables that do not fit in one process.

Each feature's values are counted in fixed bins whose edges are quantiles of a sample (``BINS``
bins, so about the same number of rows in each); partitions count their rows per (peer group,
feature, bin) and the counts add up exactly. A quantile is then read inside the bin that holds
its rank: exact at the bin's ends and at the group's minimum and maximum (kept exactly), and
otherwise within that bin. Its error in rank terms is at most the bin's share of the group's
values, which ``rank_error`` reports per group and feature from the counts themselves (not from
an assumption about the data). A value that repeats in the sample (a score of 3 out of 5) gets
its own bin, and a quantile that falls into it is that value exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BINS = 1024


class BinnedSketch:
    """Bin edges per feature (from a sample) and, once ``add``-ed, counts per group and bin."""

    def __init__(self, sample: np.ndarray, *, bins: int = BINS):
        """sample: (n, f) values with NaN for missing."""
        levels = np.linspace(0.0, 1.0, bins + 1)
        edges, ties = [], []
        for j in range(sample.shape[1]):
            values = sample[:, j][~np.isnan(sample[:, j])]
            q = np.quantile(values, levels, method="inverted_cdf") if len(values) else np.zeros(0)
            e, repeats = np.unique(q, return_counts=True)
            edges.append(e)
            ties.append(repeats > 1)  # a value that holds more than one bin's share of the sample
        width = max((len(e) for e in edges), default=0)
        self.edges = np.full((sample.shape[1], width), np.inf)
        self.tie = np.zeros((sample.shape[1], width), dtype=bool)
        for j, (e, t) in enumerate(zip(edges, ties, strict=True)):
            self.edges[j, : len(e)], self.tie[j, : len(t)] = e, t

    @property
    def width(self) -> int:
        """Bins per feature: below the first edge, between edges, at or above the last."""
        return self.edges.shape[1] + 1

    def count(self, X: np.ndarray, codes: np.ndarray, n_groups: int) -> dict:
        """One partition's counts. X: (n, f) values; codes: (n, levels) group ids (-1 none).
        -> {"bins": (groups, f, width), "min", "max": (groups, f)} (add them with ``merge``)."""
        n, f = X.shape
        bins = np.stack([np.searchsorted(self.edges[j], X[:, j], side="right") for j in range(f)], axis=1) if f else np.zeros((n, 0), dtype=np.intp)
        known = ~np.isnan(X)
        counts = np.zeros(n_groups * f * self.width, dtype=np.int64)
        low, high = np.full((n_groups, f), np.inf), np.full((n_groups, f), -np.inf)
        for level in range(codes.shape[1]):
            g = codes[:, level]
            use = (g >= 0)[:, None] & known
            flat = (g[:, None] * f + np.arange(f)) * self.width + bins
            counts += np.bincount(flat[use], minlength=len(counts))
            frame = pd.DataFrame(X[g >= 0]).groupby(g[g >= 0])
            present = frame.min().index.to_numpy()
            low[present] = np.fmin(low[present], frame.min().to_numpy())
            high[present] = np.fmax(high[present], frame.max().to_numpy())
        return {"bins": counts.reshape(n_groups, f, self.width), "min": low, "max": high}

    @staticmethod
    def merge(a: dict, b: dict) -> dict:
        return {"bins": a["bins"] + b["bins"], "min": np.fmin(a["min"], b["min"]), "max": np.fmax(a["max"], b["max"])}

    def quantiles(self, counts: dict, percents: np.ndarray) -> np.ndarray:
        """-> (groups, f, len(percents)) the percentiles as ``np.nanpercentile`` places them
        (rank (n - 1) * p / 100), read inside their bin; NaN where a group has no value."""
        bins, low, high = counts["bins"], counts["min"], counts["max"]
        n = bins.sum(axis=2)
        cum = np.cumsum(bins, axis=2)
        out = np.full((*n.shape, len(percents)), np.nan)
        f_index = np.arange(bins.shape[1])[None, :]
        for k, p in enumerate(percents):
            rank = (n - 1) * p / 100.0
            b = np.minimum((cum <= rank[..., None]).sum(axis=2), self.width - 1)  # the bin holding the rank
            before = np.take_along_axis(cum, b[..., None], axis=2)[..., 0] - np.take_along_axis(bins, b[..., None], axis=2)[..., 0]
            inside = np.take_along_axis(bins, b[..., None], axis=2)[..., 0]
            edges = np.concatenate([np.full((self.edges.shape[0], 1), -np.inf), self.edges, np.full((self.edges.shape[0], 1), np.inf)], axis=1)
            lo = np.maximum(edges[f_index, b], low)
            hi = np.minimum(edges[f_index, b + 1], high)
            tie = np.concatenate([np.zeros((self.tie.shape[0], 1), dtype=bool), self.tie], axis=1)[f_index, b]
            share = (rank - before + 0.5) / np.maximum(inside, 1)
            with np.errstate(invalid="ignore"):  # empty groups (no min or max) are NaN below
                value = np.where(tie, lo, lo + (np.where(np.isfinite(hi), hi, lo) - lo) * np.clip(share, 0.0, 1.0))
            value = np.where(p <= 0, low, np.where(p >= 100, high, value))
            out[..., k] = np.where(n > 0, np.clip(value, low, high), np.nan)
        return out

    def rank_error(self, counts: dict) -> np.ndarray:
        """(groups, f) the largest share of a group's values in one bin between two sample
        values: a bound on how far, in rank, a quantile read inside such a bin can be from the
        exact one (NaN: no values). Bins of a repeated sample value are left out: a quantile
        there is that value, exact as long as the bin holds only it (as a score's levels do)."""
        bins = counts["bins"]
        n = bins.sum(axis=2)
        tie = np.concatenate([np.zeros((self.tie.shape[0], 1), dtype=bool), self.tie], axis=1)
        spread = np.where(tie[None, :, :], 0, bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, spread.max(axis=2) / n, np.nan)
