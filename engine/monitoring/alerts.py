"""The alert rules: drift, performance under a floor, enough new feedback to retrain."""

from __future__ import annotations

import pandas as pd

DRIFT_KINDS = ("data_drift", "column_drift")
METRIC_WORDS = {"roc_auc": "ROC AUC", "accuracy": "accuracy"}


def alert_candidates(drift: dict | None, estimated: pd.DataFrame, realised: pd.DataFrame, new_feedback: int, settings: dict, *, labels: dict[str, str] | None = None) -> list[dict]:
    """The alert rules. Each candidate has kind, key (for deduplication), severity, message.

    ``labels`` maps column names to the schema's feature labels, used in messages (the raw
    names stay in ``details.columns``).
    """
    out = []
    labels = labels or {}
    if drift and not drift.get("enough_rows", True):
        drift = None  # too few rows for any drift verdict, dataset or column
    if drift and drift.get("dataset", {}).get("dataset_drift"):
        d = drift["dataset"]
        cols = _drifted(drift)
        out.append({"kind": "data_drift", "key": drift.get("model_version", ""), "severity": "high",
                    "message": f"Dataset drift: {d['n_drifted']} of {d['n_columns']} columns drifted ({_named(cols, labels)}).", "details": {"columns": cols}})
    elif drift:
        cols = _drifted(drift)
        if cols:
            out.append({"kind": "column_drift", "key": f"{drift.get('model_version', '')}:{','.join(sorted(cols))}", "severity": "medium",
                        "message": f"Drift in {len(cols)} column(s): {_named(cols, labels)}.", "details": {"columns": cols}})
    for name, frame in (("estimated", estimated), ("realised", realised)):
        if frame is None or frame.empty:
            continue
        last = frame.iloc[-1]
        for metric, floor in (("roc_auc", settings["min_roc_auc"]), ("accuracy", settings["min_accuracy"])):
            value = last[metric]
            if not pd.isna(value) and value < floor:  # None: not computable yet (e.g. one class in the week)
                out.append({"kind": f"{name}_performance", "key": f"{metric}:{last['bucket']:%Y-%m-%d}", "severity": "high",
                            "message": f"{name.capitalize()} {METRIC_WORDS[metric]} {value:.3f} is under the floor {floor:.3f} for the week of {last['bucket']:%Y-%m-%d}."})
    if new_feedback >= settings["feedback_retrain_rows"]:
        out.append({"kind": "feedback_ready", "key": str(new_feedback // settings["feedback_retrain_rows"]), "severity": "low",
                    "message": f"{new_feedback:,} new labelled outcomes since the last training: consider retraining."})
    return out


def drift_alert_version(alert: dict) -> str | None:
    """The model version a drift alert was raised for (its key starts with it), else None."""
    if alert["kind"] not in DRIFT_KINDS:
        return None
    return alert["key"].split(":", 1)[0]


def _drifted(drift: dict) -> list[str]:
    """Columns whose values or missing share drifted (the report's one list)."""
    return drift["dataset"]["drifted_columns"]


def _named(columns: list[str], labels: dict[str, str]) -> str:
    return ", ".join(labels.get(c, c) for c in columns)
