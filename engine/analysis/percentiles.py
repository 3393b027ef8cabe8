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
    rows = np.arange(len(values))
    grid = np.broadcast_to(grid, (len(values), grid.shape[-1]))
    return _interpolate(lambda i: grid[rows, i], grid.shape[-1], below, at_or_below, values)


def rank_in_groups(grids: np.ndarray, groups: np.ndarray, values: np.ndarray, members: list | None = None) -> np.ndarray:
    """``rank_on_grid(grids[groups], values)`` for a batch: grids (G, 101), groups (m,).

    One binary search per group on its own grid (small and cache-friendly), then one
    interpolation for the whole batch. ``members``: ``group_members(groups)``, when known.
    """
    if len(values) == 0:
        return np.empty(0)
    below = np.empty(len(values), dtype=np.intp)
    at_or_below = np.empty(len(values), dtype=np.intp)
    for rows in group_members(groups) if members is None else members:
        grid, v = grids[groups[rows[0]]], values[rows]
        below[rows] = np.searchsorted(grid, v, side="left")
        at_or_below[rows] = np.searchsorted(grid, v, side="right")
    flat, n = grids.ravel(), grids.shape[1]  # one index into the flat grids: cheaper than two
    return _interpolate(lambda i: flat[groups * n + i], n, below, at_or_below, values)


def group_members(groups: np.ndarray) -> list[np.ndarray]:
    """The row indices of each distinct value of ``groups``."""
    order = np.argsort(groups, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(groups[order])) + 1)


def _interpolate(grid_at, n: int, below: np.ndarray, at_or_below: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Ranks from the grid points below and at-or-below each value; ``grid_at(i)``: the i-th grid
    point of each value's grid. Ties get the middle of their run; others are interpolated."""
    inner = np.clip(below, 1, n - 1)
    left, right = grid_at(inner - 1), grid_at(inner)
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
        members = None
        for f in range(X.shape[1]):
            # Most features share the peer group of their row (a narrower one is skipped only
            # where it lacks values), so the grouping is reused while the column is the same.
            if members is None or not np.array_equal(groups[:, f], groups[:, f - 1]):
                members = group_members(groups[:, f])
            ranks[:, f] = rank_in_groups(stats.grid_[:, f], groups[:, f], np.nan_to_num(X[:, f]), members)
    ranks[np.isnan(X) | np.isnan(ranks)] = np.nan
    return np.where(signs < 0, 100.0 - ranks, ranks)
