"""Scoring on parts, in-process and on a real Dask local cluster, on the demo and the customers
datasets: the scores equal the in-process scores of the whole table to the last bit, the output
keeps the input's partitioning, and a bad part or a refused version writes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from engine import api
from engine.errors import DataError, IntegrityError
from engine.schema import read_table
from tests.conftest import copy_home

DATASETS = {"demo": "current.csv", "customers": "current.csv"}
PARTS = 4


@pytest.fixture(scope="module", params=sorted(DATASETS))
def case(request, trained_home, tmp_path_factory):
    """(workspace, the raw table, a folder of PARTS Parquet parts of it, nested one level)."""
    home = trained_home(request.param)
    table = read_table(home / "demo" / DATASETS[request.param])
    folder = tmp_path_factory.mktemp(f"parts-{request.param}") / "in"
    for i, rows in enumerate(np.array_split(np.arange(len(table)), PARTS)):
        sub = folder / f"month={i // 2}"  # nested: the output must keep the same layout
        sub.mkdir(parents=True, exist_ok=True)
        table.iloc[rows].to_parquet(sub / f"part-{i}.parquet", index=False)
    return api.workspace(home), table, folder


def in_process(ws, table) -> pd.DataFrame:
    return ws.score(table).reset_index(drop=True)


def read_parts(folder) -> pd.DataFrame:
    files = sorted(p for p in folder.rglob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


@pytest.mark.slow
def test_dask_scores_equal_in_process_scores_to_the_last_bit(case, scheduler, tmp_path):
    ws, table, folder = case
    summary = ws.score(folder, out=tmp_path / "out", scheduler=scheduler)
    assert summary["rows"] == len(table) and summary["parts"] == PARTS
    assert summary["model_version"] == ws.version("champion")
    # Same names and layout as the input, and each output part holds its input part's rows.
    inputs = sorted(p.relative_to(folder) for p in folder.rglob("*.parquet"))
    assert sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*")if p.is_file()) == inputs
    for rel in inputs:
        assert len(pd.read_parquet(tmp_path / "out" / rel)) == len(pd.read_parquet(folder / rel))
    scored = read_parts(tmp_path / "out")
    pd.testing.assert_frame_equal(scored, in_process(ws, table), check_exact=True)
    assert {w["parts"] for w in summary["workers"]} and sum(w["rows"] for w in summary["workers"]) == len(table)


def test_parts_scored_in_process_equal_the_whole_table(case, tmp_path):
    ws, table, folder = case
    ws.score(folder, out=tmp_path / "out")
    pd.testing.assert_frame_equal(read_parts(tmp_path / "out"), in_process(ws, table), check_exact=True)


def test_columns_in_hive_folder_names_are_read(case, tmp_path):
    """Parts written by pyarrow's ``write_to_dataset`` (Spark and Hive lay them out the same):
    a partition column lives only in the folder names (``region=north/``; missing values as
    ``__HIVE_DEFAULT_PARTITION__``), and every row is scored as in the whole table. Partitioned
    by a segment column (demo and customers) and by the time column (customers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ws, table, _ = case
    key = ws.champion().schema.id
    expected = in_process(ws, table).sort_values(key).reset_index(drop=True)
    for column in [c for c in ("region", "month") if c in table.columns]:
        folder = tmp_path / column
        pq.write_to_dataset(pa.Table.from_pandas(table, preserve_index=False), folder / "in", partition_cols=[column])
        assert not any(column in pq.read_schema(f).names for f in (folder / "in").rglob("*.parquet"))
        assert ws.score(folder / "in", out=folder / "out")["rows"] == len(table)
        scored = read_parts(folder / "out").sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(scored, expected, check_exact=True)


def test_batches_within_a_part_do_not_change_the_scores(case, tmp_path):
    """A part larger than a batch is read and scored batch by batch (bounded memory)."""
    from engine.scale.scoring import score_part

    ws, table, _ = case
    table.to_parquet(tmp_path / "all.parquet", index=False, row_group_size=700)
    result = score_part(str(ws.home), ws.version("champion"), str(tmp_path / "all.parquet"), str(tmp_path / "o.parquet"), batch_rows=500)
    assert result["rows"] == len(table)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.parquet"), in_process(ws, table), check_exact=True)


@pytest.mark.slow
def test_each_worker_loads_the_version_once(case, scheduler, client, tmp_path):
    ws, _, folder = case
    home = str(ws.home.resolve())
    ws.score(folder, out=tmp_path / "out", scheduler=scheduler)

    def loaded(home=home):
        from engine import api

        return sorted(api.workspace(home)._models)

    versions = client.run(loaded)
    assert len(versions) == 2 and all(v == [ws.version("champion")] for v in versions.values())


@pytest.mark.slow
def test_a_bad_part_names_itself_and_writes_nothing(case, scheduler, tmp_path):
    ws, table, folder = case
    bad = tmp_path / "in"
    shutil.copytree(folder, bad)
    victim = sorted(bad.rglob("*.parquet"))[2]
    frame = pd.read_parquet(victim)
    feature = next(f for f in ws.champion().schema.features if f.kind in ("score", "metric") and f.max is not None)
    frame[feature.name] = frame[feature.name].astype(object)
    frame.loc[frame.index[3], feature.name] = feature.max * 10 + 1
    frame.to_parquet(victim, index=False)
    with pytest.raises(DataError) as info:
        ws.score(bad, out=tmp_path / "out", scheduler=scheduler)
    assert victim.name in str(info.value) and feature.name in str(info.value)
    assert not (tmp_path / "out").exists()  # no part of a failed run is left behind


def test_an_existing_output_folder_is_never_overwritten(case, tmp_path):
    ws, _, folder = case
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="already holds files"):
        ws.score(folder, out=out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and (out / "keep.txt").read_text() == "mine"


def test_a_tampered_version_is_refused_before_any_work(trained_home, tmp_path):
    home = copy_home(trained_home("demo"), tmp_path / "home")
    ws = api.workspace(home)
    version = ws.version("champion")
    table = read_table(home / "demo" / "current.csv")
    (tmp_path / "in").mkdir()
    table.to_parquet(tmp_path / "in" / "p.parquet", index=False)
    target = next((home / "models" / version).glob("*.json"))
    target.write_text(target.read_text() + " ")
    with pytest.raises(IntegrityError):
        api.Workspace(home).score(tmp_path / "in", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_scheduler_without_an_output_folder_is_refused(case):
    ws, table, _ = case
    with pytest.raises(DataError, match="out"):
        ws.score(table, scheduler="local")


@pytest.mark.slow
def test_cli_scores_on_a_local_cluster_and_explains_bad_schedulers(trained_home, tmp_path, subprocess_env):
    home = trained_home("customers")
    folder = tmp_path / "in"
    folder.mkdir()
    table = read_table(home / "demo" / "current.csv")
    for i, rows in enumerate(np.array_split(np.arange(len(table)), 3)):
        table.iloc[rows].to_parquet(folder / f"p{i}.parquet", index=False)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "engine", "score", "--home", str(home), *args], capture_output=True, text=True, env=subprocess_env, timeout=300)

    done = cli("--data", str(folder / "*.parquet"), "--out", str(tmp_path / "out"), "--scheduler", "local")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"] == len(table) and len(summary["workers"]) >= 1
    assert "scored 3 of 3 parts" in done.stderr
    pd.testing.assert_frame_equal(read_parts(tmp_path / "out"), in_process(api.workspace(home), table), check_exact=True)

    for scheduler, words in (("my-cluster", "expected 'local'"), ("tcp://127.0.0.1:9", "no Dask scheduler answered")):
        failed = cli("--data", str(folder), "--out", str(tmp_path / "never"), "--scheduler", scheduler)
        assert failed.returncode == 2 and words in failed.stderr and "Traceback" not in failed.stderr
        assert not (tmp_path / "never").exists()
    missing = cli("--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "never"), "--scheduler", "local")
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_partition_values_from_folder_names():
    from engine.scale.parts import partition_values

    path = "/data/by=hand/register/year=2024/region=North%20East/city=__HIVE_DEFAULT_PARTITION__/part-0.parquet"
    assert partition_values(path) == {"year": "2024", "region": "North East", "city": None}
    assert list(partition_values(path)) == ["year", "region", "city"]  # outermost first
    assert partition_values("/mnt/run=3/data/part-0.parquet") == {}  # above a plain folder: not a partition
    assert partition_values("/data/parts/part-0.parquet") == {}
