"""Replayed traffic: a table sent through the champion with timestamps spread over past
weeks, and delayed feedback, so a fresh install shows a monitoring history."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError

BUILT_IN_TABLES = ("companies.csv", "customers.csv", "ratios.csv")  # training tables of the built-in datasets
UNSEEN_TABLE = "recent.csv"  # the built-in datasets' unchanged population, never trained on


def built_in_table(folder: Path) -> Path | None:
    """The built-in dataset's training table in ``folder`` (HOME/demo), or None."""
    return next((folder / n for n in BUILT_IN_TABLES if (folder / n).is_file()), None)


def replay(workspace, data=None, *, baseline=None, weeks: int = 8, feedback_share: float = 0.7, feedback_delay_days: int = 14, seed: int = 0, now=None) -> dict:
    """Replay ``data`` (default: HOME/demo/current.csv). With a ``baseline`` table (default:
    HOME/demo/recent.csv, the unchanged population) the first half of the window replays
    baseline rows (no drift yet). Baseline rows should be rows the champion never trained on
    (a small table's model is refitted on every training row), or realised accuracy is flattered."""
    demo = workspace.home / "demo"
    data = data if data is not None else demo / "current.csv"
    if baseline is None and data == demo / "current.csv" and (demo / UNSEEN_TABLE).is_file():
        baseline = demo / UNSEEN_TABLE
    model = workspace.champion()
    current, schema = workspace.load_dataset(data, model.schema)
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
    start = end - pd.Timedelta(weeks=weeks)
    frame, offsets = _timeline(workspace, current, baseline, schema, rng, seed)
    ts = (start + pd.to_timedelta(offsets * (end - start).total_seconds(), unit="s")).floor("ms")
    if frame.empty:
        raise DataError("replay: the table has no rows.")
    scored = model.score(frame)
    columns = [c for c in list(schema.segments) + schema.feature_names + ([schema.id] if schema.id else []) if c in frame.columns]
    profiles = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    rows = [
        {
            "ts": ts[i].to_pydatetime(),
            "model_version": model.version,
            "alias": "champion",
            "company_id": schema.entity_id(profile),
            "profile": profile,
            "outputs": {"segment": scored["segment"].iat[i], "anomaly_count": int(scored["anomaly_count"].iat[i])},
            "probability": float(scored["probability"].iat[i]) if "probability" in scored else None,
            "segment": scored["segment"].iat[i],
            "source": "replay",
        }
        for i, profile in enumerate(profiles)
    ]
    ids = workspace.store.log_predictions(rows)
    n_feedback = _feedback(workspace, frame, schema, ids, ts + pd.Timedelta(days=feedback_delay_days), end, feedback_share, rng)
    raised = workspace.monitoring.check_alerts(now=end)
    return {"predictions": len(rows), "feedback": n_feedback, "from": str(start), "to": str(end), "alerts": raised}


def _timeline(workspace, current, baseline, schema, rng, seed) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows in time order with their position (0..1) in the window."""
    if baseline is not None:
        base, _ = workspace.load_dataset(baseline, schema)
        base = base.sample(n=min(len(base), len(current)), random_state=seed)
        frame = pd.concat([base, current], ignore_index=True)
        offsets = np.r_[rng.uniform(0, 0.5, len(base)), rng.uniform(0.5, 1.0, len(current))]
    else:
        frame = current.reset_index(drop=True)
        offsets = rng.uniform(0, 1, len(frame))
    order = np.argsort(offsets)
    return frame.iloc[order].reset_index(drop=True), offsets[order]


def _feedback(workspace, frame, schema, ids, fb_ts, end, share, rng) -> int:
    """Outcomes for a ``share`` of the replayed rows, arriving after a delay (none in the future)."""
    target = schema.target.column if schema.target and schema.target.kind == "binary" else None
    if not target or target not in frame.columns:
        return 0
    chosen = (rng.random(len(frame)) < share) & (fb_ts <= end) & frame[target].notna().to_numpy()
    feedback = [{"prediction_id": ids[i], "company_id": None, "outcome": int(frame[target].iat[i]), "ts": fb_ts[i].to_pydatetime()} for i in np.flatnonzero(chosen)]
    return workspace.store.add_feedback(feedback).recorded if feedback else 0
