"""Percentile rankings of a company's values against its peer group.

Each group keeps 101 percentiles per feature; a value's rank is interpolated between them.
Ties (scores rounded to one decimal) sit on flat runs of the grid and get the middle of the
run, which matches the empirical percentile with ties counted half ("mean" kind).
"""

from __future__ import annotations

import numpy as np

from engine.analysis.peers import GRID, PeerStats


def rank_on_grid(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Raw (not direction-aware) percentile ranks 0-100 of ``values`` (m,) on sorted percentile
    grids: one grid (101,) shared by all values, or one grid per value (m, 101)."""
    if grid.ndim == 1:  # one shared grid: binary search
        below = np.searchsorted(grid, values, side="left")
        at_or_below = np.searchsorted(grid, values, side="right")
    else:
        below = (grid < values[:, None]).sum(axis=-1)  # grid points strictly below the value
        at_or_below = (grid <= values[:, None]).sum(axis=-1)
    n = grid.shape[-1]
    inner = np.clip(below, 1, n - 1)
    grid = np.broadcast_to(grid, (len(values), n))
    rows = np.arange(len(values))
    left, right = grid[rows, inner - 1], grid[rows, inner]
    width = np.where(right > left, right - left, 1.0)
    between = (inner - 1) + np.clip((values - left) / width, 0.0, 1.0)
    rank = np.where(at_or_below > below, (below + at_or_below - 1) / 2.0, between)
    rank = np.where(at_or_below == 0, 0.0, np.where(below == n, n - 1.0, rank))
    return rank * (GRID[1] - GRID[0])


def percentile_ranks(stats: PeerStats, X: np.ndarray, groups: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """X (n, f) raw, groups (n, f) chosen peer group per value -> (n, f) direction-aware ranks.

    ``signs`` per feature: +1 higher is better, -1 lower is better (rank flipped), 0 neither.
    """
    ranks = np.full(X.shape, np.nan)
    if len(X) == 1:  # one profile: every feature's grid at once
        f = np.arange(X.shape[1])
        ranks[0] = rank_on_grid(stats.grid_[groups[0], f], np.nan_to_num(X[0]))
    else:
        for f in range(X.shape[1]):
            order = np.argsort(groups[:, f], kind="stable")
            bounds = np.flatnonzero(np.diff(groups[order, f])) + 1
            for rows in np.split(order, bounds):
                ranks[rows, f] = rank_on_grid(stats.grid_[groups[rows[0], f], f], np.nan_to_num(X[rows, f]))
    ranks[np.isnan(X) | np.isnan(ranks)] = np.nan
    return np.where(signs < 0, 100.0 - ranks, ranks)
