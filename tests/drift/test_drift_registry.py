"""The registry: lookup, listing, default choice and the verdict rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.monitoring.drift import (
    DriftConfigError,
    DriftInput,
    DriftTest,
    UnknownDriftTest,
    available_tests,
    default_test,
    get_test,
    register,
)
from engine.monitoring.drift.profile import quantile_function

ALL_TESTS = ["chisquare", "jensenshannon", "ks", "ks_distance", "psi", "tvd", "wasserstein"]


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownDriftTest) as caught:
        get_test("kolmogorov")
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "'kolmogorov'" in message
    for name in ALL_TESTS:
        assert name in message


@pytest.mark.parametrize(
    ("column_type", "expected"),
    [
        (None, ALL_TESTS),
        ("numeric", ALL_TESTS),
        ("categorical", ["chisquare", "jensenshannon", "psi", "tvd"]),
    ],
)
def test_available_tests(column_type, expected):
    assert [test.name for test in available_tests(column_type)] == expected


@pytest.mark.parametrize(("column_type", "expected"), [("numeric", "ks_distance"), ("categorical", "tvd")])
def test_default_test_by_type(column_type, expected):
    assert default_test(column_type).name == expected


def test_unknown_column_type_is_a_config_error():
    with pytest.raises(DriftConfigError, match="numeric, categorical"):
        default_test("text")


@pytest.mark.parametrize(
    ("name", "threshold", "higher_is_drift"),
    [
        ("ks", 0.05, False),
        ("ks_distance", 0.05, True),
        ("tvd", 0.05, True),
        ("chisquare", 0.05, False),
        ("wasserstein", 0.1, True),
        ("jensenshannon", 0.1, True),
        ("psi", 0.2, True),
    ],
)
def test_registered_defaults(name, threshold, higher_is_drift):
    test = get_test(name)
    assert test.default_threshold == threshold
    assert test.higher_is_drift is higher_is_drift
    assert test.description


def test_psi_description_explains_the_scale():
    assert "0.1 minor, 0.2 significant" in get_test("psi").description


@pytest.mark.parametrize(
    ("name", "statistic", "expected"),
    [
        ("ks", 0.049, True),
        ("ks", 0.05, False),
        ("wasserstein", 0.1, True),
        ("wasserstein", 0.099, False),
        ("psi", 0.2, True),
    ],
)
def test_verdict_rule(name, statistic, expected):
    test = get_test(name)
    assert test.is_drift(statistic, test.default_threshold) is expected


@pytest.mark.parametrize("name", ALL_TESTS)
def test_identical_data_is_not_drift(name):
    values = np.arange(100.0)
    counts = np.array([10.0, 20.0, 30.0])
    sketch = quantile_function(values)
    data = DriftInput(sketch, values.copy(), counts, counts.copy(), n_reference=100, reference_std=float(values.std()))
    test = get_test(name)
    statistic = test.func(data)
    assert not math.isnan(statistic)
    assert not test.is_drift(statistic, test.default_threshold)


def test_registering_a_taken_name_fails():
    duplicate = DriftTest("ks", ("numeric",), 0.05, False, "again", lambda data: 1.0)
    with pytest.raises(ValueError, match="already registered"):
        register(duplicate)
