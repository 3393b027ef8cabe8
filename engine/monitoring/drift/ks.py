"""Kolmogorov–Smirnov: the distance (default for numeric columns) and the test's p-value.

The KS distance is the largest gap, over all values x, between the share of reference rows and
the share of current rows at or below x: "up to this share of rows moved across some value".
It depends on ranks only, so heavy tails, outliers and units do not matter, and ties (integer
or zero-inflated columns) are handled exactly: both cumulative shares are taken at and just
below each value. The reference side comes from its quantile sketch (exact to 0.001), the
current side from every current row.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from engine.monitoring.drift.registry import DriftInput, DriftTest, register


def ks_distance(sketch: np.ndarray, current: np.ndarray) -> float:
    """The KS distance between a reference quantile sketch and sorted current values (no NaN);
    nan when either side is empty. The reference's cumulative share at x is read from the
    sketch as the share of its levels at or below x (never more than 1/steps below the truth)."""
    if sketch.size == 0 or current.size == 0:
        return math.nan
    steps, levels = sketch.size - 1, sketch[1:]
    points = np.unique(sketch)
    gaps = [
        np.searchsorted(levels, points, side=side) / steps - np.searchsorted(current, points, side=side) / current.size
        for side in ("right", "left")  # at each value, and just below it
    ]
    # Current values outside the reference's range: below its minimum the reference share is 0,
    # at or above its maximum it is 1; both ends are among the points.
    return float(max(np.abs(gaps[0]).max(), np.abs(gaps[1]).max()))


def ks_p_value(distance: float, n_reference: int, n_current: int) -> float:
    """Asymptotic two-sample p-value of a KS distance (conservative with ties); nan if unknown."""
    if math.isnan(distance) or n_reference == 0 or n_current == 0:
        return math.nan
    effective = max(1, round(n_reference * n_current / (n_reference + n_current)))
    return float(stats.kstwo.sf(distance, effective))


def _distance(data: DriftInput) -> float:
    return ks_distance(data.sketch, data.current)


def _guard(data: DriftInput, distance: float) -> float:
    return ks_p_value(distance, data.n_reference, data.current.size)


def _p_value(data: DriftInput) -> float:
    return _guard(data, _distance(data))


register(
    DriftTest(
        name="ks_distance",
        column_types=("numeric",),
        default_threshold=0.05,
        higher_is_drift=True,
        description=(
            "Kolmogorov–Smirnov distance: the largest gap between the shares of training and "
            "current rows at or below any value; drift when >= 0.05 (a twentieth of the rows moved) "
            "and beyond chance (p < 0.01)."
        ),
        func=_distance,
        p_value=_guard,
    )
)

register(
    DriftTest(
        name="ks",
        column_types=("numeric",),
        default_threshold=0.05,
        higher_is_drift=False,
        description=(
            "Kolmogorov–Smirnov test: p-value that both come from one distribution; drift when "
            "p < 0.05 (large tables flag differences too small to matter: prefer ks_distance)."
        ),
        func=_p_value,
    )
)
