"""Monitoring through the facade: replay history, drift on the planted shift, performance
over time, alerts, champion/challenger routing and comparison."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.cli import main as cli
from engine.monitoring.alerts import DRIFT_KINDS, alert_candidates
from engine.monitoring.monitor import CONDITION_CLEARED
from engine.monitoring.performance import estimated_performance
from engine.monitoring.routing import compare_models, route


@pytest.fixture(scope="module")
def replayed(writable_home):
    """A home with replayed history (its own copy: these tests raise alerts)."""
    home = writable_home("demo-history")
    paths = {name: home / "demo" / f"{name}.csv" for name in ("companies", "current")}
    summary = json.loads((home / "replay-result.json").read_text())
    return home, paths, summary


def test_replay_gives_history_and_a_drift_alert(replayed):
    home, _, summary = replayed
    assert summary["predictions"] > 1000
    assert summary["feedback"] > 100
    kinds = {a["kind"] for a in api.workspace(home).monitoring.alerts(open_only=True)}
    assert kinds & {"data_drift", "column_drift"}, kinds
    monitor = api.workspace(home).monitoring.summary()
    assert monitor["volume"]["total"] == summary["predictions"]
    assert len(monitor["volume"]["daily"]) > 20


def test_planted_shifted_columns_are_flagged(replayed):
    home, paths, _ = replayed
    truth = json.loads((home / "demo" / "truth" / "truth.json").read_text())
    report = api.workspace(home).monitoring.drift(paths["current"])
    flagged = {c["column"] for c in report["columns"] if c["drifted"]}
    assert set(truth["shifted_columns"]) <= flagged
    assert len(flagged - set(truth["shifted_columns"])) <= 1


def test_alerts_are_deduplicated(replayed):
    home, _, _ = replayed
    before = api.workspace(home).monitoring.alerts()
    api.workspace(home).monitoring.check_alerts()
    api.workspace(home).monitoring.check_alerts()
    assert len(api.workspace(home).monitoring.alerts()) == len(before)


def test_realised_and_estimated_performance_are_close(replayed):
    home, _, _ = replayed
    perf = api.workspace(home).monitoring.performance()
    realised = pd.DataFrame(perf["realised"])
    estimated = pd.DataFrame(perf["estimated"])
    assert len(realised) >= 3 and len(estimated) >= 6
    both = realised.merge(estimated, on="bucket", suffixes=("_r", "_e"))
    both = both[both["n_r"] > 100]
    # Label-free estimates from calibrated probabilities track the realised accuracy.
    assert (both["accuracy_r"] - both["accuracy_e"]).abs().mean() < 0.08


def test_drift_alerts_follow_the_current_verdict(replayed, tmp_path):
    """A drift alert names features by their labels; when the served version's drift clears it
    is resolved by the monitor (acknowledged or not), and it opens anew when drift returns.
    No verdict (no rows in the window) clears nothing."""
    home, _, summary = replayed
    work = tmp_path / "home"
    shutil.copytree(home, work)
    ws = api.workspace(work)

    def drift_alerts() -> list[dict]:
        return [a for a in ws.monitoring.alerts(open_only=True) if a["kind"] in DRIFT_KINDS]

    schema = ws.champion().schema
    labels = {c: c.replace("_", " ").capitalize() for c in schema.segments} | {f.name: f.label for f in schema.features}
    (drift,) = drift_alerts()
    columns = drift["details"]["columns"]
    assert any(labels.get(c, c) != c for c in columns)  # the check below is not vacuous
    assert all(labels.get(c, c) in drift["message"] for c in columns), drift["message"]
    ws.monitoring.acknowledge_alert(drift["id"], "analyst")

    end = pd.Timestamp(summary["to"])
    ws.monitoring.check_alerts(now=end + pd.Timedelta(days=60))  # an empty window: no verdict
    assert [(a["id"], a["state"]) for a in drift_alerts()] == [(drift["id"], "acknowledged")]

    baseline_week = end - pd.Timedelta(weeks=5)  # the replay's first half: the unchanged population
    assert ws.monitoring.drift(now=baseline_week)["dataset"]["drifted_columns"] == []
    ws.monitoring.check_alerts(now=baseline_week)
    assert drift_alerts() == []
    cleared = next(a for a in ws.monitoring.alerts() if a["id"] == drift["id"])
    assert (cleared["state"], cleared["resolved_by"], cleared["acknowledged_by"]) == ("resolved", CONDITION_CLEARED, "analyst")

    ws.monitoring.check_alerts(now=end)  # the drifted weeks again
    (again,) = drift_alerts()
    assert again["id"] != drift["id"] and again["key"] == drift["key"] and again["state"] == "open"


def test_alert_messages_use_labels_and_words():
    settings = {"min_roc_auc": 0.65, "min_accuracy": 0.7, "feedback_retrain_rows": 10**9}
    drift = {"model_version": "v0003", "enough_rows": True, "dataset": {"dataset_drift": False, "drifted_columns": ["tech", "region"], "n_drifted": 2, "n_columns": 9}}
    estimated = pd.DataFrame({"bucket": [pd.Timestamp("2026-02-23"), pd.Timestamp("2026-03-02")], "roc_auc": [0.9, 0.612], "accuracy": [0.9, 0.71]})
    realised = pd.DataFrame({"bucket": [pd.Timestamp("2026-03-02")], "roc_auc": [np.nan], "accuracy": [0.5]})
    out = alert_candidates(drift, estimated, realised, 0, settings, labels={"tech": "Technology maturity"})
    assert [(c["kind"], c["key"], c["message"]) for c in out] == [
        ("column_drift", "v0003:region,tech", "Drift in 2 column(s): Technology maturity, region."),
        ("estimated_performance", "roc_auc:2026-03-02", "Estimated ROC AUC 0.612 is under the floor 0.650 for the week of 2026-03-02."),
        ("realised_performance", "accuracy:2026-03-02", "Realised accuracy 0.500 is under the floor 0.700 for the week of 2026-03-02."),
    ]
    assert out[0]["details"] == {"columns": ["tech", "region"]}  # raw names for programs


def test_estimated_performance_is_exact_for_calibrated_certainty():
    ts = pd.to_datetime(["2026-01-05"] * 4, utc=True)
    frame = pd.DataFrame({"ts": ts, "probability": [0.0, 0.0, 1.0, 1.0]})
    est = estimated_performance(frame, None)
    assert est["accuracy"].iloc[0] == pytest.approx(1.0)
    assert est["roc_auc"].iloc[0] == pytest.approx(1.0)


def test_routing_is_stable_and_respects_share():
    ids = [str(i) for i in range(20_000)]
    first = [route(i, 0.2) for i in ids]
    assert first == [route(i, 0.2) for i in ids]
    assert np.mean([a == "challenger" for a in first]) == pytest.approx(0.2, abs=0.02)
    assert {route(i, 0.0) for i in ids[:100]} == {"champion"}


@pytest.mark.parametrize(
    ("champion_acc", "challenger_acc", "verdict"),
    [(0.70, 0.90, "challenger is better"), (0.90, 0.70, "champion is better"), (0.80, 0.80, "no significant difference")],
)
def test_comparison_verdict(champion_acc, challenger_acc, verdict):
    rows = []
    for alias, acc in (("champion", champion_acc), ("challenger", challenger_acc)):
        n_right = int(acc * 500)
        rows += [{"alias": alias, "probability": 0.9, "outcome": 1}] * n_right
        rows += [{"alias": alias, "probability": 0.9, "outcome": 0}] * (500 - n_right)
    result = compare_models(pd.DataFrame(rows))
    assert result["verdict"] == verdict
    assert (result["p_value"] < 0.05) == (verdict != "no significant difference")


def test_feedback_from_file_and_bad_rows(replayed, tmp_path, capsys):
    home, _, _ = replayed
    work = tmp_path / "home"
    shutil.copytree(home, work)
    before = api.workspace(work).store.feedback_count()
    good = tmp_path / "fb.csv"
    pd.DataFrame({"company_id": ["1", "2"], "outcome": [1, 0], "ts": "2026-01-05T10:00:00Z"}).to_csv(good, index=False)
    assert cli(["feedback", "--home", str(work), "--data", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["recorded"] == 2
    assert api.workspace(work).store.feedback_count() == before + 2
    # The same file again (a retry, or sent to a second server): already recorded.
    assert cli(["feedback", "--home", str(work), "--data", str(good)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["recorded"], again["corrected"], again["duplicates"]) == (0, 0, 2)
    assert api.workspace(work).store.feedback_count() == before + 2
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"company_id": ["1"], "outcome": [7]}).to_csv(bad, index=False)
    assert cli(["feedback", "--home", str(work), "--data", str(bad)]) == 2
    assert "outcome" in capsys.readouterr().err
    assert api.workspace(work).store.feedback_count() == before + 2


def test_cli_drift_and_monitor_print_json(replayed, capsys):
    home, paths, _ = replayed
    assert cli(["drift", "--home", str(home), "--current", str(paths["current"])]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"dataset", "columns"} <= set(report)
    assert all({"test", "statistic", "threshold", "drifted"} <= set(c) for c in report["columns"])
    assert cli(["monitor", "--home", str(home)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"volume", "drift", "performance", "alerts"} <= set(summary)


@pytest.mark.slow
def test_auto_policy_retrains_through_the_quality_gate(replayed, tmp_path):
    home, _, summary = replayed
    work = tmp_path / "home"
    shutil.copytree(home, work)
    api.workspace(work).store.resolve_alert(api.workspace(work).monitoring.alerts(open_only=True)[0]["id"], "test")
    before = api.workspace(work).models()
    api.workspace(work).update_settings({"retrain_policy": "auto"})
    # The replay ends today, with the drifted traffic last: a fixed date here once fell before it.
    api.workspace(work).monitoring.check_alerts(now=summary["to"])
    after = api.workspace(work).models()
    assert len(after) == len(before) + 1
    assert api.workspace(work).audit_log()[-1]["actor"] == "auto-retrain"
    assert any(a["kind"] == "auto_retrain" for a in api.workspace(work).monitoring.alerts())


def test_feedback_by_numeric_ids_with_a_blank_and_target_values(replayed, tmp_path, capsys):
    """An id column read as floats (a blank makes pandas do it) still matches the logged ids,
    and the target column's own values count as training counts them."""
    home, paths, _ = replayed
    work = tmp_path / "home"
    shutil.copytree(home, work)
    logged = pd.read_csv(paths["current"])["company_id"].head(3).tolist()  # replayed: in the log
    path = tmp_path / "fb.csv"
    pd.DataFrame({"company_id": [*logged, None], "high_growth": [1, 0, 1, 0], "prediction_id": [None, None, None, 1]}).to_csv(path, index=False)
    replayed_label = api.workspace(work).store.labelled_predictions().query("prediction_id == 1")["outcome"]
    assert replayed_label.tolist() == [0]  # the replay already recorded prediction 1's outcome
    assert cli(["feedback", "--home", str(work), "--data", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == {"recorded": 3, "corrected": 0, "duplicates": 1, "matched": 4, "unmatched": 0}
    labelled = api.workspace(work).store.labelled_predictions()
    stored = labelled[labelled["company_id"].isin([str(i) for i in logged])].sort_values("ts").groupby("company_id")["outcome"].last()
    assert stored[[str(i) for i in logged]].tolist() == [1, 0, 1]


def test_no_drift_verdict_from_a_handful_of_rows(replayed, tmp_path):
    """Ten rows say nothing about a distribution: the report says so and raises no alert."""
    home, paths, _ = replayed
    ws = api.workspace(home)
    few = pd.read_csv(paths["current"]).head(10)
    report = ws.monitoring.drift(few)
    assert report["enough_rows"] is False and report["min_rows"] == 100 and report["n_current"] == 10
    drifted = {**report, "dataset": {**report["dataset"], "dataset_drift": True}}
    drifted["columns"] = [{**c, "drifted": True} for c in report["columns"]]
    assert not [a for a in alert_candidates(drifted, None, None, 0, ws.settings) if "drift" in a["kind"]]
    from app.components.drift import verdict_text

    assert verdict_text(report).startswith("Not enough rows yet for a verdict: 10")
    assert ws.monitoring.drift(pd.read_csv(paths["current"]).head(500))["enough_rows"] is True


def test_a_week_whose_auc_cannot_be_computed_raises_no_alert_and_no_error():
    """One prediction in a week has an accuracy but no ROC AUC (None): no alert, no TypeError
    (the Monitoring page checks the rules on a new home with a single analysis)."""
    settings = {"min_roc_auc": 0.65, "min_accuracy": 0.6, "feedback_retrain_rows": 500}
    week = pd.DataFrame([{"bucket": pd.Timestamp("2026-11-16"), "n": 1, "accuracy": 1.0, "roc_auc": None, "f1": 1.0}])
    assert alert_candidates(None, week, pd.DataFrame(), 0, settings) == []


@pytest.mark.parametrize("kind", ["demo-history", "customers"])
def test_log_drift_and_volume_read_no_model_and_no_outputs(trained_home, kind, monkeypatch):
    """The Monitoring page's cold path: the drift of the prediction log and the volume come from
    the version's saved reference and the log's profiles, never from loading the models or
    reading every analysis' outputs; the numbers are those read the full way."""
    from engine.monitoring import monitor as monitor_module

    ws = api.workspace(trained_home(kind))
    full_log = monitor_module.served(ws.store.predictions())
    window = float((pd.Timestamp.now(tz="UTC") - full_log["ts"].min()).days + 2)
    volume, drift = ws.monitoring.volume(), ws.monitoring.drift(days=window)

    fresh = api.workspace(trained_home(kind))

    def no_model(*args, **kwargs):
        raise AssertionError("the models were loaded")

    monkeypatch.setattr(fresh, "model", no_model)
    reads = []
    original = fresh.store.predictions
    monkeypatch.setattr(fresh.store, "predictions", lambda *a, **k: reads.append(k.get("columns")) or original(*a, **k))
    assert fresh.monitoring.volume() == volume
    assert fresh.monitoring.drift(days=window) == drift
    assert reads and all(columns is not None and "outputs" not in columns for columns in reads)
    assert volume["total"] == len(full_log)
    assert drift["probability"]["n_current"] == full_log["probability"].notna().sum() > 0


def test_the_log_reads_only_the_columns_asked_for(replayed):
    home, _, _ = replayed
    store = api.workspace(home).store
    every = store.predictions()
    some = store.predictions(columns=["alias", "probability"])
    assert list(some.columns) == ["id", "ts", "alias", "probability"]
    pd.testing.assert_frame_equal(some, every[list(some.columns)])
    with pytest.raises(ValueError, match="unknown prediction column"):
        store.predictions(columns=["outcome"])
