"""Outcome model: SHAP additivity, agreement with shap.TreeExplainer, recovery of the planted
drivers, holdout quality, what-if, and model effects on recommendations."""

from __future__ import annotations

import numpy as np
import pytest
import shap

from engine import api
from engine.analysis.explanations import fold_onehot as _fold_onehot

TOL = 1e-4


@pytest.fixture(scope="module")
def sample(checked):
    """200 training rows, with their missing values (XGBoost's default directions)."""
    return checked.sample(200, random_state=0)


def test_table_contributions_add_up_to_the_margin(model, sample):
    assert sample[model.schema.feature_names].isna().any().any()
    D = model.outcome.design(sample)
    contrib, base = model.outcome.contributions_design(D)
    assert contrib.shape == (len(sample), len(model.outcome.explained_columns))
    margin = model.outcome.margin_design(D)
    np.testing.assert_allclose(base + contrib.sum(axis=1), margin, atol=TOL)


def test_served_prediction_is_additive(model, sample):
    keys = list(model.schema.segments) + model.schema.feature_names
    for _, row in sample.dropna().head(50).iterrows():
        profile = {k: row[k] for k in keys}
        prediction = model.analyze(profile).prediction
        x = np.array([profile[n] for n in model.schema.feature_names], dtype=float)
        margin = float(model.outcome.margin_design(model.outcome.design_row(x, profile))[0])
        total = prediction["base_value"] + sum(
            c["contribution"] for c in prediction["contributions"]
        )
        assert total == pytest.approx(margin, abs=TOL)
        assert prediction["probability"] == pytest.approx(1 / (1 + np.exp(-margin)), abs=TOL)
        assert prediction["label"] == int(prediction["probability"] >= 0.5)
        names = [c["feature"] for c in prediction["contributions"]]
        assert sorted(names) == sorted(model.outcome.explained_columns)
        sizes = [abs(c["contribution"]) for c in prediction["contributions"]]
        assert sizes == sorted(sizes, reverse=True)


def test_served_probability_matches_batch_scoring(model, sample):
    complete = sample.dropna().head(20)
    batch = model.score(complete)["probability"].to_numpy()
    keys = list(model.schema.segments) + model.schema.feature_names
    single = [
        model.analyze({k: r[k] for k in keys}).prediction["probability"]
        for _, r in complete.iterrows()
    ]
    np.testing.assert_allclose(single, batch, atol=1e-6)


def test_shap_tree_explainer_agrees_with_served_contributions(model, sample):
    D = model.outcome.design(sample)
    contrib, _ = model.outcome.contributions_design(D)
    explainer = shap.TreeExplainer(model.outcome.booster_)
    folded = _fold_onehot(np.asarray(explainer.shap_values(D)), model.outcome)
    assert np.abs(folded - contrib).max() < TOL


def test_training_recorded_shap_agreement(home):
    explanations = api.workspace(home).details()["explanations"]
    assert explanations["max_abs_difference_shap_vs_xgboost"] < TOL
    assert explanations["sample_size"] == 1000


def test_top_features_are_the_planted_drivers(home, truth):
    importance = [
        r["feature"] for r in api.workspace(home).details()["explanations"]["importance"]
    ]
    drivers = set(truth["outcome_drivers"])
    assert len(drivers) == 5
    # Only the 5 drivers enter the true logit, but scores are correlated through the archetypes
    # (innovation rises with data and strategy) and revenue_growth is nudged by innovation, so a
    # non-driver may borrow some importance. Honest claim: the 3 strongest features are drivers
    # and every driver is within the top 6 of 17 columns.
    assert set(importance[:3]) <= drivers, importance[:6]
    assert drivers <= set(importance[:6]), importance[:6]


def test_holdout_auc_in_expected_range(trained):
    # The planted outcome has logistic noise: the true model's AUC is ~0.85, so a good fit lands
    # near it; far above would mean leakage, far below a broken fit.
    auc = trained["metrics"]["holdout"]["roc_auc"]
    assert 0.78 <= auc <= 0.92
    assert trained["metrics"]["cv"]["roc_auc"] == pytest.approx(auc, abs=0.05)


def test_what_if_moves_probability_and_stays_additive(model, checked):
    row = checked.dropna().iloc[0]
    profile = {k: row[k] for k in list(model.schema.segments) + model.schema.feature_names}
    low = model.what_if(profile, {"data": 0.5, "strategy": 0.5})["prediction"]
    high = model.what_if(profile, {"data": 4.8, "strategy": 4.8})["prediction"]
    assert high["probability"] > low["probability"] + 0.1
    cheap = model.what_if(profile, {"customer_acquisition_cost": 1.0})["prediction"]
    costly = model.what_if(profile, {"customer_acquisition_cost": 500_000.0})[
        "prediction"
    ]
    assert cheap["probability"] > costly["probability"]
    for p in (low, high, cheap, costly):
        total = p["base_value"] + sum(c["contribution"] for c in p["contributions"])
        assert total == pytest.approx(p["margin"], abs=TOL)
        assert p["probability"] == pytest.approx(1 / (1 + np.exp(-p["margin"])), abs=1e-9)


def test_what_if_with_a_missing_value_and_no_change(model, checked):
    row = checked.dropna().iloc[0]
    profile = {k: row[k] for k in list(model.schema.segments) + model.schema.feature_names}
    same = model.what_if(profile, {})["prediction"]
    assert same["probability"] == pytest.approx(
        model.analyze(profile).prediction["probability"], abs=1e-9
    )
    gap = model.what_if(profile, {"inventory_turnover": None})
    assert np.isnan(gap["profile"]["inventory_turnover"])
    assert 0.0 < gap["prediction"]["probability"] < 1.0


def test_recommendations_carry_model_effect(model, checked):
    keys = list(model.schema.segments) + model.schema.feature_names
    recs = []
    for _, row in checked.dropna().head(30).iterrows():
        profile = {k: row[k] for k in keys}
        analysis = model.analyze(profile)
        for r in analysis.recommendations:
            recs.append(r)
            moved = model.what_if(profile, {r["feature"]: r["target"]})["prediction"]
            expected = moved["probability"] - analysis.prediction["probability"]
            assert r["model_effect"] == pytest.approx(expected, abs=1e-5)
            assert r["expected_effect"] == pytest.approx(
                0.5 * r["peer_uplift"] + 0.5 * r["model_effect"]
            )
    assert recs and all(isinstance(r["model_effect"], float) for r in recs)


def test_training_reports_a_baseline_and_what_each_number_validates(home):
    """Every training puts a plain logistic regression beside the model on the same rows, says
    which validation each number comes from, and keeps as many trees as validation chose."""
    ws = api.workspace(home)
    metrics = ws.details()["metrics"]
    baseline = metrics["baseline"]
    assert baseline["model"] == "logistic regression"
    assert baseline["holdout"]["n"] == metrics["holdout"]["n"]  # the same held-out rows
    assert set(metrics["validation"]) == {"cv", "holdout", "trees"}
    trees = metrics["cv"]["trees"]
    assert len(trees) == metrics["cv"]["folds"]
    assert ws.champion().outcome.booster_.num_boosted_rounds() == int(np.median(trees))
    assert metrics["cv"]["roc_auc"] > 0.8 and baseline["cv"]["roc_auc"] > 0.8


@pytest.mark.parametrize("kind", ["demo", "customers"])
def test_the_model_beats_the_baseline_on_the_same_folds(trained_home, kind):
    """Both built-in outcomes have effects no additive model can express (a threshold and an
    interaction; a tenure cliff and a contract x internet interaction): the boosted model
    must find them and be ahead of the logistic baseline on the same folds and held-out rows."""
    metrics = api.workspace(trained_home(kind)).details()["metrics"]
    for split in ("cv", "holdout"):
        assert metrics[split]["roc_auc"] >= metrics["baseline"][split]["roc_auc"], split


def test_the_served_model_is_refitted_on_every_labelled_row(home):
    """Validation numbers come from a model that never saw the held-out rows; the model served
    is then refitted on all of them with the trees validation chose."""
    metrics = api.workspace(home).details()["metrics"]
    assert metrics["final_rows"] == metrics["train_rows"] + metrics["holdout"]["n"]
    assert "refitted on all" in metrics["validation"]["trees"]


TABLES = {"demo": "companies.csv", "customers": "customers.csv", "ratios": "ratios.csv"}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(TABLES))
def test_a_large_table_serves_the_model_its_held_out_rows_measured(trained_home, tmp_path, monkeypatch, kind):
    """Above ``CV_MAX_ROWS`` training rows no folds are run and nothing is refitted: the model
    stopped early on the hash-chosen tenth of the training rows (the rows Dask training uses)
    is served, so the held-out numbers are the served model's own; the baseline is fitted on a
    seeded sample of ``CV_MAX_ROWS`` rows. The held-out quality stays that of the
    cross-validated training of the same table."""
    from engine.training import evaluation
    from engine.training.evaluation import VALIDATION_PREDICTION

    demo = trained_home(kind) / "demo"
    folded = api.workspace(trained_home(kind)).details()["metrics"]
    monkeypatch.setattr(evaluation, "CV_MAX_ROWS", 1000)
    ws = api.workspace(tmp_path / "home")
    ws.train(demo / TABLES[kind], demo / "schema.toml", seed=0)
    metrics = ws.details()["metrics"]
    assert "cv" not in metrics and "cv" not in metrics["baseline"]
    assert set(metrics["validation"]) - {"out_of_time"} == {"holdout", "trees"}
    assert metrics["baseline"]["model"].endswith("fitted on a sample of 1,000 training rows")

    holdout = ws.model().schema  # the version's own schema gives the same split as training
    table, _ = api.load_dataset(demo / TABLES[kind], holdout)
    split = evaluation.labelled_split(table, holdout)
    stop = evaluation.stopping_rows(split.keys[~split.held])
    served = ws.champion().outcome
    assert metrics["train_rows"] == int((~split.held).sum()) and metrics["final_rows"] == int((~stop).sum())
    assert served.booster_.num_boosted_rounds() == served.best_trees_ == served.n_estimators
    trees_words = metrics["validation"]["trees"]
    assert f"the served model is the validation model: {served.best_trees_} trees fitted on {int((~stop).sum()):,} training rows" in trees_words
    assert f"on {int(stop.sum()):,} other hash-chosen training rows" in trees_words
    assert 0 < stop.sum() < (~split.held).sum() / 5

    # The served model's own predictions on the held-out rows are the ones measured and kept.
    held = split.frame.loc[split.held]
    kept = ws.table("holdout", ws.version("champion"))
    np.testing.assert_array_equal(kept[VALIDATION_PREDICTION].to_numpy(), served.predict_design(served.design(held)))
    key = "rmse" if "rmse" in metrics["holdout"] else "roc_auc"
    measured = evaluation.regression_metrics if key == "rmse" else evaluation.classification_metrics
    assert metrics["holdout"][key] == measured(split.y[split.held], served.predict_design(served.design(held)))[key]
    assert metrics["holdout"]["n"] == folded["holdout"]["n"]
    assert metrics["holdout"][key] == pytest.approx(folded["holdout"][key], rel=0.05)
