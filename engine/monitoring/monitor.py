"""Monitoring of one workspace: drift, performance over time, alerts, feedback and the
champion/challenger comparison, over the prediction log and the served version.

Only served rows count (the prediction log also holds unserved "shadow" rows)."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pandas as pd

from engine.errors import DataError, ModelNotFoundError
from engine.monitoring.alerts import alert_candidates, drift_alert_version
from engine.monitoring.drift import ReferenceProfile, drift_report, series_drift
from engine.monitoring.performance import estimated_performance, realised_performance
from engine.monitoring.routing import compare_models
from engine.schema import Schema, read_table
from engine.schema.model import as_text
from engine.schema.validation import target_positive

# The "by" of an alert the monitor resolves itself.
CONDITION_CLEARED = "monitor: condition cleared"


def served(log: pd.DataFrame) -> pd.DataFrame:
    """The rows of a prediction-log frame that were served (not shadow-scored)."""
    return log[log["alias"] != "shadow"] if not log.empty else log


class Monitor:
    """Monitoring operations of one ``Workspace`` (``workspace.monitoring``)."""

    def __init__(self, workspace):
        self.ws = workspace

    # ----- drift --------------------------------------------------------------------------
    def drift(self, current=None, *, days: float | None = None, now=None, tests: dict | None = None, thresholds: dict | None = None, dataset_threshold: float | None = None, ref: str = "champion") -> dict:
        """Drift report of a table (or of the prediction log's last ``days``) against the
        version's reference profile, plus drift of the model's output (the probability, or the
        predicted value of a numeric target; logged predictions carry probabilities only)."""
        version = self.ws.version(ref)
        details = self.ws.details(version)
        schema = Schema.from_dict(details["manifest"]["schema"])
        reference = ReferenceProfile.from_dict(details["reference"])
        output = schema.target.output if schema.target else None  # the log needs no model loaded
        cfg = self.ws.settings
        if current is None:
            window = days or cfg["drift_window_days"]
            frame = self.logged_profiles(days=window, now=now)
            if frame.empty:
                raise DataError(f"No predictions in the monitoring window yet; analyse some {schema.entity.plural} or upload a table.")
            logged = frame.pop("probability") if "probability" in frame else None
            predictions = logged if output == "probability" else None
            source = f"prediction log, last {window} days"
        else:
            # Drifted data may break the schema's bounds: such rows are left out and reported.
            frame, _ = self.ws.load_dataset(current, schema, max_bad_share=1.0)
            outcome = self.ws.model(version).outcome
            predictions = pd.Series(outcome.predict_design(outcome.design(frame))) if outcome is not None else None
            source = "uploaded table" if isinstance(current, pd.DataFrame) else str(current)
        columns = [c for c in schema.feature_names + list(schema.segments) if c in frame.columns]
        tests = {**schema.drift.get("tests", {}), **(tests or {})}  # the schema's [drift], then the caller's
        thresholds = {**schema.drift.get("thresholds", {}), **(thresholds or {})}
        report = drift_report(reference, frame, tests=tests, thresholds=thresholds, dataset_threshold=dataset_threshold or cfg["dataset_drift_share"], columns=columns).to_dict()
        report |= {"model_version": version, "source": source, "left_out": frame.attrs.get("left_out")}
        if predictions is not None and output in reference.numeric:
            report[output] = series_drift(reference.numeric[output], predictions.to_numpy(float), name=output).to_dict()
        return report

    def logged_profiles(self, *, days: float | None = None, now=None, start=None, end=None) -> pd.DataFrame:
        """Served profiles of the prediction log as a table (with their ``probability``); with
        ``days``, the window of that many days up to ``now`` (default: the current time)."""
        if days is not None:
            end = pd.Timestamp(now) if now is not None else pd.Timestamp.now(tz="UTC")
            start = end - pd.Timedelta(days=days)
        log = served(self.ws.store.predictions(start=start, end=end, columns=["alias", "profile", "probability"]))
        if log.empty:
            return pd.DataFrame()
        frame = pd.DataFrame(list(log["profile"]))
        frame["probability"] = log["probability"].to_numpy()
        return frame

    # ----- performance --------------------------------------------------------------------
    def performance(self, *, freq: str = "W") -> dict:
        """Realised (from feedback) and estimated (label-free) performance per time bucket."""
        calibration = None
        with contextlib.suppress(ModelNotFoundError):  # no model yet: no label-free estimate
            calibration = self.ws.details()["metrics"].get("calibration_map")
        log = served(self.ws.store.predictions(columns=["alias", "probability"]))
        labelled = served(self.ws.store.labelled_predictions())
        realised = realised_performance(labelled, freq) if not labelled.empty else pd.DataFrame()
        estimated = estimated_performance(log, calibration, freq) if not log.empty else pd.DataFrame()
        return {"realised": _records(realised), "estimated": _records(estimated)}

    def compare(self) -> dict:
        """Champion vs challenger on feedback, with a significance test."""
        labelled = self.ws.store.labelled_predictions()
        if labelled.empty:
            return {"verdict": "no feedback yet", "p_value": None}
        return compare_models(labelled)

    # ----- feedback and alerts ------------------------------------------------------------
    def record_feedback(self, rows) -> dict:
        """Record actual outcomes -> {"recorded", "corrected", "duplicates", "matched", "unmatched"}.

        Each row (a table, a file or a list of dicts) names a ``prediction_id`` or the entity's
        id (under the served schema's id column, ``entity_id`` or the older ``company_id``), the outcome (the target column's
        own values, or ``outcome`` 0/1) and optionally ``ts``. Rows already recorded are
        ``duplicates``, left as they were; ``recorded`` counts the others, ``corrected`` those
        of them that replaced a different outcome (``engine.store.feedback``). A row is matched
        when it labels a logged prediction: its prediction id, or a prediction of its entity at
        or before ``ts``; ``matched + unmatched`` counts every row sent, as
        ``recorded + duplicates`` does.
        """
        if isinstance(rows, str) or hasattr(rows, "__fspath__"):
            rows = read_table(rows)
        schema = self.ws.champion().schema
        if schema.target is not None and schema.target.kind == "numeric":
            raise DataError(f"feedback: the target '{schema.target.column}' is numeric; monitoring compares 0/1 outcomes only, so numeric outcomes are not recorded yet.")
        if isinstance(rows, pd.DataFrame):
            rows = rows.astype(object).where(rows.notna(), None).to_dict("records")
        clean = [_feedback_row(i, r, schema) for i, r in enumerate(rows)]
        counts = self.ws.store.add_feedback(clean)
        first = self.ws.store.first_predictions(r["company_id"] for r in clean if r["prediction_id"] is None)
        now = pd.Timestamp.now(tz="UTC")
        matched = sum(
            r["prediction_id"] is not None or (r["company_id"] in first and first[r["company_id"]] <= _when(r["ts"], now))
            for r in clean
        )
        return {**counts.to_dict(), "matched": matched, "unmatched": len(clean) - matched}

    def alerts(self, *, open_only: bool = False, state: str | None = None) -> list[dict]:
        """Alerts, newest first, each with its ``state`` (see ``Store.alerts``)."""
        return self.ws.store.alerts(open_only=open_only, state=state)

    def acknowledge_alert(self, alert_id: int, by: str) -> dict:
        """Mark an open alert as seen by ``by``; returns it (``Store.acknowledge_alert``)."""
        return self.ws.store.acknowledge_alert(alert_id, by)

    def resolve_alert(self, alert_id: int, by: str) -> dict:
        """Close an alert as ``by``; returns it (``Store.resolve_alert``)."""
        return self.ws.store.resolve_alert(alert_id, by)

    def check_alerts(self, *, now=None, retrain: bool = True) -> list[dict]:
        """Evaluate the alert rules, raise (deduplicated) alerts, resolve the drift alerts of
        the served version that the current drift verdict no longer supports, and retrain when
        the policy is auto (and ``retrain``: a page view checks without blocking on a training).
        -> the alerts raised by this check (new or already open)."""
        cfg = self.ws.settings
        try:
            drift_result = self.drift(now=now)
        except DataError:
            drift_result = None
        perf = self.performance()
        log = self.ws.audit_log()
        since = pd.Timestamp(log[-1]["when"]) if log else None
        new_feedback = self.ws.store.feedback_count(since=since)
        schema = self.ws.champion().schema
        labels = {c: c.replace("_", " ").capitalize() for c in schema.segments}  # segment keys have no label of their own
        labels |= {f.name: f.label for f in schema.features}
        candidates = alert_candidates(drift_result, _dated(perf["estimated"]), _dated(perf["realised"]), new_feedback, cfg, labels=labels)
        raised, any_new = [], False
        for c in candidates:
            alert, created = self.ws.store.raise_alert(c["kind"], c["key"], c["severity"], c["message"], c.get("details"))
            raised.append(alert)
            any_new = any_new or created
        if drift_result is not None and drift_result.get("enough_rows", True):
            self._clear_drift_alerts(drift_result["model_version"], {(c["kind"], c["key"]) for c in candidates})
        if retrain and any_new and cfg["retrain_policy"] == "auto":
            from engine.monitoring.retrain import auto_retrain

            auto_retrain(self.ws, reason="new alert: " + "; ".join(a["message"] for a in raised))
        return raised

    def _clear_drift_alerts(self, version: str, current: set[tuple[str, str]]) -> None:
        """Resolve the unresolved drift alerts of ``version`` that today's verdict (the
        ``current`` (kind, key) candidates) no longer raises. Only called with a verdict: too
        few rows or an empty window says nothing, so it clears nothing."""
        for alert in self.ws.store.alerts(open_only=True, limit=None):
            if drift_alert_version(alert) == version and (alert["kind"], alert["key"]) not in current:
                self.ws.store.resolve_alert(alert["id"], CONDITION_CLEARED)

    def volume(self) -> dict:
        """Served predictions in all and per day, and the feedback count."""
        log = served(self.ws.store.predictions(columns=["alias"]))
        daily = []
        if not log.empty:
            counts = log.groupby(log["ts"].dt.floor("D")).size()
            daily = [{"day": d.strftime("%Y-%m-%d"), "predictions": int(n)} for d, n in counts.items()]
        return {"total": len(log), "feedback": self.ws.store.feedback_count(), "daily": daily}

    def summary(self) -> dict:
        """Volume, drift, performance, open alerts, champion/challenger comparison."""
        try:
            result = self.drift()
            drift_summary = {**result["dataset"], "source": result["source"]}
        except DataError as exc:
            drift_summary = {"message": str(exc)}
        return {
            "volume": self.volume(),
            "drift": drift_summary,
            "performance": self.performance(),
            "alerts": self.ws.store.alerts(open_only=True),
            "champion_challenger": self.compare(),
        }


def _feedback_row(i: int, r: dict, schema: Schema) -> dict:
    """One feedback row in the store's shape; DataError naming the row and what was expected."""
    target = schema.target.column if schema.target else None
    names = [n for n in ("prediction_id", schema.id, "entity_id", "company_id") if n]
    id_col = next((n for n in names[1:] if r.get(n) is not None), "entity_id")
    if "outcome" in r:
        outcome = r["outcome"] if isinstance(r["outcome"], bool) or r["outcome"] in (0, 1) else None
        if outcome is None:
            raise DataError(f"feedback row {i}: 'outcome' should be 0 or 1, got {r['outcome']!r}.")
    elif target in r and r[target] is not None:
        # The target column's own values, read exactly as training reads them.
        outcome = bool(target_positive(pd.Series([r[target]], dtype=object), schema).iloc[0])
    else:
        raise DataError(f"feedback row {i}: expected an outcome ('{target or 'outcome'}' or 'outcome' 0/1), got {sorted(r)}.")
    pid, cid = r.get("prediction_id"), as_text(r.get(id_col))
    pid = None if pid is None or (isinstance(pid, float) and np.isnan(pid)) else int(pid)
    if pid is None and cid is None:
        raise DataError(f"feedback row {i}: needs one of {names}.")
    return {"prediction_id": pid, "company_id": cid, "outcome": int(outcome), "ts": _feedback_time(i, r.get("ts"))}


EARLIEST_FEEDBACK = pd.Timestamp("2000-01-01", tz="UTC")


def _feedback_time(i: int, ts):
    """A feedback row's time: absent, or a readable time between 2000 and a day from now (a
    1970 or 9999 stamp is a broken export, and would sit outside every monitoring window)."""
    if ts is None or (isinstance(ts, float) and np.isnan(ts)):
        return None
    try:
        stamp = _when(ts, None)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"feedback row {i}: ts {ts!r} is not a time; expected e.g. 2026-05-31T12:00:00Z.") from None
    latest = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)
    if not EARLIEST_FEEDBACK <= stamp <= latest:
        raise DataError(f"feedback row {i}: ts {ts!r} is outside 2000-01-01 .. now; expected when the outcome was observed.")
    return ts


def _when(ts, default: pd.Timestamp) -> pd.Timestamp:
    if ts is None:
        return default
    stamp = pd.Timestamp(ts)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def _records(frame: pd.DataFrame) -> list[dict]:
    if frame is None or frame.empty:
        return []
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return json.loads(out.to_json(orient="records"))


def _dated(records: list[dict]) -> pd.DataFrame | None:
    return pd.DataFrame(records).assign(bucket=lambda f: pd.to_datetime(f["bucket"])) if records else None
