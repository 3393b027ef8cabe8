"""The one JSON encoder: ``dumps`` (files) and ``dumps_bytes`` (responses and store rows, by
orjson) write the same JSON values."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.encoding import dumps, dumps_bytes

ODD = {
    "nan": float("nan"),
    "inf": [float("inf"), -np.inf, np.float32("nan")],
    "numpy": {"f64": np.float64(0.1), "f32": np.float32(1.5), "i": np.int64(-3), "b": np.bool_(True), "a": np.arange(3), "strided": np.arange(6.0)[::2], "nan_array": np.array([1.0, np.nan])},
    "time": [datetime(2026, 12, 2, 15, 0, 1, 250, tzinfo=UTC), date(2026, 12, 2), pd.Timestamp("2026-12-02 15:00")],
    "containers": [(1, 2), {"x"}, frozenset()],
    1: "an integer key",
    "text": "café \u00e9 \\u0000 \x00",
}


@pytest.mark.parametrize("value", [ODD, {"beyond 64 bits": 2**70, **ODD}], ids=["odd", "big"])
def test_odd_values_read_back_alike(value):
    assert json.loads(dumps_bytes(value)) == json.loads(dumps(value))
    assert json.loads(dumps_bytes(value))["nan"] is None


@pytest.mark.parametrize("kind", ["demo", "customers"])
def test_analyses_read_back_alike(trained_home, kind):
    """Every analysis of a hundred training rows: the same JSON values either way."""
    home = trained_home(kind)
    model = api.workspace(home).model()
    table = next(p for p in (home / "demo").glob("*.csv") if p.stem in ("companies", "customers"))
    rows = pd.read_csv(table).drop(columns=[model.schema.target.column]).head(100)
    for profile in rows.to_dict("records"):
        result = model.analyze(profile).to_dict()
        assert json.loads(dumps_bytes(result)) == json.loads(dumps(result))
