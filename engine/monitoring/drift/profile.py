"""``ReferenceProfile``: the compact reference a model version keeps for drift checks.

Built once at training time from the training frame and saved as ``reference.json`` next to
the model, so monitoring never needs the original training file. It holds what each test
needs: full-data value counts and quantile-bin shares (chi-square, Jensen–Shannon, PSI), the
full-data mean/std/quantiles, and a seeded row sample of numeric values (KS, Wasserstein).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import DataError

FORMAT = "benchai.drift.reference/1"
PSI_BINS = 10
QUANTILE_LEVELS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)


@dataclass(frozen=True, eq=False)
class NumericReference:
    """One numeric reference column. Missing means NaN or +-inf (neither has a place on an axis).

    ``bin_edges`` are the distinct inner deciles; the PSI bins are the open intervals they cut,
    ``(-inf, e0), [e0, e1), ..., [e_last, inf)``, so ``bin_shares`` has ``len(bin_edges) + 1``
    entries. ``sample`` holds the column's non-missing values in the profile's row sample.
    """

    n_values: int
    n_missing: int
    mean: float
    std: float
    quantiles: np.ndarray
    bin_edges: np.ndarray
    bin_shares: np.ndarray
    sample: np.ndarray


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
    sample_size: int
    seed: int

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
    def from_frame(
        cls,
        df: pd.DataFrame,
        numeric: list[str],
        categorical: list[str],
        sample_size: int = 5000,
        seed: int = 0,
    ) -> ReferenceProfile:
        """Profile ``df``'s ``numeric`` and ``categorical`` columns; samples up to ``sample_size`` rows."""
        _check_columns(df, numeric, categorical)
        if sample_size < 1:
            raise DataError(f"sample_size={sample_size} should be >= 1.")
        rows = sample_rows(len(df), sample_size, seed)
        return cls(
            n_rows=len(df),
            numeric={name: _profile_numeric(df[name], rows) for name in numeric},
            categorical={name: _profile_categorical(df[name]) for name in categorical},
            sample_size=sample_size,
            seed=seed,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (plain lists and floats; unknown mean/std become null)."""
        return {
            "format": FORMAT,
            "n_rows": self.n_rows,
            "sample_size": self.sample_size,
            "seed": self.seed,
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
            raise DataError(f"reference profile should be a dict with format={FORMAT!r}.")
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
                sample_size=int(data["sample_size"]),
                seed=int(data["seed"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"reference profile is malformed: {exc!r}.") from None


def sample_rows(n_rows: int, sample_size: int, seed: int) -> np.ndarray | None:
    """Sorted positions of a seeded sample of ``sample_size`` rows; None when all rows fit."""
    if n_rows <= sample_size:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_rows, size=sample_size, replace=False))


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


def _profile_numeric(series: pd.Series, rows: np.ndarray | None) -> NumericReference:
    values = numeric_values(series)
    finite = np.isfinite(values)
    present = values[finite]
    sample = values if rows is None else values[rows]
    sample = sample[np.isfinite(sample)]
    if present.size == 0:
        empty = np.empty(0)
        return NumericReference(
            0, int(values.size), math.nan, math.nan, empty, empty, np.ones(1), sample
        )
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
        sample=sample,
    )


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
        "sample": ref.sample.tolist(),
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
        sample=array("sample"),
    )


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _none_to_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
