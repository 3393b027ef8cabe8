"""Population stability index (every column; reported as an extra field).

PSI = sum over bins of (current share - reference share) * ln(current share / reference share),
on 10 quantile bins of the reference for numeric columns and on categories for categorical
ones. Credit-risk practice reads it as: below 0.1 stable, 0.1-0.2 minor shift, 0.2 and above
significant shift. Empty bins would make the logarithm infinite, so shares are floored at a
small epsilon first (Evidently uses the same 0.0001).
"""

from __future__ import annotations

import numpy as np

from engine.monitoring.drift.registry import DriftInput, DriftTest, register

EMPTY_BIN_SHARE = 1e-4


def population_stability_index(
    reference_counts: np.ndarray, current_counts: np.ndarray, epsilon: float = EMPTY_BIN_SHARE
) -> float:
    """PSI between two aligned count (or proportion) vectors; 0 when the shares are equal.

    Shares below ``epsilon`` are raised to it. nan when either side is empty.
    """
    reference = np.asarray(reference_counts, dtype=float)
    current = np.asarray(current_counts, dtype=float)
    if reference.sum() <= 0 or current.sum() <= 0:
        return float("nan")
    reference_share = np.maximum(reference / reference.sum(), epsilon)
    current_share = np.maximum(current / current.sum(), epsilon)
    terms = (current_share - reference_share) * np.log(current_share / reference_share)
    return float(terms.sum())


def _psi_on_counts(data: DriftInput) -> float:
    return population_stability_index(data.reference_counts, data.current_counts)


register(
    DriftTest(
        name="psi",
        column_types=("numeric", "categorical"),
        default_threshold=0.2,
        higher_is_drift=True,
        description=(
            "Population stability index on reference decile bins (numeric) or categories; "
            "0.1 minor, 0.2 significant; drift when >= 0.2."
        ),
        func=_psi_on_counts,
    )
)
