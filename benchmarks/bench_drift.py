"""Benchmark: drift_report on a 30-column table (18 numeric, 12 categorical).

Builds one reference profile from 50,000 training rows (the large-reference path:
Wasserstein and Jensen–Shannon) and one from 1,000 rows (the small-reference path: KS and
chi-square), then times ``drift_report`` on 10k, 100k and 1,000,000 current rows (best of 3)
and prints a markdown table. Run: ``python benchmarks/bench_drift.py``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.monitoring.drift import ReferenceProfile, drift_report  # noqa: E402

N_NUMERIC, N_CATEGORICAL = 18, 12
CURRENT_ROWS = (10_000, 100_000, 1_000_000)
REPEATS = 3


def make_frame(n_rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Heavy-tailed numeric columns (10% missing) and categorical ones; ``shift`` moves the first third of the numerics."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        kind, move = i % 3, shift if i < N_NUMERIC // 3 else 0.0
        if kind == 0:
            values = rng.lognormal(move, 2.0, n_rows)
        elif kind == 1:
            values = rng.standard_t(1.5, n_rows) + move
        else:
            values = rng.poisson(3 + move, n_rows).astype(float)
        values[rng.random(n_rows) < 0.1] = np.nan
        columns[f"num_{i:02d}"] = values
    levels = np.array([f"level_{k:02d}" for k in range(5 + N_CATEGORICAL)])
    for i in range(N_CATEGORICAL):
        weights = 1.0 / np.arange(1, 5 + i + 1)
        columns[f"cat_{i:02d}"] = rng.choice(levels[: 5 + i], n_rows, p=weights / weights.sum())
    return pd.DataFrame(columns)


def best_time(func, repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    training = make_frame(50_000, seed=0)
    numeric = [c for c in training if c.startswith("num_")]
    categorical = [c for c in training if c.startswith("cat_")]
    profiles = {}
    for label, n_rows in (("large", 50_000), ("small", 1_000)):
        frame = training.iloc[:n_rows]
        build = best_time(lambda f=frame: ReferenceProfile.from_frame(f, numeric, categorical), 1)
        profiles[label] = ReferenceProfile.from_frame(frame, numeric, categorical)
        size_kb = len(json.dumps(profiles[label].to_dict())) / 1024
        print(
            f"profile from {n_rows:,} rows: built in {build:.2f} s, reference.json {size_kb:,.0f} KiB"
        )

    print()
    print(
        "| current rows | reference 50,000 rows: wasserstein / jensenshannon (s) "
        "| reference 1,000 rows: ks / chisquare (s) | drifted columns (large ref) |"
    )
    print("| ---: | ---: | ---: | ---: |")
    for n_rows in CURRENT_ROWS:
        current = make_frame(n_rows, seed=1, shift=0.3)
        large = best_time(lambda c=current: drift_report(profiles["large"], c))
        small = best_time(lambda c=current: drift_report(profiles["small"], c))
        report = drift_report(profiles["large"], current)
        print(f"| {n_rows:,} | {large:.2f} | {small:.2f} | {report.n_drifted}/{report.n_columns} |")


if __name__ == "__main__":
    main()
