"""Next best actions and similar companies: direction-aware, evidence-backed, sorted."""

from __future__ import annotations

import numpy as np
import pytest

from engine import api
from engine.analysis.neighbours import NeighbourIndex
from engine.analysis.recommendations import MIN_GAP, MIN_SUPPORT, MIN_UPLIFT, candidate_actions

N_PROFILES = 40


@pytest.fixture(scope="module")
def analyses(model, checked, truth):
    """Analyses of training companies, weighted towards weak ones (who get the most advice)."""
    complete = checked.dropna()
    planted = truth["company_archetypes"].set_index("company_id")["archetype"]
    weak = complete[planted.loc[complete["company_id"]].isin(["beginner", "strategist"]).to_numpy()]
    rows = weak.sample(N_PROFILES // 2, random_state=0).index.union(
        complete.sample(N_PROFILES // 2, random_state=1).index
    )
    keys = list(model.schema.segments) + model.schema.feature_names
    out = []
    for i in rows:
        profile = {k: checked.loc[i, k] for k in keys}
        out.append((profile, model.analyze(profile)))
    return out


@pytest.fixture(scope="module")
def by_id(companies):
    return companies.set_index(companies["company_id"].astype(str))  # ids are text


def test_some_profiles_get_recommendations(analyses):
    counts = [len(a.recommendations) for _, a in analyses]
    assert sum(c > 0 for c in counts) >= len(analyses) // 2
    features = {r["feature"] for _, a in analyses for r in a.recommendations}
    assert len(features) >= 3


def test_recommendations_point_the_right_way(analyses, model):
    seen_lower = False
    for profile, analysis in analyses:
        for r in analysis.recommendations:
            feature = model.schema.feature(r["feature"])
            assert feature.better != "none"
            assert r["current"] == pytest.approx(profile[r["feature"]])
            if feature.better == "higher":
                assert r["target"] > r["current"], r
            else:
                seen_lower = True
                assert r["target"] < r["current"], r
            assert r["gap_sd"] > 0 and r["peer_uplift"] > 0
    assert seen_lower, (
        "customer_acquisition_cost (lower is better) should be recommended at least once"
    )


def test_recommendations_carry_schema_action_and_real_evidence(analyses, model, by_id):
    for profile, analysis in analyses:
        for r in analysis.recommendations:
            feature = model.schema.feature(r["feature"])
            assert r["action"] == feature.action
            assert len(r["evidence"]) >= 1
            evidence = by_id.loc[r["evidence"]]  # KeyError if an id is not in companies.csv
            assert (evidence["high_growth"] == 1).all()  # desirable outcome (desirable = true)
            # Every piece of evidence is ahead of the company on this feature.
            ahead = feature.sign * (evidence[r["feature"]] - profile[r["feature"]])
            assert (ahead > 0).all(), r


def test_recommendations_sorted_by_expected_effect(analyses):
    """Actions the outcome model expects to help come first (never one it expects to change
    nothing), each group by expected effect; none it expects to hurt is shown."""
    for _, analysis in analyses:
        recs = analysis.recommendations
        helps = [r["model_helps"] for r in recs]
        assert helps == sorted(helps, reverse=True)
        assert all(r["model_effect"] >= 0 for r in recs)  # high growth is desirable
        for group in (True, False):
            effects = [r["expected_effect"] for r in recs if r["model_helps"] is group]
            assert effects == sorted(effects, reverse=True)


def test_similar_companies_are_nearest_with_their_outcome(analyses, by_id, model):
    for _, analysis in analyses:
        similar = analysis.similar
        assert len(similar) == 10
        distances = [s["distance"] for s in similar]
        assert distances == sorted(distances)
        assert distances[0] == pytest.approx(0.0, abs=1e-6)  # the company itself is in the index
        ids = [s["id"] for s in similar]
        assert len(set(ids)) == len(ids)
        outcomes = by_id.loc[ids, "high_growth"].to_numpy()
        np.testing.assert_array_equal([s["outcome"] for s in similar], outcomes)
        assert [s["desirable"] for s in similar] == [bool(o == 1) for o in outcomes]
    # Distances are Euclidean in the model's scaled space.
    profile, analysis = analyses[0]
    x = np.array([profile[n] for n in model.schema.feature_names], dtype=float)
    z = model.scaler.transform(x[None, :])[0]
    other = by_id.loc[[analysis.similar[-1]["id"]], model.schema.feature_names].to_numpy(
        dtype=float
    )
    expected = np.linalg.norm(model.scaler.transform(other)[0] - z)
    assert analysis.similar[-1]["distance"] == pytest.approx(expected, rel=1e-6)


def test_actions_on_hand_made_neighbours():
    # 20 neighbours on one feature; the good ones are ahead (higher) of a company at 0.
    X = np.concatenate([np.full(10, 2.0), np.full(10, -1.0)])[:, None]
    good = np.array([True] * 8 + [False] * 2 + [False] * 9 + [True])
    index = NeighbourIndex().fit(X, X, np.arange(100, 120), good)
    actions = candidate_actions(index, np.array([0.0]), np.arange(20), np.array([1]), np.array([1.0]))
    assert len(actions) == 1
    a = actions[0]
    assert a["target"] == 2.0 and a["gap"] == 2.0
    assert a["uplift"] == pytest.approx(0.8 - 0.1)
    assert a["evidence"] == list(range(100, 108))
    # Lower-is-better flips who is ahead: nobody good is below 0 often enough.
    assert candidate_actions(index, np.array([0.0]), np.arange(20), np.array([-1]), np.array([1.0])) == []
    assert MIN_SUPPORT <= 8


def _one_feature_at_a_time(index, x, idx, signs, scale):
    """The rule of ``candidate_actions`` written feature by feature: the reference its
    all-features-at-once arithmetic must match exactly."""
    X, good = index.X_[idx], index.good_[idx]
    out = []
    for f in np.flatnonzero(signs != 0):
        known = ~np.isnan(X[:, f])
        if np.isnan(x[f]) or known.sum() < 2 * MIN_SUPPORT:
            continue
        ahead = known & (signs[f] * (X[:, f] - x[f]) > 0)
        support = ahead & good
        if support.sum() < MIN_SUPPORT or (known & ~ahead).sum() == 0:
            continue
        target = float(np.median(X[support, f]))
        gap = signs[f] * (target - x[f]) / scale[f]
        uplift = good[ahead].mean() - good[known & ~ahead].mean()
        if gap >= MIN_GAP and uplift >= MIN_UPLIFT:
            evidence = [int(i) for i in index.ids_[idx[support]][:10]]
            out.append({"index": int(f), "target": target, "gap": float(gap), "uplift": float(uplift), "evidence": evidence})
    return out


@pytest.mark.parametrize("seed", range(5))
def test_actions_equal_the_feature_by_feature_rule(seed):
    """Missing values, ties, odd and even support counts, both directions, profiles with gaps."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(0, 1, (400, 6)), 1)
    X[rng.random(X.shape) < 0.15] = np.nan
    good = rng.random(400) < 0.5 + 0.2 * np.nan_to_num(X[:, 0])
    index = NeighbourIndex().fit(np.nan_to_num(X), X, np.arange(1000, 1400), good)
    signs, scale = np.array([1, -1, 0, 1, -1, 1]), rng.uniform(0.2, 2.0, 6)
    found = 0
    for _ in range(200):
        x = np.round(rng.normal(-0.5, 1, 6), 1)
        x[rng.random(6) < 0.1] = np.nan
        idx = rng.choice(400, size=int(rng.integers(5, 60)), replace=False)
        expected = _one_feature_at_a_time(index, x, idx, signs, scale)
        assert candidate_actions(index, x, idx, signs, scale) == expected
        found += len(expected)
    assert found > 50  # the comparison covered many actions, not only empty lists


@pytest.mark.parametrize("dataset", ["demo", "customers"])
def test_neighbour_ids_are_stored_as_one_text_array_and_come_back_as_text(trained_home, dataset):
    """A version stores its neighbours' ids as fixed-width text (one array in the version file,
    not one object per id); the similar entities of an analysis still name them as plain text."""
    ws = api.workspace(trained_home(dataset))
    model = ws.model()
    assert model.neighbours.ids_.dtype.kind == "U"
    row = ws.table("sample").iloc[3]
    analysis = model.analyze(row.drop(labels=[c for c in (model.schema.target.column,) if c in row.index]).to_dict())
    assert analysis.similar and all(type(s["id"]) is str for s in analysis.similar)
    assert set(s["id"] for s in analysis.similar) <= set(model.neighbours.ids_.tolist())


def test_the_median_of_huge_values_does_not_overflow():
    """np.median of an odd count is the middle value itself, not (a + a) / 2 (inf near 1e308)."""
    X = np.concatenate([np.full(7, 1.5e308), np.zeros(10)])[:, None]
    good = np.array([True] * 7 + [False] * 10)
    index = NeighbourIndex().fit(np.zeros_like(X), X, np.arange(17), good)
    actions = candidate_actions(index, np.array([1.0]), np.arange(17), np.array([1]), np.array([1e300]))
    assert actions == _one_feature_at_a_time(index, np.array([1.0]), np.arange(17), np.array([1]), np.array([1e300]))
    assert actions and actions[0]["target"] == 1.5e308


def test_ids_stay_as_given_where_fixed_width_text_would_change_or_bloat_them():
    from engine.analysis.neighbours import MAX_ID_CHARS

    Z = np.zeros((3, 1))
    good = np.array([True, False, True])
    plain = NeighbourIndex().fit(Z, Z, np.array(["a", "b", "c"], dtype=object), good)
    assert plain.ids_.dtype.kind == "U"
    with_nul = NeighbourIndex().fit(Z, Z, np.array(["a\x00", "b", "c"], dtype=object), good)
    assert with_nul.ids_.tolist() == ["a\x00", "b", "c"]
    long = NeighbourIndex().fit(Z, Z, np.array(["x" * (MAX_ID_CHARS + 1), "b", "c"], dtype=object), good)
    assert long.ids_.dtype == object
