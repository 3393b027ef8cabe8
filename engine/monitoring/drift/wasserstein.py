"""Normalised Wasserstein distance (numeric columns, large references).

Evidently's default for numeric columns with more than 1000 reference rows: the earth mover's
distance between the two samples divided by the reference standard deviation, so 0.1 means
"the mass moved, on average, a tenth of a standard deviation". Unlike a p-value it does not
shrink towards drift as samples grow, which is why large references use it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from engine.monitoring.drift.registry import DriftInput, DriftTest, register

# Evidently divides by max(std, 0.001). A constant reference has std 0, and a fixed floor makes
# the verdict depend on units; a floor relative to the reference level keeps "any material
# change from a constant is drift" in every unit.
_RELATIVE_FLOOR = 1e-3


def normalized_wasserstein(
    reference: np.ndarray, current: np.ndarray, reference_std: float | None = None
) -> float:
    """Wasserstein-1 distance of ``reference`` vs ``current`` in reference standard deviations.

    ``reference_std`` defaults to ``np.std(reference)`` (pass the full reference's std when
    ``reference`` is a sample). When it is 0 or not finite, the scale falls back to
    0.001 * max(|reference median|, 1). nan when either sample is empty.
    """
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    if reference.size == 0 or current.size == 0:
        return float("nan")
    if reference_std is None or math.isnan(reference_std):
        reference_std = float(np.std(reference))
    distance = float(stats.wasserstein_distance(reference, current))
    return distance / _scale(reference_std, reference)


def _scale(reference_std: float, reference: np.ndarray) -> float:
    if math.isfinite(reference_std) and reference_std > 0:
        return reference_std
    return _RELATIVE_FLOOR * max(abs(float(np.median(reference))), 1.0)


def _wasserstein_on_samples(data: DriftInput) -> float:
    return normalized_wasserstein(data.reference_sample, data.current_sample, data.reference_std)


register(
    DriftTest(
        name="wasserstein",
        column_types=("numeric",),
        default_threshold=0.1,
        higher_is_drift=True,
        description=(
            "Wasserstein distance divided by the reference standard deviation; "
            "drift when >= 0.1 (a tenth of a standard deviation)."
        ),
        func=_wasserstein_on_samples,
    )
)
