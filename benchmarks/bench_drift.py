"""Drift: accuracy and speed beside Evidently's default, on the same frames.

Accuracy: the share of columns flagged when nothing changed (random halves of one period) and
which columns are flagged under a known shift, on the built-in heavy-tailed ratios dataset and
on a synthetic 30-column table (lognormal, Student t and Poisson columns, 10% missing).
Speed: 1,000,000 reference and 1,000,000 current rows x 30 columns; the floor is one pass that
any exact check must make (sorting each numeric column, counting each categorical one).

Evidently runs in its own environment (see ``evidently_drift.py``); point ``EVIDENTLY_PYTHON``
at its interpreter (default ``.evenv/bin/python``), or its columns are left empty.
Usage: ``python benchmarks/bench_drift.py [rows for the 30-column speed run]``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.demo.ratios import SHIFTED, generate  # noqa: E402
from engine.monitoring.drift import ReferenceProfile, drift_report  # noqa: E402

EVIDENTLY = os.environ.get("EVIDENTLY_PYTHON", str(ROOT / ".evenv" / "bin" / "python"))
N_NUMERIC, N_CATEGORICAL = 18, 12
SYNTHETIC_SHIFTED = [f"num_{i:02d}" for i in range(N_NUMERIC // 3)]


def make_frame(n_rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Heavy-tailed numeric columns (10% missing) and categorical ones; ``shift`` moves the
    first third of the numeric columns."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        kind, move = i % 3, shift if f"num_{i:02d}" in SYNTHETIC_SHIFTED else 0.0
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


def ours(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[list[str], float, float]:
    """-> (drifted columns, seconds to profile the reference, seconds to check the current)."""
    numeric = [c for c in reference if pd.api.types.is_numeric_dtype(reference[c])]
    categorical = [c for c in reference if c not in numeric]
    started = time.perf_counter()
    profile = ReferenceProfile.from_frame(reference, numeric, categorical)
    built = time.perf_counter() - started
    started = time.perf_counter()
    report = drift_report(profile, current)
    checked = time.perf_counter() - started
    return [c.column for c in report.columns if c.drifted or c.missing_drifted], built, checked


def evidently(reference: pd.DataFrame, current: pd.DataFrame) -> dict | None:
    if not Path(EVIDENTLY).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        reference.to_parquet(f"{tmp}/reference.parquet")
        current.to_parquet(f"{tmp}/current.parquet")
        done = subprocess.run([EVIDENTLY, str(ROOT / "benchmarks" / "evidently_drift.py"), f"{tmp}/reference.parquet", f"{tmp}/current.parquet"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def floor(current: pd.DataFrame) -> float:
    """One pass over the current rows: sort every numeric column, count every categorical one."""
    started = time.perf_counter()
    for column in current:
        values = current[column]
        if pd.api.types.is_numeric_dtype(values):
            np.sort(values.to_numpy(float))
        else:
            values.value_counts()
    return time.perf_counter() - started


def ratios_frames(rows: int):
    """(name, reference, current, truly shifted columns) cases on the ratios dataset."""
    features = lambda f: f.drop(columns=["firm_id", "fiscal_year_end", "next_year_margin"])  # noqa: E731
    base = features(generate(2 * rows, seed=0))
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(base))
        yield f"ratios, random halves (seed {seed})", base.iloc[order[:rows]], base.iloc[order[rows:]], []
    yield "ratios, next year (known shift)", base.iloc[:rows], features(generate(rows, seed=0, shifted=True)), list(SHIFTED)


def synthetic_frames(rows: int):
    yield "synthetic 30 columns, two draws (no change)", make_frame(rows, 0), make_frame(rows, 1), []
    yield "synthetic 30 columns, shift 0.3 in 6 columns", make_frame(rows, 0), make_frame(rows, 1, shift=0.3), SYNTHETIC_SHIFTED


def share(flagged: list[str], truth: list[str], n_columns: int) -> str:
    wrong = len(set(flagged) - set(truth))
    found = len(set(flagged) & set(truth))
    false_alarms = f"{wrong}/{n_columns - len(truth)} unchanged flagged ({wrong / (n_columns - len(truth)):.0%})"
    return false_alarms + (f", {found}/{len(truth)} shifted found" if truth else "")


def main(speed_rows: int) -> None:
    import pyarrow
    import scipy

    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}, pyarrow {pyarrow.__version__}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; load average {os.getloadavg()[0]:.2f}; evidently: {EVIDENTLY if Path(EVIDENTLY).exists() else 'not installed'}\n")
    print("## Accuracy (ours: ks_distance / tvd + missing share; Evidently: DataDriftPreset defaults)\n")
    print("| case | rows each side | ours | Evidently |")
    print("| --- | ---: | --- | --- |")
    for name, reference, current, truth in [*ratios_frames(20_000), *synthetic_frames(20_000)]:
        flagged, _, _ = ours(reference, current)
        theirs = evidently(reference, current)
        n = reference.shape[1]
        print(f"| {name} | {len(reference):,} | {share(flagged, truth, n)} | {share(theirs['drifted'], truth, n) if theirs else '—'} |")

    print(f"\n## Speed ({speed_rows:,} reference and {speed_rows:,} current rows x 30 columns)\n")
    reference, current = make_frame(speed_rows, 0), make_frame(speed_rows, 1, shift=0.3)
    _, built, checked = ours(reference, current)
    base = floor(current)
    theirs = evidently(reference, current)
    print("| what | seconds | x floor |")
    print("| --- | ---: | ---: |")
    print(f"| floor: sort each numeric, count each categorical current column | {base:.2f} | 1.0 |")
    print(f"| ours: drift_report (current side) | {checked:.2f} | {checked / base:.1f} |")
    print(f"| ours: reference profile (once, at training) | {built:.2f} | {built / base:.1f} |")
    if theirs:
        print(f"| Evidently {theirs['version']} DataDriftPreset | {theirs['seconds']:.2f} | {theirs['seconds'] / base:.1f} |")
        print(f"\nEvidently / ours (check + profile): {theirs['seconds'] / (checked + built):.0f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
