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

# Evidently's rule: exact-style tests for small references, distances for large ones, because
# p-values of large samples flag differences too small to matter.
SMALL_REFERENCE_MAX_ROWS = 1000
_DEFAULT_TESTS = {
    "numeric": ("ks", "wasserstein"),
    "categorical": ("chisquare", "jensenshannon"),
}


@dataclass(frozen=True)
class DriftInput:
    """One column, reference vs current, in the two shapes tests need.

    ``reference_sample``/``current_sample``: non-missing values (numeric columns only, else
    empty); the current one may be a seeded sample of the current data.
    ``reference_counts``/``current_counts``: counts per category (categorical) or per reference
    quantile bin (numeric), aligned, from the full data.
    ``reference_std``: standard deviation of the full reference column (nan when unknown).
    """

    reference_sample: np.ndarray
    current_sample: np.ndarray
    reference_counts: np.ndarray
    current_counts: np.ndarray
    reference_std: float = math.nan


@dataclass(frozen=True)
class DriftTest:
    """A registered drift test: a statistic plus how to read it against a threshold."""

    name: str
    column_types: tuple[str, ...]
    default_threshold: float
    higher_is_drift: bool
    description: str
    func: Callable[[DriftInput], float]

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


def default_test(column_type: str, n_reference: int) -> DriftTest:
    """Evidently's default: ks/chisquare up to 1000 reference rows, wasserstein/jensenshannon above."""
    _check_column_type(column_type)
    small, large = _DEFAULT_TESTS[column_type]
    return get_test(small if n_reference <= SMALL_REFERENCE_MAX_ROWS else large)


def _check_column_type(column_type: str) -> None:
    if column_type not in COLUMN_TYPES:
        raise DriftConfigError(
            f"column_type={column_type!r} should be one of {', '.join(COLUMN_TYPES)}."
        )
