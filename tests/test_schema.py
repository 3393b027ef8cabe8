"""Schema files and profile validation: every error names the key or field and what was expected."""

from __future__ import annotations

import math
import tomllib

import pytest

from engine.demo import schema_text
from engine.errors import ProfileError, SchemaError
from engine.schema import load_schema, missing_features, parse_schema, validate_profile

FEATURE = '[[features]]\nname = "revenue"\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "no features"\n', ["'features'", "missing"]),
        ("features = []\n", ["'features'", "at least one"]),
        ('[[features]]\nlabel = "nameless"\n', ["'name'", "features[0]"]),
        (FEATURE + 'kind = "ratio"\n', ["'revenue'", "'kind'", "'score'", "'metric'", "'ratio'"]),
        (FEATURE + 'better = "up"\n', ["'revenue'", "'better'", "'higher'", "'lower'", "'up'"]),
        (FEATURE + "min = 5\nmax = 5\n", ["'revenue'", "'min'", "'max'", "below"]),
        (FEATURE + "min = 10\nmax = 1\n", ["'revenue'", "'min' (10.0)", "'max' (1.0)"]),
        (FEATURE + 'min = "low"\n', ["'revenue'", "'min'", "number", "'low'"]),
        (FEATURE + FEATURE, ["'revenue'", "declared twice", "unique"]),
        ('target = "won"\n' + FEATURE, ["'target'", "table", "'won'"]),
        ("[target]\npositive = 1\n" + FEATURE, ["[target]", "'column'", "missing"]),
        ('[target]\ncolumn = "won"\ndesirable = "yes"\n' + FEATURE, ["'desirable'", "true or false", "'yes'"]),
        ('[target]\ncolumn = "revenue"\n' + FEATURE, ["'revenue'", "target", "feature"]),
        ('segments = ["industry"]\n' + FEATURE, ["'segments'", "table", "'columns'"]),
        ('[segments]\ncolumns = ["revenue"]\n' + FEATURE, ["'revenue'", "segment", "feature"]),
        ("id = 3\n" + FEATURE, ["'id'", "column name", "3"]),
        ("name = = \n", ["not valid TOML"]),
    ],
    ids=[
        "missing-features", "empty-features", "feature-without-name", "bad-kind", "bad-better",
        "min-equals-max", "min-above-max", "min-not-number", "duplicate-name", "target-not-table",
        "target-without-column", "desirable-not-bool", "target-is-feature", "segments-not-table",
        "segment-is-feature", "id-not-string", "invalid-toml",
    ],
)  # fmt: skip
def test_schema_error_names_key_and_expectation(tmp_path, text, expected):
    path = tmp_path / "schema.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    message = str(err.value)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert str(path) in message  # the file is named too


def test_missing_schema_file_is_named(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(SchemaError, match="does not exist") as err:
        load_schema(path)
    assert str(path) in str(err.value)
    assert "TOML" in str(err.value)


def test_schema_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "schema.toml"
    path.write_bytes(b'name = "Caf\xe9"\n' + FEATURE.encode())
    with pytest.raises(SchemaError, match="not valid TOML"):
        load_schema(path)


def test_demo_schema_parses_with_defaults():
    schema = parse_schema(tomllib.loads(schema_text()))
    assert schema.id == "company_id"
    assert schema.segments == ("industry", "size", "region")
    assert schema.target.column == "high_growth" and schema.target.desirable
    assert len(schema.features) == 14
    assert len(schema.score_names) == 8
    cac = schema.feature("customer_acquisition_cost")
    assert cac.better == "lower" and cac.sign == -1
    assert (cac.min, cac.max) == (0.0, 1_000_000.0)
    minimal = parse_schema({"features": [{"name": "net_margin"}]})
    only = minimal.features[0]
    assert (only.kind, only.better, only.label) == ("metric", "higher", "Net margin")
    assert minimal.target is None and minimal.segments == ()


def test_schema_round_trips_through_dict():
    schema = parse_schema(tomllib.loads(schema_text())).with_learned_values(
        {"size": ("small", "large")}
    )
    again = parse_schema(schema.to_dict())
    assert again == schema


def test_schema_v2_round_trips_through_dict():
    from engine.demo.customers import schema_text as customers_schema

    schema = parse_schema(tomllib.loads(customers_schema())).with_learned_values({"payment_method": ("Cash", "Card"), "region": ("N", "S")})
    assert parse_schema(schema.to_dict()) == schema
    assert schema.feature("payment_method").values == ("Cash", "Card")
    assert schema.feature("contract").values == ("Month-to-month", "One year", "Two year")  # declared wins
    numeric = parse_schema({"target": {"column": "y", "kind": "numeric"}, "features": [{"name": "x"}]})
    assert parse_schema(numeric.to_dict()) == numeric


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"features": [{"name": "x"}], "colour": "red"}, ["unknown key 'colour'", "expected one of"]),
        ({"features": [{"name": "x", "kindd": "metric"}]}, ["feature 'x'", "unknown key 'kindd'"]),
        ({"features": [{"name": "x", "kind": "binary", "better": "higher"}]}, ["'better' applies to score and metric", "'binary'"]),
        ({"features": [{"name": "x", "kind": "category", "min": 0}]}, ["'min' applies to score and metric"]),
        ({"features": [{"name": "x", "values": ["a"]}]}, ["'values' applies to category features only"]),
        ({"features": [{"name": "x", "kind": "category", "values": ["a", "a"]}]}, ["distinct values"]),
        ({"features": [{"name": "x", "required": "yes"}]}, ["'required' should be true or false", "'yes'"]),
        ({"features": [{"name": "x", "actionable": 1}]}, ["'actionable' should be true or false"]),
        ({"features": [{"name": "x"}], "entity": "customer"}, ["'entity' should be a table"]),
        ({"features": [{"name": "x"}], "entity": {"plural": "stores"}}, ["'singular'", "missing"]),
        ({"features": [{"name": "x"}], "na_values": [0]}, ["'na_values' should be a list of strings"]),
        ({"features": [{"name": "x"}], "time": 3}, ["'time' should be a string"]),
        ({"features": [{"name": "x"}], "target": {"column": "y", "kind": "count"}}, ["[target]", "'kind'", "'binary'", "'numeric'"]),
        ({"features": [{"name": "x"}], "target": {"column": "y", "kind": "numeric", "positive": 1}}, ["'positive' applies to a binary target"]),
        ({"features": [{"name": "x"}], "drift": {"tests": {"x": "magic"}}}, ["[drift] tests.x", "'magic'"]),
        ({"features": [{"name": "x"}], "drift": {"tests": {"z": "ks"}}}, ["'z' is not a feature or segment"]),
        ({"features": [{"name": "x"}], "drift": {"thresholds": {"x": -1}}}, ["thresholds.x", "positive number"]),
    ],
    ids=[
        "unknown-top-key", "unknown-feature-key", "better-on-binary", "min-on-category", "values-on-metric",
        "duplicate-values", "required-not-bool", "actionable-not-bool", "entity-not-table", "entity-without-singular",
        "na-values-not-strings", "time-not-string", "bad-target-kind", "positive-on-numeric-target",
        "unknown-drift-test", "drift-unknown-column", "drift-negative-threshold",
    ],
)  # fmt: skip
def test_schema_v2_errors_name_key_and_expectation(raw, expected):
    with pytest.raises(SchemaError) as err:
        parse_schema(raw, source="s.toml")
    for part in expected:
        assert part in str(err.value), f"{part!r} not in {err.value}"


def test_binary_values_are_read_as_yes_or_no():
    schema = parse_schema({"features": [{"name": "flag", "kind": "binary"}, {"name": "churn", "kind": "binary", "positive": "Churned"}]})
    for text, value in (("Yes", 1.0), ("no", 0.0), ("TRUE", 1.0), ("0", 0.0), (1, 1.0), (False, 0.0)):
        assert validate_profile(schema, {"flag": text})["flag"] == value
    assert validate_profile(schema, {"churn": "Churned"})["churn"] == 1.0
    assert validate_profile(schema, {"churn": "no"})["churn"] == 0.0
    for typo in ("Stayed", "Churnd", "Yess"):  # a typo is refused, never read as "no"
        with pytest.raises(ProfileError, match=f"churn: not yes or no: '{typo}'"):
            validate_profile(schema, {"churn": typo})
    with pytest.raises(ProfileError, match="flag: not yes or no: 'maybe'"):
        validate_profile(schema, {"flag": "maybe"})
    with pytest.raises(ProfileError, match="flag: not yes or no: 2"):
        validate_profile(schema, {"flag": 2})


# ----- profiles ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def schema():
    return parse_schema(tomllib.loads(schema_text())).with_learned_values(
        {
            "industry": ("retail", "technology"),
            "size": ("small", "medium", "large"),
            "region": ("west", "midwest"),
        }
    )


@pytest.fixture
def profile(schema) -> dict:
    values = {"industry": "retail", "size": "small", "region": "west"}
    for f in schema.features:
        values[f.name] = 2.5 if f.kind == "score" else 0.5
    return values


def test_valid_profile_is_cleaned(schema, profile):
    profile["strategy"] = "3.5"  # numbers as text are accepted, as a form would send them
    profile["revenue_per_employee"] = 120_000
    clean = validate_profile(schema, profile)
    assert clean["strategy"] == 3.5
    assert clean["revenue_per_employee"] == 120_000.0 and isinstance(
        clean["revenue_per_employee"], float
    )
    assert clean["industry"] == "retail"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("technology", "high", "not a number: 'high'"),
        ("technology", True, "not a number: True"),
        ("people", math.inf, "not a finite number"),
        ("process", 7, "7 is outside the bounds; expected a number between 0 and 5"),
        ("customer_retention_rate", -0.1, "outside the bounds"),
        ("industry", "aerospace", "unknown value 'aerospace'; expected one of retail, technology"),
        ("region", "north", "unknown value 'north'; expected one of west, midwest"),
    ],
)
def test_one_bad_field(schema, profile, field, value, problem):
    profile[field] = value
    with pytest.raises(ProfileError) as err:
        validate_profile(schema, profile)
    assert err.value.problems == [{"field": field, "problem": err.value.problems[0]["problem"]}]
    assert problem in err.value.problems[0]["problem"]
    assert field in str(err.value)


def test_every_problem_is_reported_at_once(schema, profile):
    profile.update(technology="abc", people=-math.inf, process=6.5, industry="aerospace")
    with pytest.raises(ProfileError) as err:
        validate_profile(schema, profile)
    problems = {p["field"]: p["problem"] for p in err.value.problems}
    assert set(problems) == {"technology", "people", "process", "industry"}
    assert problems["technology"].startswith("not a number")
    assert "finite" in problems["people"]
    assert "outside the bounds" in problems["process"]
    assert "unknown value" in problems["industry"]
    message = str(err.value)
    assert message.startswith("The profile has 4 problem(s)")
    for name in problems:
        assert name in message


@pytest.mark.parametrize("blank", [None, math.nan, "", " ", "NA", "?"])
def test_missing_values_are_allowed_but_not_bad_ones(schema, profile, blank):
    del profile["strategy"]
    profile["data"] = blank
    profile["region"] = blank
    clean = validate_profile(schema, profile)
    assert math.isnan(clean["strategy"]) and math.isnan(clean["data"]) and clean["region"] is None
    assert missing_features(schema, clean) == ["strategy", "data"]
    profile["people"] = math.inf
    with pytest.raises(ProfileError) as err:
        validate_profile(schema, profile)
    assert [p["field"] for p in err.value.problems] == ["people"]


def test_a_required_feature_may_not_be_missing():
    schema = parse_schema({"features": [{"name": "tenure", "required": True}, {"name": "spend"}]})
    assert validate_profile(schema, {"tenure": 3})["tenure"] == 3.0
    with pytest.raises(ProfileError) as err:
        validate_profile(schema, {"spend": 3})
    assert err.value.problems == [{"field": "tenure", "problem": "missing; it is required, expected a number"}]


@pytest.mark.parametrize("bad", [["a", "list"], "text", 3])
def test_profile_must_be_an_object(schema, bad):
    with pytest.raises(ProfileError, match="expected a JSON object"):
        validate_profile(schema, bad)
