"""Each test's pure function on inputs small enough to compute by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from engine.monitoring.drift.chisquare import chisquare_pvalue
from engine.monitoring.drift.jensenshannon import jensen_shannon_distance
from engine.monitoring.drift.ks import ks_distance, ks_p_value
from engine.monitoring.drift.profile import quantile_function
from engine.monitoring.drift.psi import population_stability_index
from engine.monitoring.drift.tvd import total_variation
from engine.monitoring.drift.wasserstein import normalized_wasserstein

RANGE10 = np.arange(10.0)


def sketch(values) -> np.ndarray:
    return quantile_function(np.sort(np.asarray(values, dtype=float)))


def current(values) -> np.ndarray:
    return np.sort(np.asarray(values, dtype=float))


@pytest.mark.parametrize(
    ("reference", "current_values", "expected"),
    [
        (RANGE10, RANGE10, 0.0),
        (RANGE10, RANGE10 + 100, 1.0),  # disjoint
        (RANGE10, RANGE10 - 100, 1.0),  # all below the reference minimum
        (RANGE10, RANGE10 + 5, 0.5),
        # Ties: 75% zeros vs 25% zeros; the gap is at the tie itself.
        ([0.0, 0, 0, 1], [0.0, 1, 1, 1], 0.5),
        ([1.0, 1.0, 2.0], [2.0, 1.0, 1.0], 0.0),
    ],
)
def test_ks_distance(reference, current_values, expected):
    assert ks_distance(sketch(reference), current(current_values)) == pytest.approx(expected, abs=1e-3)


def test_ks_distance_from_the_sketch_matches_the_exact_statistic_on_heavy_tails(heavy_tailed_frame):
    """The sketch stands in for every reference row: on heavy-tailed, tied, zero-inflated
    columns its distance is within 0.002 of scipy's exact two-sample statistic."""
    frame, numeric, _ = heavy_tailed_frame(20_000, seed=5)
    later, _, _ = heavy_tailed_frame(5_000, seed=6)
    for column in numeric:
        ref = frame[column].dropna().to_numpy(float)
        cur = later[column].dropna().to_numpy(float) * 1.1
        exact = stats.ks_2samp(ref, cur).statistic
        assert ks_distance(sketch(ref), current(cur)) == pytest.approx(exact, abs=0.002), column


@pytest.mark.parametrize(
    ("distance", "n", "m", "low", "high"),
    [(0.0, 100, 100, 0.99, 1.0), (1.0, 10, 10, 0.0, 1e-4), (0.1, 1_000_000, 100, 0.2, 0.4), (0.1, 1_000_000, 2000, 0.0, 1e-4)],
)
def test_ks_p_value(distance, n, m, low, high):
    assert low <= ks_p_value(distance, n, m) <= high


@pytest.mark.parametrize(
    ("reference", "current_values", "reference_std", "expected"),
    [
        (RANGE10, RANGE10, 1.0, 0.0),
        # Shift by 1 of [0, 1, 2, 3]: distance 1.
        ([0.0, 1, 2, 3], [1.0, 2, 3, 4], math.sqrt(1.25), 1 / math.sqrt(1.25)),
        ([0.0, 1, 2, 3], [1.0, 2, 3, 4], 2.0, 0.5),
        # Constant reference: scale falls back to 0.001 * max(|median|, 1).
        ([5.0, 5, 5], [5.0, 5, 6], 0.0, (1 / 3) / 0.005),
        ([0.0, 0], [0.0, 1], 0.0, 0.5 / 0.001),
        ([0.0, 0], [0.0, 0], 0.0, 0.0),
    ],
)
def test_normalized_wasserstein(reference, current_values, reference_std, expected):
    assert normalized_wasserstein(sketch(reference), current(current_values), reference_std) == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize(
    ("reference", "current_values", "expected"),
    [([1, 1], [3, 3], 0.0), ([1, 0], [0, 1], 1.0), ([30, 10], [20, 20], 0.25), ([30, 10, 0], [30, 5, 5], 0.125)],
)
def test_total_variation(reference, current_values, expected):
    assert total_variation(np.array(reference), np.array(current_values)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("reference", "current", "expected"),
    [
        ([50, 50], [50, 50], 1.0),
        ([5, 10, 20], [10, 20, 40], 1.0),
        # 2 x 2 table [[10, 0], [0, 10]]: every expected count 5, chi2 = 4 * 25 / 5 = 20, 1 dof.
        ([10, 0], [0, 10], 7.744216e-06),
        # [[30, 10], [20, 20]]: expected 25 / 15, chi2 = 2 * (25/25 + 25/15) = 5.333, 1 dof.
        ([30, 10], [20, 20], 0.0209213),
        # A category empty on both sides is ignored; one shared category cannot differ.
        ([30, 0, 10], [20, 0, 20], 0.0209213),
        ([5], [7], 1.0),
    ],
)
def test_chisquare_pvalue(reference, current, expected):
    assert chisquare_pvalue(np.array(reference), np.array(current)) == pytest.approx(
        expected, rel=1e-5
    )


@pytest.mark.parametrize(
    ("reference", "current", "expected"),
    [
        ([1, 1], [3, 3], 0.0),
        ([1, 0], [0, 1], math.sqrt(math.log(2))),
        # m = [0.75, 0.25]: JS = (0.5 ln(2/3) + 0.5 ln 2 + ln(4/3)) / 2 = 0.215762.
        ([1, 1], [1, 0], math.sqrt(0.2157616)),
        ([2, 2], [10, 0], math.sqrt(0.2157616)),
    ],
)
def test_jensen_shannon_distance(reference, current, expected):
    assert jensen_shannon_distance(np.array(reference), np.array(current)) == pytest.approx(
        expected, rel=1e-5, abs=1e-9
    )


@pytest.mark.parametrize(
    ("reference", "current", "expected"),
    [
        ([0.5, 0.5], [0.5, 0.5], 0.0),
        ([10, 10], [5, 15], -0.25 * math.log(0.5) + 0.25 * math.log(1.5)),
        # Empty bins count as share 0.0001: 2 * 0.9999 * ln(10_000).
        ([1, 0], [0, 1], 2 * 0.9999 * math.log(1e4)),
    ],
)
def test_population_stability_index(reference, current, expected):
    assert population_stability_index(np.array(reference), np.array(current)) == pytest.approx(
        expected
    )


@pytest.mark.parametrize(
    "statistic",
    [
        lambda: ks_distance(np.empty(0), current([1.0])),
        lambda: ks_p_value(float("nan"), 10, 10),
        lambda: normalized_wasserstein(sketch([1.0]), np.empty(0), 1.0),
        lambda: total_variation(np.array([0, 0]), np.array([1, 2])),
        lambda: chisquare_pvalue(np.array([0, 0]), np.array([1, 2])),
        lambda: jensen_shannon_distance(np.array([1, 2]), np.array([0, 0])),
        lambda: population_stability_index(np.array([0, 0]), np.array([1, 2])),
    ],
)
def test_empty_side_gives_nan(statistic):
    assert math.isnan(statistic())
