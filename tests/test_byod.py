"""Bring your own data: no segments, no assessment scores, heavy tails, 15% missing values,
with and without a target. Everything still trains, analyses and scores sensibly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.errors import ProfileError
from engine.schema import parse_schema

N_ROWS = 1500
MISSING = 0.15
FEATURES = [
    {"name": "lognormal_sales", "better": "higher"},  # lognormal, sigma 2
    {"name": "t_margin", "better": "higher"},  # Student t, df 1.5 (infinite variance)
    {"name": "ratio", "better": "none"},  # ratio of two lognormals
    {"name": "headcount_index", "better": "higher"},  # normal
    {"name": "cost", "better": "lower", "action": "Cut costs"},  # lognormal, sigma 1
]


def make_table(seed: int, target: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "lognormal_sales": rng.lognormal(0, 2, N_ROWS),
            "t_margin": rng.standard_t(1.5, N_ROWS),
            "ratio": rng.lognormal(0, 2, N_ROWS) / rng.lognormal(0, 1, N_ROWS),
            "headcount_index": rng.normal(50, 10, N_ROWS),
            "cost": rng.lognormal(3, 1, N_ROWS),
        }
    )
    logit = (
        0.8 * np.log(frame["lognormal_sales"])
        - 0.6 * (np.log(frame["cost"]) - 3)
        + 0.05 * (frame["headcount_index"] - 50)
    )
    won = logit + rng.logistic(size=N_ROWS) > 0
    for column in frame.columns:
        frame.loc[rng.random(N_ROWS) < MISSING, column] = np.nan
    if target:
        frame.insert(0, "account", [f"A{i:05d}" for i in range(N_ROWS)])
        frame["won"] = np.where(won, "yes", "no")
    return frame


def make_schema(target: bool):
    raw = {"name": "Bring your own", "features": FEATURES}
    if target:
        raw.update(id="account", target={"column": "won", "positive": "yes", "label": "Deal won"})
    return parse_schema(raw)


@pytest.fixture(scope="module", params=[False, True], ids=["no-target", "target"])
def byod(request, tmp_path_factory):
    target = request.param
    frame, schema = make_table(7, target), make_schema(target)
    path = tmp_path_factory.mktemp("byod") / "data.csv"
    frame.to_csv(path, index=False)
    home = path.parent / "home"
    ws = api.workspace(home)
    result = ws.train(path, schema, seed=0)
    model = ws.model()
    return {
        "workspace": ws,
        "frame": frame,
        "schema": schema,
        "path": path,
        "result": result,
        "model": model,
        "target": target,
    }


def typical_profile(frame: pd.DataFrame) -> dict:
    return {c["name"]: float(frame[c["name"]].median()) for c in FEATURES}


def test_training_registers_a_champion(byod):
    result = byod["result"]
    assert result["promoted"] and result["version"] == "v0001"
    assert result["metrics"]["segments_k"] >= 2
    assert ("holdout" in result["metrics"]) == byod["target"]
    if byod["target"]:
        assert result["metrics"]["holdout"]["roc_auc"] > 0.7  # the planted signal is found


def test_analysis_of_a_typical_profile(byod):
    analysis = byod["model"].analyze(typical_profile(byod["frame"])).to_dict()
    assert analysis["model_version"] == "v0001"
    assert analysis["segment"]["name"]
    assert [a for a in analysis["anomalies"] if a["kind"] == "value"] == []
    assert all(a["kind"] != "gap" for a in analysis["anomalies"])  # no scores, no gaps
    ranks = {p["feature"]: p for p in analysis["percentiles"]}
    assert set(ranks) == {c["name"] for c in FEATURES}
    for p in ranks.values():
        assert p["peer_group"] == "all" and p["position"] == pytest.approx(50, abs=3)
        assert p["peer_count"] == pytest.approx(N_ROWS * (1 - MISSING), rel=0.1)
    assert len(analysis["similar"]) == 10
    if byod["target"]:
        prediction = analysis["prediction"]
        assert 0 < prediction["probability"] < 1
        total = prediction["base_value"] + sum(
            c["contribution"] for c in prediction["contributions"]
        )
        assert total == pytest.approx(prediction["margin"], abs=1e-4)
        assert {c["feature"] for c in prediction["contributions"]} == {c["name"] for c in FEATURES}
    else:
        assert "prediction" not in analysis


def test_extreme_heavy_tailed_value_is_flagged_alone(byod):
    profile = typical_profile(byod["frame"])
    profile["lognormal_sales"] = float(byod["frame"]["lognormal_sales"].quantile(0.5)) * 1e6
    values = [
        a for a in byod["model"].analyze(profile).anomalies if a["kind"] == "value"
    ]
    assert [a["feature"] for a in values] == ["lognormal_sales"]


def test_recommendations_without_segments(byod):
    frame = byod["frame"]
    weak = frame.dropna().nsmallest(20, "lognormal_sales")
    recs = []
    for _, row in weak.iterrows():
        analysis = byod["model"].analyze({c["name"]: row[c["name"]] for c in FEATURES})
        for r in analysis.recommendations:
            recs.append(r)
            assert r["feature"] != "ratio"  # better = "none": never an action
            assert (r["model_effect"] is not None) == byod["target"]
            sign = -1 if r["feature"] == "cost" else 1
            assert sign * (r["target"] - r["current"]) > 0
            if r["feature"] == "cost":
                assert r["action"] == "Cut costs"
            else:
                assert r["action"].startswith("Move ")  # no action text: a generated one
    assert recs


def test_score_the_training_rows(byod):
    scored = byod["workspace"].score(byod["path"])
    frame = byod["frame"]
    assert len(scored) == len(frame)
    for c in FEATURES:
        rank = scored[f"{'position' if c['better'] == 'none' else 'rank'}_{c['name']}"]
        present = frame[c["name"]].notna().to_numpy()
        assert not rank[present].isna().any(), c["name"]
        assert rank[~present].isna().all(), c["name"]
        assert rank[present].between(0, 100).all()
        assert rank[present].mean() == pytest.approx(50, abs=3)
    # Heavy tails (asinh scale for z-scores) must not turn every large value into an anomaly.
    flagged = (scored["anomaly_count"] > 0).mean()
    assert flagged < 0.10, f"{flagged:.1%} of typical rows flagged"
    if byod["target"]:
        assert scored["probability"].between(0, 1).all()
        assert scored["account"].tolist() == frame["account"].tolist()
    else:
        assert "probability" not in scored.columns


def test_profile_with_missing_values_gets_a_full_analysis(byod):
    profile = typical_profile(byod["frame"])
    del profile["cost"]
    profile["t_margin"] = math.nan
    analysis = byod["model"].analyze(profile).to_dict()
    assert analysis["missing"] == ["t_margin", "cost"]
    assert {p["feature"] for p in analysis["percentiles"]} == {c["name"] for c in FEATURES} - {"cost", "t_margin"}
    assert not {a["feature"] for a in analysis["anomalies"]} & {"cost", "t_margin"}
    assert analysis["segment"]["name"] and len(analysis["similar"]) == 10
    if byod["target"]:
        assert 0 < analysis["prediction"]["probability"] < 1
        by_feature = {c["feature"]: c for c in analysis["prediction"]["contributions"]}
        assert by_feature["cost"]["value"] is None  # XGBoost's default direction for a gap


def test_bad_values_are_still_refused_with_every_field(byod):
    profile = typical_profile(byod["frame"])
    profile["cost"] = "cheap"
    profile["t_margin"] = math.inf
    with pytest.raises(ProfileError) as err:
        byod["model"].analyze(profile)
    assert {p["field"] for p in err.value.problems} == {"cost", "t_margin"}
