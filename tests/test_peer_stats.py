"""Peer statistics read from sorted runs: the same numbers, to the last bit, as numpy's
nan-functions per group (the rule as first written, kept here as the reference)."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from engine.analysis.features import FeatureSpace
from engine.analysis.peers import (
    GRID,
    PeerGroups,
    PeerStats,
    group_rows,
    heavy_tails,
)
from engine.analysis.quantiles import run_quantiles
from engine.analysis.scaling import robust_scale
from engine.demo import customers, generator, ratios
from engine.schema import parse_schema
from engine.schema.validation import check_frame
from engine.training.fit import fitting_schema


def _reference(X: np.ndarray, codes: np.ndarray, n_groups: int) -> PeerStats:
    """PeerStats.fit as first written: numpy's nan-functions group by group."""
    stats = PeerStats()
    stats.heavy_, stats.unit_ = heavy_tails(X)
    T = stats.transform(X)
    f = X.shape[1]
    stats.count_ = np.zeros((n_groups, f), dtype=np.int64)
    stats.grid_ = np.full((n_groups, f, len(GRID)), np.nan)
    stats.center_ = np.full((n_groups, f), np.nan)
    stats.scale_ = np.ones((n_groups, f))
    for g, rows in group_rows(codes):
        x, t = X[rows], T[rows]
        count = (~np.isnan(x)).sum(axis=0)
        stats.count_[g] = count
        ok = count > 0
        if not ok.any():
            continue
        stats.grid_[g][ok] = np.nanpercentile(x[:, ok], GRID, axis=0).T
        stats.center_[g][ok] = np.nanmedian(t[:, ok], axis=0)
        stats.scale_[g][ok] = robust_scale(t[:, ok])
    return stats


def _assert_same(new: PeerStats, old: PeerStats) -> None:
    for name in ("count_", "grid_", "center_", "scale_"):
        a, b = getattr(new, name), getattr(old, name)
        np.testing.assert_array_equal(a, b, err_msg=name)  # NaN where NaN; every value to the bit
        nonzero = a != 0  # which of tied -0.0 and 0.0 numpy picks is arbitrary; ours is 0.0
        assert (np.signbit(a[nonzero]) == np.signbit(b[nonzero])).all() and not np.signbit(a[a == 0]).any(), name


def _table(kind: str, n: int):
    if kind == "demo":
        frame, text = generator.generate(n_companies=n, seed=3)["companies"], generator.schema_text()
    else:
        module = customers if kind == "customers" else ratios
        frame, text = module.generate(n=n, seed=3), module.schema_text()
    return frame, fitting_schema(frame, parse_schema(tomllib.loads(text)))


@pytest.mark.parametrize("kind", ["demo", "customers", "ratios"])
def test_every_statistic_is_what_numpy_gives_per_group(kind):
    frame, schema = _table(kind, 6000)
    frame = check_frame(frame, schema)
    X = FeatureSpace(schema).numeric_table(frame)
    groups = PeerGroups().fit(frame, schema.segments)
    codes = groups.codes(frame)
    _assert_same(PeerStats().fit(X, codes, groups.n_groups), _reference(X, codes, groups.n_groups))


@pytest.mark.parametrize("seed", range(6))
def test_gaps_ties_tiny_groups_and_flat_columns(seed):
    """Missing values, rounded values (ties), groups of one to a few rows, a column with one
    value in most rows (the MAD and standard-deviation fallbacks), an all-missing group."""
    rng = np.random.default_rng(seed)
    n = 3000
    X = np.column_stack([
        rng.lognormal(0, 2, n),  # heavy-tailed
        np.round(rng.normal(0, 1, n), 1),  # ties
        (rng.random(n) < 0.1).astype(float),  # a rare flag: IQR and MAD zero
        np.where(rng.random(n) < 0.6, 0.0, rng.normal(5, 1, n)),  # zero-inflated
        rng.normal(0, 1, n),
    ])
    X[rng.random(X.shape) < 0.15] = np.nan
    X[:40, 4] = np.nan
    codes = np.column_stack([rng.integers(-1, 300, n), rng.integers(300, 310, n), np.full(n, 310)])
    codes[:40, 0] = 311  # a group whose last column is all missing
    _assert_same(PeerStats().fit(X, codes, 312), _reference(X, codes, 312))


def test_run_quantiles_match_numpy_on_every_run_length():
    rng = np.random.default_rng(0)
    q = np.true_divide(GRID, 100)
    for n in list(range(1, 40)) + [99, 100, 101, 1000]:
        v = np.sort(np.round(rng.normal(size=n), 2))
        got = run_quantiles(v, np.array([0]), np.array([n]), q)[0]
        np.testing.assert_array_equal(got, np.percentile(v, GRID))
