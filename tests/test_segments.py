"""Segments: clustering recovers the demo's planted archetypes; k and names come out right."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from engine.analysis.segments import SegmentModel, _describe


def test_segments_recover_planted_archetypes(scored, checked, truth):
    planted = truth["company_archetypes"].set_index("company_id")["archetype"]
    expected = planted.loc[checked["company_id"]].to_numpy()
    ari = adjusted_rand_score(expected, scored["segment_id"].to_numpy())
    assert ari >= 0.8, f"adjusted Rand index {ari:.3f}"


def test_k_is_chosen_automatically_as_the_number_of_archetypes(trained, model, truth):
    assert len(truth["archetypes"]) == 6
    assert trained["metrics"]["segments_k"] == 6
    assert len(model.segments.names_) == 6
    assert model.segments.k is None  # chosen by silhouette, not given


def test_segment_sizes_match_assignments(model, scored):
    counts = np.bincount(scored["segment_id"], minlength=len(model.segments.names_))
    np.testing.assert_array_equal(counts, model.segments.sizes_)


def test_segment_names_are_unique_and_readable(model):
    names = model.segments.names_
    assert len(set(names)) == len(names)
    labels = {
        f.label.lower().replace(" maturity", "") for f in model.schema.features if f.kind == "score"
    }
    levels = {"All-round leaders", "Early-stage across the board", "Balanced middle"}
    for name, description in zip(names, model.segments.descriptions_, strict=True):
        assert 5 <= len(name) <= 80 and name[0].isupper()
        assert not re.search(r"\bnan\b|_|None", name, flags=re.IGNORECASE)
        # A name states a level ("All-round leaders") or the strongest and weakest areas.
        base = re.sub(r" \(\d+\)$", "", name)
        led = re.fullmatch(r".+-led: high (.+), low (.+)", base)
        assert base in levels or (
            led and {*led.groups()} <= labels and len({*led.groups()}) == 2
        ), name
        assert re.match(r"[\d,]+ companies \(\d+%\)\. (Above|Below|Close)", description)
        # Truthful signs: what is listed as above the population is above it, and below below.
        above, _, below = description.partition("Below:")
        for part, positive in ((above, True), (below, False)):
            for value in re.findall(r"\(([+-]\d+\.\d) sd\)", part):
                assert (float(value) > 0) == positive, description


def test_profile_segment_matches_table_scoring(model, checked, scored):
    row = checked.dropna().iloc[0]
    profile = {k: row[k] for k in list(model.schema.segments) + model.schema.feature_names}
    segment = model.analyze(profile).segment
    assert segment["id"] == scored.loc[row.name, "segment_id"]
    assert segment["name"] == model.segments.names_[segment["id"]]
    assert segment["distance"] == pytest.approx(scored.loc[row.name, "segment_distance"])
    assert set(segment["centroid"]) == set(model.schema.score_names)


@pytest.mark.parametrize("centers", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_blobs_recovered_with_chosen_k(centers, seed):
    X, y = make_blobs(
        n_samples=600,
        n_features=4,
        centers=centers,
        cluster_std=0.5,
        center_box=(-10, 10),
        random_state=seed,
    )
    model = SegmentModel(seed=seed).fit(X, ["a", "b", "c", "d"])
    idx, dist = model.predict(X)
    assert len(model.names_) == centers
    assert adjusted_rand_score(y, idx) == pytest.approx(1.0)
    manual = np.linalg.norm(X - model.centroids_[idx], axis=1)
    np.testing.assert_allclose(dist, manual, atol=1e-9)
    assert model.sizes_.sum() == len(X)


def test_fixed_k_is_respected():
    X, _ = make_blobs(n_samples=300, n_features=3, centers=3, random_state=0)
    model = SegmentModel(k=5, seed=0).fit(X, ["a", "b", "c"])
    assert len(model.names_) == 5 and model.silhouettes_ == {}


@pytest.mark.parametrize(
    ("centroid", "name"),
    [
        ([1.0, 1.2, 0.9], "All-round leaders"),
        ([-1.0, -0.8, -1.1], "Early-stage across the board"),
        ([0.1, -0.2, 0.3], "Balanced middle"),
        ([2.0, -1.0, 0.0], "Tech-led: high tech, low data"),
        ([-1.5, 0.0, 1.0], "People-led: high people, low tech"),
    ],
)
def test_names_from_centroids(centroid, name):
    names, descriptions = _describe(
        np.array([centroid]), np.array([40]), ["tech", "data", "people"], True, "companies"
    )
    assert names == [name]
    assert descriptions[0].startswith("40 companies (100%).")


def test_names_without_a_direction_never_say_leaders():
    names, descriptions = _describe(np.array([[1.0, 1.2], [0.1, -0.6]]), np.array([30, 10]), ["tenure", "charges"], False, "customers")
    assert names[0] == "High across the board"
    assert descriptions[0] == "30 customers (75%). Above the population: charges (+1.2 sd), tenure (+1.0 sd)."
    assert descriptions[1] == "10 customers (25%). Below: charges (-0.6 sd)."


def test_duplicate_names_are_numbered():
    names, _ = _describe(
        np.array([[1.0, 1.0], [1.2, 1.1], [0.0, 0.0]]), np.array([1, 1, 1]), ["a", "b"], True, "stores"
    )
    assert names == ["All-round leaders", "All-round leaders (2)", "Balanced middle"]


@pytest.mark.parametrize(
    ("archetype", "name"),
    [("leader", "All-round leaders"), ("beginner", "Early-stage across the board")],
)
def test_uniform_archetypes_get_level_names(scored, checked, truth, model, archetype, name):
    planted = truth["company_archetypes"].set_index("company_id")["archetype"]
    members = planted.loc[checked["company_id"]].to_numpy() == archetype
    majority = np.bincount(scored["segment_id"][members]).argmax()
    assert model.segments.names_[majority] == name


def test_a_rows_segment_does_not_depend_on_the_rows_scored_with_it(model, checked):
    """Row by row, the same segment and distance to the bit whether a row is assigned alone,
    in a small batch or in the whole table (a matrix product's last bits vary with its shape)."""
    Z = model.scaler.transform(model.space.numeric_table(checked))[:, model.cluster_index]
    seg, dist = model.segments.predict(Z)
    for size in (1, 7, 333):
        parts = [model.segments.predict(Z[:999][i : i + size]) for i in range(0, 999, size)]
        np.testing.assert_array_equal(np.concatenate([s for s, _ in parts]), seg[:999])
        np.testing.assert_array_equal(np.concatenate([d for _, d in parts]), dist[:999])
    np.testing.assert_allclose(dist, np.linalg.norm(Z - model.segments.centroids_[seg], axis=1), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_silhouettes_are_scikit_learns(seed):
    """The silhouette the cluster count is chosen by equals scikit-learn's ``silhouette_score``
    on the same distances: blobs, ties on a grid, a point alone in its cluster, and cluster
    counts KMeans leaves empty."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import pairwise_distances, silhouette_score

    from engine.analysis.segments import silhouette

    rng = np.random.default_rng(seed)
    blobs, _ = make_blobs(400, n_features=5, centers=4, random_state=seed)
    grid = rng.integers(0, 3, size=(300, 2)).astype(float)  # many equal distances
    for Z in (blobs, grid):
        distances = pairwise_distances(Z)
        for k in range(2, 8):
            labels = KMeans(n_clusters=k, n_init=2, random_state=seed).fit(Z).labels_
            if len(set(labels)) > 1:
                assert silhouette(distances, labels) == pytest.approx(silhouette_score(distances, labels, metric="precomputed"), abs=1e-12)
    labels = np.r_[np.zeros(199, int), 1, np.full(200, 3)]  # one point alone; cluster 2 empty
    expected = silhouette_score(pairwise_distances(blobs), np.searchsorted([0, 1, 3], labels), metric="precomputed")
    assert silhouette(pairwise_distances(blobs), labels) == pytest.approx(expected, abs=1e-12)
