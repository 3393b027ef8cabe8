"""The facade: the one surface the Streamlit app, the CLI and the HTTP API call.

Plain data crosses this boundary: dicts, DataFrames and frozen results with ``to_dict()``.
Nothing here caches; callers that serve many requests keep the loaded model themselves
(``load_model``) and pass it in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from engine.analysis.analyzer import Analysis, Analyzer
from engine.errors import IntegrityError, ModelNotFoundError
from engine.registry import Registry, analyzer_writers, load_analyzer
from engine.schema import Schema, check_frame, load_schema, read_table
from engine.training.fit import Progress, fit_version

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
            # Where the rows came from, so an automatic retrain can start from them again.
            "data_source": None if isinstance(data, pd.DataFrame) else str(Path(data).resolve()),
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

    from engine.training.evaluation import holdout_mask

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


# ----- monitoring ---------------------------------------------------------------------------
_stores: dict = {}  # one connection pool per database URL (not a model cache)


def store(*, home=None):
    """The operational database of HOME (SQLite file, or $BENCHAI_DB_URL)."""
    from engine.store import Store, default_url

    url = default_url(_home(home))
    if url not in _stores:
        _stores[url] = Store(url)
    return _stores[url]


def settings(*, home=None) -> dict:
    """Monitoring and serving settings of HOME (defaults merged with HOME/settings.json)."""
    from engine.monitoring.settings import DEFAULT_SETTINGS

    path = _home(home) / "settings.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    return {**DEFAULT_SETTINGS, **saved}


def update_settings(changes: dict, *, home=None) -> dict:
    from engine.monitoring.settings import DEFAULT_SETTINGS

    unknown = set(changes) - set(DEFAULT_SETTINGS)
    if unknown:
        from engine.errors import DataError

        raise DataError(f"Unknown setting(s) {sorted(unknown)}; expected some of {sorted(DEFAULT_SETTINGS)}.")
    merged = {**settings(home=home), **changes}
    path = _home(home) / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged, indent=2))
    os.replace(tmp, path)
    return merged


def serving_alias(company_id, *, home=None) -> str:
    """Which alias serves this company: the challenger for a stable hash-share of ids."""
    from engine.monitoring.routing import route

    share = settings(home=home)["challenger_share"]
    if share > 0 and Registry(_home(home)).aliases()["challenger"] is None:
        return "champion"
    return route(company_id, share)


def log_analyses(results: list[Analysis], *, home=None, alias: str = "champion", source: str = "analyze", ts=None) -> list[int]:
    """Write analyses to the prediction log (time, version, alias, profile, outputs)."""
    rows = []
    for r in results:
        d = r.to_dict()
        prediction = d.get("prediction")
        rows.append(
            {
                "ts": ts,
                "model_version": r.model_version,
                "alias": alias,
                "company_id": _company_id(r.profile),
                "profile": r.profile,
                "outputs": {k: d[k] for k in ("segment", "anomalies", "percentiles") if k in d} | {"prediction": _slim(prediction)},
                "probability": prediction["probability"] if prediction else None,
                "segment": d["segment"]["name"],
                "source": source,
            }
        )
    return store(home=home).log_predictions(rows)


def _company_id(profile: dict):
    for key in ("company_id", "id"):
        if profile.get(key) is not None:
            return str(profile[key])
    return None


def _slim(prediction: dict | None) -> dict | None:
    if prediction is None:
        return None
    return {k: prediction[k] for k in ("probability", "label", "base_value")}


def analyze_and_log(profile: dict, *, model: Analyzer, home=None, source: str = "analyze", alias: str = "champion", shadow: Analyzer | None = None) -> Analysis:
    """Analyse, log the result, and shadow-score with the challenger when one is given."""
    result = model.analyze(profile)
    log_analyses([result], home=home, alias=alias, source=source)
    if shadow is not None:
        log_analyses([shadow.analyze(profile)], home=home, alias="shadow", source=source)
    return result


def record_feedback(rows: list[dict] | pd.DataFrame | str | Path, *, home=None) -> int:
    """Record actual outcomes: rows of prediction_id or company_id, outcome (0/1), optional ts."""
    from engine.errors import DataError

    if isinstance(rows, str | Path):
        rows = read_table(rows)
    if isinstance(rows, pd.DataFrame):
        if "outcome" not in rows.columns or not ({"prediction_id", "company_id"} & set(rows.columns)):
            raise DataError(f"feedback: expected columns 'outcome' and 'prediction_id' or 'company_id', got {list(rows.columns)}.")
        rows = rows.to_dict("records")
    clean = []
    for i, r in enumerate(rows):
        outcome = r.get("outcome")
        if outcome not in (0, 1, 0.0, 1.0, True, False, "0", "1"):
            raise DataError(f"feedback row {i}: 'outcome' should be 0 or 1, got {outcome!r}.")
        pid, cid = r.get("prediction_id"), r.get("company_id")
        pid = None if pid is None or (isinstance(pid, float) and np.isnan(pid)) else int(pid)
        cid = None if cid is None or (isinstance(cid, float) and np.isnan(cid)) else str(cid)
        if pid is None and cid is None:
            raise DataError(f"feedback row {i}: needs a 'prediction_id' or a 'company_id'.")
        clean.append({"prediction_id": pid, "company_id": cid, "outcome": int(float(outcome)), "ts": r.get("ts")})
    return store(home=home).add_feedback(clean)


def drift(current: str | Path | pd.DataFrame | None = None, *, home=None, days: float | None = None, now=None, tests: dict | None = None, thresholds: dict | None = None, dataset_threshold: float | None = None, ref: str = "champion") -> dict:
    """Drift report of a table (or of the prediction log's last ``days``) against the
    version's reference profile, plus drift of the predicted probabilities."""
    from engine.errors import DataError
    from engine.monitoring.drift import ReferenceProfile, drift_report, series_drift

    registry = Registry(_home(home))
    version = registry.resolve(ref)
    details = version_details(version, home=home)
    schema = Schema.from_dict(details["manifest"]["schema"])
    reference = ReferenceProfile.from_dict(details["reference"])
    cfg = settings(home=home)
    if current is None:
        frame = logged_profiles(home=home, days=days or cfg["drift_window_days"], now=now)
        if frame.empty:
            raise DataError("No predictions in the monitoring window yet; analyse some companies or upload a table.")
        probabilities = frame.pop("probability") if "probability" in frame else None
        source = f"prediction log, last {days or cfg['drift_window_days']} days"
    else:
        frame, _ = load_dataset(current, schema)
        model = load_model(version, home=home)
        probabilities = pd.Series(model.outcome.proba_design(model.outcome.design(frame))) if model.outcome is not None else None
        source = "uploaded table" if isinstance(current, pd.DataFrame) else str(current)
    columns = [c for c in schema.feature_names + list(schema.segments) if c in frame.columns]
    report = drift_report(reference, frame, tests=tests, thresholds=thresholds, dataset_threshold=dataset_threshold or cfg["dataset_drift_share"], columns=columns).to_dict()
    report["model_version"] = version
    report["source"] = source
    report["n_current"] = len(frame)
    if probabilities is not None and "probability" in reference.columns:
        ref_p = reference.numeric["probability"].sample
        report["probability"] = series_drift(ref_p, probabilities.to_numpy(float), name="probability").to_dict()
    return report


def logged_profiles(*, home=None, days: float | None = None, now=None, start=None, end=None) -> pd.DataFrame:
    """Profiles of the prediction log (served rows only, not shadow) as a table; with ``days``,
    the window of that many days up to ``now`` (default: the current time)."""
    if days is not None:
        end = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
        start = end - pd.Timedelta(days=days)
    log = store(home=home).predictions(start=start, end=end)
    if log.empty:
        return pd.DataFrame()
    log = log[log["alias"] != "shadow"]
    frame = pd.DataFrame(list(log["profile"]))
    frame["probability"] = log["probability"].to_numpy()
    return frame


def performance(*, home=None, freq: str = "W") -> dict:
    """Realised (from feedback) and estimated (label-free) performance per time bucket."""
    from engine.monitoring.performance import estimated_performance, realised_performance

    db = store(home=home)
    calibration = None
    with contextlib.suppress(ModelNotFoundError):  # no model yet: no label-free estimate
        calibration = version_details(home=home)["metrics"].get("calibration_map")
    log = db.predictions()
    log = log[log["alias"] != "shadow"] if not log.empty else log
    labelled = db.labelled_predictions()
    labelled = labelled[labelled["alias"] != "shadow"] if not labelled.empty else labelled
    realised = realised_performance(labelled, freq) if not labelled.empty else pd.DataFrame()
    estimated = estimated_performance(log, calibration, freq) if not log.empty else pd.DataFrame()
    return {"realised": _records(realised), "estimated": _records(estimated)}


def _records(frame: pd.DataFrame) -> list[dict]:
    if frame is None or frame.empty:
        return []
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return json.loads(out.to_json(orient="records"))


def check_alerts(*, home=None, now=None) -> list[dict]:
    """Evaluate the alert rules; raise (deduplicated) alerts; retrain when the policy is auto.
    -> the alerts raised by this check (new or already open)."""
    from engine.errors import DataError
    from engine.monitoring.alerts import alert_candidates

    cfg = settings(home=home)
    db = store(home=home)
    try:
        drift_result = drift(home=home, now=now)
    except DataError:
        drift_result = None
    perf = performance(home=home)
    since = None
    log = audit_log(home=home)
    if log:
        since = pd.Timestamp(log[-1]["when"])
    new_feedback = db.feedback_count(since=since)
    raised, any_new = [], False
    for c in alert_candidates(drift_result, _dated(perf["estimated"]), _dated(perf["realised"]), new_feedback, cfg):
        alert, created = db.raise_alert(c["kind"], c["key"], c["severity"], c["message"], c.get("details"))
        raised.append(alert)
        any_new = any_new or created
    if any_new and cfg["retrain_policy"] == "auto":
        auto_retrain(home=home, reason="new alert: " + "; ".join(a["message"] for a in raised))
    return raised


def _dated(records: list[dict]) -> pd.DataFrame | None:
    return pd.DataFrame(records).assign(bucket=lambda f: pd.to_datetime(f["bucket"])) if records else None


def auto_retrain(*, home=None, reason: str = "automatic retrain") -> dict:
    """Retrain on the champion's training table plus every labelled logged profile; the new
    version is promoted only through the quality gate. The outcome is recorded as an alert."""
    from engine.errors import DataError

    registry = Registry(_home(home))
    manifest = registry.manifest(registry.resolve("champion"))
    schema = Schema.from_dict(manifest["schema"])
    source = manifest.get("data_source")
    if schema.target is None or not source or not Path(source).is_file():
        result = {"retrained": False, "why": f"the champion's training table is not available ({source})"}
    else:
        db = store(home=home)
        labelled = db.labelled_predictions()
        logged = db.predictions().set_index("id")
        labelled = labelled[labelled["prediction_id"].isin(logged.index) & (labelled["alias"] != "shadow")]
        fresh = pd.DataFrame(list(logged.loc[labelled["prediction_id"], "profile"]))
        fresh[schema.target.column] = labelled["outcome"].to_numpy()
        combined = pd.concat([read_table(source), fresh], ignore_index=True)
        try:
            outcome = train(combined, schema, home=home, actor="auto-retrain")
            result = {"retrained": True, "rows_added": len(fresh), **outcome}
        except DataError as exc:
            result = {"retrained": False, "why": str(exc)}
    store(home=home).raise_alert("auto_retrain", str(result.get("version", "skipped")), "low",
                                 f"Automatic retrain ({reason[:200]}): {json.dumps(result, default=str)[:400]}")
    return result


def alerts(*, home=None, open_only: bool = False) -> list[dict]:
    return store(home=home).alerts(open_only=open_only)


def monitor(*, home=None) -> dict:
    """Summary: volume, drift, performance, alerts, champion/challenger comparison."""
    from engine.errors import DataError

    db = store(home=home)
    log = db.predictions()
    volume = []
    if not log.empty:
        daily = log[log["alias"] != "shadow"].groupby(log["ts"].dt.floor("D")).size()
        volume = [{"day": d.strftime("%Y-%m-%d"), "predictions": int(n)} for d, n in daily.items()]
    try:
        drift_result = drift(home=home)
        drift_summary = {**drift_result["dataset"], "drifted_columns": [c["column"] for c in drift_result["columns"] if c["drifted"]], "source": drift_result["source"]}
    except DataError as exc:
        drift_summary = {"message": str(exc)}
    return {
        "volume": {"total": int((log["alias"] != "shadow").sum()) if not log.empty else 0, "feedback": db.feedback_count(), "daily": volume},
        "drift": drift_summary,
        "performance": performance(home=home),
        "alerts": db.alerts(open_only=True),
        "champion_challenger": compare(home=home),
    }


def compare(*, home=None) -> dict:
    """Champion vs challenger on feedback, with a significance test."""
    from engine.monitoring.routing import compare_models

    labelled = store(home=home).labelled_predictions()
    if labelled.empty:
        return {"verdict": "no feedback yet", "p_value": None}
    return compare_models(labelled)


def replay(data: str | Path | pd.DataFrame | None = None, *, home=None, baseline: str | Path | pd.DataFrame | None = None, weeks: int = 8, feedback_share: float = 0.7, feedback_delay_days: int = 14, seed: int = 0, now=None) -> dict:
    """Replay a table through the champion with timestamps spread over the past ``weeks``, and
    record delayed feedback, so a fresh install shows a monitoring history. With a
    ``baseline`` table the first half of the window replays baseline rows (no drift yet)."""
    from engine.errors import DataError

    home = _home(home)
    demo = home / "demo"
    data = data if data is not None else demo / "current.csv"
    if baseline is None and data == demo / "current.csv" and (demo / "companies.csv").is_file():
        baseline = demo / "companies.csv"
    model = load_model(home=home)
    current, schema = load_dataset(data, model.schema)
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    start = end - pd.Timedelta(weeks=weeks)
    span = (end - start).total_seconds()
    if baseline is not None:
        from engine.training.evaluation import holdout_mask

        base, _ = load_dataset(baseline, schema)
        # Only rows the model never trained on, or realised accuracy would be flattered.
        base = base[holdout_mask(base, schema.id, seed)]
        base = base.sample(n=min(len(base), len(current)), random_state=seed)
        frame = pd.concat([base, current], ignore_index=True)
        offsets = np.r_[rng.uniform(0, 0.5, len(base)), rng.uniform(0.5, 1.0, len(current))]
    else:
        frame = current.reset_index(drop=True)
        offsets = rng.uniform(0, 1, len(frame))
    order = np.argsort(offsets)
    frame, offsets = frame.iloc[order].reset_index(drop=True), offsets[order]
    ts = (start + pd.to_timedelta(offsets * span, unit="s")).floor("ms")
    scored = model.score(frame)
    db = store(home=home)
    feature_cols = [c for c in list(schema.segments) + schema.feature_names + ([schema.id] if schema.id else []) if c in frame.columns]
    profiles = frame[feature_cols].astype(object).where(frame[feature_cols].notna(), None).to_dict("records")
    rows = []
    for i, profile in enumerate(profiles):
        rows.append(
            {
                "ts": ts[i].to_pydatetime(),
                "model_version": model.version,
                "alias": "champion",
                "company_id": _company_id(profile),
                "profile": profile,
                "outputs": {"segment": scored["segment"].iat[i], "anomaly_count": int(scored["anomaly_count"].iat[i])},
                "probability": float(scored["probability"].iat[i]) if "probability" in scored else None,
                "segment": scored["segment"].iat[i],
                "source": "replay",
            }
        )
    ids = db.log_predictions(rows)
    n_feedback = 0
    target = schema.target.column if schema.target else None
    if target and target in frame.columns:
        fb_ts = ts + pd.Timedelta(days=feedback_delay_days)
        chosen = (rng.random(len(frame)) < feedback_share) & (fb_ts <= end) & frame[target].notna().to_numpy()
        feedback = [{"prediction_id": ids[i], "company_id": None, "outcome": int(frame[target].iat[i]), "ts": fb_ts[i].to_pydatetime()} for i in np.flatnonzero(chosen)]
        n_feedback = db.add_feedback(feedback) if feedback else 0
    if not rows:
        raise DataError("replay: the table has no rows.")
    raised = check_alerts(home=home, now=end)
    return {"predictions": len(rows), "feedback": n_feedback, "from": str(start), "to": str(end), "alerts": raised}
