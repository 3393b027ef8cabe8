"""drift_report and series_drift: verdicts, overrides, false alarms and the dataset verdict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.monitoring.drift import (
    DriftConfigError,
    ReferenceProfile,
    UnknownDriftTest,
    drift_report,
    reference_column,
    series_drift,
)


def make_pair(n_rows: int, *, shift: bool, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames with one numeric and one categorical column."""
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(
        {"x": rng.normal(0, 1, n_rows), "c": rng.choice(["a", "b", "c"], n_rows, p=[0.5, 0.3, 0.2])}
    )
    moved = shift * 1.0
    shares = [0.2, 0.3, 0.5] if shift else [0.5, 0.3, 0.2]
    current = pd.DataFrame(
        {"x": rng.normal(moved, 1, n_rows), "c": rng.choice(["a", "b", "c"], n_rows, p=shares)}
    )
    return reference, current


def profile_of(frame: pd.DataFrame) -> ReferenceProfile:
    return ReferenceProfile.from_frame(frame, numeric=["x"], categorical=["c"])


@pytest.mark.parametrize(
    ("n_rows", "shift", "tests"),
    [
        (500, True, ["ks_distance", "tvd"]),
        (500, False, ["ks_distance", "tvd"]),
        (20_000, True, ["ks_distance", "tvd"]),
        (20_000, False, ["ks_distance", "tvd"]),
    ],
)
def test_shifted_columns_are_flagged_and_unshifted_are_not(n_rows, shift, tests):
    reference, current = make_pair(n_rows, shift=shift)
    report = drift_report(profile_of(reference), current)
    assert [column.test for column in report.columns] == tests
    assert [column.drifted for column in report.columns] == [shift, shift]
    assert report.dataset_drift is shift


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("n_reference", [500, 20_000])
def test_random_split_of_one_period_flags_at_most_one_column_in_twenty(
    heavy_tailed_frame, n_reference, seed
):
    frame, numeric, categorical = heavy_tailed_frame(2 * n_reference, seed)
    order = np.random.default_rng(100 + seed).permutation(len(frame))
    reference, current = frame.iloc[order[:n_reference]], frame.iloc[order[n_reference:]]

    report = drift_report(ReferenceProfile.from_frame(reference, numeric, categorical), current)

    assert report.n_columns == 20
    flagged = [column.column for column in report.columns if column.drifted]
    assert report.drifted_share <= 0.05, flagged
    assert not report.dataset_drift


def test_false_alarms_stay_rare_with_small_tables(heavy_tailed_frame):
    # 300 rows on each side: an effect size alone would flag noise (a KS distance of 0.1 is
    # common by chance); the significance guard keeps unchanged columns quiet.
    shares = []
    for seed in range(20):
        frame, numeric, categorical = heavy_tailed_frame(600, seed)
        reference, current = frame.iloc[:300], frame.iloc[300:]
        report = drift_report(ReferenceProfile.from_frame(reference, numeric, categorical), current)
        shares.append(report.drifted_share)
    assert np.mean(shares) <= 0.02


def test_a_shift_in_the_body_of_a_heavy_tailed_column_is_seen():
    """Why the KS distance is the default: Wasserstein in standard deviations is blind to a move
    of the lower deciles of a heavy-tailed column (the tail inflates the std); PSI and the KS
    distance see it."""
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.lognormal(0, 2, 20_000)})
    current_values = rng.lognormal(0, 2, 20_000)
    # Triple the smallest values: a big move in the lower deciles, a tiny one in std units.
    current_values[current_values < 0.5] *= 3
    profile = ReferenceProfile.from_frame(reference, ["x"], [])
    column = drift_report(profile, pd.DataFrame({"x": current_values})).column("x")
    assert column.test == "ks_distance" and column.drifted and column.psi >= 0.2
    assert not drift_report(profile, pd.DataFrame({"x": current_values}), tests={"x": "wasserstein"}).column("x").drifted


@pytest.mark.parametrize(
    ("tests", "thresholds", "expected"),
    [
        ({"x": "psi"}, None, [("psi", 0.2), ("tvd", 0.05)]),
        ({"x": "psi"}, {"x": 0.5}, [("psi", 0.5), ("tvd", 0.05)]),
        (None, {"x": 0.2}, [("ks_distance", 0.2), ("tvd", 0.05)]),
        (
            {"c": "jensenshannon", "x": "wasserstein"},
            None,
            [("wasserstein", 0.1), ("jensenshannon", 0.1)],
        ),
        ({"x": "chisquare"}, {"c": 0.01}, [("chisquare", 0.05), ("tvd", 0.01)]),
    ],
)
def test_per_column_test_and_threshold_override(tests, thresholds, expected):
    reference, current = make_pair(500, shift=False)
    report = drift_report(profile_of(reference), current, tests=tests, thresholds=thresholds)
    assert [(column.test, column.threshold) for column in report.columns] == expected


def test_threshold_override_changes_the_verdict():
    reference, current = make_pair(20_000, shift=True)
    profile = profile_of(reference)
    assert drift_report(profile, current).column("x").drifted
    assert not drift_report(profile, current, thresholds={"x": 5.0}).column("x").drifted


@pytest.mark.parametrize(
    ("tests", "thresholds", "error", "match"),
    [
        ({"x": "nope"}, None, UnknownDriftTest, "chisquare, jensenshannon, ks, ks_distance, psi, tvd, wasserstein"),
        ({"c": "ks"}, None, DriftConfigError, "expected one of: chisquare, jensenshannon, psi, tvd"),
        ({"y": "ks"}, None, DriftConfigError, r"not in the reference profile"),
        (None, {"x": float("nan")}, DriftConfigError, "finite number"),
        (None, {"x": "0.1"}, DriftConfigError, "finite number"),
    ],
)
def test_bad_overrides_are_config_errors(tests, thresholds, error, match):
    reference, current = make_pair(100, shift=False)
    with pytest.raises(error, match=match):
        drift_report(profile_of(reference), current, tests=tests, thresholds=thresholds)


@pytest.mark.parametrize(
    ("dataset_threshold", "expected"),
    [(0.25, True), (0.5, True), (0.51, False), (1.0, False)],
)
def test_dataset_verdict_threshold(dataset_threshold, expected):
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({name: rng.normal(0, 1, 500) for name in "abcd"})
    current = pd.DataFrame({name: rng.normal(0, 1, 500) for name in "abcd"})
    current[["a", "b"]] += 2.0
    profile = ReferenceProfile.from_frame(reference, list("abcd"), [])
    report = drift_report(profile, current, dataset_threshold=dataset_threshold)
    assert (report.n_drifted, report.n_columns, report.drifted_share) == (2, 4, 0.5)
    assert report.dataset_drift is expected


def test_columns_option_restricts_the_report():
    reference, current = make_pair(500, shift=False)
    report = drift_report(profile_of(reference), current, columns=["c"])
    assert [column.column for column in report.columns] == ["c"]


def test_missing_shares_and_counts():
    reference = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "c": ["a", None, "b", "a"]})
    current = pd.DataFrame({"x": [1.0, np.nan, np.nan, np.nan], "c": ["a", "b", "a", "b"]})
    report = drift_report(profile_of(reference), current)
    x, c = report.columns
    assert (x.reference_missing, x.current_missing, x.n_reference, x.n_current) == (
        0.25,
        0.75,
        3,
        1,
    )
    assert (c.reference_missing, c.current_missing, c.n_reference, c.n_current) == (0.25, 0.0, 3, 4)


def test_a_column_missing_entirely_in_current_data_is_drift():
    reference, current = make_pair(200, shift=False)
    current["x"] = np.nan
    column = drift_report(profile_of(reference), current).column("x")
    assert column.drifted
    assert column.to_dict()["statistic"] is None


def test_current_data_without_a_profiled_column_is_a_data_error():
    reference, current = make_pair(100, shift=False)
    with pytest.raises(DataError, match=r"\['x'\]"):
        drift_report(profile_of(reference), current.drop(columns="x"))


def test_to_dict_is_json_with_columns_and_dataset_verdict():
    reference, current = make_pair(500, shift=True)
    data = json.loads(
        json.dumps(drift_report(profile_of(reference), current).to_dict(), allow_nan=False)
    )
    assert data["dataset"] == {
        "drifted_share": 1.0,
        "dataset_drift": True,
        "dataset_threshold": 0.5,
        "n_drifted": 2,
        "n_columns": 2,
        "drifted_columns": ["x", "c"],
    }
    assert {"column", "test", "statistic", "threshold", "p_value", "drifted", "psi", "missing_drifted"} <= set(data["columns"][0])
    assert (data["n_current"], data["min_rows"], data["enough_rows"]) == (500, 100, True)


def test_below_the_minimum_rows_nothing_is_drift():
    """A verdict from a handful of rows is noise: statistics are reported, nothing is drifted."""
    reference, current = make_pair(5000, shift=True)
    report = drift_report(profile_of(reference), current.head(99))
    assert not report.enough_rows and not report.dataset_drift and report.n_drifted == 0
    assert all(not c.drifted and not c.missing_drifted and c.statistic > 0.1 for c in report.columns)
    assert drift_report(profile_of(reference), current.head(100)).dataset_drift


def test_a_moved_missing_share_is_its_own_signal():
    """Same values, but a fifth of them now missing (a broken feed): the values do not drift,
    the missing share does, and the column counts as drifted for the dataset verdict."""
    reference, current = make_pair(5000, shift=False)
    current.loc[current.index[::5], "x"] = np.nan
    report = drift_report(profile_of(reference), current)
    x = report.column("x")
    assert not x.drifted and x.missing_drifted and x.current_missing == pytest.approx(0.2)
    assert report.n_drifted == 1
    current.loc[current.index[::50], "c"] = None  # 2 points more missing: below the 5-point bar
    assert not drift_report(profile_of(reference), current).column("c").missing_drifted


@pytest.mark.parametrize(
    ("n_rows", "shift", "test", "threshold", "expected_test", "drifted"),
    [
        (800, 0.0, None, None, "ks_distance", False),
        (800, 0.15, None, None, "ks_distance", True),
        (5000, 0.0, None, None, "ks_distance", False),
        (5000, 0.15, "wasserstein", None, "wasserstein", True),
        (5000, 0.15, "psi", None, "psi", True),
        (5000, 0.15, "psi", 5.0, "psi", False),
    ],
)
def test_series_drift_on_predicted_probabilities(
    n_rows, shift, test, threshold, expected_test, drifted
):
    rng = np.random.default_rng(0)
    reference = rng.beta(2, 5, n_rows)
    current = np.clip(rng.beta(2, 5, n_rows) + shift, 0, 1)
    column = series_drift(reference_column(reference), current, test=test, threshold=threshold)
    assert column.test == expected_test
    assert column.drifted is drifted
