"""Real tables nobody designed the product for, shipped inside scikit-learn (offline): breast
cancer (30 ratios, a text target, no direction on any feature) and diabetes (a numeric target,
a two-valued column as a category). Trained, analysed with gaps, scored and drift-checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from engine import api
from engine.errors import DataError


def _features(columns, skip) -> str:
    return "".join(f'[[features]]\nname = "{c}"\nbetter = "none"\n' for c in columns if c not in skip)


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cancer")
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.insert(0, "sample_id", [f"S{i:04d}" for i in range(len(frame))])
    frame["target"] = np.where(frame["target"] == 0, "malignant", "benign")
    frame.to_csv(folder / "cancer.csv", index=False)
    (folder / "schema.toml").write_text(
        'id = "sample_id"\nentity = { singular = "tumour", plural = "tumours" }\n'
        '[target]\ncolumn = "target"\npositive = "malignant"\nlabel = "Malignant"\ndesirable = false\n'
        + _features(frame.columns, ("sample_id", "target"))
    )
    ws = api.workspace(folder / "home")
    return ws, ws.train(folder / "cancer.csv", folder / "schema.toml"), frame


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diabetes")
    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame["sex"] = frame["sex"].map({1.0: "one", 2.0: "two"})
    frame.insert(0, "patient", [f"P{i}" for i in range(len(frame))])
    frame.to_csv(folder / "diabetes.csv", index=False)
    (folder / "schema.toml").write_text(
        'id = "patient"\nentity = { singular = "patient", plural = "patients" }\n'
        '[target]\ncolumn = "target"\nkind = "numeric"\nlabel = "Disease progression"\ndesirable = false\n'
        + _features(frame.columns, ("patient", "target", "sex"))
        + '[[features]]\nname = "sex"\nkind = "category"\n'
    )
    ws = api.workspace(folder / "home")
    return ws, ws.train(folder / "diabetes.csv", folder / "schema.toml"), frame


def test_breast_cancer_rows_with_gaps_are_analysed(cancer):
    ws, trained, frame = cancer
    assert trained["promoted"] and trained["metrics"]["holdout"]["roc_auc"] > 0.95
    row = frame.drop(columns="target").iloc[7].to_dict()
    row.update(mean_radius=None, worst_area=np.nan)
    analysis = ws.analyze(row).to_dict()
    assert analysis["missing"] == ["mean_radius", "worst_area"]
    assert 0 <= analysis["prediction"]["probability"] <= 1
    assert analysis["recommendations"] == []  # no feature has a better direction: nothing to push
    for p in analysis["percentiles"]:
        assert p["rank"] is None and p["message"].startswith("Higher than") and p["message"].endswith("tumours.")
    scored = ws.score(frame)
    assert scored.shape[0] == len(frame)
    # 30 ratios: the cut-off rises above 3.5 so that "unusual" stays unusual (a fixed 3.5 flagged 23%).
    assert ws.champion().z_cut > 3.5 and (scored["anomaly_count"] > 0).mean() < 0.10
    assert not ws.monitoring.drift(frame)["dataset"]["dataset_drift"]  # the training table vs itself


def test_diabetes_numeric_target_and_category(diabetes):
    ws, trained, frame = diabetes
    assert trained["promoted"]
    metrics = ws.details()["metrics"]
    assert set(metrics["holdout"]) >= {"rmse", "mae", "r2"} and metrics["baseline"]["model"] == "linear regression (ridge)"
    assert metrics["holdout"]["r2"] > 0.2 and metrics["baseline"]["holdout"]["r2"] > 0.2  # both find signal
    profile = frame.drop(columns="target").iloc[3].to_dict()
    analysis = ws.analyze(profile).to_dict()
    prediction = analysis["prediction"]
    assert "probability" not in prediction and 25 <= prediction["value"] <= 346
    # SHAP in the target's units: base value + contributions = the predicted value.
    assert prediction["base_value"] + sum(c["contribution"] for c in prediction["contributions"]) == pytest.approx(prediction["value"], abs=1e-3)
    assert {c["feature"] for c in prediction["contributions"]} == {c for c in frame.columns if c not in ("patient", "target")}
    changed = ws.what_if(profile, {"bmi": profile["bmi"] + 10})["prediction"]
    assert changed["value"] > prediction["value"]  # a higher BMI goes with faster progression
    assert analysis["entity"]["plural"] == "patients" and "patients" in analysis["segment"]["description"]
    assert ws.champion().schema.feature("sex").values == ("one", "two")
    scored = ws.score(frame)
    assert "probability" not in scored.columns and len(scored) == len(frame)
    assert scored["prediction"].to_numpy() == pytest.approx(ws.champion().outcome.predict(ws.load_dataset(frame, ws.champion().schema)[0]))
    for r in analysis["recommendations"]:  # progression is undesirable: an action never raises it
        assert r["model_effect"] <= 0


def test_pages_show_a_numeric_prediction(diabetes, monkeypatch):
    from app import format as fmt
    from tests.app.conftest import start_app

    ws, _, _ = diabetes
    at = start_app(ws.home, monkeypatch)
    at.button(key="FormSubmitter:profile-Analyze").click().run()
    assert not at.exception
    value = at.session_state["analysis"]["prediction"]["value"]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Disease progression"] == fmt.number(value)  # 4 significant digits, as everywhere
    assert shown["Predicted value after the changes"] == fmt.number(value)  # nothing moved yet
    at.switch_page("views/model.py").run()
    assert not at.exception
    held = ws.details()["metrics"]["holdout"]
    assert {m.label: m.value for m in at.metric}["Held-out R²"] == f"{held['r2']:.3f}"


def test_numeric_outcomes_are_not_taken_as_feedback(diabetes):
    ws, _, frame = diabetes
    with pytest.raises(DataError, match="'target' is numeric"):
        ws.monitoring.record_feedback(frame[["patient", "target"]].head(3))


def test_a_time_column_with_mixed_zones_and_junk_is_read(tmp_path):
    from engine.analysis.series import benchmark_series
    from engine.schema import parse_schema

    schema = parse_schema({"time": "t", "features": [{"name": "x"}]})
    frame = pd.DataFrame({"t": ["2024-01-05T00:00:00+01:00", "2024-02-01", "not a date"] * 20, "x": range(60)})
    series = benchmark_series(frame, schema)
    assert sorted(series["month"].dt.strftime("%Y-%m").unique()) == ["2024-01", "2024-02"]
