"""One training run end to end: check the table, fit every model, write an immutable version,
and move an alias through the quality gate. A failed run changes nothing that is served, and a
run on what an existing version was trained from changes nothing at all."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from engine.analysis.series import benchmark_series
from engine.encoding import dumps
from engine.errors import IntegrityError
from engine.registry import analyzer_writers, sha256_file
from engine.registry.versions import ALIASES, FORMAT
from engine.schema import read_table
from engine.training.evaluation import CLASSIFICATION_KEYS, REGRESSION_KEYS
from engine.training.fit import fit_version, fitting_schema
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
    force: bool = False,
    scheduler: str | None = None,
) -> dict:
    """Fit every model on ``data``, register a version, promote it when it passes the gate.
    When a version was already trained on the same rows, schema and parameters, nothing is
    written and that version comes back with ``unchanged`` true (``force`` trains anyway).
    With ``scheduler`` ("local" or a Dask scheduler's address), ``data`` names Parquet parts
    and the models are fitted on the cluster (``engine.scale.training``).
    -> {"version", "promoted", "unchanged", "reason", "metrics", "seconds"}."""
    if scheduler is not None:  # the same version, fitted from Parquet parts on a Dask cluster
        from engine.scale.training import train_on_parts

        return train_on_parts(workspace, data, schema, scheduler=scheduler, promote=promote, seed=seed, k=k, min_peers=min_peers, tolerance=tolerance, series=series, progress=progress, actor=actor, force=force)
    registry = workspace.registry
    frame, schema = workspace.load_dataset(data, schema, training=True)
    given_series = read_table(series) if series is not None else None
    # The budget only changes the model when there is a search to spend it on.
    params = {"seed": seed, "k": k, "min_peers": min_peers, "search": search, "search_budget_s": search_budget_s if search else None}
    fingerprint = training_fingerprint(frame, schema, params, given_series)
    with registry.training_lock():
        registry.clean_partial()
        same = None if force else version_trained_as(registry, fingerprint)
        if same is not None:
            return unchanged(registry, same)
        fitted = fit_version(frame, schema, seed=seed, k=k, min_peers=min_peers, search=search, search_budget_s=search_budget_s, progress=progress)
        if "left_out" in frame.attrs:  # rows that failed the schema, within what training may leave out
            fitted.metrics["left_out"] = frame.attrs["left_out"]
        # The given monthly series, else one from the schema's time column (if it has one).
        series_frame = given_series if given_series is not None else benchmark_series(frame, schema)
        return register_fitted(workspace, fitted, series=series_frame, tolerance=tolerance, promote=promote, actor=actor, manifest={
            "data_fingerprint": _data_fingerprint(data, frame),
            "training_fingerprint": fingerprint,
            # Where the rows came from, so an automatic retrain can start from them again.
            "data_source": None if isinstance(data, pd.DataFrame) else str(Path(data).resolve()),
            "rows": len(frame),
        })


def register_fitted(workspace, fitted, *, series: pd.DataFrame | None, tolerance: float, promote: bool, actor: str, manifest: dict) -> dict:
    """Write a fitted version (with ``manifest``'s data fields) and move an alias through the
    quality gate; the caller holds the registry's training lock."""
    registry = workspace.registry
    files = analyzer_writers(fitted.analyzer)
    for name in ("metrics", "explanations", "insights", "reference"):
        files[f"{name}.json"] = _json_writer(getattr(fitted, name))
    files["sample.parquet"] = lambda p: fitted.sample.to_parquet(p, index=False)
    if fitted.holdout is not None:
        files["holdout.parquet"] = lambda p: fitted.holdout.table().to_parquet(p, index=False)
    if series is not None:
        files["series.parquet"] = lambda p: series.to_parquet(p, index=False)
    manifest = {
        "schema": fitted.analyzer.schema.to_dict(),
        **manifest,
        "params": fitted.params,
        "metrics": _summary_metrics(fitted.metrics),
        "train_seconds": round(fitted.seconds, 2),
    }
    version = registry.write_version(files, manifest)
    promoted, reason = quality_gate(workspace, fitted.analyzer, fitted.holdout, tolerance=tolerance, promote=promote)
    registry.set_alias("champion" if promoted else "challenger", version, reason, actor=actor)
    return {"version": version, "promoted": promoted, "unchanged": False, "reason": reason, "metrics": manifest["metrics"], "seconds": manifest["train_seconds"]}


def training_fingerprint(frame: pd.DataFrame, schema, params: dict, series: pd.DataFrame | None) -> str:
    """sha256 of everything that decides a version's models: the checked rows (content, column
    names, order and dtypes; not where they were read from, so a file and the same frame agree),
    the schema as the models are fitted with it (so the schema saved with a version, which an
    automatic retrain uses, agrees with the file it came from), the parameters that change the
    fit, a given monthly series and the registry format. The gate's tolerance and ``promote``
    are left out: they move aliases, not models."""
    h = hashlib.sha256()
    for table in (frame, series):
        if table is None:
            h.update(b"none")
            continue
        # Row hashes ignore column names and may not tell 1 from 1.0: both are hashed apart.
        h.update(json.dumps([[str(c), str(t)] for c, t in table.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    h.update(json.dumps({"schema": fitting_schema(frame, schema).to_dict(), "params": params, "format": FORMAT}, sort_keys=True, default=str).encode())
    return "sha256:" + h.hexdigest()


def version_trained_as(registry, fingerprint: str) -> str | None:
    """The version trained from the same fingerprint (the champion, else the challenger, else
    the newest), read from manifests alone; None when there is none."""
    same = []
    for v in registry.versions():
        try:
            manifest = registry.checked_manifest(v)
        except IntegrityError:  # refused on load (other format, unsigned, corrupt): train again
            continue
        if manifest.get("training_fingerprint") == fingerprint:
            same.append(v)
    aliases = registry.aliases()
    return next((aliases[a] for a in ALIASES if aliases[a] in same), same[-1] if same else None)


def unchanged(registry, version: str) -> dict:
    aliases = [a for a, v in registry.aliases().items() if v == version]
    named = f"{version} ({', '.join(aliases)})" if aliases else version
    reason = f"nothing changed: same data, schema and parameters as {named}"
    return {"version": version, "promoted": False, "unchanged": True, "reason": reason, "metrics": registry.manifest(version).get("metrics"), "seconds": 0}


def _json_writer(obj):
    return lambda p: Path(p).write_text(dumps(obj))


def _data_fingerprint(data, frame: pd.DataFrame) -> str:
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
