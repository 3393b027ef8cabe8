"""ReferenceProfile: what it keeps, and that it survives JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.monitoring.drift import ReferenceProfile, drift_report


@pytest.mark.parametrize("n_rows", [300, 3000])
def test_json_round_trip_gives_the_same_report(heavy_tailed_frame, n_rows):
    reference, numeric, categorical = heavy_tailed_frame(n_rows, seed=1)
    current, _, _ = heavy_tailed_frame(n_rows, seed=2)
    profile = ReferenceProfile.from_frame(reference, numeric, categorical)

    text = json.dumps(profile.to_dict(), allow_nan=False)
    restored = ReferenceProfile.from_dict(json.loads(text))

    assert restored.to_dict() == profile.to_dict()
    assert drift_report(restored, current).to_dict() == drift_report(profile, current).to_dict()


@pytest.mark.parametrize(
    ("n_rows", "sample_size", "expected_sample"),
    [(100, 5000, 100), (20_000, 5000, 5000), (20_000, 1000, 1000)],
)
def test_sample_is_capped_and_seeded(n_rows, sample_size, expected_sample):
    frame = pd.DataFrame({"x": np.arange(n_rows, dtype=float)})
    first = ReferenceProfile.from_frame(frame, ["x"], [], sample_size=sample_size, seed=3)
    again = ReferenceProfile.from_frame(frame, ["x"], [], sample_size=sample_size, seed=3)
    assert first.n_rows == n_rows
    assert first.numeric["x"].sample.size == expected_sample
    np.testing.assert_array_equal(first.numeric["x"].sample, again.numeric["x"].sample)


def test_numeric_summary_uses_full_data_and_drops_missing():
    values = np.array([np.nan, np.inf, *range(1, 101)], dtype=float)
    profile = ReferenceProfile.from_frame(pd.DataFrame({"x": values}), ["x"], [], sample_size=10)
    column = profile.numeric["x"]
    assert (column.n_values, column.n_missing) == (100, 2)
    assert column.mean == pytest.approx(50.5)
    assert column.std == pytest.approx(np.std(np.arange(1, 101)))
    assert column.bin_edges.size == 9
    np.testing.assert_allclose(column.bin_shares, np.full(10, 0.1))


def test_tied_deciles_collapse_into_one_bin():
    values = np.r_[np.zeros(700), np.arange(1.0, 301.0)]
    column = ReferenceProfile.from_frame(pd.DataFrame({"x": values}), ["x"], []).numeric["x"]
    assert column.bin_edges[0] == 0.0
    assert np.all(np.diff(column.bin_edges) > 0)
    assert column.bin_shares.sum() == pytest.approx(1.0)
    assert column.bin_shares[1] == pytest.approx(0.7)


def test_categorical_counts_match_integer_codes_read_as_float():
    reference = pd.DataFrame({"tier": [1, 1, 2, 3]})
    current = pd.DataFrame({"tier": [1.0, 1.0, 2.0, 3.0, np.nan]})
    profile = ReferenceProfile.from_frame(reference, [], ["tier"])
    assert profile.categorical["tier"].counts == {"1": 2, "2": 1, "3": 1}
    column = drift_report(profile, current).column("tier")
    assert column.statistic == pytest.approx(1.0)
    assert column.current_missing == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("numeric", "categorical", "match"),
    [
        (["x", "nope"], [], "not in the reference data"),
        ([], [], "at least one"),
        (["x"], ["x"], "both numeric and categorical"),
        (["label"], [], "should be numeric"),
    ],
)
def test_bad_column_lists_are_data_errors(numeric, categorical, match):
    frame = pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]})
    with pytest.raises(DataError, match=match):
        ReferenceProfile.from_frame(frame, numeric, categorical)


def test_from_dict_rejects_other_documents():
    with pytest.raises(DataError, match="format"):
        ReferenceProfile.from_dict({"n_rows": 3})


def test_all_missing_reference_column_survives_json_and_flags_new_values():
    reference = pd.DataFrame({"x": [np.nan] * 4, "y": [1.0, 2.0, 3.0, 4.0]})
    profile = ReferenceProfile.from_frame(reference, ["x", "y"], [])
    restored = ReferenceProfile.from_dict(
        json.loads(json.dumps(profile.to_dict(), allow_nan=False))
    )
    current = pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]})
    column = drift_report(restored, current).column("x")
    assert (column.n_reference, column.reference_missing, column.drifted) == (0, 1.0, True)
