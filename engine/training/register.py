"""One training run end to end: check the table, fit every model, write an immutable version,
and move an alias through the quality gate. A failed run changes nothing that is served."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from engine.analysis.series import benchmark_series
from engine.encoding import dumps
from engine.registry import analyzer_writers, sha256_file
from engine.schema import read_table
from engine.training.evaluation import CLASSIFICATION_KEYS, REGRESSION_KEYS
from engine.training.fit import fit_version
from engine.training.gate import GATE_TOLERANCE, quality_gate


def train_version(
    workspace,
    data: str | Path | pd.DataFrame,
    schema,
    *,
    promote: bool = True,
    seed: int = 0,
    k: int | None = None,
    min_peers: int = 20,
    search: bool = False,
    search_budget_s: float = 60.0,
    tolerance: float = GATE_TOLERANCE,
    series: str | Path | None = None,
    progress=None,
    actor: str = "local",
) -> dict:
    """Fit every model on ``data``, register a version, promote it when it passes the gate.
    -> {"version", "promoted", "reason", "metrics", "seconds"}."""
    registry = workspace.registry
    frame, schema = workspace.load_dataset(data, schema, training=True)
    with registry.training_lock():
        registry.clean_partial()
        fitted = fit_version(frame, schema, seed=seed, k=k, min_peers=min_peers, search=search, search_budget_s=search_budget_s, progress=progress)
        if "left_out" in frame.attrs:  # rows that failed the schema, within what training may leave out
            fitted.metrics["left_out"] = frame.attrs["left_out"]
        files = analyzer_writers(fitted.analyzer)
        for name in ("metrics", "explanations", "insights", "reference"):
            files[f"{name}.json"] = _json_writer(getattr(fitted, name))
        files["sample.parquet"] = lambda p: fitted.sample.to_parquet(p, index=False)
        if fitted.holdout is not None:
            files["holdout.parquet"] = lambda p: fitted.holdout.table().to_parquet(p, index=False)
        # The given monthly series, else one from the schema's time column (if it has one).
        series_frame = read_table(series) if series is not None else benchmark_series(frame, schema)
        if series_frame is not None:
            files["series.parquet"] = lambda p: series_frame.to_parquet(p, index=False)
        manifest = {
            "schema": fitted.analyzer.schema.to_dict(),
            "data_fingerprint": _fingerprint(data, frame),
            # Where the rows came from, so an automatic retrain can start from them again.
            "data_source": None if isinstance(data, pd.DataFrame) else str(Path(data).resolve()),
            "rows": len(frame),
            "params": fitted.params,
            "metrics": _summary_metrics(fitted.metrics),
            "train_seconds": round(fitted.seconds, 2),
        }
        version = registry.write_version(files, manifest)
        promoted, reason = quality_gate(workspace, fitted.analyzer, fitted.holdout, tolerance=tolerance, promote=promote)
        registry.set_alias("champion" if promoted else "challenger", version, reason, actor=actor)
    return {"version": version, "promoted": promoted, "reason": reason, "metrics": manifest["metrics"], "seconds": manifest["train_seconds"]}


def _json_writer(obj):
    return lambda p: Path(p).write_text(dumps(obj))


def _fingerprint(data, frame: pd.DataFrame) -> str:
    if not isinstance(data, pd.DataFrame):
        return "sha256:" + sha256_file(Path(data))
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def _summary_metrics(metrics: dict) -> dict:
    out = {"segments_k": metrics.get("segments", {}).get("k")}
    if "left_out" in metrics:
        out["left_out"] = metrics["left_out"]
    for split in ("holdout", "cv"):
        if split in metrics:
            keys = REGRESSION_KEYS if "rmse" in metrics[split] else CLASSIFICATION_KEYS
            out[split] = {k: metrics[split][k] for k in keys}
    return out
