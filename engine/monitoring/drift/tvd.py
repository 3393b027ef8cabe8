"""Total variation distance (default for categorical columns).

Half the sum of the absolute differences between the category shares: the share of rows that
would have to change category to turn one mix into the other, on the same scale as the KS
distance for numbers. Guarded by the chi-square test of homogeneity, so a small table is not
read as drift by luck.
"""

from __future__ import annotations

import math

import numpy as np

from engine.monitoring.drift.chisquare import chisquare_pvalue
from engine.monitoring.drift.registry import DriftInput, DriftTest, register


def total_variation(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Total variation distance of two aligned count vectors; nan when either side is empty."""
    reference = np.asarray(reference_counts, dtype=float)
    current = np.asarray(current_counts, dtype=float)
    if reference.sum() <= 0 or current.sum() <= 0:
        return math.nan
    return float(0.5 * np.abs(reference / reference.sum() - current / current.sum()).sum())


def _tvd(data: DriftInput) -> float:
    return total_variation(data.reference_counts, data.current_counts)


def _p_value(data: DriftInput, distance: float) -> float:
    return chisquare_pvalue(data.reference_counts, data.current_counts)


register(
    DriftTest(
        name="tvd",
        column_types=("categorical", "numeric"),
        default_threshold=0.05,
        higher_is_drift=True,
        description=(
            "Total variation distance: the share of rows that changed category (numeric columns: "
            "reference decile bins); drift when >= 0.05 and beyond chance (chi-square p < 0.01)."
        ),
        func=_tvd,
        p_value=_p_value,
    )
)
