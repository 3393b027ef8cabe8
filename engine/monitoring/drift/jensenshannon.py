"""Jensen–Shannon distance (categorical columns, large references).

Evidently's default for categorical columns with more than 1000 reference rows: the square
root of the Jensen–Shannon divergence (natural log, so it lies in [0, sqrt(ln 2) ~ 0.83])
between the category proportions. It measures how far the mix moved, not how sure we are that
it moved, so it does not flag tiny changes just because the data are large.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import distance

from engine.monitoring.drift.registry import DriftInput, DriftTest, register


def jensen_shannon_distance(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Jensen–Shannon distance (natural log) between two aligned count or proportion vectors.

    Identical proportions give 0; disjoint ones give sqrt(ln 2). nan when either side is empty.
    Zero counts need no smoothing: the divergence is finite for them.
    """
    reference = np.asarray(reference_counts, dtype=float)
    current = np.asarray(current_counts, dtype=float)
    if reference.sum() <= 0 or current.sum() <= 0:
        return float("nan")
    value = float(distance.jensenshannon(reference / reference.sum(), current / current.sum()))
    # Rounding can leave a tiny negative divergence (nan distance) for identical inputs.
    return 0.0 if np.isnan(value) else value


def _jensenshannon_on_counts(data: DriftInput) -> float:
    return jensen_shannon_distance(data.reference_counts, data.current_counts)


register(
    DriftTest(
        name="jensenshannon",
        column_types=("categorical", "numeric"),
        default_threshold=0.1,
        higher_is_drift=True,
        description=(
            "Jensen–Shannon distance between category proportions (numeric columns: reference "
            "decile bins); drift when >= 0.1."
        ),
        func=_jensenshannon_on_counts,
    )
)
