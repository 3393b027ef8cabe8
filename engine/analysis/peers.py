"""Peer groups (industry x size x region, falling back to broader groups) and their statistics.

Groups are nested levels of the schema's segment columns, narrow to broad, ending with the
whole population: for ["industry", "size", "region"] the levels are (industry, size, region),
(industry, size), (industry,) and (). A company is compared with the narrowest level whose
group has at least ``min_peers`` known values of the feature at hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.analysis.quantiles import SortedColumns, run_medians, run_quantiles
from engine.analysis.scaling import robust_scale

GRID = np.linspace(0.0, 100.0, 101)  # percentiles kept per group and feature


class PeerGroups:
    """Maps segment values to a global group id per level (-1 for a value never seen)."""

    def fit(self, seg: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> PeerGroups:
        self.columns_ = list(columns)
        self.categories_ = {c: sorted(seg[c].dropna().astype(str).unique()) for c in self.columns_}
        self.index_ = {c: {v: i for i, v in enumerate(cats)} for c, cats in self.categories_.items()}
        self.levels_ = [tuple(self.columns_[:i]) for i in range(len(self.columns_), -1, -1)]
        codes = self._column_codes(seg)
        self.lookup_, self.keys_ = [], []
        for level in self.levels_:
            composite = self._composite(codes, level, len(seg))
            present = np.unique(composite)
            lookup = np.full(self._radix_size(level), -1, dtype=np.intp)
            lookup[present] = np.arange(len(self.keys_), len(self.keys_) + len(present))
            self.lookup_.append(lookup)
            self.keys_.extend(self._decode(level, int(p)) for p in present)
        return self

    @property
    def n_groups(self) -> int:
        return len(self.keys_)

    def codes(self, seg: pd.DataFrame) -> np.ndarray:
        """-> (n, n_levels) group ids, narrow to broad; -1 where the group is unknown."""
        col_codes = self._column_codes(seg)
        out = np.empty((len(seg), len(self.levels_)), dtype=np.intp)
        for j, level in enumerate(self.levels_):
            composite = self._composite(col_codes, level, len(seg))
            known = composite >= 0
            out[:, j] = np.where(known, self.lookup_[j][np.maximum(composite, 0)], -1)
        return out

    def codes_one(self, values: dict) -> np.ndarray:
        """Fast path for one profile: -> (1, n_levels) group ids."""
        index = self.index_
        out = np.empty((1, len(self.levels_)), dtype=np.intp)
        for j, level in enumerate(self.levels_):
            composite = 0
            for c in level:
                code = index[c].get(str(values.get(c)), -1)
                if code < 0:
                    composite = -1
                    break
                composite = composite * len(self.categories_[c]) + code
            out[0, j] = self.lookup_[j][composite] if composite >= 0 else -1
        return out

    def describe(self, group: int) -> str:
        """'retail, medium, northeast' or 'all' for the population."""
        key = self.keys_[group]
        return ", ".join(v for _, v in key) if key else "all"

    def _column_codes(self, seg: pd.DataFrame) -> dict[str, np.ndarray]:
        return {c: text_codes(seg[c], self.categories_[c]) for c in self.columns_}

    def _composite(self, codes: dict[str, np.ndarray], level: tuple[str, ...], n: int) -> np.ndarray:
        composite = np.zeros(n, dtype=np.intp)
        for c in level:
            bad = codes[c] < 0
            composite = np.where(bad | (composite < 0), -1, composite * len(self.categories_[c]) + codes[c])
        return composite

    def _radix_size(self, level: tuple[str, ...]) -> int:
        return int(np.prod([len(self.categories_[c]) for c in level])) if level else 1

    def _decode(self, level: tuple[str, ...], composite: int) -> tuple[tuple[str, str], ...]:
        values = []
        for c in reversed(level):
            cats = self.categories_[c]
            composite, code = divmod(composite, len(cats))
            values.append((c, cats[code]))
        return tuple(reversed(values))


class PeerStats:
    """Per group and feature: known-value count, percentile grid, robust centre and spread.

    ``heavy_`` marks heavy-tailed features whose centre/spread are taken on an asinh scale
    (log-like in the tails), so z-scores of financial ratios are not all extreme.
    """

    def __init__(self, *, min_peers: int = 20):
        self.min_peers = min_peers

    def fit(self, X: np.ndarray, codes: np.ndarray, n_groups: int) -> PeerStats:
        """X: (n, f) raw values with NaN; codes: (n, levels) from PeerGroups.codes.

        Each feature's known values are sorted once, then by group at every level, and each
        group's statistics are read from its run: the same numbers, to the last bit, as numpy's
        ``nanpercentile``/``nanmedian`` of each group (tests compare them), without a numpy call
        per group (a zero is always +0.0: which of tied -0.0 and 0.0 numpy's partition picks is
        arbitrary). The rare fallback spreads (MAD, standard deviation) are computed as before.
        """
        f = X.shape[1]
        self.heavy_, self.unit_ = heavy_tails(X)
        T = self.transform(X)
        self.count_ = np.zeros((n_groups, f), dtype=np.int64)
        self.grid_ = np.full((n_groups, f, len(GRID)), np.nan)
        self.center_ = np.full((n_groups, f), np.nan)
        self.scale_ = np.ones((n_groups, f))
        flat = np.full((n_groups, f), np.nan)  # IQR / 1.349 where it is not tiny (robust_scale)
        for j in range(f):
            valid = ~np.isnan(X[:, j])
            by_x = _ByValue(X[valid, j], codes[valid])
            by_t = _ByValue(T[valid, j], codes[valid]) if self.heavy_[j] else None  # T is X elsewhere
            for level in range(codes.shape[1]):
                groups, starts, counts, xs = by_x.runs(level)
                if not len(groups):
                    continue
                ts = by_t.runs(level)[3] if by_t is not None else xs
                self.count_[groups, j] = counts
                self.grid_[groups, j] = run_quantiles(xs, starts, counts, _GRID_Q) + 0.0  # no -0.0
                self.center_[groups, j] = run_medians(ts, starts, counts) + 0.0
                q25, _, q75 = run_quantiles(ts, starts, counts, _IQR_Q).T
                flat[groups, j] = (q75 - q25) / 1.349
        self.scale_ = np.where(self.count_ > 0, flat, 1.0)
        tiny = (self.count_ > 0) & ~(flat > 1e-12)
        if tiny.any():  # a spread of zero (over half the values equal): robust_scale's fallbacks
            for g, rows in group_rows(codes):
                if tiny[g].any():
                    ok = self.count_[g] > 0
                    self.scale_[g][ok] = robust_scale(T[rows][:, ok])
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The scale on which z-scores are taken: asinh for heavy-tailed features."""
        return np.where(self.heavy_, np.arcsinh(X / self.unit_), X)

    def choose(self, codes: np.ndarray) -> np.ndarray:
        """-> (n, f) the group id used per row and feature: the narrowest with enough peers."""
        return narrowest(codes, self.count_, self.min_peers)


class FrequencyStats:
    """Per group and discrete feature (a yes/no flag or a category): how often each value occurs.

    A value is rare when its share among the peers' known values is small; this is how binary
    and category features are judged (a z-score of a 0/1 column means nothing).
    """

    def __init__(self, *, min_peers: int = 20):
        self.min_peers = min_peers

    def fit(self, C: np.ndarray, widths: list[int], codes: np.ndarray, n_groups: int) -> FrequencyStats:
        """C: (n, d) value codes (-1 missing); widths: number of values per feature."""
        self.widths_ = list(widths)
        self.counts_ = np.zeros((n_groups, C.shape[1], max(widths, default=1)), dtype=np.int64)
        for g, rows in group_rows(codes):
            for j in range(C.shape[1]):
                values = C[rows, j]
                self.counts_[g, j] = np.bincount(values[values >= 0], minlength=self.counts_.shape[2])
        self.count_ = self.counts_.sum(axis=2)
        return self

    def choose(self, codes: np.ndarray) -> np.ndarray:
        return narrowest(codes, self.count_, self.min_peers)

    def share(self, C: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """(n, d) codes and chosen groups -> share of peers with the same value (NaN if missing)."""
        d = np.arange(C.shape[1])
        counts = self.counts_[groups, d, np.maximum(C, 0)]
        share = counts / np.maximum(self.count_[groups, d], 1)
        return np.where(C >= 0, share, np.nan)


_GRID_Q = np.true_divide(GRID, 100)  # as np.nanpercentile turns percentiles into quantiles
_IQR_Q = np.true_divide([25, 50, 75], 100)


class _ByValue:
    """One feature's known values sorted once, then by group at each level (a stable sort keeps
    each group's values in order): cheaper than sorting (group, value) pairs per level."""

    def __init__(self, values: np.ndarray, codes: np.ndarray):
        self.order = np.argsort(values)
        self.values, self.codes = values[self.order], codes

    def runs(self, level: int):
        """-> (distinct groups, run starts, run lengths, values sorted by group then value)."""
        g = self.codes[:, level][self.order]
        known = g >= 0
        g = g[known]
        # A stable sort of small integers is a radix sort: linear in the rows.
        small = g.astype(np.int16) if len(g) and g.max() < np.iinfo(np.int16).max else g
        order = np.argsort(small, kind="stable")
        g, v = g[order], self.values[known][order]
        distinct, starts, counts = np.unique(g, return_index=True, return_counts=True)
        return distinct, starts, counts, v


def narrowest(codes: np.ndarray, count: np.ndarray, min_peers: int) -> np.ndarray:
    """(n, levels) group ids and (groups, f) known-value counts -> (n, f) the narrowest group
    with at least ``min_peers`` known values per row and feature; the population otherwise."""
    chosen = np.repeat(codes[:, -1:], count.shape[1], axis=1)  # the population: the last resort
    for level in range(codes.shape[1] - 2, -1, -1):  # broad to narrow: the narrowest with enough wins
        group = codes[:, level]
        enough = (group >= 0)[:, None] & (count[np.maximum(group, 0)] >= min_peers)
        chosen = np.where(enough, group[:, None], chosen)
    return chosen


def group_rows(codes: np.ndarray):
    """Yield (group id, row indices) for every known group of every level."""
    for level in range(codes.shape[1]):
        order = np.argsort(codes[:, level], kind="stable")
        bounds = np.flatnonzero(np.diff(codes[order, level])) + 1
        for rows in np.split(order, bounds):
            if codes[rows[0], level] >= 0:
                yield codes[rows[0], level], rows


def text_codes(values: pd.Series, categories: list[str] | tuple[str, ...]) -> np.ndarray:
    """Text values (None when missing) -> codes into ``categories``; -1 when missing or unknown.

    A value's text is ``str(value)``. Each distinct value is converted once (a batch has few);
    a column mixing kinds of values goes value by value, since ``True``, ``1`` and ``1.0`` are one
    value to a hash table but three texts.
    """
    known = pd.Index(list(categories), dtype=object)
    mixed = values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty")
    # 0.0 and -0.0 are one value to a hash table but two texts, as above.
    signed_zero = values.dtype.kind == "f" and bool(np.signbit(values.to_numpy()[values.to_numpy() == 0]).any())
    if mixed or signed_zero:
        text = [None if pd.isna(v) else str(v) for v in values.to_numpy(dtype=object)]
        return known.get_indexer(text).astype(np.intp)  # None is no category: -1
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    if len(distinct) == 0:
        return np.full(len(values), -1, dtype=np.intp)
    return np.where(codes >= 0, known.get_indexer([str(v) for v in distinct])[codes], -1).astype(np.intp)


def heavy_tails(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heavy-tailed when a tail reaches more than 4 IQRs from the median (normal: ~1.7).

    The asinh unit is the typical magnitude (median |x|): asinh(x / unit) is linear within
    typical values and logarithmic beyond them. With the IQR as unit, a log-normal (sigma 2)
    stayed mostly on the linear part and ~6% of ordinary rows got |z| >= 3.5.
    """
    safe = np.where(np.isnan(X).all(0), 0, X)
    q1, q25, q50, q75, q99 = SortedColumns(safe).percentiles([1, 25, 50, 75, 99])
    iqr = np.maximum(q75 - q25, 1e-12)
    heavy = ((q99 - q50) / iqr > 4) | ((q50 - q1) / iqr > 4)
    magnitude = SortedColumns(np.abs(safe)).medians()
    return heavy, np.where(magnitude > 1e-12, magnitude, iqr)
