"""Automatic retraining: the champion's training table plus every labelled logged profile,
promoted only through the quality gate. The outcome is recorded as an alert."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from engine.errors import DataError
from engine.monitoring.monitor import served
from engine.schema import Schema, read_table


def auto_retrain(workspace, *, reason: str = "automatic retrain") -> dict:
    manifest = workspace.registry.manifest(workspace.version("champion"))
    schema = Schema.from_dict(manifest["schema"])
    source = manifest.get("data_source")
    if schema.target is None or not source or not Path(source).is_file():
        result = {"retrained": False, "why": f"the champion's training table is not available ({source})"}
    else:
        db = workspace.store
        logged = db.predictions().set_index("id")
        labelled = served(db.labelled_predictions())
        labelled = labelled[labelled["prediction_id"].isin(logged.index)]
        fresh = pd.DataFrame(list(logged.loc[labelled["prediction_id"], "profile"]))
        fresh[schema.target.column] = labelled["outcome"].to_numpy()
        combined = pd.concat([read_table(source), fresh], ignore_index=True)
        try:
            outcome = workspace.train(combined, schema, actor="auto-retrain")
            # No outcome labelled since a version was trained on these rows: none is written.
            result = {"retrained": not outcome["unchanged"], "rows_added": len(fresh), **outcome}
        except DataError as exc:
            result = {"retrained": False, "why": str(exc)}
    said = f"{result['reason']}; no new version" if result.get("unchanged") else json.dumps(result, default=str)[:400]
    workspace.store.raise_alert("auto_retrain", str(result.get("version", "skipped")), "low", f"Automatic retrain ({reason[:200]}): {said}")
    return result
