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


def test_the_sketch_is_the_quantile_function_of_every_row():
    """1,001 levels from all rows: the smallest value with at least that share at or below it
    (ties stay ties, no interpolated values), whatever the row count."""
    values = np.r_[np.zeros(600), np.arange(1.0, 401.0)]
    sketch = ReferenceProfile.from_frame(pd.DataFrame({"x": values}), ["x"], []).numeric["x"].sketch
    assert sketch.size == 1001 and sketch[0] == 0.0 and sketch[-1] == 400.0
    assert (sketch[:601] == 0.0).all() and sketch[601] == 1.0  # 60% zeros, then 0.601 -> 1
    assert set(sketch) <= set(values)


def test_an_unchanged_column_reads_near_zero_at_scale():
    """The issue's bar: the reference from the whole table, so an unchanged column's statistic
    stays <= 0.01 (a 5,000-row sample read up to 0.033)."""
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.lognormal(0, 2, 200_000), "z": np.where(rng.random(200_000) < 0.6, 0.0, rng.pareto(1.2, 200_000))})
    current = pd.DataFrame({"x": rng.lognormal(0, 2, 200_000), "z": np.where(rng.random(200_000) < 0.6, 0.0, rng.pareto(1.2, 200_000))})
    report = drift_report(ReferenceProfile.from_frame(reference, ["x", "z"], []), current)
    assert all(column.statistic <= 0.01 and not column.drifted for column in report.columns)


def test_numeric_summary_uses_full_data_and_drops_missing():
    values = np.array([np.nan, np.inf, *range(1, 101)], dtype=float)
    profile = ReferenceProfile.from_frame(pd.DataFrame({"x": values}), ["x"], [])
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
    assert column.statistic == pytest.approx(0.0)  # the same mix: total variation 0
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
    current = pd.DataFrame({"x": [1.0, 2.0] * 50, "y": [1.0, 2.0] * 50})
    column = drift_report(restored, current).column("x")
    assert (column.n_reference, column.reference_missing, column.drifted) == (0, 1.0, True)
    assert column.missing_drifted  # and the missing share went from 100% to 0%
    few = drift_report(restored, current.head(2)).column("x")
    assert not few.drifted  # two rows: no verdict at all
