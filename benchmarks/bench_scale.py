"""Scale-out benchmark: scoring generated Parquet parts on a Dask local cluster against the
in-process path, and training both ways, each beside its floor measured in the same run.

    python benchmarks/bench_scale.py [--rows 10000000] [--part-rows 500000] [--in-process-rows 2000000] [--train-rows 1000000]

Scoring rows are the demo's rows drawn with replacement (seeded) under new ids, written as
Parquet parts. Scoring floor: segment assignment + XGBoost predict of the same rows in this
process. Training floor: one plain fit of the outcome model with the served model's settings.
Peak RSS is printed for every process (client and each worker). Prints markdown tables with
library versions, thread settings and the load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from engine import api
from engine.demo import write_demo


def write_parts(source: pd.DataFrame, folder: Path, rows: int, part_rows: int, seed: int = 0) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    parts = 0
    for start in range(0, rows, part_rows):
        n = min(part_rows, rows - start)
        part = source.iloc[rng.integers(0, len(source), n)].reset_index(drop=True)
        part["company_id"] = np.arange(start, start + n)
        part.to_parquet(folder / f"part-{parts:04d}.parquet", index=False)
        parts += 1
    return parts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_process_score(home: Path, data: Path) -> tuple[float, float]:
    """Score one file in a fresh process -> (seconds, peak RSS MB of that process)."""
    code = (
        "import time, resource, pandas as pd; from engine import api\n"
        f"ws = api.workspace({str(home)!r}); ws.champion()\n"
        f"t = time.perf_counter(); frame = pd.read_parquet({str(data)!r}); ws.score(frame)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def floor_rows_per_s(model, frame: pd.DataFrame) -> float:
    """Segment assignment + XGBoost predict of checked rows (what any scoring must do)."""
    X = model.scaler.transform(model.space.numeric_table(frame))
    D = model.outcome.design(frame)
    started = time.perf_counter()
    model.segments.predict(X[:, model.cluster_index])
    model.outcome.predict_design(D)
    return len(frame) / (time.perf_counter() - started)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--part-rows", type=int, default=500_000)
    p.add_argument("--in-process-rows", type=int, default=2_000_000)
    p.add_argument("--train-rows", type=int, default=1_000_000)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    home = work / "home"
    files = write_demo(home / "demo", n_companies=5000, seed=0)
    api.workspace(home).train(files["companies"], files["schema"], seed=0)
    ws = api.workspace(home)
    model = ws.champion()
    source = pd.read_csv(files["companies"])

    print(f"versions: python {platform.python_version()}, dask {version('dask')}, distributed {version('distributed')}, xgboost {version('xgboost')}, pandas {version('pandas')}, pyarrow {version('pyarrow')}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} (workers: 1)\n")
    if args.rows:
        score_both_ways(args, work, home, ws, model, source)
    if args.train_rows:
        train_both_ways(args, work, files["schema"], ws, model)
    print(f"\n(work folder {work}; remove it when done)")


def score_both_ways(args, work: Path, home: Path, ws, model, source: pd.DataFrame) -> None:
    t = time.perf_counter()
    parts = write_parts(source, work / "parts", args.rows, args.part_rows)
    print(f"wrote {args.rows:,} rows in {parts} parts in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    checked, _ = ws.load_dataset(source.sample(100_000, replace=True, random_state=0).reset_index(drop=True), model.schema)
    floor = floor_rows_per_s(model, checked)

    t = time.perf_counter()
    summary = ws.score(work / "parts", out=work / "scored", scheduler="local")
    dask_s = time.perf_counter() - t

    write_parts(source, work / "one", args.in_process_rows, args.in_process_rows, seed=1)
    mem_s, mem_rss = in_process_score(home, work / "one" / "part-0000.parquet")

    print(f"\n## Scoring (Dask local cluster, {args.workers} workers x 1 thread; {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})\n")
    print("| path | rows | seconds | rows/s | floor rows/s (1 core) | ratio to floor x cores | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rate = args.rows / dask_s
    worker_rss = ", ".join(f"{w['peak_rss_mb']:.0f} MB ({w['parts']} parts)" for w in summary["workers"])
    print(f"| Dask, {parts} parts of {args.part_rows:,} | {args.rows:,} | {dask_s:.1f} | {rate:,.0f} | {floor:,.0f} | {rate / (floor * args.workers):.2f} | workers: {worker_rss}; client {peak_rss_mb():.0f} MB |")
    print(f"| in-process, one table | {args.in_process_rows:,} | {mem_s:.1f} | {args.in_process_rows / mem_s:,.0f} | {floor:,.0f} | {args.in_process_rows / mem_s / floor:.2f} | {mem_rss:.0f} MB |")


def train_both_ways(args, work: Path, schema: str, ws, model) -> None:
    # Fresh rows from the demo generator (not resampled copies), so that the held-out AUC means
    # something: a copy of a row on both sides of the split would make it meaningless.
    fresh = write_demo(work / "fresh", n_companies=args.train_rows, seed=2)
    table = pd.read_csv(fresh["companies"])
    table.to_parquet(work / "train.parquet", index=False)
    (work / "train").mkdir()
    for i, start in enumerate(range(0, len(table), args.part_rows)):
        table.iloc[start:start + args.part_rows].to_parquet(work / "train" / f"part-{i:04d}.parquet", index=False)
    del table
    results = {}
    for name, scheduler, data in (("Dask", "local", work / "train"), ("in-process", None, work / "train.parquet")):
        t = time.perf_counter()
        r = api.workspace(work / f"home-{name}").train(data, schema, seed=0, scheduler=scheduler)
        results[name] = (time.perf_counter() - t, r["metrics"]["holdout"]["roc_auc"], peak_rss_mb())
    checked, _ = ws.load_dataset(work / "train.parquet", model.schema, training=True)
    from sklearn.base import clone

    plain = clone(model.outcome).set_params(n_estimators=model.outcome.n_estimators)
    t = time.perf_counter()
    plain.fit(checked, checked[model.schema.target.column].to_numpy())
    floor_fit = time.perf_counter() - t
    print(f"\n## Training {args.train_rows:,} fresh rows (load {os.getloadavg()[0]:.2f})\n")
    print("| path | seconds | held-out ROC AUC | floor: one plain fit (s) | ratio | client peak RSS so far |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (seconds, auc, rss) in results.items():
        print(f"| {name} | {seconds:.1f} | {auc:.4f} | {floor_fit:.1f} | {seconds / floor_fit:.1f}x | {rss:.0f} MB |")


if __name__ == "__main__":
    main()
