"""``ReferenceProfile``: the compact reference a model version keeps for drift checks.

Built once at training time from the whole training frame and saved as ``reference.json`` next
to the model, so monitoring never needs the original training file. It holds what each test
needs, all from every row: value counts per category and quantile-bin shares (chi-square,
total variation, Jensen–Shannon, PSI), mean/std, and each numeric column's quantile function
at 1,001 levels: a sketch from which the reference's cumulative distribution is known to within
0.001 everywhere (Kolmogorov–Smirnov, Wasserstein), whatever the number of training rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import DataError

FORMAT = "benchai.drift.reference/2"
PSI_BINS = 10
QUANTILE_LEVELS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
SKETCH_STEPS = 1000  # the quantile function at levels 0, 1/1000, ..., 1


@dataclass(frozen=True, eq=False)
class NumericReference:
    """One numeric reference column. Missing means NaN or +-inf (neither has a place on an axis).

    ``bin_edges`` are the distinct inner deciles; the PSI bins are the open intervals they cut,
    ``(-inf, e0), [e0, e1), ..., [e_last, inf)``, so ``bin_shares`` has ``len(bin_edges) + 1``
    entries. ``sketch`` is the quantile function at ``SKETCH_STEPS + 1`` evenly spaced levels
    (the smallest value with at least that share of values at or below it; empty when the
    column has no values).
    """

    n_values: int
    n_missing: int
    mean: float
    std: float
    quantiles: np.ndarray
    bin_edges: np.ndarray
    bin_shares: np.ndarray
    sketch: np.ndarray


@dataclass(frozen=True, eq=False)
class CategoricalReference:
    """One categorical reference column: full-data counts per category label (most frequent first)."""

    counts: dict[str, int]
    n_missing: int

    @property
    def n_values(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Reference summary of a training frame: ``n_rows`` rows, numeric and categorical columns."""

    n_rows: int
    numeric: dict[str, NumericReference]
    categorical: dict[str, CategoricalReference]

    @property
    def columns(self) -> list[str]:
        """Profiled columns: numeric ones first, each group in the order given at build time."""
        return [*self.numeric, *self.categorical]

    def column_type(self, column: str) -> str:
        """``"numeric"`` or ``"categorical"``; ``KeyError`` when the column is not profiled."""
        if column in self.numeric:
            return "numeric"
        if column in self.categorical:
            return "categorical"
        raise KeyError(column)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> ReferenceProfile:
        """Profile every row of ``df``'s ``numeric`` and ``categorical`` columns."""
        _check_columns(df, numeric, categorical)
        return cls(
            n_rows=len(df),
            numeric={name: profile_numeric(numeric_values(df[name])) for name in numeric},
            categorical={name: _profile_categorical(df[name]) for name in categorical},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (plain lists and floats; unknown mean/std become null)."""
        return {
            "format": FORMAT,
            "n_rows": self.n_rows,
            "numeric": {name: _numeric_to_dict(ref) for name, ref in self.numeric.items()},
            "categorical": {
                name: {"n_missing": ref.n_missing, "counts": dict(ref.counts)}
                for name, ref in self.categorical.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceProfile:
        """Inverse of ``to_dict``; raises ``DataError`` for anything else."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataError(f"reference profile should be a dict with format={FORMAT!r} (a version trained before it has none: train again).")
        try:
            return cls(
                n_rows=int(data["n_rows"]),
                numeric={k: _numeric_from_dict(v) for k, v in data["numeric"].items()},
                categorical={
                    k: CategoricalReference(
                        counts={str(c): int(n) for c, n in v["counts"].items()},
                        n_missing=int(v["n_missing"]),
                    )
                    for k, v in data["categorical"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"reference profile is malformed: {exc!r}.") from None


def numeric_values(series: pd.Series) -> np.ndarray:
    """Column as float64 (NaN for missing); ``DataError`` when it is not numeric or boolean."""
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
        raise DataError(
            f"column {series.name!r} should be numeric for drift checks; got dtype {series.dtype}."
        )
    return series.to_numpy(dtype=float, na_value=np.nan)


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of finite ``values`` per PSI bin cut by ``edges`` (see ``NumericReference``)."""
    return np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)


def category_counts(series: pd.Series) -> dict[str, int]:
    """Non-missing counts per category label, most frequent first.

    Labels are strings, and integral floats lose their ``.0``, so that an integer code read as
    float (because the column has missing values) still matches the reference's label.
    """
    counts: dict[str, int] = {}
    for value, count in series.value_counts(dropna=True, sort=True).items():
        label = category_label(value)
        counts[label] = counts.get(label, 0) + int(count)
    return counts


def category_label(value: object) -> str:
    """String label of one category value: ``1.0`` -> ``"1"``, ``"a"`` -> ``"a"``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def profile_numeric(values: np.ndarray) -> NumericReference:
    """The reference summary of one column's float values (NaN or +-inf for missing)."""
    finite = np.isfinite(values)
    present = np.sort(values[finite])
    if present.size == 0:
        empty = np.empty(0)
        return NumericReference(0, int(values.size), math.nan, math.nan, empty, empty, np.ones(1), empty)
    edges = np.unique(np.quantile(present, np.arange(1, PSI_BINS) / PSI_BINS))
    counts = bin_counts(present, edges)
    return NumericReference(
        n_values=int(present.size),
        n_missing=int(values.size - present.size),
        mean=float(np.mean(present)),
        std=float(np.std(present)),
        quantiles=np.quantile(present, QUANTILE_LEVELS),
        bin_edges=edges,
        bin_shares=counts / present.size,
        sketch=quantile_function(present),
    )


def quantile_function(sorted_values: np.ndarray, steps: int = SKETCH_STEPS) -> np.ndarray:
    """The quantile function of sorted values at levels 0, 1/steps, ..., 1: for level p the
    smallest value with a share of at least p of the values at or below it (so, unlike
    interpolated quantiles, every entry is a value that occurs, and ties stay ties)."""
    n = sorted_values.size
    ranks = (np.arange(steps + 1, dtype=np.int64) * n + steps - 1) // steps - 1  # ceil(level * n) - 1, exactly
    return sorted_values[np.clip(ranks, 0, n - 1)]


def _profile_categorical(series: pd.Series) -> CategoricalReference:
    counts = category_counts(series)
    return CategoricalReference(counts=counts, n_missing=len(series) - sum(counts.values()))


def _check_columns(df: pd.DataFrame, numeric: Iterable[str], categorical: Iterable[str]) -> None:
    numeric, categorical = list(numeric), list(categorical)
    if not numeric and not categorical:
        raise DataError("a reference profile needs at least one numeric or categorical column.")
    both = sorted(set(numeric) & set(categorical))
    if both:
        raise DataError(f"columns {both} are listed as both numeric and categorical.")
    missing = [c for c in [*numeric, *categorical] if c not in df.columns]
    if missing:
        raise DataError(
            f"columns {missing} are not in the reference data; it has {list(df.columns)}."
        )


def _numeric_to_dict(ref: NumericReference) -> dict[str, Any]:
    return {
        "n_values": ref.n_values,
        "n_missing": ref.n_missing,
        "mean": _finite_or_none(ref.mean),
        "std": _finite_or_none(ref.std),
        "quantile_levels": list(QUANTILE_LEVELS),
        "quantiles": ref.quantiles.tolist(),
        "bin_edges": ref.bin_edges.tolist(),
        "bin_shares": ref.bin_shares.tolist(),
        "sketch": ref.sketch.tolist(),
    }


def _numeric_from_dict(data: dict[str, Any]) -> NumericReference:
    def array(key: str) -> np.ndarray:
        return np.asarray(data[key], dtype=float)

    return NumericReference(
        n_values=int(data["n_values"]),
        n_missing=int(data["n_missing"]),
        mean=_none_to_nan(data["mean"]),
        std=_none_to_nan(data["std"]),
        quantiles=array("quantiles"),
        bin_edges=array("bin_edges"),
        bin_shares=array("bin_shares"),
        sketch=array("sketch"),
    )


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _none_to_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
