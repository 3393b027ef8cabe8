"""Performance over time: realised (from feedback) and estimated without labels (CBPE).
Pure functions over DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score


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
