"""The one table reader (files, uploads, HTTP bodies): a CSV whose rows and header disagree is
refused instead of shifting every column, on every path."""

from __future__ import annotations

import pytest

from engine.errors import DataError
from engine.schema.tables import read_table, read_table_bytes

TRAILING = b"a,b,c\n1,2,3,\n4,5,6,\n"


def test_a_trailing_comma_is_refused_from_a_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(TRAILING)
    with pytest.raises(DataError, match="more fields than the header"):
        read_table(path)


def test_a_trailing_comma_is_refused_from_bytes():
    with pytest.raises(DataError, match=r"more fields than the header \(4 against 3"):
        read_table_bytes("upload.csv", TRAILING)


def test_a_good_csv_with_a_byte_order_mark_reads():
    frame = read_table_bytes("upload.csv", "\ufeffa,b\n1,2\n".encode())
    assert list(frame.columns) == ["a", "b"] and frame.iloc[0].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("x.csv", b"", "empty"),
        ("x.xlsx", b"abc", "expected a .csv or .parquet"),
        ("x.csv", "é,b\n1,2\n".encode("latin-1"), "wrong encoding"),
        ("x.parquet", b"not parquet", "could not be read as a Parquet table"),
        ("x.csv", b"a,b\n1,2\n" * 10, "the limit is 0.0 MB"),
    ],
)
def test_bad_uploads_say_what_is_wrong(name, data, words):
    with pytest.raises(DataError, match=words):
        read_table_bytes(name, data, max_bytes=10 if "limit" in words else None)


def test_a_repeated_column_name_is_refused(tmp_path):
    """pandas would read the second 'strategy' as 'strategy.1' and train on the first in silence."""
    with pytest.raises(DataError, match=r"the header repeats \['strategy'\]"):
        read_table_bytes("upload.csv", b"id,strategy,data,strategy\n1,2,3,4\n")
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,strategy,strategy\n1,2,3\n")
    with pytest.raises(DataError, match="repeats"):
        read_table(path)


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_old_mac_line_endings_read_and_repeats_are_still_found(tmp_path, ending):
    """A lone carriage return ends a line for pandas; the header check reads it the same way
    (it used to fail inside the csv module: a server error for an uploaded CSV body)."""
    body = ending.join(["id,region,x", "1,north,2.5", "2,south,3.5", ""])
    assert read_table_bytes("body", body.encode()).columns.tolist() == ["id", "region", "x"]
    (tmp_path / "t.csv").write_bytes(body.encode())
    assert read_table(tmp_path / "t.csv").columns.tolist() == ["id", "region", "x"]
    with pytest.raises(DataError, match="the header repeats \\['x'\\]"):
        read_table_bytes("body", ending.join(["x,x", "1,2", ""]).encode())


def test_a_carriage_return_inside_the_header_row_is_not_a_server_error():
    assert read_table_bytes("body", b"a,b\rc\n1,2\n").columns.tolist() == ["a", "b"]
