"""Normalised Wasserstein distance (numeric columns).

The earth mover's distance between the two distributions divided by the reference standard
deviation, so 0.1 means "the mass moved, on average, a tenth of a standard deviation" (Evidently's
default for large references). It is computed from quantile functions: the reference sketch and
the current values' quantiles at the same levels. Heavy tails inflate the standard deviation and
make it blind to shifts in the body; ``ks_distance`` is the default for that reason.
"""

from __future__ import annotations

import math

import numpy as np

from engine.monitoring.drift.profile import quantile_function
from engine.monitoring.drift.registry import DriftInput, DriftTest, register

# A constant reference has std 0, and a fixed floor makes the verdict depend on units; a floor
# relative to the reference level keeps "any material change from a constant is drift".
_RELATIVE_FLOOR = 1e-3


def normalized_wasserstein(sketch: np.ndarray, current: np.ndarray, reference_std: float) -> float:
    """Wasserstein-1 distance of a reference quantile sketch vs sorted current values, in
    reference standard deviations; nan when either side is empty. The integral over levels
    leaves out the two end levels (minimum and maximum), which would otherwise weigh a single
    extreme row as a thousandth of the mass."""
    if sketch.size == 0 or current.size == 0:
        return math.nan
    gaps = np.abs(sketch - quantile_function(current, sketch.size - 1))
    distance = float(np.mean(gaps[1:-1])) if gaps.size > 2 else float(np.mean(gaps))
    scale = reference_std if math.isfinite(reference_std) and reference_std > 0 else _RELATIVE_FLOOR * max(abs(float(np.median(sketch))), 1.0)
    return distance / scale


def _wasserstein(data: DriftInput) -> float:
    return normalized_wasserstein(data.sketch, data.current, data.reference_std)


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
        func=_wasserstein,
    )
)
