"""Shared data for the drift tests: a 20-column frame shaped like real company data."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# Lets a bare `pytest tests/drift` import `engine` before the project is installed or
# pyproject sets `pythonpath`; harmless afterwards.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


def make_heavy_tailed_frame(n_rows: int, seed: int) -> tuple[pd.DataFrame, list[str], list[str]]:
    """12 numeric + 8 categorical columns: heavy tails, ties, zero inflation, 20% missing.

    Returns ``(frame, numeric_columns, categorical_columns)``.
    """
    rng = np.random.default_rng(seed)

    def with_missing(values: np.ndarray, share: float = 0.2) -> np.ndarray:
        values = values.astype(float if values.dtype.kind in "if" else object)
        values[rng.random(n_rows) < share] = np.nan
        return values

    numeric = {
        "normal": rng.normal(50, 10, n_rows),
        "lognormal_sigma2": rng.lognormal(0, 2, n_rows),
        "pareto_1_5": rng.pareto(1.5, n_rows) + 1,
        "student_t_1_5": rng.standard_t(1.5, n_rows),
        "cauchy": rng.standard_cauchy(n_rows),
        "ratio_missing": with_missing(rng.lognormal(0, 2, n_rows) / rng.lognormal(0, 1, n_rows)),
        "zero_inflated": np.where(rng.random(n_rows) < 0.6, 0.0, rng.lognormal(3, 1.5, n_rows)),
        "poisson_counts": rng.poisson(2, n_rows),
        "integer_score": rng.integers(0, 6, n_rows),
        "employees": np.round(rng.pareto(1.2, n_rows) * 10).astype(int),
        "t_missing": with_missing(rng.standard_t(1.5, n_rows)),
        "constant": np.full(n_rows, 3.0),
    }
    industry_share = [0.3, 0.2, 0.15, 0.1, 0.1, 0.08, 0.05, 0.02]
    categorical = {
        "industry": rng.choice(list("ABCDEFGH"), n_rows, p=industry_share),
        "size": rng.choice(["small", "medium", "large"], n_rows),
        "region": with_missing(rng.choice(["EU", "NA", "APAC", "LATAM", "MEA"], n_rows)),
        "zipf_code": np.minimum(rng.zipf(1.6, n_rows), 60).astype(str),
        "flag": rng.random(n_rows) < 0.1,
        "tier": rng.integers(1, 4, n_rows),
        "rare_flag": rng.random(n_rows) < 0.01,
        "channel": with_missing(
            rng.choice(["web", "store", "phone", "partner"], n_rows, p=[0.6, 0.25, 0.1, 0.05])
        ),
    }
    frame = pd.DataFrame({**numeric, **categorical})
    return frame, list(numeric), list(categorical)


@pytest.fixture
def heavy_tailed_frame():
    """The factory ``make_heavy_tailed_frame(n_rows, seed)``."""
    return make_heavy_tailed_frame
