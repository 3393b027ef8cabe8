"""Benchmark time series from a dataset's own ``time`` column: the monthly median of every
score and metric, overall and per value of the broadest segment column (the shape of the demo's
``benchmarks_monthly.csv``: month, group column, metric, value)."""

from __future__ import annotations

import pandas as pd

from engine.schema import Schema, as_times

MIN_ROWS = 5  # a monthly median of fewer rows is noise, not a benchmark
ALL = "all"


def benchmark_series(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame | None:
    """Long table month, <group column>, metric, value; None without a usable time column."""
    if not schema.time or schema.time not in frame.columns:
        return None
    month = as_times(frame[schema.time]).dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    if month.notna().sum() < MIN_ROWS:
        return None
    group = schema.segments[0] if schema.segments else "group"
    metrics = [f.name for f in schema.features if f.numeric]
    data = frame[metrics].assign(month=month, **{group: frame[group].astype(object) if group in frame.columns else ALL}).dropna(subset=["month"])
    parts = [data.assign(**{group: ALL})] + ([data.dropna(subset=[group])] if group in frame.columns else [])
    long = pd.concat(parts).melt(id_vars=["month", group], var_name="metric", value_name="value").dropna(subset=["value"])
    grouped = long.groupby(["month", group, "metric"])["value"]
    out = grouped.median()[grouped.size() >= MIN_ROWS].reset_index()
    out[group] = out[group].astype(str)
    return out if not out.empty else None
