"""Training on Dask: the same kind of version the in-process path writes, from Parquet parts.

What is computed from which rows:
- **every row**, on the workers: the schema check (at most 1% of rows left out, as in-process);
  the values of segment columns and categories, hence the peer groups; the outcome model with
  ``xgboost.dask`` (the validation model, fitted on the rows not held out and stopped early on
  a hash-chosen tenth of them, is served), its held-out predictions and metrics; value
  frequencies per peer group (exact); percentile grids and robust centre and spread per peer group (``BinnedSketch``: the largest
  rank error is in the version's metrics); the drift reference (counts, means, spreads and PSI
  bin shares exact; quantiles from the sketch).
- **a sample** of at most ``SAMPLE_ROWS`` rows chosen by a hash of the row key (so the same
  rows in every run): the segments (k-means and its silhouette search), the neighbour index
  behind similar entities and actions, the anomaly models and which features are heavy-tailed,
  the baseline model, the global SHAP importance, the app's sample and the benchmark series.

Cross-validation is not run on Dask: the held-out rows (the same hash as in-process) are the
validation. The fitted pieces go through ``fit_version`` and ``register_fitted``, so the version
is written, verified, gated and served by the same code as an in-process one.
"""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import pandas as pd

from engine.analysis.features import FeatureSpace
from engine.analysis.peers import GRID, FrequencyStats, PeerGroups, PeerStats, heavy_tails
from engine.analysis.series import benchmark_series
from engine.errors import DataError
from engine.registry.versions import FORMAT
from engine.scale.outcome import fit_outcome
from engine.scale.parts import parquet_parts, with_partition_columns
from engine.scale.sketch import BinnedSketch
from engine.schema import (
    TRAINING_BAD_ROW_SHARE,
    Schema,
    check_frame,
    check_training_columns,
    load_schema,
    read_table,
)
from engine.training import evaluation
from engine.training.fit import RARE_MIN_PEERS, fit_version
from engine.training.register import register_fitted, unchanged, version_trained_as

SAMPLE_ROWS = 200_000
REFERENCE_BINS = 4096  # the drift reference's quantiles: finer than the peer groups' sketch


def train_on_parts(workspace, data, schema, *, scheduler: str, promote: bool, seed: int, k, min_peers: int, tolerance: float, series, progress, actor: str, force: bool, sample_rows: int = SAMPLE_ROWS) -> dict:
    """``train_version`` on a Dask cluster (see the module docstring)."""
    import dask

    from engine.scale.cluster import dask_client

    schema = schema if isinstance(schema, Schema) else load_schema(schema)
    _, files = parquet_parts(data)
    given_series = read_table(series) if series is not None else None
    params = {"seed": seed, "k": k, "min_peers": min_peers, "search": False, "search_budget_s": None, "sample_rows": sample_rows}
    fingerprint = _fingerprint(files, schema, params, given_series)
    registry = workspace.registry
    with registry.training_lock():
        registry.clean_partial()
        same = None if force else version_trained_as(registry, fingerprint)
        if same is not None:
            return unchanged(registry, same)
        # Text stays text (object) in every partition, as the in-process reader leaves it.
        with dask.config.set({"dataframe.convert-string": False}), dask_client(scheduler) as client:
            fitted, rows = fit_on_parts(client, files, schema, seed=seed, k=k, min_peers=min_peers, sample_rows=sample_rows, progress=progress)
        series_frame = given_series if given_series is not None else benchmark_series(fitted.sample, fitted.analyzer.schema)
        return register_fitted(workspace, fitted, series=series_frame, tolerance=tolerance, promote=promote, actor=actor, manifest={
            "data_fingerprint": fingerprint,
            "training_fingerprint": fingerprint,
            "data_source": str(data),
            "rows": rows,
            "trained_on": {"scheduler": scheduler, "parts": len(files)},
        })


def fit_on_parts(client, files, schema: Schema, *, seed: int, k, min_peers: int, sample_rows: int, progress=None):
    """-> (FittedVersion, rows trained on)."""
    import dask.dataframe as dd

    started = time.monotonic()
    report = progress or (lambda stage, fraction: None)
    report("check parts", 0.02)
    rows, left_out = _check_parts(client, files, schema)
    table = dd.from_map(_checked_part, [str(f) for f in files], schema=schema).persist()

    report("values and peer groups", 0.08)
    schema = schema.with_learned_values(_known_values(table, schema))
    combos = table[list(schema.segments)].drop_duplicates().compute() if schema.segments else pd.DataFrame(index=[0])
    groups = PeerGroups().fit(combos, schema.segments)
    sample = table.map_partitions(_sample_rows, schema, min(1.0, sample_rows / rows)).compute().reset_index(drop=True)
    check_training_columns(sample, schema, source=f"a sample of {len(sample):,} rows")

    space = FeatureSpace(schema)
    stats, frequencies, sketch_error = _peer_statistics(client, table, space, groups, sample, min_peers)
    outcome = None
    if schema.target is not None:
        report("outcome model (xgboost.dask)", 0.3)
        outcome = fit_outcome(client, table, sample, schema, seed)
    report("segments, neighbours and anomalies (sample)", 0.6)
    fitted = fit_version(sample, schema, seed=seed, k=k, min_peers=min_peers, progress=lambda stage, f: report(f"{stage} (sample)", 0.6 + 0.3 * f), groups=groups, outcome=outcome, stats=stats, frequencies=frequencies)
    report("drift reference (every row)", 0.92)
    fitted.reference = _reference(table, schema, fitted.analyzer, sample)
    fitted.metrics["scale_out"] = {
        "rows": rows,
        "parts": len(files),
        "sample_rows": len(sample),
        "sample": "segments, neighbours, anomaly models, baseline, SHAP importance and the app's sample",
        "peer_percentiles": "every row counted in bins cut at quantiles of the sample; a percentile is read inside its bin",
        "peer_percentile_max_rank_error_points": sketch_error,
    }
    if left_out:
        fitted.metrics["left_out"] = left_out
    fitted.seconds = time.monotonic() - started
    report("done", 1.0)
    return fitted, rows


# ----- every row: checks, values, sample -------------------------------------------------------
def _read_part(path: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        return with_partition_columns(pq.read_table(path).to_pandas(), path)
    except FileNotFoundError:
        raise DataError(f"a Dask worker cannot read {path}; workers need the input parts at the same path as the client.") from None
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise DataError(f"{path}: could not be read as a Parquet table ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}).") from None


def _part_report(path: str, schema: Schema) -> dict:
    checked = check_frame(_read_part(path), schema, source=path, max_bad_share=1.0)
    left = checked.attrs.get("left_out", {"rows": 0, "problems": []})
    return {"rows": len(checked) + left["rows"], "bad": left["rows"], "problems": [f"{path}: {p}" for p in left["problems"]]}


def _checked_part(path: str, schema: Schema) -> pd.DataFrame:
    frame = check_frame(_read_part(path), schema, source=path, max_bad_share=1.0)
    frame.attrs = {}
    return frame.reset_index(drop=True)


def _check_parts(client, files, schema: Schema) -> tuple[int, dict | None]:
    """Every part checked by the one table validation; failing rows may be left out up to the
    share training allows over the whole table. -> (rows kept, left_out or None)."""
    reports = client.gather(client.map(_part_report, [str(f) for f in files], schema=schema, pure=False))
    total, bad = sum(r["rows"] for r in reports), sum(r["bad"] for r in reports)
    problems = [p for r in reports for p in r["problems"]]
    if bad > TRAINING_BAD_ROW_SHARE * total:
        raise DataError(f"{bad:,} of {total:,} rows fail the schema, more than the {TRAINING_BAD_ROW_SHARE:.0%} training may leave out: " + "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "") + ".")
    return total - bad, ({"rows": bad, "of": total, "problems": problems} if bad else None)


def _known_values(table, schema: Schema) -> dict[str, tuple[str, ...]]:
    import dask

    columns = list(schema.segments) + schema.category_names
    found = dask.compute(*[table[c].dropna().astype(str).unique() for c in columns])
    return {c: tuple(sorted(map(str, values))) for c, values in zip(columns, found, strict=True)}


def _sample_rows(part: pd.DataFrame, schema: Schema, rate: float) -> pd.DataFrame:
    """The rows whose key hashes below ``rate``: the same rows whatever the partitioning."""
    if rate >= 1.0:
        return part
    keys = pd.Series(evaluation.row_keys(part, schema))
    draw = pd.util.hash_pandas_object("sample:" + keys, index=False).to_numpy() / 2.0**64
    return part.loc[draw < rate]


# ----- every row: peer statistics ---------------------------------------------------------------
def _peer_statistics(client, table, space: FeatureSpace, groups: PeerGroups, sample: pd.DataFrame, min_peers: int):
    """PeerStats (sketch) and FrequencyStats (exact) from every row, added up over partitions."""
    from distributed import as_completed

    stats = PeerStats(min_peers=min_peers)
    stats.heavy_, stats.unit_ = heavy_tails(space.numeric_table(sample))
    sketch = BinnedSketch(space.numeric_table(sample))
    futures = client.compute([_part_statistics(p, space, groups, stats, sketch) for p in table.to_delayed()])
    total = None
    for future in as_completed(futures):
        part = future.result()
        total = part if total is None else {k: BinnedSketch.merge(total[k], part[k]) if k == "sketch" else total[k] + part[k] for k in part}
    counts = total["sketch"]
    stats.count_ = counts["bins"].sum(axis=2)
    stats.grid_ = sketch.quantiles(counts, GRID)
    q25, q50, q75 = (stats.transform(sketch.quantiles(counts, np.array([p]))[..., 0]) for p in (25.0, 50.0, 75.0))
    stats.center_ = q50
    n = np.maximum(total["n"], 1)
    std = np.sqrt(np.maximum(total["t2"] / n - (total["t1"] / n) ** 2, 0.0))
    # IQR/1.349, else the spread (where the IQR is 0, half the values share one value and the
    # MAD the in-process fit would try next is 0 too), else 1: robust_scale's order.
    scale = (q75 - q25) / 1.349
    scale = np.where(scale > 1e-12, scale, std)
    stats.scale_ = np.where(np.isnan(scale) | (scale <= 1e-12), 1.0, scale)
    frequencies = FrequencyStats(min_peers=max(min_peers, RARE_MIN_PEERS))
    frequencies.widths_, frequencies.counts_ = list(space.widths), total["frequencies"]
    frequencies.count_ = frequencies.counts_.sum(axis=2)
    used = stats.count_ >= min_peers
    error = sketch.rank_error(counts)
    worst = float(np.nanmax(np.where(used, error, np.nan))) if used.any() else None
    return stats, frequencies, None if worst is None or np.isnan(worst) else round(worst * 100, 3)


def _part_statistics(part, space, groups, stats, sketch):
    import dask

    return dask.delayed(_statistics_of)(part, space, groups, stats, sketch)


def _statistics_of(part: pd.DataFrame, space: FeatureSpace, groups: PeerGroups, stats: PeerStats, sketch: BinnedSketch) -> dict:
    X = space.numeric_table(part)
    codes = groups.codes(part)
    T = stats.transform(X)
    n_groups, f = groups.n_groups, X.shape[1]
    n, t1, t2 = np.zeros((n_groups, f)), np.zeros((n_groups, f)), np.zeros((n_groups, f))
    for level in range(codes.shape[1]):
        g = codes[:, level]
        known = g >= 0
        frame = pd.DataFrame(T[known]).groupby(g[known])
        at = frame.count().index.to_numpy()
        n[at] += frame.count().to_numpy()
        t1[at] += frame.sum().to_numpy()
        t2[at] += (pd.DataFrame(T[known] ** 2).groupby(g[known])).sum().to_numpy()
    freq = FrequencyStats().fit(space.discrete_table(part), space.widths, codes, n_groups).counts_
    return {"sketch": sketch.count(X, codes, n_groups), "n": n, "t1": t1, "t2": t2, "frequencies": freq}


# ----- every row: the drift reference ----------------------------------------------------------
def _reference(table, schema: Schema, analyzer, sample: pd.DataFrame) -> dict:
    """The reference profile of every row: categorical counts, missing counts, mean, spread and
    PSI bin shares exact; quantiles and the 1,001-level sketch read from a fine binned sketch."""
    import dask

    from engine.monitoring.drift.profile import (
        PSI_BINS,
        QUANTILE_LEVELS,
        SKETCH_STEPS,
        CategoricalReference,
        NumericReference,
        ReferenceProfile,
    )

    categorical = list(schema.segments) + schema.category_names + [f.name for f in schema.features if f.kind == "binary"]
    numeric = [f.name for f in schema.features if f.numeric]
    output = analyzer.outcome.output if analyzer.outcome is not None else None
    with_output = table.map_partitions(_with_output, analyzer.outcome, numeric, output) if output else table[numeric]
    columns = numeric + ([output] if output else [])
    reference_sample = _with_output(sample, analyzer.outcome, numeric, output) if output else sample[numeric]
    sketch = BinnedSketch(reference_sample[columns].to_numpy(dtype=float), bins=REFERENCE_BINS)
    parts = dask.compute(*[dask.delayed(_reference_counts)(p, columns, sketch) for p in with_output.to_delayed()])
    counts = parts[0]
    for p in parts[1:]:
        counts = {"sketch": BinnedSketch.merge(counts["sketch"], p["sketch"]), **{k: counts[k] + p[k] for k in ("n", "missing", "s1", "s2")}}
    levels = np.linspace(0, 100, SKETCH_STEPS + 1)
    quantiles = sketch.quantiles(counts["sketch"], levels)[0]  # one group: every row
    edges_all = sketch.quantiles(counts["sketch"], np.arange(1, PSI_BINS) / PSI_BINS * 100)[0]
    edges = [np.unique(e[~np.isnan(e)]) for e in edges_all]
    bins = dask.compute(*[dask.delayed(_psi_counts)(p, columns, edges) for p in with_output.to_delayed()])
    psi = [sum(b[j] for b in bins) for j in range(len(columns))]
    numeric_refs = {}
    for j, name in enumerate(columns):
        n = int(counts["n"][j])
        if n == 0:
            numeric_refs[name] = NumericReference(0, int(counts["missing"][j]), float("nan"), float("nan"), np.empty(0), np.empty(0), np.ones(1), np.empty(0))
            continue
        mean = counts["s1"][j] / n
        numeric_refs[name] = NumericReference(
            n_values=n, n_missing=int(counts["missing"][j]), mean=float(mean), std=float(np.sqrt(max(counts["s2"][j] / n - mean**2, 0.0))),
            quantiles=np.interp(np.array(QUANTILE_LEVELS) * 100, levels, quantiles[j]), bin_edges=edges[j], bin_shares=psi[j] / n, sketch=quantiles[j],
        )
    category_parts = dask.compute(*[dask.delayed(_category_counts)(p, categorical) for p in table.to_delayed()])
    categorical_refs = {}
    for c in categorical:
        merged: dict[str, int] = {}
        for part in category_parts:
            for label, count in part[c][0].items():
                merged[label] = merged.get(label, 0) + count
        ordered = dict(sorted(merged.items(), key=lambda kv: -kv[1]))
        categorical_refs[c] = CategoricalReference(counts=ordered, n_missing=sum(part[c][1] for part in category_parts))
    rows = int(counts["n"][0] + counts["missing"][0]) if columns else sum(sum(p[categorical[0]][0].values()) + p[categorical[0]][1] for p in category_parts)
    return ReferenceProfile(n_rows=rows, numeric=numeric_refs, categorical=categorical_refs).to_dict()


def _with_output(part: pd.DataFrame, outcome, numeric: list[str], output: str) -> pd.DataFrame:
    frame = part[numeric].copy()
    frame[output] = outcome.predict_design(outcome.design(part)) if len(part) else np.zeros(0)
    return frame


def _reference_counts(part: pd.DataFrame, columns: list[str], sketch: BinnedSketch) -> dict:
    X = part[columns].to_numpy(dtype=float)
    X = np.where(np.isfinite(X), X, np.nan)
    known = ~np.isnan(X)
    return {"sketch": sketch.count(X, np.zeros((len(X), 1), dtype=np.intp), 1), "n": known.sum(axis=0), "missing": (~known).sum(axis=0), "s1": np.nansum(X, axis=0), "s2": np.nansum(X**2, axis=0)}


def _psi_counts(part: pd.DataFrame, columns: list[str], edges: list[np.ndarray]) -> list[np.ndarray]:
    from engine.monitoring.drift.profile import bin_counts

    out = []
    for j, c in enumerate(columns):
        values = part[c].to_numpy(dtype=float)
        out.append(bin_counts(values[np.isfinite(values)], edges[j]))
    return out


def _category_counts(part: pd.DataFrame, columns: list[str]) -> dict:
    from engine.monitoring.drift.profile import category_counts

    return {c: (category_counts(part[c]), int(part[c].isna().sum())) for c in columns}


def _fingerprint(files, schema: Schema, params: dict, series: pd.DataFrame | None) -> str:
    """sha256 of the parts' contents (in order), the schema, the parameters and the format."""
    from engine.registry import sha256_file

    h = hashlib.sha256()
    for f in files:
        h.update(sha256_file(f).encode())
    if series is not None:
        h.update(pd.util.hash_pandas_object(series, index=False).to_numpy().tobytes())
    h.update(json.dumps({"schema": schema.to_dict(), "params": params, "format": FORMAT, "on": "dask"}, sort_keys=True, default=str).encode())
    return "sha256:" + h.hexdigest()
