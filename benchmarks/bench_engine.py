"""Engine benchmarks: one-profile analyze latency, batch score throughput, training time, each
beside the floor of the work it must do, measured in the same run (so the ratio travels across
machines): analyze against one-row SHAP (`pred_contribs`) of the same booster; scoring against
KMeans + XGBoost predict of the same rows; training against a plain fit of the outcome model
with the served model's settings.

    python benchmarks/bench_engine.py [--sizes 5000,100000,1000000] [--search-budget 60] [--repeats 3]

Training and its floor are timed in turns, ``--repeats`` times each (this machine's speed drifts
by tens of percent between minutes): the table gives the medians and every pair's ratio.

Prints markdown tables with library versions, thread settings and the load average.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import platform
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from engine import api
from engine.demo import generate, write_demo
from engine.schema import load_schema


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ms = np.array(samples) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def timed_each(fn, items) -> tuple[float, float]:
    """(p50, p99) in ms of ``fn(item)`` over items, after 20 warm-up calls."""
    for item in items[:20]:
        fn(item)
    times = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - t)
    return _percentiles(times)


def shap_floor(model, frame: pd.DataFrame) -> tuple[float, float]:
    """One-row SHAP of the served booster on the same rows: what any explained analysis costs."""
    designs = [model.outcome.design(frame.iloc[[i]]) for i in range(len(frame))]
    return timed_each(model.outcome.contributions_design, designs)


def row(label: str, n: int, p50: float, p99: float, floor: float | None) -> str:
    ratio = f"{p50 / floor:.2f}×" if floor else "—"
    return f"| {label} | {n} | {p50:.2f} | {p99:.2f} | {floor:.2f} | {ratio} |" if floor else f"| {label} | {n} | {p50:.2f} | {p99:.2f} | — | — |"


def bench_score(model, frame: pd.DataFrame, label: str, floor_rows_s: float) -> str:
    model.score(frame.head(1000))
    t = time.perf_counter()
    model.score(frame)
    seconds = time.perf_counter() - t
    rate = len(frame) / seconds
    return f"| {label} | {len(frame):,} | {seconds:.2f} | {rate:,.0f} | {floor_rows_s:,.0f} | {floor_rows_s / rate:.1f}× slower |"


def score_floor(model, frame: pd.DataFrame) -> float:
    """Rows/s of the models alone on the same rows: segment assignment + XGBoost predict."""
    X = model.space.numeric_table(frame)
    Z = model.scaler.transform(X)
    D = model.outcome.design(frame)
    t = time.perf_counter()
    model.segments.predict(Z[:, model.cluster_index])
    model.outcome.predict_design(D)
    return len(frame) / (time.perf_counter() - t)


def anomaly_walk(model, frame: pd.DataFrame) -> float:
    """Rows/s of the isolation forest's tree walk alone on the same rows, as scoring runs it
    (scikit-learn's, split across the compute threads): a model the floor leaves out, so floor
    + walk is about as close as a batch with that model comes to the floor."""
    Z = model.scaler.transform(model.space.numeric_table(frame))
    t = time.perf_counter()
    model.multivariate.score(Z)
    return len(frame) / (time.perf_counter() - t)


def fit_floor(workspace, frame: pd.DataFrame) -> float:
    """Seconds of one plain fit of the served outcome model on the same rows, with its settings
    (the trees it kept, depth, rate, threads): the least any training with an outcome model does."""
    model = workspace.model()
    outcome, target = model.outcome, model.schema.target
    y = (frame[target.column].astype(str) == str(target.positive)).astype(float) if target.kind != "numeric" else frame[target.column].astype(float)
    keep = y.notna().to_numpy()
    params = {**outcome._booster_params(None, 0), "n_estimators": outcome.best_trees_}
    estimator = xgb.XGBRegressor if target.kind == "numeric" else xgb.XGBClassifier
    D = outcome.design(frame[keep])
    t = time.perf_counter()
    estimator(**params).fit(D, y[keep])
    return time.perf_counter() - t


def header() -> str:
    threads = ", ".join(f"{k}={os.environ.get(k, 'unset')}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY"))
    libs = " · ".join(f"{n} {version(n)}" for n in ("numpy", "pandas", "scikit-learn", "xgboost", "shap"))
    return f"python {platform.python_version()} · {libs} · {os.cpu_count()} CPUs · {threads} · load average {os.getloadavg()[0]:.2f}\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,100000,1000000")
    parser.add_argument("--search-budget", type=float, default=60.0)
    parser.add_argument("--search-sizes", default="5000,100000")
    parser.add_argument("--repeats", type=int, default=3, help="trainings (each beside its floor) per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    search_sizes = {int(s) for s in args.search_sizes.split(",") if s}

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = write_demo(tmp / "demo", n_companies=5000, seed=0)
        home = tmp / "home"
        api.workspace(home).train(paths["companies"], paths["schema"], seed=0)
        model = api.workspace(home).model()
        checked, _ = api.load_dataset(paths["companies"], model.schema)
        rows = pd.read_csv(paths["companies"]).drop(columns=["high_growth"]).head(1000)
        rows = rows.fillna({"inventory_turnover": 0.0, "revenue_per_employee": 150000.0, "profit_margin": 0.1,
                            "customer_retention_rate": 0.8, "customer_acquisition_cost": 500.0, "revenue_growth": 0.05})
        profiles = rows.to_dict("records")
        # The analysis part alone, on a shallow copy: the workspace caches its models, so setting
        # outcome=None on "another" load emptied the full model too (what_if read 0.00 ms).
        plain = copy.copy(model)
        plain.outcome = None

        print(header())
        print("## analyze latency, one profile in-process (ms; floor: one-row SHAP of the same booster)\n")
        print("| path | profiles | p50 | p99 | floor p50 | p50 ÷ floor |\n|---|---|---|---|---|---|")
        floor, _ = shap_floor(model, checked.head(len(profiles)))
        print(row("segments + anomalies + recommendations + percentiles", len(profiles), *timed_each(plain.analyze, profiles), None))
        print(row("full: + prediction + SHAP + model effects", len(profiles), *timed_each(model.analyze, profiles), floor))
        print(row("what_if, one change (probability + SHAP)", len(profiles), *timed_each(lambda p: model.what_if(p, {"data": 4.5}), profiles), floor))

        print("\n## score throughput (floor: segment assignment + XGBoost predict of the same rows)\n")
        print("| path | rows | seconds | rows/s | floor rows/s | ratio |\n|---|---|---|---|---|---|")
        big = pd.concat([checked] * 20, ignore_index=True)  # 100,000 rows
        floor_rate = score_floor(model, big)
        print(bench_score(plain, big, "segments + anomalies + percentiles", floor_rate))
        print(bench_score(model, big, "+ probability", floor_rate))
        walk = anomaly_walk(model, big)
        bound = 1.0 / (1.0 / floor_rate + 1.0 / walk)  # the floor, then the walk
        print(f"| the isolation forest's walk alone | {len(big):,} | {len(big) / walk:.2f} | {walk:,.0f} | {floor_rate:,.0f} | {floor_rate / walk:.1f}× the floor's time |")
        print(f"| the floor, then that walk (each on every core) | {len(big):,} | {len(big) / bound:.2f} | {bound:,.0f} | {floor_rate:,.0f} | {floor_rate / bound:.1f}× slower |")

        print("\n## training time (seconds, 2-core machine)\n")
        print(f"| companies | analysis models only | + outcome model, CV, SHAP (median of {args.repeats}) | floor: one plain fit of the outcome model (median) | all ÷ floor: median (each run) | + search (budget) |\n|---|---|---|---|---|---|")
        schema = load_schema(paths["schema"])
        no_target = dataclasses.replace(schema, target=None)
        for n in sizes:
            frame = generate(n_companies=n, seed=1)["companies"]
            t = time.perf_counter()
            api.workspace(tmp / f"a{n}").train(frame, no_target, seed=0)
            analysis = time.perf_counter() - t
            full = searched = floor_s = ratio = "-"
            if n <= 100_000:
                runs = []  # (training seconds, floor seconds), in turns
                for r in range(args.repeats):
                    t = time.perf_counter()
                    api.workspace(tmp / f"f{n}-{r}").train(frame, schema, seed=0)
                    runs.append((time.perf_counter() - t, fit_floor(api.workspace(tmp / f"f{n}-{r}"), frame)))
                seconds, fit = (float(np.median(column)) for column in zip(*runs, strict=True))
                each = ", ".join(f"{a / b:.2f}" for a, b in runs)
                full, floor_s, ratio = f"{seconds:.1f}", f"{fit:.1f}", f"{float(np.median([a / b for a, b in runs])):.2f}× ({each})"
            if n in search_sizes:
                t = time.perf_counter()
                api.workspace(tmp / f"s{n}").train(frame, schema, seed=0, search=True, search_budget_s=args.search_budget)
                searched = f"{time.perf_counter() - t:.1f} ({args.search_budget:.0f} s budget)"
            print(f"| {n:,} | {analysis:.1f} | {full} | {floor_s} | {ratio} | {searched} |", flush=True)


if __name__ == "__main__":
    main()
