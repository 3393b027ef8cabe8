"""Monitoring maths: performance over time (realised and estimated without labels), alert
rules, champion/challenger routing and comparison. Pure functions over DataFrames and dicts;
``engine.api`` connects them to the store and the registry."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

DEFAULT_SETTINGS = {
    "challenger_share": 0.0,  # share of traffic routed to the challenger by company-id hash
    "shadow": False,  # score every request with the challenger too, without serving it
    "retrain_policy": "manual",  # "manual" or "auto" (through the registry's quality gate)
    "drift_window_days": 7,
    "dataset_drift_share": 0.5,
    "min_roc_auc": 0.75,
    "min_accuracy": 0.70,
    "feedback_retrain_rows": 500,  # this much new feedback since the last training raises an alert
}


def calibrate(p: np.ndarray, calibration: dict | None) -> np.ndarray:
    """Map raw model probabilities through the isotonic map fitted on held-out rows."""
    if not calibration:
        return p
    return np.interp(p, calibration["x"], calibration["y"])


def _buckets(ts: pd.Series, freq: str) -> pd.Series:
    """Start of each row's time bucket (periods are timezone-naive: drop the UTC zone first)."""
    return ts.dt.tz_convert(None).dt.to_period(freq).dt.start_time if ts.dt.tz is not None else ts.dt.to_period(freq).dt.start_time


def realised_performance(labelled: pd.DataFrame, freq: str = "W") -> pd.DataFrame:
    """labelled: ts, probability, outcome -> per time bucket: n, accuracy, roc_auc, f1."""
    rows = []
    frame = labelled.dropna(subset=["probability", "outcome"])
    for bucket, g in frame.groupby(_buckets(frame["ts"], freq)):
        y, p = g["outcome"].to_numpy(int), g["probability"].to_numpy(float)
        pred = (p >= 0.5).astype(int)
        rows.append(
            {
                "bucket": bucket,
                "n": len(g),
                "accuracy": accuracy_score(y, pred),
                "roc_auc": roc_auc_score(y, p) if len(np.unique(y)) == 2 else np.nan,
                "f1": f1_score(y, pred, zero_division=0),
            }
        )
    return pd.DataFrame(rows, columns=["bucket", "n", "accuracy", "roc_auc", "f1"])


def estimated_performance(predictions: pd.DataFrame, calibration: dict | None, freq: str = "W") -> pd.DataFrame:
    """Confidence-based performance estimation (CBPE): with calibrated probabilities, each
    prediction is expected to be right with probability max(p, 1-p); expected confusion
    matrices give accuracy and F1, and a probability-weighted ROC AUC estimates AUC, all
    before any label arrives."""
    rows = []
    frame = predictions.dropna(subset=["probability"])
    for bucket, g in frame.groupby(_buckets(frame["ts"], freq)):
        raw = g["probability"].to_numpy(float)
        p = calibrate(raw, calibration)
        pred = raw >= 0.5
        tp, fp = p[pred].sum(), (1 - p[pred]).sum()
        fn, tn = p[~pred].sum(), (1 - p[~pred]).sum()
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 0.0
        rows.append(
            {
                "bucket": bucket,
                "n": len(g),
                "accuracy": (tp + tn) / len(g),
                "roc_auc": _expected_auc(raw, p),
                "f1": f1,
            }
        )
    return pd.DataFrame(rows, columns=["bucket", "n", "accuracy", "roc_auc", "f1"])


def _expected_auc(score: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC if each row were positive with weight p and negative with weight 1-p."""
    if len(score) < 2:
        return float("nan")
    y = np.r_[np.ones(len(score)), np.zeros(len(score))]
    return float(roc_auc_score(y, np.r_[score, score], sample_weight=np.r_[p, 1 - p]))


def route(company_id, share: float, salt: str = "challenger") -> str:
    """'challenger' for a stable ``share`` of companies (by hash of the id), else 'champion'."""
    if share <= 0 or company_id is None:
        return "champion"
    digest = hashlib.sha256(f"{salt}:{company_id}".encode()).hexdigest()
    return "challenger" if int(digest[:8], 16) / 0xFFFFFFFF < share else "champion"


def compare_models(labelled: pd.DataFrame) -> dict:
    """Champion vs challenger on feedback: accuracy by a two-proportion z-test.

    labelled: alias ('champion', 'challenger' or 'shadow'), probability, outcome."""
    frame = labelled.dropna(subset=["probability", "outcome"])
    frame = frame.assign(alias=frame["alias"].replace({"shadow": "challenger"}))
    stats = {}
    for alias in ("champion", "challenger"):
        g = frame[frame["alias"] == alias]
        correct = ((g["probability"] >= 0.5).astype(int) == g["outcome"].astype(int)).sum()
        stats[alias] = {"n": len(g), "correct": int(correct), "accuracy": float(correct / len(g)) if len(g) else None}
    a, b = stats["champion"], stats["challenger"]
    if min(a["n"], b["n"]) < 30:
        return {**stats, "test": "two-proportion z-test", "p_value": None, "verdict": "not enough feedback yet (need 30 labelled predictions per model)"}
    pooled = (a["correct"] + b["correct"]) / (a["n"] + b["n"])
    se = math.sqrt(pooled * (1 - pooled) * (1 / a["n"] + 1 / b["n"])) or 1e-12
    z = (b["accuracy"] - a["accuracy"]) / se
    p_value = float(2 * norm.sf(abs(z)))
    if p_value >= 0.05:
        verdict = "no significant difference"
    else:
        verdict = "challenger is better" if z > 0 else "champion is better"
    return {**stats, "test": "two-proportion z-test", "z": float(z), "p_value": p_value, "verdict": verdict}


def alert_candidates(drift: dict | None, estimated: pd.DataFrame, realised: pd.DataFrame, new_feedback: int, settings: dict) -> list[dict]:
    """The alert rules. Each candidate has kind, key (for deduplication), severity, message."""
    out = []
    if drift and drift.get("dataset", {}).get("dataset_drift"):
        d = drift["dataset"]
        cols = [c["column"] for c in drift["columns"] if c["drifted"]]
        out.append({"kind": "data_drift", "key": drift.get("model_version", ""), "severity": "high",
                    "message": f"Dataset drift: {d['n_drifted']} of {d['n_columns']} columns drifted ({', '.join(cols)}).", "details": {"columns": cols}})
    elif drift:
        cols = [c["column"] for c in drift["columns"] if c["drifted"]]
        if cols:
            out.append({"kind": "column_drift", "key": f"{drift.get('model_version', '')}:{','.join(sorted(cols))}", "severity": "medium",
                        "message": f"Drift in {len(cols)} column(s): {', '.join(cols)}.", "details": {"columns": cols}})
    for name, frame in (("estimated", estimated), ("realised", realised)):
        if frame is None or frame.empty:
            continue
        last = frame.iloc[-1]
        for metric, floor in (("roc_auc", settings["min_roc_auc"]), ("accuracy", settings["min_accuracy"])):
            value = last[metric]
            if not np.isnan(value) and value < floor:
                out.append({"kind": f"{name}_performance", "key": f"{metric}:{last['bucket']:%Y-%m-%d}", "severity": "high",
                            "message": f"{name.capitalize()} {metric} {value:.3f} is under {floor} for the week of {last['bucket']:%Y-%m-%d}."})
    if new_feedback >= settings["feedback_retrain_rows"]:
        out.append({"kind": "feedback_ready", "key": str(new_feedback // settings["feedback_retrain_rows"]), "severity": "low",
                    "message": f"{new_feedback:,} new labelled outcomes since the last training: consider retraining."})
    return out
