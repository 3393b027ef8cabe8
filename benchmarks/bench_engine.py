"""Engine benchmarks: one-profile analyze latency, batch score throughput, training time.

    python benchmarks/bench_engine.py [--sizes 5000,100000,1000000] [--search-budget 60]

Prints markdown tables. Not a test: numbers depend on the machine (report them with it).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from engine import api
from engine.demo import generate, write_demo
from engine.schema import load_schema


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ms = np.array(samples) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def bench_analyze(model, profiles: list[dict], label: str) -> str:
    for p in profiles[:20]:
        model.analyze(p)
    times = []
    for p in profiles:
        t = time.perf_counter()
        model.analyze(p)
        times.append(time.perf_counter() - t)
    p50, p99 = _percentiles(times)
    return f"| {label} | {len(profiles)} | {p50:.2f} | {p99:.2f} |"


def bench_what_if(model, profiles: list[dict]) -> str:
    times = []
    for p in profiles:
        t = time.perf_counter()
        model.what_if(p, {"data": 4.5})
        times.append(time.perf_counter() - t)
    p50, p99 = _percentiles(times)
    return f"| what_if (probability + SHAP) | {len(profiles)} | {p50:.2f} | {p99:.2f} |"


def bench_score(model, frame: pd.DataFrame, label: str) -> str:
    model.score(frame.head(1000))
    t = time.perf_counter()
    model.score(frame)
    seconds = time.perf_counter() - t
    return f"| {label} | {len(frame):,} | {seconds:.2f} | {len(frame) / seconds:,.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,100000,1000000")
    parser.add_argument("--search-budget", type=float, default=60.0)
    parser.add_argument("--search-sizes", default="5000,100000")
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
        plain = api.workspace(home).model()
        plain.outcome = None  # the analysis part alone (issue 2's target)

        print("## analyze latency, one profile in-process (ms)\n")
        print("| path | profiles | p50 | p99 |\n|---|---|---|---|")
        print(bench_analyze(plain, profiles, "segments + anomalies + recommendations + percentiles"))
        print(bench_analyze(model, profiles, "full: + prediction + SHAP + model effects"))
        print(bench_what_if(model, profiles))

        print("\n## score throughput\n")
        print("| path | rows | seconds | rows/s |\n|---|---|---|---|")
        big = pd.concat([checked] * 20, ignore_index=True)  # 100,000 rows
        print(bench_score(plain, big, "segments + anomalies + percentiles"))
        print(bench_score(model, big, "+ probability"))

        print("\n## training time (seconds, 2-core machine)\n")
        print("| companies | analysis models only | + outcome model, CV, SHAP | + search (budget) |\n|---|---|---|---|")
        schema = load_schema(paths["schema"])
        no_target = dataclasses.replace(schema, target=None)
        for n in sizes:
            frame = generate(n_companies=n, seed=1)["companies"]
            t = time.perf_counter()
            api.workspace(tmp / f"a{n}").train(frame, no_target, seed=0)
            analysis = time.perf_counter() - t
            full = searched = "-"
            if n <= 100_000:
                t = time.perf_counter()
                api.workspace(tmp / f"f{n}").train(frame, schema, seed=0)
                full = f"{time.perf_counter() - t:.1f}"
            if n in search_sizes:
                t = time.perf_counter()
                api.workspace(tmp / f"s{n}").train(frame, schema, seed=0, search=True, search_budget_s=args.search_budget)
                searched = f"{time.perf_counter() - t:.1f} ({args.search_budget:.0f} s budget)"
            print(f"| {n:,} | {analysis:.1f} | {full} | {searched} |", flush=True)


if __name__ == "__main__":
    main()
