"""Anomalies: one extreme value is flagged on that feature only; typical profiles are quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest

from engine.analysis import anomalies as anom
from engine.analysis.isolation import PackedIsolationForest

GROUPS = [
    ("manufacturing", "small", "midwest"),
    ("retail", "small", "northeast"),
    ("healthcare", "small", "southeast"),
]
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def median_profile(checked, model, industry, size, region) -> dict:
    """The peer group's typical company: every feature at the group's median."""
    peers = checked[
        (checked["industry"] == industry)
        & (checked["size"] == size)
        & (checked["region"] == region)
    ]
    assert len(peers) >= 20, "pick a peer group that the model benchmarks against directly"
    profile = {"industry": industry, "size": size, "region": region}
    profile.update({n: float(peers[n].median()) for n in model.schema.feature_names})
    return profile


def involved(anomaly: dict) -> set[str]:
    return set(anomaly["features"]) if anomaly["kind"] == "gap" else {anomaly["feature"]}


@pytest.mark.parametrize("group", GROUPS)
def test_typical_profile_has_no_value_anomalies(checked, model, group):
    anomalies = model.analyze(median_profile(checked, model, *group)).anomalies
    assert [a for a in anomalies if a["kind"] == "value"] == []


# Metrics are made extreme by a factor or a shift that stays inside the schema's bounds.
METRIC_CHANGES = {
    "revenue_per_employee": lambda v: v * 20,
    "customer_acquisition_cost": lambda v: v * 20,
    "inventory_turnover": lambda v: v * 20,
    "profit_margin": lambda v: v + 0.5,
    "revenue_growth": lambda v: v + 1.5,
    "customer_retention_rate": lambda v: 0.01,
}


@pytest.mark.parametrize("feature", list(METRIC_CHANGES))
def test_one_extreme_metric_is_flagged_on_that_feature_only(checked, model, feature):
    profile = median_profile(checked, model, *GROUPS[0])
    profile[feature] = METRIC_CHANGES[feature](profile[feature])
    anomalies = model.analyze(profile).anomalies
    values = [a for a in anomalies if a["kind"] == "value"]
    assert [a["feature"] for a in values] == [feature]
    flagged = values[0]
    assert flagged["value"] == pytest.approx(profile[feature])
    assert abs(flagged["z"]) >= anom.Z_THRESHOLD
    assert flagged["severity"] == anom.severity(flagged["z"])
    assert flagged["scope"] in ("population", "peer group")
    label = model.schema.feature(feature).label
    assert flagged["message"].startswith(
        f"{label} is unusually {'high' if flagged['z'] > 0 else 'low'}"
    )
    # Gaps compare assessment scores only, so no gap can involve a metric.
    assert all(feature not in involved(a) for a in anomalies if a["kind"] == "gap")


def test_direction_of_a_flagged_metric_is_judged(checked, model):
    profile = median_profile(checked, model, *GROUPS[0])
    profile["customer_acquisition_cost"] *= 20  # lower is better: a very high cost is bad
    profile["profit_margin"] += 0.5
    messages = {
        a["feature"]: a["message"] for a in model.analyze(profile).anomalies if a["kind"] == "value"
    }
    assert "unusually high (unfavourable)" in messages["customer_acquisition_cost"]
    assert "unusually high (favourable)" in messages["profit_margin"]


# Scores live on a bounded 0-5 scale with wide spread across archetypes, so a single score cannot
# be a *value* outlier; an extreme score shows up as an unusual gap to a related dimension.
@pytest.mark.parametrize(
    ("feature", "value"), [("strategy", 5.0), ("governance", 5.0), ("data", 0.0)]
)
def test_one_extreme_score_is_flagged_only_through_that_score(checked, model, feature, value):
    profile = median_profile(checked, model, *GROUPS[0])
    profile[feature] = value
    anomalies = [a for a in model.analyze(profile).anomalies if a["kind"] != "multivariate"]
    assert anomalies, "an extreme score should be flagged"
    for a in anomalies:
        assert feature in involved(a), a
        if a["kind"] == "gap":
            assert a["value"] >= anom.GAP_MIN_POINTS
            assert a["message"].count("(") >= 2


def test_anomalies_sorted_by_severity_then_size(checked, model):
    profile = median_profile(checked, model, *GROUPS[0])
    profile.update(
        revenue_per_employee=profile["revenue_per_employee"] * 20,  # high
        customer_retention_rate=0.01,  # medium
        strategy=5.0,  # gap, low
        profit_margin=profile["profit_margin"] + 0.5,
        inventory_turnover=profile["inventory_turnover"] * 20,
    )
    anomalies = model.analyze(profile).anomalies
    assert {a["severity"] for a in anomalies} >= {"high", "medium", "low"}
    keys = [(SEVERITY_ORDER[a["severity"]], -abs(a["z"] or 0)) for a in anomalies]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("z", "level"),
    [
        (0.0, None),
        (3.49, None),
        (3.5, "low"),
        (-4.9, "low"),
        (5.0, "medium"),
        (-7.99, "medium"),
        (8.0, "high"),
        (-50.0, "high"),
    ],
)
def test_severity_levels(z, level):
    assert anom.severity(z) == level


def test_scoring_counts_the_same_anomalies_as_analysis(checked, model):
    profile = median_profile(checked, model, *GROUPS[0])
    profile["revenue_per_employee"] *= 20
    profile["revenue_growth"] += 1.5
    row = model.score(pd.DataFrame([profile])).iloc[0]
    counted = model.analyze(profile).anomalies
    assert row["anomaly_count"] == len(counted)
    assert row["anomaly_max_z"] == pytest.approx(
        max(abs(a["z"]) for a in counted if a["z"] is not None)
    )


def test_each_feature_flags_few_training_rows(checked, model):
    # Robust z with a 3.5 cut-off flags a small share of a typical population per feature.
    X = checked[model.schema.feature_names].to_numpy(dtype=float)
    chosen = model.stats.choose(model.groups.codes(checked))
    population = np.full_like(chosen, model.population_group)
    z = np.fmax(
        np.abs(anom.robust_z(model.stats, X, chosen)),
        np.abs(anom.robust_z(model.stats, X, population)),
    )
    share = np.nanmean(z >= anom.Z_THRESHOLD, axis=0)
    assert share.max() < 0.05, dict(zip(model.schema.feature_names, share.round(3), strict=True))


def test_few_training_rows_have_any_anomaly(scored):
    assert (scored["anomaly_count"] > 0).mean() < 0.10


def test_gap_model_on_hand_computed_data():
    X = np.array([[1.0, 1.0, 9.0], [2.0, 2.0, 9.0], [3.0, 3.0, 9.0], [4.0, 4.0, 9.0]])
    model = anom.GapModel().fit(X, [0, 1])
    assert model.pairs_ == [(0, 1)]
    gaps, z, _ = model.z(np.array([[3.0, 1.0, 0.0]]))
    assert gaps.tolist() == [[2.0]]
    assert z[0, 0] == pytest.approx(2.0)  # centre 0, spread falls back to 1 for constant gaps


@pytest.mark.parametrize("max_features", [1.0, 0.5])
@pytest.mark.parametrize("max_samples", ["auto", 64])
@pytest.mark.parametrize("seed", [0, 1])
def test_packed_isolation_forest_equals_sklearn(max_features, max_samples, seed):
    rng = np.random.default_rng(seed)
    train = np.vstack([rng.normal(size=(500, 6)), rng.normal(6, 1, size=(10, 6))])
    forest = IsolationForest(
        n_estimators=50, max_samples=max_samples, max_features=max_features, random_state=seed
    ).fit(train)
    packed = PackedIsolationForest(forest)
    test = np.vstack([rng.normal(size=(300, 6)), rng.uniform(-20, 20, size=(50, 6)), train[:20]])
    # Equal to the last bit: a table's scores must not depend on how it is cut into batches.
    np.testing.assert_array_equal(packed.score_samples(test), forest.score_samples(test))


def test_multivariate_scorer_flags_about_one_percent():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(3000, 5))
    scorer = anom.MultivariateScorer(seed=0).fit(Z)
    share = (scorer.score(Z) < scorer.threshold_).mean()
    assert share == pytest.approx(anom.MULTIVARIATE_QUANTILE, abs=0.005)
    # Both code paths (packed below SMALL_BATCH rows, scikit-learn above) agree.
    np.testing.assert_array_equal(scorer.score(Z[:100]), scorer.forest_.score_samples(Z[:100]))
    assert scorer.score(np.full((1, 5), 12.0))[0] < scorer.threshold_


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_a_large_batch_split_across_threads_scores_the_same(monkeypatch, threads):
    """Rows split across compute threads get the same scores to the last bit as one pass."""
    monkeypatch.setenv("OMP_NUM_THREADS", threads)
    rng = np.random.default_rng(0)
    scorer = anom.MultivariateScorer(seed=0).fit(rng.normal(size=(3000, 5)))
    Z = rng.standard_t(2, size=(3 * anom.SMALL_BATCH + 7, 5))
    np.testing.assert_array_equal(scorer.score(Z), scorer.forest_.score_samples(Z))


def test_cut_off_rises_until_few_rows_are_flagged():
    rng = np.random.default_rng(0)
    z = rng.standard_t(2, size=(2000, 30))  # 30 heavy-tailed columns: 3.5 would flag many rows
    cut = anom.calibrated_cut(z)
    share = (np.abs(z) >= cut).any(axis=1).mean()
    assert cut > anom.Z_THRESHOLD and share <= anom.VALUE_ANOMALY_SHARE + 1e-9
    assert (np.abs(z) >= anom.Z_THRESHOLD).any(axis=1).mean() > 0.3  # what a fixed 3.5 would do
    assert anom.calibrated_cut(rng.normal(size=(2000, 3))) == anom.Z_THRESHOLD  # never below 3.5
    assert anom.severity(cut * 0.99, cut) is None and anom.severity(cut, cut) == "low"
