"""What a training table must satisfy before anything is fitted: rows that fail the schema are
left out when they are few (at most 1%) and reported; beyond that, or when a column cannot be
learned from (the target absent, a feature missing or constant everywhere), training is refused
with a message naming every column, and nothing stored changes."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.errors import DataError
from engine.schema import parse_schema, read_table

SCHEMA = {
    "features": [
        {"name": "a", "kind": "score", "min": 0, "max": 5},
        {"name": "b", "kind": "metric", "min": 0},
        {"name": "plan", "kind": "category", "values": ["basic", "pro"]},
    ],
    "segments": {"columns": ["region"]},
}


def table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "region": rng.choice(["north", "south"], n),
            "a": rng.uniform(0, 5, n).round(2),
            "b": rng.lognormal(0, 1, n).round(3),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )


def test_a_few_failing_rows_are_left_out_and_reported(tmp_path):
    frame = table()
    frame.loc[[3, 50, 77], "a"] = 9.0  # 3 of 400 rows (0.75%) above the maximum
    result = api.workspace(tmp_path / "home").train(frame, parse_schema(SCHEMA))
    left_out = result["metrics"]["left_out"]
    assert (left_out["rows"], left_out["of"]) == (3, 400)
    assert "column 'a' should hold a number between 0 and 5; found 3 value(s) outside the bounds" in left_out["problems"][0]


def test_too_many_failing_rows_refuse_training_and_name_every_column(tmp_path):
    ws = api.workspace(tmp_path / "home")
    ws.train(table(), parse_schema(SCHEMA))
    frame = table(seed=1)
    frame.loc[:9, "a"] = -1.0
    frame.loc[10:14, "plan"] = "enterprise"
    with pytest.raises(DataError) as caught:
        ws.train(frame, parse_schema(SCHEMA))
    message = str(caught.value)
    assert "column 'a'" in message and "column 'plan'" in message and "['enterprise']" in message
    assert "15 of 400 rows fail, more than the 1% training may leave out" in message
    assert ws.registry.versions() == ["v0001"] and ws.version("champion") == "v0001"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda f: f.assign(b=np.nan), "feature(s) ['b'] are missing on every row"),
        (lambda f: f.assign(a=2.5), "feature(s) ['a'] have one value on every row"),
        (lambda f: f.assign(plan="pro"), "feature(s) ['plan'] have one value on every row"),
    ],
)
def test_a_feature_that_cannot_be_learned_from_is_refused(tmp_path, change, words):
    with pytest.raises(DataError, match=re.escape(words)):
        api.workspace(tmp_path / "home").train(change(table()), parse_schema(SCHEMA))


def test_a_schema_target_absent_from_the_table_is_refused(tmp_path):
    """Training on it would silently give a version without a prediction."""
    schema = parse_schema({**SCHEMA, "target": {"column": "won"}})
    with pytest.raises(DataError, match="target column 'won' is not in the table"):
        api.workspace(tmp_path / "home").train(table(), schema)
    with pytest.raises(DataError, match="target column 'won' has no value on any row"):
        api.workspace(tmp_path / "home").train(table().assign(won=np.nan), schema)


def test_a_target_that_never_takes_its_positive_value_is_refused_for_training_only(tmp_path, trained_home):
    """Training needs both outcomes and names the positive value (often a spelling mismatch);
    scoring and drift take a batch in which the positive outcome never occurred (customers:
    a month in which nobody churned)."""
    schema = parse_schema({**SCHEMA, "target": {"column": "won", "positive": "yes"}})
    ws = api.workspace(tmp_path / "home")
    with pytest.raises(DataError, match="never equals the positive value 'yes'.*both outcomes"):
        ws.train(table().assign(won="Yes"), schema)
    assert not (tmp_path / "home" / "models").exists() or ws.registry.versions() == []
    customers = api.workspace(trained_home("customers"))
    nobody_churned = read_table(customers.home / "demo" / "current.csv").assign(churned="No")
    assert len(customers.score(nobody_churned)) == len(nobody_churned)
    assert customers.monitoring.drift(nobody_churned) is not None


def test_scoring_refuses_any_failing_row(tmp_path):
    """Only training may leave rows out: a table to score is checked strictly, bounds included."""
    ws = api.workspace(tmp_path / "home")
    ws.train(table(), parse_schema(SCHEMA))
    frame = table(seed=2)
    frame.loc[5, "a"] = 6.0
    with pytest.raises(DataError, match="column 'a' should hold a number between 0 and 5; found 1 value"):
        ws.score(frame)


def test_held_out_rows_follow_the_rows_not_their_order_and_keep_both_classes():
    """A rare class (12 positives) still has rows on both sides, and the held-out rows are the
    same whatever the order of the table (they are chosen by key, not at random)."""
    from engine.training.evaluation import labelled_split, row_keys

    schema = parse_schema({**SCHEMA, "target": {"column": "won"}})
    frame = table().assign(won=0)
    frame.loc[frame.index[:12], "won"] = 1
    split = labelled_split(frame, schema)
    first, y, held = split.frame, split.y, split.held
    assert set(y[held]) == {0, 1} and set(y[~held]) == {0, 1}
    again = labelled_split(frame.sample(frac=1.0, random_state=3), schema)
    shuffled, held_again = again.frame, again.held
    assert set(row_keys(first[held], schema)) == set(row_keys(shuffled[held_again], schema))


def test_a_nullable_flag_column_is_read():
    """Flags typed as pandas' nullable integers (from Parquet or a DataFrame) with a gap."""
    from engine.schema import check_frame

    schema = parse_schema({"features": [{"name": "a"}, {"name": "flag", "kind": "binary"}]})
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "flag": pd.array([1, None, 0], dtype="Int64")})
    assert check_frame(frame, schema)["flag"].tolist()[::2] == [1.0, 0.0]


@pytest.mark.parametrize("kind", ["object", "str", "string", "category"])
def test_text_columns_read_the_same_whatever_their_dtype(kind):
    """Segment and category values read as their text, whatever pandas type holds them: a gap
    (None, NaN or pd.NA) is missing, never the text '<NA>'; 1.0 reads as '1'."""
    from engine.schema import check_frame

    schema = parse_schema({"features": [{"name": "a"}, {"name": "plan", "kind": "category"}], "segments": {"columns": ["size"]}})
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "plan": ["pro", None, "basic", "pro"], "size": [1.0, 2.0, None, 1.0]})
    frame["plan"] = frame["plan"].astype(kind)
    frame["size"] = frame["size"].astype(object if kind != "category" else "category")
    checked = check_frame(frame, schema)
    assert checked["plan"].tolist()[::2] == ["pro", "basic"] and checked["plan"].isna().tolist() == [False, True, False, False]
    assert checked["size"].tolist()[:2] == ["1", "2"] and checked["size"].isna().tolist() == [False, False, True, False]


def test_drift_of_a_table_beyond_the_bounds_leaves_those_rows_out_and_says_so(tmp_path):
    ws = api.workspace(tmp_path / "home")
    ws.train(table(), parse_schema(SCHEMA))
    frame = table(seed=4)
    frame.loc[:49, "a"] = 7.5  # drifted past the declared maximum
    report = ws.monitoring.drift(frame)
    assert report["left_out"]["rows"] == 50 and "column 'a'" in report["left_out"]["problems"][0]
    assert report["n_current"] == 350


def test_a_column_of_dates_given_as_a_feature_is_refused(tmp_path):
    """A datetime column listed as a metric: every value fails 'should hold numbers'."""
    frame = table().assign(b=pd.date_range("2024-01-01", periods=400, freq="D").astype(str))
    with pytest.raises(DataError, match="column 'b' should hold numbers; found 400 non-numeric"):
        api.workspace(tmp_path / "home").train(frame, parse_schema(SCHEMA))
