"""Training on a real Dask local cluster against training in-process on the same rows, on the
demo and the customers datasets: the same kind of version (served, analysed and gated by the
same code), quality within a stated tolerance, exact counts, percentiles within the sketch's
error, and a drift reference from every row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.errors import DataError
from engine.schema import read_table

pytestmark = pytest.mark.slow

TRAINING = {"demo": "companies.csv", "customers": "customers.csv"}
AUC_TOLERANCE = 0.02  # held-out ROC AUC of the Dask version against the in-process one


@pytest.fixture(scope="module", params=sorted(TRAINING))
def pair(request, trained_home, scheduler, tmp_path_factory):
    """(in-process workspace, Dask-trained workspace, the raw training table). The demo's parts
    are four slices of the table; the customers' are partitioned Hive-style by region (the
    column only in the folder names, as pyarrow, Spark and Hive write it)."""
    memory = api.workspace(trained_home(request.param))
    table = read_table(memory.home / "demo" / TRAINING[request.param])
    work = tmp_path_factory.mktemp(f"dask-train-{request.param}")
    (work / "parts").mkdir()
    if request.param == "customers":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_to_dataset(pa.Table.from_pandas(table, preserve_index=False), work / "parts", partition_cols=["region"])
    else:
        for i, rows in enumerate(np.array_split(np.arange(len(table)), 4)):
            table.iloc[rows].to_parquet(work / "parts" / f"p{i}.parquet", index=False)
    dask = api.workspace(work / "home")
    result = dask.train(work / "parts", memory.home / "demo" / "schema.toml", seed=0, scheduler=scheduler)
    assert result["version"] == "v0001" and result["promoted"], result
    return memory, dask, table


def metrics(ws) -> dict:
    return json.loads((ws.registry.root / ws.version("champion") / "metrics.json").read_text())


def test_quality_is_within_the_stated_tolerance(pair):
    memory, dask, _ = pair
    a, b = metrics(memory)["holdout"]["roc_auc"], metrics(dask)["holdout"]["roc_auc"]
    assert abs(a - b) <= AUC_TOLERANCE, (a, b)
    # Validated on the same held-out rows (the same hash of the key as in-process).
    held = [set(pd.read_parquet(ws.registry.root / ws.version("champion") / "holdout.parquet")["benchai_row_key"]) for ws in (memory, dask)]
    assert len(held[0] ^ held[1]) <= 2  # in-process may move a class's edge row to keep both classes


def test_a_row_from_the_training_file_is_analysed_by_the_served_code(pair):
    _, dask, table = pair
    model = dask.champion()
    analysis = dask.analyze(table.iloc[7].to_dict()).to_dict()
    assert analysis["model_version"] == "v0001" and 0.0 <= analysis["prediction"]["probability"] <= 1.0
    contributions = sum(c["contribution"] for c in analysis["prediction"]["contributions"])
    margin = analysis["prediction"]["base_value"] + contributions
    assert 1 / (1 + np.exp(-margin)) == pytest.approx(analysis["prediction"]["probability"], abs=1e-5)
    assert model.stats.count_.shape[0] == model.groups.n_groups


def test_counts_and_frequencies_are_exact_and_percentiles_within_the_sketch_error(pair):
    memory, dask, table = pair
    a, b = memory.champion(), dask.champion()
    assert a.groups.keys_ == b.groups.keys_
    np.testing.assert_array_equal(a.stats.count_, b.stats.count_)
    np.testing.assert_array_equal(a.frequencies.counts_, b.frequencies.counts_)
    bound = metrics(dask)["scale_out"]["peer_percentile_max_rank_error_points"]
    assert bound is not None and bound < 15
    checked, _ = memory.load_dataset(table, a.schema, training=True)
    ranks_a, ranks_b = a.score(checked), b.score(checked)
    for column in (c for c in ranks_a.columns if c.startswith(("rank_", "position_"))):
        assert np.nanmax(np.abs(ranks_a[column] - ranks_b[column])) <= bound + 0.5, column


def test_the_drift_reference_counts_every_row(pair):
    memory, dask, _ = pair
    refs = [json.loads((ws.registry.root / ws.version("champion") / "reference.json").read_text()) for ws in (memory, dask)]
    assert refs[0]["n_rows"] == refs[1]["n_rows"]
    assert refs[0]["categorical"] == refs[1]["categorical"]
    schema = dask.champion().schema
    for f in (f for f in schema.features if f.numeric):
        x, y = refs[0]["numeric"][f.name], refs[1]["numeric"][f.name]
        assert (x["n_values"], x["n_missing"]) == (y["n_values"], y["n_missing"]), f.name
        assert y["mean"] == pytest.approx(x["mean"], rel=1e-9) and y["std"] == pytest.approx(x["std"], rel=1e-9), f.name
        assert y["sketch"][0] == x["sketch"][0] and y["sketch"][-1] == x["sketch"][-1], f.name  # min and max exact


def test_too_many_bad_rows_are_refused_naming_the_part_and_nothing_is_written(pair, scheduler, tmp_path):
    memory, _, table = pair
    schema = memory.champion().schema
    feature = next(f for f in schema.features if f.kind in ("score", "metric") and f.max is not None)
    bad = table.copy()
    bad[feature.name] = bad[feature.name].astype(object)
    bad.loc[bad.index[:100], feature.name] = feature.max * 10 + 1  # 100 rows: over 1%
    (tmp_path / "parts").mkdir()
    bad.iloc[:1500].to_parquet(tmp_path / "parts" / "early.parquet", index=False)
    bad.iloc[1500:].to_parquet(tmp_path / "parts" / "late.parquet", index=False)
    ws = api.workspace(tmp_path / "home")
    with pytest.raises(DataError) as info:
        ws.train(tmp_path / "parts", memory.home / "demo" / "schema.toml", scheduler=scheduler)
    assert "early.parquet" in str(info.value) and feature.name in str(info.value) and "1%" in str(info.value)
    assert ws.registry.versions() == []


def test_the_same_parts_train_nothing_new(pair, scheduler):
    memory, dask, _ = pair
    parts = dask.home.parent / "parts"
    again = dask.train(parts, memory.home / "demo" / "schema.toml", seed=0, scheduler=scheduler)
    assert again["unchanged"] and again["version"] == "v0001" and dask.registry.versions() == ["v0001"]


def test_a_target_never_positive_is_refused_before_any_fit(scheduler, trained_home, tmp_path):
    """The same message as in-process, not a traceback from a model given one class."""
    home = trained_home("customers")
    table = read_table(home / "demo" / TRAINING["customers"]).assign(churned="No")
    (tmp_path / "parts").mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(table)), 2)):
        table.iloc[rows].to_parquet(tmp_path / "parts" / f"p{i}.parquet", index=False)
    ws = api.workspace(tmp_path / "home")
    with pytest.raises(DataError, match="never equals the positive value 'Yes'"):
        ws.train(tmp_path / "parts", home / "demo" / "schema.toml", seed=0, scheduler=scheduler)
    assert not (tmp_path / "home" / "models").exists() or ws.registry.versions() == []
