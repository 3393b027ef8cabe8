"""The demo generator plants known archetypes, outcome drivers and drift; check each one."""

from __future__ import annotations

import itertools
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, roc_auc_score, silhouette_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from engine.demo import generate, schema_text, write_demo
from engine.demo.params import ARCHETYPES, COLUMNS, INDUSTRIES, METRICS, REGIONS, SCORES, SIZES
from engine.demo.truth import OUTCOME_COEFFICIENTS, OUTCOME_DRIVERS, true_logit
from engine.schema import load_schema, parse_schema

N = 5000
NO_STOCK = ["professional_services", "technology", "education", "real_estate"]


@pytest.fixture(scope="module")
def data():
    return generate(N, seed=0)


@pytest.fixture(scope="module")
def companies(data):
    return data["companies"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, write_demo(out, n_companies=2000, seed=7)


def test_same_seed_gives_identical_output():
    a, b = generate(1500, seed=3), generate(1500, seed=3)
    for key in ("companies", "current", "monthly", "archetypes", "current_archetypes"):
        pd.testing.assert_frame_equal(a[key], b[key])
    assert a["truth"] == b["truth"]
    other = generate(1500, seed=4)
    assert not a["companies"].equals(other["companies"])


def test_columns_types_and_bounds(companies):
    schema = parse_schema(tomllib.loads(schema_text()))
    assert list(companies.columns) == COLUMNS
    assert companies["company_id"].tolist() == list(range(1, N + 1))
    assert companies["high_growth"].dtype == np.int64
    assert set(companies["high_growth"]) == {0, 1}
    assert set(companies["industry"]) == set(INDUSTRIES)
    assert set(companies["size"]) == set(SIZES)
    assert set(companies["region"]) == set(REGIONS)
    scores = companies[SCORES]
    assert scores.min().min() >= 0 and scores.max().max() <= 5
    assert np.allclose(scores * 10, np.round(scores * 10))  # one decimal
    for f in schema.features:
        col = companies[f.name].dropna()
        assert col.dtype == np.float64
        assert f.min is None or col.min() >= f.min, f.name
        assert f.max is None or col.max() <= f.max, f.name
    ret = companies["customer_retention_rate"].dropna()
    assert ret.between(0.2, 0.99).all()
    assert companies["profit_margin"].dropna().between(-0.5, 0.6).all()


def test_realistic_industry_levels(companies):
    med = companies.groupby("industry")[
        ["revenue_per_employee", "customer_acquisition_cost"]
    ].median()
    assert 120_000 < med.loc["retail", "revenue_per_employee"] < 260_000
    assert (
        med.loc["technology", "revenue_per_employee"]
        > 2 * med.loc["restaurant", "revenue_per_employee"]
    )
    assert (
        med.loc["professional_services", "customer_acquisition_cost"]
        > 20 * med.loc["retail", "customer_acquisition_cost"]
    )


def test_missing_values_only_in_metrics(data):
    for df in (data["companies"], data["current"]):
        others = [c for c in df.columns if c not in METRICS]
        assert not df[others].isna().any().any()
        rates = df[[m for m in METRICS if m != "inventory_turnover"]].isna().mean()
        assert rates.between(0.01, 0.035).all(), rates


def test_inventory_turnover_missing_exactly_where_no_stock(companies):
    no_stock = companies["industry"].isin(NO_STOCK)
    inv = companies["inventory_turnover"]
    assert inv[no_stock].isna().all()
    assert inv[~no_stock].isna().mean() < 0.035  # only the random gaps
    med = companies.loc[~no_stock].groupby("industry")["inventory_turnover"].median()
    assert med["restaurant"] > med["retail"] > med["manufacturing"]


def test_archetype_shares(data):
    shares = data["archetypes"]["archetype"].value_counts(normalize=True)
    assert set(shares.index) == set(ARCHETYPES)
    assert shares.min() >= 0.08
    by_industry = pd.crosstab(
        data["companies"]["industry"], data["archetypes"]["archetype"], normalize="index"
    )
    assert by_industry.loc["technology", "explorer"] > shares["explorer"]


def test_archetype_centroids_are_well_separated():
    for (a, ca), (b, cb) in itertools.combinations(ARCHETYPES.items(), 2):
        gaps = np.abs(np.subtract(ca, cb))
        assert (gaps >= 1.5).sum() >= 3, (a, b)


def test_kmeans_recovers_archetypes(data, companies):
    x = StandardScaler().fit_transform(companies[SCORES])
    labels = KMeans(n_clusters=6, n_init=10, random_state=0).fit_predict(x)
    assert adjusted_rand_score(data["archetypes"]["archetype"], labels) >= 0.85

    sample = x[np.random.default_rng(0).choice(len(x), 3000, replace=False)]
    silhouettes = {
        k: silhouette_score(
            sample, KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(sample)
        )
        for k in range(2, 9)
    }
    assert max(silhouettes, key=silhouettes.get) == 6, silhouettes


def test_outcome_rate_and_learnability(data, companies):
    y = companies["high_growth"]
    assert 0.25 <= y.mean() <= 0.35
    features = companies[SCORES + METRICS]
    x_tr, x_te, y_tr, y_te = train_test_split(
        features, y, test_size=0.3, random_state=0, stratify=y
    )
    model = HistGradientBoostingClassifier(random_state=0).fit(x_tr, y_tr)
    auc = roc_auc_score(y_te, model.predict_proba(x_te)[:, 1])
    assert 0.78 <= auc <= 0.92, auc

    # The best any model could do: a logistic regression on the true logit.
    complete = features[OUTCOME_DRIVERS].notna().all(axis=1)
    logit = true_logit(features[complete], data["truth"]["outcome_standardization"])
    l_tr, l_te, t_tr, t_te = train_test_split(
        logit.reshape(-1, 1), y[complete], test_size=0.3, random_state=0
    )
    oracle = LogisticRegression().fit(l_tr, t_tr)
    oracle_auc = roc_auc_score(t_te, oracle.predict_proba(l_te)[:, 1])
    assert 0.8 <= oracle_auc <= 0.93, oracle_auc
    assert oracle.coef_[0, 0] == pytest.approx(1.0, abs=0.25)  # the logit is calibrated


def _standardized(features: pd.DataFrame) -> pd.DataFrame:
    x = features.copy()
    x["customer_acquisition_cost"] = np.log(x["customer_acquisition_cost"])
    x = x.fillna(x.median())
    return (x - x.mean()) / x.std()


def test_drivers_matter_and_others_do_not(companies):
    features = companies[SCORES + METRICS]
    y = companies["high_growth"]
    drivers = OUTCOME_DRIVERS
    # Rank correlation: acquisition cost is lognormal, so Pearson would understate it. The margin
    # is modest by design: non-driver scores move with the drivers through the archetypes.
    corr = features.corrwith(y, method="spearman").abs()
    assert corr[drivers].mean() > corr.drop(drivers).mean() + 0.02, corr.round(3)

    # Holding the other features fixed, only the drivers carry signal.
    x = _standardized(features.drop(columns="inventory_turnover"))  # undefined for 40% of rows
    coef = pd.Series(LogisticRegression(max_iter=1000).fit(x, y).coef_[0], index=x.columns)
    assert coef[drivers].abs().min() > 2 * coef.drop(drivers).abs().max(), coef.round(2)
    for name, true in OUTCOME_COEFFICIENTS.items():
        assert np.sign(coef[name]) == np.sign(true), name


def test_current_period_has_exactly_the_documented_shifts(data, companies):
    current = data["current"]
    assert len(current) == max(1000, N // 2)
    assert list(current.columns) == COLUMNS
    assert current["company_id"].tolist() == list(range(N + 1, N + 1 + len(current)))
    assert set(current["high_growth"]) == {0, 1}

    assert current["technology"].mean() - companies["technology"].mean() > 0.5
    assert current["technology"].max() <= 5
    cac_ratio = (
        current["customer_acquisition_cost"].median()
        / companies["customer_acquisition_cost"].median()
    )
    assert cac_ratio > 1.2
    west_before = (companies["region"] == "west").mean()
    west_now = (current["region"] == "west").mean()
    assert west_before < 0.25 and west_now > 0.38

    for col in ("profit_margin", "revenue_per_employee", "data", "customer_retention_rate"):
        p = ks_2samp(companies[col].dropna(), current[col].dropna()).pvalue
        assert p > 0.01, (col, p)
    industry_shift = current["industry"].value_counts(normalize=True) - companies[
        "industry"
    ].value_counts(normalize=True)
    assert industry_shift.abs().max() < 0.03


def test_truth(data):
    truth = data["truth"]
    assert truth["shifted_columns"] == ["technology", "customer_acquisition_cost", "region"]
    assert truth["outcome_drivers"] == list(OUTCOME_COEFFICIENTS)
    assert truth["outcome_coefficients"]["customer_acquisition_cost"] < 0
    assert (
        max(truth["outcome_coefficients"], key=lambda k: abs(truth["outcome_coefficients"][k]))
        == "data"
    )
    assert set(truth["archetypes"]) == set(ARCHETYPES)
    assert all(set(c) == set(SCORES) for c in truth["archetypes"].values())
    assert truth["seed"] == 0 and truth["n_companies"] == N
    json.dumps(truth)  # serialisable
    arch = data["archetypes"]
    assert list(arch.columns) == ["company_id", "archetype"]
    assert arch["company_id"].equals(data["companies"]["company_id"])


def test_monthly_benchmarks(data):
    monthly = data["monthly"]
    assert list(monthly.columns) == ["month", "industry", "metric", "value"]
    months = monthly["month"].drop_duplicates().sort_values()
    assert len(months) == 36 and months.iloc[-1] == pd.Timestamp("2026-10-01")
    assert len(monthly) == 36 * len(INDUSTRIES) * 4
    assert set(monthly["metric"]) == {
        "revenue_per_employee",
        "profit_margin",
        "revenue_growth",
        "customer_acquisition_cost",
    }

    rpe = monthly[monthly["metric"] == "revenue_per_employee"]

    def season_ratio(industry: str, in_season: list[int]) -> float:
        s = rpe[rpe["industry"] == industry]
        mask = s["month"].dt.month.isin(in_season)
        return s.loc[mask, "value"].mean() / s.loc[~mask, "value"].mean()

    assert season_ratio("retail", [11, 12]) > 1.15
    assert season_ratio("hospitality", [11, 12]) > 1.15
    assert season_ratio("construction", [12, 1, 2]) < 0.85
    assert season_ratio("education", [6, 7, 8]) < 0.85
    assert season_ratio("restaurant", [6, 7, 8]) > 1.15
    assert 0.9 < season_ratio("healthcare", [11, 12]) < 1.1


def test_write_demo_writes_every_file(written):
    out, paths = written
    assert set(paths) == {"companies", "current", "recent", "schema", "monthly", "truth"}
    assert all(Path(p).is_file() for p in paths.values())
    assert Path(paths["truth"]).parent == out / "truth"
    assert (out / "truth" / "archetypes.csv").is_file()
    assert Path(paths["schema"]).read_text(encoding="utf-8") == schema_text()

    expected = generate(2000, seed=7)
    companies = pd.read_csv(paths["companies"])
    pd.testing.assert_frame_equal(companies, expected["companies"], check_dtype=False)
    current = pd.read_csv(paths["current"])
    assert list(current.columns) == COLUMNS and len(current) == 1000
    recent = pd.read_csv(paths["recent"])  # unchanged population, ids after every other table
    assert list(recent.columns) == COLUMNS and recent["company_id"].min() > current["company_id"].max()
    assert abs(recent["technology"].mean() - companies["technology"].mean()) < 0.1
    monthly = pd.read_csv(paths["monthly"])
    assert monthly["month"].iloc[0] == "2023-11-01"
    truth = json.loads(Path(paths["truth"]).read_text(encoding="utf-8"))
    assert truth["n_companies"] == 2000 and truth["seed"] == 7
    archetypes = pd.read_csv(out / "truth" / "archetypes.csv")
    assert len(archetypes) == 2000


def test_schema_parses_and_matches_data(written):
    _, paths = written
    schema = load_schema(paths["schema"])
    assert schema.name == "Demo companies"
    assert schema.id == "company_id"
    assert schema.feature_names == SCORES + METRICS
    assert schema.score_names == SCORES
    assert schema.segments == ("industry", "size", "region")
    assert schema.target.column == "high_growth" and schema.target.positive == 1
    assert schema.target.desirable is True
    assert schema.feature("customer_acquisition_cost").better == "lower"
    assert all(f.action and f.label for f in schema.features)
    assert all(f.unit for f in schema.features if f.kind == "metric")


def test_small_population_still_has_a_full_current_period():
    small = generate(10, seed=1)
    assert len(small["companies"]) == 10
    assert len(small["current"]) == 1000
    assert small["current"]["company_id"].iloc[0] == 11
