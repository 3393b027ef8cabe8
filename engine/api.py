"""The facade: the one surface the Streamlit app, the CLI and the HTTP API call.

Plain data crosses this boundary: dicts, DataFrames and frozen results with ``to_dict()``.
Nothing here caches; callers that serve many requests keep the loaded model themselves
(``load_model``) and pass it in.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from engine.analyzer import Analysis, Analyzer
from engine.data import check_frame, read_table
from engine.errors import IntegrityError, ModelNotFoundError
from engine.registry import Registry, analyzer_writers, load_analyzer
from engine.schema import Schema, load_schema
from engine.training import Progress, fit_version

GATE_TOLERANCE = 0.01


def default_home() -> Path:
    return Path(os.environ.get("BENCHAI_HOME", "artifacts"))


def _home(home) -> Path:
    return Path(home) if home is not None else default_home()


# ----- data ---------------------------------------------------------------------------------
def demo_data(out: str | Path, *, companies: int = 5000, seed: int = 0) -> dict:
    """Write the demo dataset (companies.csv, current.csv, schema.toml, ...) to ``out``."""
    from engine.demo import write_demo

    return write_demo(out, n_companies=companies, seed=seed)


def load_dataset(data: str | Path | pd.DataFrame, schema: str | Path | Schema, *, require_target: bool = False) -> tuple[pd.DataFrame, Schema]:
    """Read and check a table against a schema -> (checked frame, schema)."""
    schema = schema if isinstance(schema, Schema) else load_schema(schema)
    source = "data" if isinstance(data, pd.DataFrame) else str(data)
    frame = data if isinstance(data, pd.DataFrame) else read_table(data)
    return check_frame(frame, schema, require_target=require_target, source=source), schema


# ----- training -----------------------------------------------------------------------------
def train(
    data: str | Path | pd.DataFrame,
    schema: str | Path | Schema,
    *,
    home=None,
    promote: bool = True,
    seed: int = 0,
    k: int | None = None,
    min_peers: int = 20,
    search: bool = False,
    search_budget_s: float = 60.0,
    tolerance: float = GATE_TOLERANCE,
    series: str | Path | None = None,
    progress: Progress | None = None,
    actor: str = "local",
) -> dict:
    """Fit every model, register an immutable version, and promote it to champion when it
    passes the quality gate. -> {"version", "promoted", "reason", "metrics", "seconds"}."""
    registry = Registry(_home(home))
    frame, schema = load_dataset(data, schema)
    with registry.training_lock():
        registry.clean_partial()
        fitted = fit_version(frame, schema, seed=seed, k=k, min_peers=min_peers, search=search, search_budget_s=search_budget_s, progress=progress)
        files = analyzer_writers(fitted.analyzer)
        files.update(
            {
                "metrics.json": _json_writer(fitted.metrics),
                "explanations.json": _json_writer(fitted.explanations),
                "insights.json": _json_writer(fitted.insights),
                "reference.json": _json_writer(fitted.reference),
                "sample.parquet": lambda p: fitted.sample.to_parquet(p, index=False),
            }
        )
        if series is not None:
            series_frame = read_table(series)
            files["series.parquet"] = lambda p: series_frame.to_parquet(p, index=False)
        manifest = {
            "schema": fitted.analyzer.schema.to_dict(),
            "data_fingerprint": _fingerprint(data, frame),
            "rows": len(frame),
            "params": fitted.params,
            "metrics": _summary_metrics(fitted.metrics),
            "train_seconds": round(fitted.seconds, 2),
        }
        version = registry.write_version(files, manifest)
        promoted, reason = _quality_gate(registry, fitted.analyzer, frame, fitted.metrics, tolerance, promote)
        registry.set_alias("champion" if promoted else "challenger", version, reason, actor=actor)
    return {"version": version, "promoted": promoted, "reason": reason, "metrics": manifest["metrics"], "seconds": manifest["train_seconds"]}


def _json_writer(obj):
    return lambda p: Path(p).write_text(json.dumps(obj, default=_json_default))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _fingerprint(data, frame: pd.DataFrame) -> str:
    if not isinstance(data, pd.DataFrame):
        from engine.registry import sha256_file

        return "sha256:" + sha256_file(Path(data))
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def _summary_metrics(metrics: dict) -> dict:
    out = {"segments_k": metrics.get("segments", {}).get("k")}
    for split in ("holdout", "cv"):
        if split in metrics:
            out[split] = {k: metrics[split][k] for k in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier")}
    return out


def _quality_gate(registry: Registry, new: Analyzer, frame: pd.DataFrame, metrics: dict, tolerance: float, promote: bool) -> tuple[bool, str]:
    """Promote only if the new held-out ROC AUC is not worse than the champion's on the same
    held-out rows by more than ``tolerance``."""
    if not promote:
        return False, "registered as challenger (--no-promote)"
    try:
        champion_version = registry.resolve("champion")
        champion = load_model(champion_version, home=registry.home)
    except ModelNotFoundError:
        return True, "first version: promoted"
    except IntegrityError as exc:
        return True, f"champion failed verification ({exc}); promoted"
    if "holdout" not in metrics or champion.outcome is None or new.outcome is None:
        return True, "no outcome model to compare; promoted"
    if champion.schema.feature_names != new.schema.feature_names or champion.schema.segments != new.schema.segments:
        return True, f"schema differs from champion {champion_version}; gate not applicable; promoted"
    from sklearn.metrics import roc_auc_score

    from engine.evaluation import holdout_mask

    target = new.schema.target.column
    held = frame[holdout_mask(frame, new.schema.id) & frame[target].notna()]
    if held[target].nunique() < 2:
        return True, "held-out rows have one class; gate not applicable; promoted"
    champion_auc = roc_auc_score(held[target], champion.outcome.predict_proba(held)[:, 1])
    new_auc = metrics["holdout"]["roc_auc"]
    detail = f"held-out ROC AUC {new_auc:.4f} vs champion {champion_version} {champion_auc:.4f} on the same {len(held)} rows (tolerance {tolerance})"
    if new_auc >= champion_auc - tolerance:
        return True, f"passed quality gate: {detail}"
    return False, f"failed quality gate: {detail}; kept as challenger"


# ----- serving ------------------------------------------------------------------------------
def load_model(ref: str = "champion", *, home=None) -> Analyzer:
    """Load a version (or alias) after verifying every file's hash."""
    registry = Registry(_home(home))
    version = registry.resolve(ref)
    registry.verify(version)
    return load_analyzer(registry.path(version), version)


def analyze(profile: dict, *, model: Analyzer | None = None, home=None) -> Analysis:
    """Analyse one company profile with the given model (default: the champion)."""
    model = model or load_model(home=home)
    return model.analyze(profile)


def what_if(profile: dict, changes: dict, *, model: Analyzer | None = None, home=None) -> dict:
    """New outcome probability and contributions after changing some fields."""
    model = model or load_model(home=home)
    return model.what_if(profile, changes)


def score(data: str | Path | pd.DataFrame, *, model: Analyzer | None = None, home=None, progress: Progress | None = None) -> pd.DataFrame:
    """Batch analysis of a whole table: one output row per input row."""
    model = model or load_model(home=home)
    frame, _ = load_dataset(data, model.schema)
    return model.score(frame, progress=progress)


# ----- registry -----------------------------------------------------------------------------
def models(*, home=None) -> list[dict]:
    registry = Registry(_home(home))
    aliases = registry.aliases()
    out = []
    for v in registry.versions():
        m = registry.manifest(v)
        out.append(
            {
                "version": v,
                "created": m.get("created"),
                "aliases": [a for a, target in aliases.items() if target == v],
                "rows": m.get("rows"),
                "data_fingerprint": m.get("data_fingerprint"),
                "metrics": m.get("metrics"),
                "schema_name": m.get("schema", {}).get("name"),
            }
        )
    return out


def promote(version: str, *, home=None, reason: str = "manual promotion", actor: str = "local") -> dict:
    """Make ``version`` the champion (after verifying it)."""
    registry = Registry(_home(home))
    registry.verify(version)
    return registry.set_alias("champion", version, reason, actor=actor)


def rollback(*, home=None, reason: str = "manual rollback", actor: str = "local") -> dict:
    """Give the champion alias back to the previous champion."""
    registry = Registry(_home(home))
    previous = registry.previous_champion()
    if previous is None:
        raise ModelNotFoundError("There is no earlier champion to roll back to.")
    registry.verify(previous)
    return registry.set_alias("champion", previous, reason, actor=actor, kind="rollback")


def audit_log(*, home=None) -> list[dict]:
    return Registry(_home(home)).audit_log()


def version_details(ref: str = "champion", *, home=None) -> dict:
    """Manifest, metrics, explanations and UI insights of one version (all plain data)."""
    registry = Registry(_home(home))
    version = registry.resolve(ref)
    folder = registry.path(version)
    out = {"manifest": registry.verify(version)}
    for name in ("metrics", "explanations", "insights", "reference"):
        out[name] = json.loads((folder / f"{name}.json").read_text())
    return out


def version_table(name: str, ref: str = "champion", *, home=None) -> pd.DataFrame | None:
    """A table stored with a version: 'sample' (training sample) or 'series' (monthly)."""
    registry = Registry(_home(home))
    path = registry.path(registry.resolve(ref)) / f"{name}.parquet"
    return pd.read_parquet(path) if path.is_file() else None
