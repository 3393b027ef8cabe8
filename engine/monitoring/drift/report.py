"""Drift of a current table against a ``ReferenceProfile``: one verdict per column and overall."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.monitoring.drift.errors import DriftConfigError
from engine.monitoring.drift.profile import (
    CategoricalReference,
    NumericReference,
    ReferenceProfile,
    bin_counts,
    category_counts,
    numeric_values,
    sample_rows,
)
from engine.monitoring.drift.registry import (
    DriftInput,
    DriftTest,
    available_tests,
    default_test,
    get_test,
)

# KS and Wasserstein cost grows with the sample; 20,000 current values pin a p-value or a
# distance far more finely than the reference sample (<= 5,000 values) can anyway.
CURRENT_SAMPLE_SIZE = 20_000


@dataclass(frozen=True)
class ColumnDrift:
    """Drift verdict for one column.

    ``statistic`` is the test's p-value or distance (nan when a side has no values);
    ``psi`` is always the population stability index; missing shares are in [0, 1];
    ``n_reference``/``n_current`` count non-missing values of the full data.
    """

    column: str
    column_type: str
    test: str
    statistic: float
    threshold: float
    drifted: bool
    psi: float
    reference_missing: float
    current_missing: float
    n_reference: int
    n_current: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; nan becomes null."""
        return {k: _json_value(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class DriftReport:
    """Per-column verdicts and the dataset verdict: drift when ``drifted_share >= dataset_threshold``."""

    columns: list[ColumnDrift]
    dataset_threshold: float
    n_columns: int
    n_drifted: int
    drifted_share: float
    dataset_drift: bool

    def column(self, name: str) -> ColumnDrift:
        """The verdict for column ``name``; ``KeyError`` when it was not compared."""
        for item in self.columns:
            if item.column == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``dataset`` (share, verdict) and ``columns`` (one dict each)."""
        return {
            "dataset": {
                "drifted_share": self.drifted_share,
                "dataset_drift": self.dataset_drift,
                "dataset_threshold": self.dataset_threshold,
                "n_drifted": self.n_drifted,
                "n_columns": self.n_columns,
            },
            "columns": [item.to_dict() for item in self.columns],
        }


def drift_report(
    reference: ReferenceProfile,
    current: pd.DataFrame,
    *,
    tests: dict[str, str] | None = None,
    thresholds: dict[str, float] | None = None,
    dataset_threshold: float = 0.5,
    columns: list[str] | None = None,
    current_sample_size: int = CURRENT_SAMPLE_SIZE,
    seed: int = 0,
) -> DriftReport:
    """Compare ``current`` (rows x columns) with ``reference`` column by column.

    ``tests``/``thresholds`` override the default test (chosen by column type and the
    reference's row count) and its threshold per column. ``columns`` restricts the comparison
    (default: every profiled column). KS and Wasserstein see a seeded sample of at most
    ``current_sample_size`` current rows; PSI, chi-square and Jensen–Shannon count all rows.
    """
    if not isinstance(reference, ReferenceProfile):
        raise DriftConfigError(
            f"reference should be a ReferenceProfile; got {type(reference).__name__}."
        )
    if not isinstance(current, pd.DataFrame):
        raise DataError(f"current data should be a DataFrame; got {type(current).__name__}.")
    if len(current) == 0:
        raise DataError("current data has no rows; expected at least one.")
    if not 0.0 <= dataset_threshold <= 1.0:
        raise DriftConfigError(f"dataset_threshold={dataset_threshold} should be within [0, 1].")
    selected = _select_columns(reference, current, columns)
    chosen = _choose_tests(reference, tests or {}, thresholds or {})
    rows = sample_rows(len(current), current_sample_size, seed)
    results = [
        _column_drift(reference, name, current[name], rows, *chosen[name]) for name in selected
    ]
    n_drifted = sum(item.drifted for item in results)
    share = n_drifted / len(results)
    return DriftReport(
        columns=results,
        dataset_threshold=float(dataset_threshold),
        n_columns=len(results),
        n_drifted=n_drifted,
        drifted_share=share,
        dataset_drift=share >= dataset_threshold,
    )


def series_drift(
    reference_values: Any,
    current_values: Any,
    test: str | None = None,
    threshold: float | None = None,
    *,
    name: str = "value",
    seed: int = 0,
) -> ColumnDrift:
    """Drift of one numeric series (e.g. predicted probabilities) against its reference values.

    The default test follows the reference size as in ``drift_report``.
    """
    reference = pd.DataFrame({name: np.asarray(reference_values, dtype=float)})
    current = pd.DataFrame({name: np.asarray(current_values, dtype=float)})
    profile = ReferenceProfile.from_frame(reference, numeric=[name], categorical=[], seed=seed)
    report = drift_report(
        profile,
        current,
        tests=None if test is None else {name: test},
        thresholds=None if threshold is None else {name: threshold},
        seed=seed,
    )
    return report.columns[0]


def _select_columns(
    reference: ReferenceProfile, current: pd.DataFrame, columns: list[str] | None
) -> list[str]:
    selected = reference.columns if columns is None else list(columns)
    if not selected:
        raise DriftConfigError("columns is empty; expected at least one profiled column.")
    _check_known(reference, selected, "columns")
    absent = [name for name in selected if name not in current.columns]
    if absent:
        raise DataError(f"current data lacks columns {absent} that the reference profile has.")
    return selected


def _choose_tests(
    reference: ReferenceProfile, tests: dict[str, str], thresholds: dict[str, float]
) -> dict[str, tuple[DriftTest, float]]:
    _check_known(reference, list(tests), "tests")
    _check_known(reference, list(thresholds), "thresholds")
    chosen = {}
    for name in reference.columns:
        column_type = reference.column_type(name)
        test = (
            get_test(tests[name]) if name in tests else default_test(column_type, reference.n_rows)
        )
        if column_type not in test.column_types:
            valid = ", ".join(t.name for t in available_tests(column_type))
            raise DriftConfigError(
                f"test {test.name!r} does not apply to {column_type} column {name!r}; "
                f"expected one of: {valid}."
            )
        threshold = thresholds.get(name, test.default_threshold)
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, Real)
            or not math.isfinite(threshold)
        ):
            raise DriftConfigError(
                f"threshold for column {name!r} should be a finite number; got {threshold!r}."
            )
        chosen[name] = (test, float(threshold))
    return chosen


def _check_known(reference: ReferenceProfile, names: list[str], option: str) -> None:
    unknown = [name for name in names if name not in reference.columns]
    if unknown:
        raise DriftConfigError(
            f"{option} names columns {unknown} that are not in the reference profile; "
            f"expected some of {reference.columns}."
        )


def _column_drift(
    reference: ReferenceProfile,
    name: str,
    series: pd.Series,
    rows: np.ndarray | None,
    test: DriftTest,
    threshold: float,
) -> ColumnDrift:
    if name in reference.numeric:
        data, n_current = _numeric_input(reference.numeric[name], series, rows)
        ref_col: NumericReference | CategoricalReference = reference.numeric[name]
    else:
        data, n_current = _categorical_input(reference.categorical[name], series)
        ref_col = reference.categorical[name]
    n_reference = ref_col.n_values
    if n_reference == 0 or n_current == 0:
        # Values on one side only is drift in itself; no values on either side is no news.
        statistic, drifted = math.nan, (n_reference == 0) != (n_current == 0)
    else:
        statistic = test.func(data)
        drifted = not math.isnan(statistic) and test.is_drift(statistic, threshold)
    return ColumnDrift(
        column=name,
        column_type=reference.column_type(name),
        test=test.name,
        statistic=statistic,
        threshold=threshold,
        drifted=bool(drifted),
        psi=get_test("psi").func(data),
        reference_missing=ref_col.n_missing / reference.n_rows if reference.n_rows else math.nan,
        current_missing=(len(series) - n_current) / len(series),
        n_reference=n_reference,
        n_current=n_current,
    )


def _numeric_input(
    ref: NumericReference, series: pd.Series, rows: np.ndarray | None
) -> tuple[DriftInput, int]:
    values = numeric_values(series)
    present = values[np.isfinite(values)]
    sample = values if rows is None else values[rows]
    data = DriftInput(
        reference_sample=ref.sample,
        current_sample=sample[np.isfinite(sample)],
        reference_counts=ref.bin_shares * ref.n_values,
        current_counts=bin_counts(present, ref.bin_edges),
        reference_std=ref.std,
    )
    return data, int(present.size)


def _categorical_input(ref: CategoricalReference, series: pd.Series) -> tuple[DriftInput, int]:
    current = category_counts(series)
    # Reference categories first (stable order), then categories new in the current data.
    labels = [*ref.counts, *sorted(set(current) - set(ref.counts))]
    empty = np.empty(0)
    data = DriftInput(
        reference_sample=empty,
        current_sample=empty,
        reference_counts=np.array([ref.counts.get(label, 0) for label in labels], dtype=float),
        current_counts=np.array([current.get(label, 0) for label in labels], dtype=float),
    )
    return data, sum(current.values())


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
