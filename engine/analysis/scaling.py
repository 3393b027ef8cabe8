"""Numeric feature preparation shared by every model: imputation and robust scaling.

Real company data has heavy tails (financial ratios) and gaps, so scaling uses the median and
the interquartile range instead of mean and standard deviation, and scaled values are clipped:
one extreme company must not dominate distances in clustering or nearest neighbours.
"""

from __future__ import annotations

import numpy as np

from engine.analysis.quantiles import SortedColumns

CLIP = 5.0  # scaled values beyond +-5 robust units carry no extra information for distances


def robust_scale(x: np.ndarray) -> np.ndarray:
    """Per-column spread robust to heavy tails: IQR/1.349, then MAD*1.4826, then std, then 1.

    For normal data every estimate equals the standard deviation; the fallbacks keep
    zero-inflated or near-constant columns from dividing by zero. Shape (n, f) -> (f,).
    """
    return robust_scale_sorted(x, SortedColumns(x))


def robust_scale_sorted(x: np.ndarray, columns: SortedColumns) -> np.ndarray:
    """``robust_scale`` of ``x`` whose columns are already sorted (``columns``)."""
    q25, q50, q75 = columns.percentiles([25, 50, 75])
    scale = (q75 - q25) / 1.349
    mad = SortedColumns(np.abs(x - q50)).medians() * 1.4826
    std = np.nanstd(x, axis=0)
    scale = np.where(scale > 1e-12, scale, mad)
    scale = np.where(scale > 1e-12, scale, std)
    return np.where(scale > 1e-12, scale, 1.0)


class FeatureScaler:
    """Median imputation and robust standardisation of the schema's numeric features."""

    def fit(self, X: np.ndarray, binary: np.ndarray | None = None) -> FeatureScaler:
        """X: (n, f) float array with NaN for missing values; ``binary`` marks 0/1 columns.

        A 0/1 column keeps its own units (a mismatch costs 1, as in Gower's distance): a robust
        spread of a rare flag is tiny and would make every mismatch an extreme distance.
        """
        all_missing = np.all(np.isnan(X), axis=0)
        safe = np.where(all_missing, 0.0, X)
        columns = SortedColumns(safe)
        self.median_ = columns.medians()
        self.scale_ = robust_scale_sorted(safe, columns)
        if binary is not None:
            self.scale_ = np.where(binary, 1.0, self.scale_)
        return self

    def impute(self, X: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(X), self.median_, X)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Imputed, centred on the median, divided by the robust scale, clipped to +-CLIP."""
        Z = (self.impute(X) - self.median_) / self.scale_
        return np.clip(Z, -CLIP, CLIP)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        return Z * self.scale_ + self.median_
