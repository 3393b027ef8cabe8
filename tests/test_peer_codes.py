"""Text codes of category values: every kind of column a user's table can hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.analysis.peers import text_codes

CATEGORIES = ["retail", "tech", "1", "1.0", "True", "2.5"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series(["tech", "retail", None, "unknown"]), [1, 0, -1, -1]),
        (pd.Series(["tech", None, "retail"], dtype="string"), [1, -1, 0]),
        (pd.Series(["tech", "retail", "tech"]).astype("category"), [1, 0, 1]),
        (pd.Series([1, 2, 1]), [2, -1, 2]),
        (pd.Series([1.0, np.nan, 2.5]), [3, -1, 5]),
        (pd.Series([True, False]), [4, -1]),
        # One hash-table value, three texts: each keeps its own text.
        (pd.Series([True, 1, 1.0, "1", None, np.nan, pd.NA], dtype=object), [4, 2, 3, 2, -1, -1, -1]),
        (pd.Series([None, None], dtype=object), [-1, -1]),
        (pd.Series([], dtype=object), []),
    ],
)
def test_codes_follow_the_text_of_each_value(values, expected):
    assert text_codes(values, CATEGORIES).tolist() == expected


def test_a_missing_value_is_no_category_even_one_named_nan():
    mixed = pd.Series([1, "a", None, np.nan], dtype=object)
    assert text_codes(mixed, ["1", "a", "nan", "None"]).tolist() == [0, 1, -1, -1]


def test_a_negative_zero_keeps_its_own_text_whatever_else_is_in_the_batch():
    """0.0 and -0.0 are one value to a hash table: each row's code must not depend on which
    of the two came first in its batch."""
    assert text_codes(pd.Series([0.0, -0.0]), ["0.0", "-0.0"]).tolist() == [0, 1]
    assert text_codes(pd.Series([-0.0, 0.0]), ["0.0", "-0.0"]).tolist() == [1, 0]
