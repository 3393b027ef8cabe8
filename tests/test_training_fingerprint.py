"""Training again on what a version was trained from (the same rows, schema and parameters)
writes nothing and says which version it would repeat; any change that can alter the models,
or ``force``, trains a new version."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.monitoring.retrain import auto_retrain
from engine.registry.signing import KEY_ENV
from engine.schema import parse_schema
from engine.training.register import training_fingerprint

SCHEMA = {
    "features": [
        {"name": "a", "kind": "score", "min": 0, "max": 5},
        {"name": "b", "kind": "metric", "min": 0},
        {"name": "plan", "kind": "category"},
    ],
    "segments": {"columns": ["region"]},
    "target": {"column": "won"},
}
PARAMS = {"seed": 0, "k": None, "min_peers": 20, "search": False, "search_budget_s": None}


def table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south"], n),
            "a": rng.uniform(0, 5, n).round(2),
            "b": rng.lognormal(0, 1, n).round(3),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )
    return frame.assign(won=(frame["a"] + rng.normal(0, 1, n) > 2.5).astype(int))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """One version trained from a CSV file (read only: tests train on a copy of its home)."""
    base = tmp_path_factory.mktemp("fingerprint")
    table().to_csv(base / "table.csv", index=False)
    first = api.workspace(base / "home").train(base / "table.csv", parse_schema(SCHEMA))
    assert first["version"] == "v0001" and not first["unchanged"]
    return {"csv": base / "table.csv", "home": base / "home", "first": first}


@pytest.fixture
def ws(trained, tmp_path):
    return api.workspace(shutil.copytree(trained["home"], tmp_path / "home"))


def registry_state(ws) -> tuple:
    root = ws.registry.root
    return sorted(p.name for p in root.iterdir()), (root / "aliases.json").read_text(), (root / "audit.jsonl").read_text()


def test_the_same_file_twice_changes_nothing(trained, ws):
    before = registry_state(ws)
    again = ws.train(trained["csv"], parse_schema(SCHEMA))
    assert again == {
        "version": "v0001",
        "promoted": False,
        "unchanged": True,
        "reason": "nothing changed: same data, schema and parameters as v0001 (champion)",
        "metrics": trained["first"]["metrics"],
        "seconds": 0,
    }
    assert registry_state(ws) == before  # no version, no alias move, no audit entry
    assert ws.registry.versions() == ["v0001"]


@pytest.mark.parametrize(
    "options",
    [{}, {"tolerance": 0.5}, {"promote": False}, {"search_budget_s": 5.0}],
    ids=["plain", "tolerance", "no-promote", "budget-without-search"],
)
def test_the_same_rows_as_a_frame_and_gate_options_are_not_a_change(trained, ws, options):
    """A frame read from the file is the same data; the gate's options move aliases, not
    models, and a search budget without a search is spent on nothing."""
    again = ws.train(pd.read_csv(trained["csv"]), parse_schema(SCHEMA), **options)
    assert again["unchanged"] and again["version"] == "v0001"
    assert ws.registry.versions() == ["v0001"]


def _one_cell(csv):
    frame = pd.read_csv(csv)
    frame.loc[7, "b"] += 0.001
    return frame


@pytest.mark.slow  # trains a second version
@pytest.mark.parametrize(
    ("change", "options"),
    [
        (lambda csv: csv, {"seed": 1}),
        (lambda csv: csv, {"k": 3}),
        (_one_cell, {}),
        (lambda csv: csv, {"force": True}),
    ],
    ids=["seed", "k", "one-cell", "force"],
)
def test_a_change_or_force_trains_a_new_version(trained, ws, change, options):
    result = ws.train(change(trained["csv"]), parse_schema(SCHEMA), **options)
    assert result["version"] == "v0002" and result["unchanged"] is False
    assert ws.registry.versions() == ["v0001", "v0002"]


@pytest.mark.slow  # trains a second version
def test_a_schema_change_trains_a_new_version(trained, ws):
    schema = {**SCHEMA, "features": [dict(SCHEMA["features"][0], max=6), *SCHEMA["features"][1:]]}
    assert not ws.train(trained["csv"], parse_schema(schema))["unchanged"]


@pytest.mark.slow  # trains a second version
def test_after_force_the_answer_names_the_champion(trained, ws):
    forced = ws.train(trained["csv"], parse_schema(SCHEMA), force=True)
    assert forced["promoted"], forced["reason"]  # an identical model passes the gate
    again = ws.train(trained["csv"], parse_schema(SCHEMA))
    assert again["version"] == "v0002" and again["reason"].endswith("as v0002 (champion)")


@pytest.mark.slow  # trains a second version
@pytest.mark.parametrize("refused", ["older format", "unsigned under a key"])
def test_a_version_this_engine_refuses_to_load_is_no_version_to_repeat(trained, ws, monkeypatch, refused):
    if refused == "older format":
        manifest = ws.registry.path("v0001") / "manifest.json"
        manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 2}))
    else:
        monkeypatch.setenv(KEY_ENV, "a long secret")  # v0001 was saved without one
    result = ws.train(trained["csv"], parse_schema(SCHEMA))
    assert not result["unchanged"] and result["version"] == "v0002"


def test_automatic_retrain_without_new_labels_records_nothing_changed(ws):
    """The champion's table and no labelled profile since: the schema saved with the version
    and the file's schema fit the same models, so no version is written and the alert says so."""
    result = auto_retrain(ws, reason="test")
    assert result["unchanged"] and not result["retrained"] and result["rows_added"] == 0
    assert ws.registry.versions() == ["v0001"]
    alert = next(a for a in ws.monitoring.alerts() if a["kind"] == "auto_retrain")
    assert "nothing changed: same data, schema and parameters as v0001 (champion); no new version" in alert["message"]


def test_the_fingerprint_reads_content_names_order_and_dtypes():
    frame, schema = table(), parse_schema(SCHEMA)
    print_ = training_fingerprint(frame, schema, PARAMS, None)
    assert training_fingerprint(frame.copy().set_axis(range(10, 10 + len(frame))), schema, PARAMS, None) == print_  # the index is not data
    assert training_fingerprint(frame.assign(won=frame["won"].astype(float)), schema, PARAMS, None) != print_
    assert training_fingerprint(frame[["a", "region", "b", "plan", "won"]], schema, PARAMS, None) != print_
    assert training_fingerprint(frame.rename(columns={"b": "c"}), schema, PARAMS, None) != print_
    assert training_fingerprint(frame, schema, PARAMS, frame.head(3)) != print_  # a given series
