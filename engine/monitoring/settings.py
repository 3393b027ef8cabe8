"""Monitoring and serving settings of one home: defaults merged with HOME/settings.json."""

from __future__ import annotations

import json
from pathlib import Path

from engine import sharedfiles
from engine.errors import DataError

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


def load_settings(home: Path) -> dict:
    path = Path(home) / "settings.json"
    saved = json.loads(path.read_text()) if path.is_file() else {}
    return {**DEFAULT_SETTINGS, **saved}


def save_settings(home: Path, changes: dict) -> dict:
    """Merge ``changes`` into the saved settings (atomically); unknown keys are refused."""
    unknown = set(changes) - set(DEFAULT_SETTINGS)
    if unknown:
        raise DataError(f"Unknown setting(s) {sorted(unknown)}; expected some of {sorted(DEFAULT_SETTINGS)}.")
    path = Path(home) / "settings.json"
    with sharedfiles.locked(path):  # another process may be saving other keys right now
        merged = {**load_settings(home), **changes}
        sharedfiles.write_atomically(path, json.dumps(merged, indent=2))
    return merged
