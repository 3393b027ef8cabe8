"""Quantiles read from one sort per column: numpy's nan-functions' numbers, to the last bit, in
every statistic built on them (the numpy formulations are kept here as the reference)."""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pytest

from engine.analysis.anomalies import GAP_RARE_PERCENT, GapModel
from engine.analysis.features import FeatureSpace
from engine.analysis.peers import heavy_tails
from engine.analysis.quantiles import SortedColumns
from engine.analysis.scaling import FeatureScaler, robust_scale
from engine.schema.validation import check_frame
from tests.test_peer_stats import _table


def _same(a, b, name=""):
    np.testing.assert_array_equal(a, b, err_msg=name)  # NaN where NaN; every value to the bit
    assert not np.signbit(np.asarray(a)[np.asarray(a) == 0]).any(), name  # a zero is +0.0


def _robust_scale(x):
    q25, q50, q75 = np.nanpercentile(x, [25, 50, 75], axis=0)
    scale = (q75 - q25) / 1.349
    scale = np.where(scale > 1e-12, scale, np.nanmedian(np.abs(x - q50), axis=0) * 1.4826)
    scale = np.where(scale > 1e-12, scale, np.nanstd(x, axis=0))
    return np.where(scale > 1e-12, scale, 1.0)


def test_every_quantile_and_median_is_numpys_on_gaps_ties_and_empty_columns():
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns on an all-missing column
        for trial in range(300):
            x = np.round(rng.normal(size=(rng.integers(1, 60), rng.integers(1, 6))), rng.integers(0, 3))
            x[rng.random(x.shape) < rng.random() * 0.6] = np.nan
            if trial % 7 == 0:
                x[:, 0] = np.nan
            if trial % 5 == 0:
                x[:, -1] = -0.0
            columns = SortedColumns(x)
            for percents in ([25, 50, 75], [1, 99], [0, 100], [0.5, 2.5, 97.5]):
                _same(columns.percentiles(percents), np.nanpercentile(x, percents, axis=0))
            _same(columns.medians(), np.nanmedian(x, axis=0))
            _same(robust_scale(x), _robust_scale(x))


@pytest.mark.parametrize("kind", ["demo", "customers", "ratios"])
def test_scaling_gaps_and_tails_are_numpys(kind):
    frame, schema = _table(kind, 6000)
    space = FeatureSpace(schema)
    X = space.numeric_table(check_frame(frame, schema))
    safe = np.where(np.isnan(X).all(axis=0), 0.0, X)
    scaler = FeatureScaler().fit(X, binary=space.binary)
    _same(scaler.median_, np.nanmedian(safe, axis=0), "median")
    _same(scaler.scale_, np.where(space.binary, 1.0, _robust_scale(safe)), "scale")

    heavy, unit = heavy_tails(X)
    q1, q25, q50, q75, q99 = np.nanpercentile(safe, [1, 25, 50, 75, 99], axis=0)
    iqr = np.maximum(q75 - q25, 1e-12)
    _same(heavy, ((q99 - q50) / iqr > 4) | ((q50 - q1) / iqr > 4), "heavy")
    magnitude = np.nanmedian(np.abs(safe), axis=0)
    _same(unit, np.where(magnitude > 1e-12, magnitude, iqr), "unit")

    numeric = [i for i, f in enumerate(space.numeric) if f.kind in ("score", "metric")][:6]
    gaps = GapModel().fit(X, numeric)
    i, j = np.array(list(combinations(numeric, 2))).T
    G = X[:, i] - X[:, j]
    _same(gaps.center_, np.nanmedian(G, axis=0), "center")
    _same(gaps.scale_, _robust_scale(G), "gap scale")
    lo, hi = np.nanpercentile(G, [GAP_RARE_PERCENT, 100 - GAP_RARE_PERCENT], axis=0)
    _same(gaps.lo_, lo, "lo")
    _same(gaps.hi_, hi, "hi")
