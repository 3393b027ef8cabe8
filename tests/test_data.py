"""Reading a user's table and checking it against a schema: errors name the file or column."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.schema import check_frame, parse_schema, read_table

SCHEMA = parse_schema(
    {
        "id": "company_id",
        "target": {"column": "won", "positive": "yes"},
        "segments": {"columns": ["industry"]},
        "features": [{"name": "margin"}, {"name": "cost", "better": "lower"}],
    }
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "company_id": [1, 2, 3, 4],
            "industry": ["retail", "retail", "tech", "tech"],
            "margin": [0.1, np.nan, 0.3, 0.2],
            "cost": [10.0, 20.0, 30.0, 40.0],
            "won": ["yes", "no", "yes", None],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".CSV", ".pq"])
def test_read_table_csv_and_parquet(tmp_path, frame, suffix):
    path = tmp_path / f"table{suffix}"
    if suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    back = read_table(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("table.xlsx", b"PK\x03\x04", "suffix '.xlsx'; expected .csv or .parquet"),
        ("table.csv", "industry,margin\ncaf\xe9,1\n".encode("latin-1"), "wrong encoding; expected UTF-8"),
        ("table.parquet", b"industry,margin\nretail,1\n", "could not be read as a Parquet table"),
    ],
    ids=["bad-suffix", "not-utf8", "not-a-table"],
)
def test_read_table_errors_name_the_file(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=expected) as err:
        read_table(path)
    assert str(path) in str(err.value)


def test_read_table_missing_file(tmp_path):
    path = tmp_path / "absent.csv"
    with pytest.raises(DataError, match="does not exist") as err:
        read_table(path)
    assert str(path) in str(err.value)


def test_check_frame_converts_types(frame):
    frame["cost"] = ["10", "20", "3e1", "inf"]  # numbers as text are fine; infinity is a gap
    out = check_frame(frame, SCHEMA, source="t.csv")
    assert out["cost"].tolist()[:3] == [10.0, 20.0, 30.0] and np.isnan(out["cost"].iloc[3])
    assert out["industry"].map(type).eq(str).all()
    assert out["won"].iloc[:3].tolist() == [1.0, 0.0, 1.0] and np.isnan(out["won"].iloc[3])
    assert out["company_id"].tolist() == ["1", "2", "3", "4"]  # ids are text end to end


@pytest.mark.parametrize("column", ["industry", "margin", "cost"])
def test_check_frame_missing_column(frame, column):
    with pytest.raises(DataError) as err:
        check_frame(frame.drop(columns=column), SCHEMA, source="t.csv")
    assert f"missing column(s) ['{column}']" in str(err.value)
    assert "t.csv" in str(err.value)


def test_check_frame_missing_target_only_when_required(frame):
    without = frame.drop(columns="won")
    assert "won" not in check_frame(without, SCHEMA).columns
    with pytest.raises(DataError, match=r"missing column\(s\) \['won'\]"):
        check_frame(without, SCHEMA, require_target=True)


def test_check_frame_non_numeric_column_is_named(frame):
    frame["margin"] = ["0.1", "ten percent", "0.3", "lots"]
    with pytest.raises(DataError) as err:
        check_frame(frame, SCHEMA, source="t.csv")
    message = str(err.value)
    assert "column 'margin' should hold numbers" in message
    assert "2 non-numeric value(s)" in message
    assert "ten percent" in message and "t.csv" in message


@pytest.mark.parametrize("blank", [None, "", " ", "n/a", "?"])
def test_check_frame_blanks_are_missing_values(frame, blank):
    frame["industry"] = frame["industry"].astype(object)
    frame.loc[2, "industry"] = blank
    frame["margin"] = frame["margin"].astype(object)
    frame.loc[1, "margin"] = blank
    out = check_frame(frame, SCHEMA)
    assert pd.isna(out.loc[2, "industry"]) and np.isnan(out.loc[1, "margin"])
    assert out["margin"].notna().sum() == len(frame) - 1


def test_check_frame_no_rows(frame):
    with pytest.raises(DataError, match="no rows"):
        check_frame(frame.iloc[:0], SCHEMA)


def test_a_table_without_a_positive_outcome_is_checked_as_all_negative(frame):
    """A month in which nobody churned is valid data to score or to check for drift."""
    frame["won"] = ["no", "no", "maybe", None]
    out = check_frame(frame, SCHEMA)
    assert out["won"].tolist()[:3] == [0.0, 0.0, 0.0] and np.isnan(out["won"].iloc[3])


# ----- schema v2 tables: flags, categories, unknown values --------------------------------------
V2 = parse_schema(
    {
        "id": "cid",
        "features": [
            {"name": "spend"},
            {"name": "plan", "kind": "category", "values": ["basic", "pro"]},
            {"name": "autopay", "kind": "binary", "positive": "Y"},
        ],
    }
)


def test_check_frame_reads_flags_and_categories():
    frame = pd.DataFrame({"cid": [1.0, 2.0, None], "spend": ["1", "?", "3"], "plan": ["pro", " ", "basic"], "autopay": ["Y", "no", "TRUE"]})
    out = check_frame(frame, V2)
    assert out["cid"].tolist()[:2] == ["1", "2"]  # a float column of ids keeps the text of the id
    assert out["autopay"].tolist() == [1.0, 0.0, 1.0]
    assert out["plan"].iloc[0] == "pro" and pd.isna(out["plan"].iloc[1])


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("plan", ["pro", "gold", "gold"], "column 'plan' has 2 value(s) outside the known ones, such as ['gold']"),
        ("autopay", ["Y", "Yess", "no"], "column 'autopay' should hold yes or no"),
    ],
)
def test_check_frame_refuses_unknown_categories_and_flag_typos(column, values, message):
    frame = pd.DataFrame({"cid": [1, 2, 3], "spend": [1, 2, 3], "plan": ["pro", "basic", "pro"], "autopay": ["Y", "no", "no"]})
    frame[column] = values
    with pytest.raises(DataError, match=re.escape(message)):
        check_frame(frame, V2, source="t.csv")


def test_a_schema_without_numeric_features_is_a_clear_error(tmp_path):
    from engine import api

    schema = parse_schema({"features": [{"name": "plan", "kind": "category"}]})
    frame = pd.DataFrame({"plan": ["a", "b"] * 20})
    with pytest.raises(DataError, match="no score, metric or binary feature"):
        api.workspace(tmp_path / "home").train(frame, schema)
