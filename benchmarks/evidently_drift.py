"""Evidently's default data-drift check on two Parquet files, for ``bench_drift.py``.

Runs in a separate environment that has Evidently (it pins pandas below 3, which the product
does not): ``python -m venv .evenv && .evenv/bin/pip install evidently "pandas<3" pyarrow``.
Usage: ``.evenv/bin/python benchmarks/evidently_drift.py REFERENCE.parquet CURRENT.parquet``;
prints JSON: seconds, drifted columns, the method Evidently chose per column, its version.
"""

from __future__ import annotations

import json
import sys
import time

import evidently
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def main(reference_path: str, current_path: str) -> None:
    reference, current = pd.read_parquet(reference_path), pd.read_parquet(current_path)
    started = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    seconds = time.perf_counter() - started
    drifted, methods = [], {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        method, value, threshold = config["method"], metric["value"], config["threshold"]
        methods[config["column"]] = method
        # p-value methods drift below the threshold, distances at or above it.
        if (value < threshold) if "p_value" in method else (value >= threshold):
            drifted.append(config["column"])
    print(json.dumps({"seconds": seconds, "drifted": drifted, "methods": methods, "version": evidently.__version__}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
