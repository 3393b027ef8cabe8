"""Data drift: per-column statistical tests against a compact reference profile.

Public API: ``ReferenceProfile`` (built at training time, saved as JSON), ``drift_report`` and
``series_drift`` (run at monitoring time), and the test registry (``get_test``,
``available_tests``, ``default_test``, ``register``). Each test lives in its own module and
registers itself on import; to add one, write the module and import it below.
"""

from __future__ import annotations

# Imported for their registration side effect; order does not matter.
from engine.monitoring.drift import chisquare, jensenshannon, ks, psi, tvd, wasserstein  # noqa: F401
from engine.monitoring.drift.errors import DriftConfigError, UnknownDriftTest
from engine.monitoring.drift.profile import ReferenceProfile
from engine.monitoring.drift.registry import (
    DriftInput,
    DriftTest,
    available_tests,
    default_test,
    get_test,
    register,
)
from engine.monitoring.drift.report import (
    MIN_ROWS,
    ColumnDrift,
    DriftReport,
    drift_report,
    reference_column,
    series_drift,
)

__all__ = [
    "MIN_ROWS",
    "ColumnDrift",
    "DriftConfigError",
    "DriftInput",
    "DriftReport",
    "DriftTest",
    "ReferenceProfile",
    "UnknownDriftTest",
    "available_tests",
    "default_test",
    "drift_report",
    "get_test",
    "reference_column",
    "register",
    "series_drift",
]
