"""The alert rules: drift, performance under a floor, enough new feedback to retrain."""

from __future__ import annotations

import numpy as np
import pandas as pd


def alert_candidates(drift: dict | None, estimated: pd.DataFrame, realised: pd.DataFrame, new_feedback: int, settings: dict) -> list[dict]:
    """The alert rules. Each candidate has kind, key (for deduplication), severity, message."""
    out = []
    if drift and not drift.get("enough_rows", True):
        drift = None  # too few rows for any drift verdict, dataset or column
    if drift and drift.get("dataset", {}).get("dataset_drift"):
        d = drift["dataset"]
        cols = _drifted(drift)
        out.append({"kind": "data_drift", "key": drift.get("model_version", ""), "severity": "high",
                    "message": f"Dataset drift: {d['n_drifted']} of {d['n_columns']} columns drifted ({', '.join(cols)}).", "details": {"columns": cols}})
    elif drift:
        cols = _drifted(drift)
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


def _drifted(drift: dict) -> list[str]:
    """Columns whose values or missing share drifted (the report's one list)."""
    return drift["dataset"]["drifted_columns"]
