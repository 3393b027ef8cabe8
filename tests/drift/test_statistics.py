"""Each test's pure function on inputs small enough to compute by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.monitoring.drift.chisquare import chisquare_pvalue
from engine.monitoring.drift.jensenshannon import jensen_shannon_distance
from engine.monitoring.drift.ks import ks_pvalue
from engine.monitoring.drift.psi import population_stability_index
from engine.monitoring.drift.wasserstein import normalized_wasserstein

RANGE10 = np.arange(10.0)


@pytest.mark.parametrize(
    ("reference", "current", "expected"),
    [
        (RANGE10, RANGE10, 1.0),
        (RANGE10, RANGE10[::-1], 1.0),
        # D = 1 for disjoint samples of 10 and 10: exact p = 2 / C(20, 10).
        (RANGE10, RANGE10 + 100, 2 / math.comb(20, 10)),
        ([1.0, 1.0, 2.0], [1.0, 2.0, 1.0], 1.0),
    ],
)
def test_ks_pvalue(reference, current, expected):
    assert ks_pvalue(reference, current) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("reference", "current", "reference_std", "expected"),
    [
        (RANGE10, RANGE10, None, 0.0),
        # Shift by 1 of [0, 1, 2, 3]: distance 1, std sqrt(1.25).
        ([0.0, 1, 2, 3], [1.0, 2, 3, 4], None, 1 / math.sqrt(1.25)),
        ([0.0, 1, 2, 3], [1.0, 2, 3, 4], 2.0, 0.5),
        # Constant reference: scale falls back to 0.001 * max(|median|, 1).
        ([5.0, 5, 5], [5.0, 5, 6], None, (1 / 3) / 0.005),
        ([0.0, 0], [0.0, 1], None, 0.5 / 0.001),
        ([0.0, 0], [0.0, 0], None, 0.0),
    ],
)
def test_normalized_wasserstein(reference, current, reference_std, expected):
    assert normalized_wasserstein(reference, current, reference_std) == pytest.approx(expected)


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
        lambda: ks_pvalue([], [1.0]),
        lambda: normalized_wasserstein([1.0], []),
        lambda: chisquare_pvalue(np.array([0, 0]), np.array([1, 2])),
        lambda: jensen_shannon_distance(np.array([1, 2]), np.array([0, 0])),
        lambda: population_stability_index(np.array([0, 0]), np.array([1, 2])),
    ],
)
def test_empty_side_gives_nan(statistic):
    assert math.isnan(statistic())
