"""Registry of drift tests: each test module registers one ``DriftTest``.

A test's ``func`` receives a ``DriftInput`` (both views of one column: raw samples and aligned
counts) and returns one statistic; ``higher_is_drift`` and the threshold turn it into a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.monitoring.drift.errors import DriftConfigError, UnknownDriftTest

COLUMN_TYPES = ("numeric", "categorical")

# Defaults chosen by measurement (benchmarks/bench_drift.py): effect sizes that read as "the
# share of rows that moved", rank- and count-based so heavy tails, ties and zero inflation do
# not matter, guarded by a significance test so that a small current table is not read as drift.
# Both drift at 0.05: on the demo an unchanged column reads <= 0.04 and the planted 35% rise of
# a very dispersed cost reads 0.08.
_DEFAULT_TESTS = {"numeric": "ks_distance", "categorical": "tvd"}
SIGNIFICANCE = 0.01  # the guard's p-value: below it a difference is taken as more than chance


@dataclass(frozen=True)
class DriftInput:
    """One column, reference vs current, in the shapes tests need.

    ``sketch``: the reference quantile function at evenly spaced levels (numeric columns only,
    else empty); ``current``: the sorted non-missing current values (numeric only, else empty).
    ``reference_counts``/``current_counts``: counts per category (categorical) or per reference
    decile bin (numeric), aligned. ``n_reference``: non-missing reference values.
    ``reference_std``: standard deviation of the reference column (nan when unknown).
    """

    sketch: np.ndarray
    current: np.ndarray
    reference_counts: np.ndarray
    current_counts: np.ndarray
    n_reference: int
    reference_std: float = math.nan


@dataclass(frozen=True)
class DriftTest:
    """A registered drift test: a statistic plus how to read it against a threshold.

    ``p_value`` (optional, given the input and the statistic) guards an effect size: drift only
    when the difference is also beyond chance at ``SIGNIFICANCE``, so a few rows cannot raise an
    alarm by luck.
    """

    name: str
    column_types: tuple[str, ...]
    default_threshold: float
    higher_is_drift: bool
    description: str
    func: Callable[[DriftInput], float]
    p_value: Callable[[DriftInput, float], float] | None = None

    def is_drift(self, statistic: float, threshold: float) -> bool:
        """Verdict for one statistic: distances drift at >= threshold, p-values below it."""
        if self.higher_is_drift:
            return bool(statistic >= threshold)
        return bool(statistic < threshold)


_REGISTRY: dict[str, DriftTest] = {}


def register(test: DriftTest) -> DriftTest:
    """Add a test under its name; registering the same name twice is a programming error."""
    if test.name in _REGISTRY:
        raise ValueError(f"drift test {test.name!r} is already registered")
    unknown = set(test.column_types) - set(COLUMN_TYPES)
    if unknown:
        raise ValueError(f"column_types={sorted(unknown)} should be among {COLUMN_TYPES}")
    _REGISTRY[test.name] = test
    return test


def get_test(name: str) -> DriftTest:
    """The test registered as ``name``; raises ``UnknownDriftTest`` listing the valid names."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(_REGISTRY))
        raise UnknownDriftTest(f"Unknown drift test {name!r}; expected one of: {valid}.") from None


def available_tests(column_type: str | None = None) -> list[DriftTest]:
    """Registered tests, sorted by name; only those applicable to ``column_type`` if given."""
    if column_type is not None:
        _check_column_type(column_type)
    return [
        test
        for name, test in sorted(_REGISTRY.items())
        if column_type is None or column_type in test.column_types
    ]


def default_test(column_type: str) -> DriftTest:
    """The default test of a column type: the Kolmogorov–Smirnov distance for numbers, the total
    variation distance for categories (any reference size: the significance guard handles few rows)."""
    _check_column_type(column_type)
    return get_test(_DEFAULT_TESTS[column_type])


def _check_column_type(column_type: str) -> None:
    if column_type not in COLUMN_TYPES:
        raise DriftConfigError(
            f"column_type={column_type!r} should be one of {', '.join(COLUMN_TYPES)}."
        )
