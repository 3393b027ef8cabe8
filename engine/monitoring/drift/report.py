"""Drift of a current table against a ``ReferenceProfile``: one verdict per column and overall.

Two signals per column: the values' distribution (the column's test) and its missing share
(drift when it moved by at least ``MISSING_SHIFT`` and beyond chance). Below ``MIN_ROWS`` current
rows there is no verdict at all: the statistics are reported, nothing is called drift.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.monitoring.drift.chisquare import chisquare_pvalue
from engine.monitoring.drift.errors import DriftConfigError
from engine.monitoring.drift.profile import (
    CategoricalReference,
    NumericReference,
    ReferenceProfile,
    bin_counts,
    category_counts,
    numeric_values,
    profile_numeric,
)
from engine.monitoring.drift.registry import (
    SIGNIFICANCE,
    DriftInput,
    DriftTest,
    available_tests,
    default_test,
    get_test,
)

MIN_ROWS = 100  # below this many current rows a verdict is noise: "not enough rows yet"
MISSING_SHIFT = 0.05  # a change of the missing share by 5 points is drift of its own


@dataclass(frozen=True)
class ColumnDrift:
    """Drift verdict for one column.

    ``statistic`` is the test's p-value or distance (nan when a side has no values);
    ``p_value`` the chance guard of an effect size (nan for tests without one); ``drifted``
    the values' verdict; ``psi`` is always the population stability index; missing shares are
    in [0, 1] and ``missing_drifted`` their own verdict; ``n_reference``/``n_current`` count
    non-missing values.
    """

    column: str
    column_type: str
    test: str
    statistic: float
    threshold: float
    p_value: float
    drifted: bool
    psi: float
    reference_missing: float
    current_missing: float
    missing_drifted: bool
    n_reference: int
    n_current: int

    @property
    def changed(self) -> bool:
        """Drifted in either signal: the values or the missing share."""
        return self.drifted or self.missing_drifted

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; nan becomes null."""
        return {k: _json_value(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class DriftReport:
    """Per-column verdicts and the dataset verdict: drift when ``drifted_share >= dataset_threshold``,
    where a column counts as drifted when its values or its missing share drifted. Without
    ``enough_rows`` (``n_current < min_rows``) nothing is drifted."""

    columns: list[ColumnDrift]
    dataset_threshold: float
    n_columns: int
    n_drifted: int
    drifted_share: float
    dataset_drift: bool
    n_current: int
    min_rows: int

    @property
    def enough_rows(self) -> bool:
        return self.n_current >= self.min_rows

    def column(self, name: str) -> ColumnDrift:
        """The verdict for column ``name``; ``KeyError`` when it was not compared."""
        for item in self.columns:
            if item.column == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``dataset`` (share, verdict), ``columns`` (one dict each) and the
        row count behind them (``n_current``, ``min_rows``, ``enough_rows``)."""
        return {
            "dataset": {
                "drifted_share": self.drifted_share,
                "dataset_drift": self.dataset_drift,
                "dataset_threshold": self.dataset_threshold,
                "n_drifted": self.n_drifted,
                "n_columns": self.n_columns,
                "drifted_columns": [item.column for item in self.columns if item.changed],
            },
            "columns": [item.to_dict() for item in self.columns],
            "n_current": self.n_current,
            "min_rows": self.min_rows,
            "enough_rows": self.enough_rows,
        }


def drift_report(
    reference: ReferenceProfile,
    current: pd.DataFrame,
    *,
    tests: dict[str, str] | None = None,
    thresholds: dict[str, float] | None = None,
    dataset_threshold: float = 0.5,
    columns: list[str] | None = None,
    min_rows: int = MIN_ROWS,
) -> DriftReport:
    """Compare every row of ``current`` (rows x columns) with ``reference`` column by column.

    ``tests``/``thresholds`` override the default test (by column type) and its threshold per
    column. ``columns`` restricts the comparison (default: every profiled column).
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
    enough = len(current) >= min_rows
    results = [_column_drift(reference, name, current[name], *chosen[name], verdict=enough) for name in selected]
    n_drifted = sum(item.changed for item in results)
    share = n_drifted / len(results)
    return DriftReport(
        columns=results,
        dataset_threshold=float(dataset_threshold),
        n_columns=len(results),
        n_drifted=n_drifted,
        drifted_share=share,
        dataset_drift=enough and share >= dataset_threshold,
        n_current=len(current),
        min_rows=min_rows,
    )


def series_drift(
    reference: NumericReference,
    current_values: Any,
    test: str | None = None,
    threshold: float | None = None,
    *,
    name: str = "value",
    min_rows: int = MIN_ROWS,
) -> ColumnDrift:
    """Drift of one numeric series (e.g. predicted probabilities) against its reference column."""
    values = np.asarray(current_values, dtype=float)
    profile = ReferenceProfile(n_rows=reference.n_values + reference.n_missing, numeric={name: reference}, categorical={})
    chosen = _choose_tests(profile, {} if test is None else {name: test}, {} if threshold is None else {name: threshold})
    return _column_drift(profile, name, pd.Series(values, name=name), *chosen[name], verdict=values.size >= min_rows)


def reference_column(values: Any) -> NumericReference:
    """A reference column from raw values (for ``series_drift`` without a saved profile)."""
    return profile_numeric(np.asarray(values, dtype=float))


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
            get_test(tests[name]) if name in tests else default_test(column_type)
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


def _column_drift(reference: ReferenceProfile, name: str, series: pd.Series, test: DriftTest, threshold: float, *, verdict: bool) -> ColumnDrift:
    if name in reference.numeric:
        ref_col: NumericReference | CategoricalReference = reference.numeric[name]
        data = _numeric_input(reference.numeric[name], series)
        n_current = data.current.size
    else:
        ref_col = reference.categorical[name]
        data = _categorical_input(reference.categorical[name], series)
        n_current = int(data.current_counts.sum())
    n_reference = ref_col.n_values
    p_value = math.nan
    if n_reference == 0 or n_current == 0:
        # Values on one side only is drift in itself; no values on either side is no news.
        statistic, drifted = math.nan, (n_reference == 0) != (n_current == 0)
    else:
        statistic = test.func(data)
        drifted = not math.isnan(statistic) and test.is_drift(statistic, threshold)
        if test.p_value is not None:
            p_value = test.p_value(data, statistic)
            drifted = drifted and p_value < SIGNIFICANCE
    n_rows_ref, n_rows_cur = reference.n_rows, len(series)
    reference_missing = ref_col.n_missing / n_rows_ref if n_rows_ref else math.nan
    current_missing = (n_rows_cur - n_current) / n_rows_cur if n_rows_cur else math.nan
    return ColumnDrift(
        column=name,
        column_type=reference.column_type(name),
        test=test.name,
        statistic=statistic,
        threshold=threshold,
        p_value=p_value,
        drifted=bool(verdict and drifted),
        psi=get_test("psi").func(data),
        reference_missing=reference_missing,
        current_missing=current_missing,
        missing_drifted=bool(verdict and _missing_moved(ref_col.n_missing, n_rows_ref, n_rows_cur - n_current, n_rows_cur)),
        n_reference=n_reference,
        n_current=n_current,
    )


def _missing_moved(ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int) -> bool:
    """Did the missing share move by at least MISSING_SHIFT, beyond chance?"""
    if not ref_rows or not cur_rows or abs(cur_missing / cur_rows - ref_missing / ref_rows) < MISSING_SHIFT:
        return False
    table = ([ref_missing, ref_rows - ref_missing], [cur_missing, cur_rows - cur_missing])
    return chisquare_pvalue(np.array(table[0]), np.array(table[1])) < SIGNIFICANCE


def _numeric_input(ref: NumericReference, series: pd.Series) -> DriftInput:
    values = numeric_values(series)
    present = np.sort(values[np.isfinite(values)])
    return DriftInput(
        sketch=ref.sketch,
        current=present,
        reference_counts=ref.bin_shares * ref.n_values,
        current_counts=bin_counts(present, ref.bin_edges),
        n_reference=ref.n_values,
        reference_std=ref.std,
    )


def _categorical_input(ref: CategoricalReference, series: pd.Series) -> DriftInput:
    current = category_counts(series)
    # Reference categories first (stable order), then categories new in the current data.
    labels = [*ref.counts, *sorted(set(current) - set(ref.counts))]
    empty = np.empty(0)
    return DriftInput(
        sketch=empty,
        current=empty,
        reference_counts=np.array([ref.counts.get(label, 0) for label in labels], dtype=float),
        current_counts=np.array([current.get(label, 0) for label in labels], dtype=float),
        n_reference=ref.n_values,
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
