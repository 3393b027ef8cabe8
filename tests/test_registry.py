"""The model registry: immutable verified versions, aliases with an audit log, the quality gate,
tamper refusal, and trainings that fail or are killed never change what is served."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import api, cli
from engine.demo import write_demo
from engine.errors import DataError, IntegrityError, ModelNotFoundError, TrainingBusyError
from engine.registry import Registry
from engine.registry.versions import _process_start
from engine.schema import load_schema
from engine.training.evaluation import holdout_mask

ROOT = Path(__file__).resolve().parents[1]


def copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def champion(home: Path) -> str:
    return Registry(home).aliases()["champion"]


@pytest.fixture(scope="module")
def profile(checked, model) -> dict:
    row = checked.dropna().iloc[0]
    return {k: row[k] for k in list(model.schema.segments) + model.schema.feature_names}


@pytest.fixture(scope="module")
def two_versions(home, tmp_path_factory, companies_csv, schema_toml) -> Path:
    """The session home plus a second version (other seed) promoted over the first."""
    out = copy_home(home, tmp_path_factory.mktemp("two") / "home")
    # tolerance=1: promotion must not hinge on a seed's luck; the gate has its own test.
    result = api.workspace(out).train(companies_csv, schema_toml, seed=1, tolerance=1.0)
    assert result["version"] == "v0002" and result["promoted"]
    return out


# ----- versions and manifests ------------------------------------------------------------------
def test_manifest_records_everything(home, companies_csv, trained):
    registry = Registry(home)
    assert registry.versions() == ["v0001"]
    folder = registry.path("v0001")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == "v0001" and manifest["created"]
    files = {p.name for p in folder.iterdir()} - {"manifest.json"}
    assert set(manifest["files"]) == files
    assert {"analyzer.skops", "outcome.ubj", "metrics.json", "explanations.json"} <= files
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert (
        manifest["data_fingerprint"]
        == "sha256:" + hashlib.sha256(companies_csv.read_bytes()).hexdigest()
    )
    assert {"python", "numpy", "pandas", "scikit-learn", "xgboost", "shap"} <= set(
        manifest["libraries"]
    )
    assert manifest["params"]["seed"] == 0 and "outcome" in manifest["params"]
    assert manifest["metrics"] == trained["metrics"]
    assert manifest["rows"] == 3000
    assert manifest["schema"]["name"] == "Demo companies"


def test_models_listing(home):
    (listed,) = api.workspace(home).models()
    assert listed["version"] == "v0001" and listed["aliases"] == ["champion"]
    assert listed["rows"] == 3000 and listed["schema_name"] == "Demo companies"


def test_versions_are_immutable_folders(two_versions, home):
    before = {p.name: p.read_bytes() for p in (Registry(home).path("v0001")).iterdir()}
    after = {p.name: p.read_bytes() for p in (Registry(two_versions).path("v0001")).iterdir()}
    assert before == after  # training v0002 did not touch v0001
    assert Registry(two_versions).versions() == ["v0001", "v0002"]


@pytest.mark.slow
def test_same_data_and_seed_give_the_same_model(
    home, companies_csv, schema_toml, tmp_path, profile
):
    api.workspace(tmp_path).train(companies_csv, schema_toml, seed=0)
    a = api.workspace(home).analyze(profile).to_dict()
    b = api.workspace(tmp_path).analyze(profile).to_dict()
    assert a == b


# ----- aliases, promotion, rollback, audit -------------------------------------------------------
def test_promote_and_rollback_move_the_champion_and_are_audited(two_versions, tmp_path, profile):
    home = copy_home(two_versions, tmp_path / "home")
    assert champion(home) == "v0002"
    assert api.workspace(home).analyze(profile).model_version == "v0002"

    entry = api.workspace(home).rollback(reason="bad numbers", actor="alice")
    assert (entry["from"], entry["to"], entry["kind"]) == ("v0002", "v0001", "rollback")
    assert api.workspace(home).analyze(profile).model_version == "v0001"

    api.workspace(home).promote("v0002", reason="fixed", actor="bob")
    assert api.workspace(home).analyze(profile).model_version == "v0002"

    with pytest.raises(DataError, match="v0002 is already the champion"):
        api.workspace(home).promote("v0002")  # a no-op would only make the next rollback do nothing
    log = api.workspace(home).audit_log()
    moves = [(e["alias"], e["from"], e["to"], e["reason"], e["actor"]) for e in log]
    assert moves[-2:] == [
        ("champion", "v0002", "v0001", "bad numbers", "alice"),
        ("champion", "v0001", "v0002", "fixed", "bob"),
    ]
    assert all(e["when"] for e in log)


def test_rollback_through_the_cli_changes_what_analyze_reports(
    two_versions, tmp_path, profile, capsys
):
    home = copy_home(two_versions, tmp_path / "home")
    assert cli.main(["models", "rollback", "--home", str(home)]) == 0
    moved = json.loads(capsys.readouterr().out)
    assert (moved["from"], moved["to"]) == ("v0002", "v0001")
    assert api.workspace(home).analyze(profile).model_version == "v0001"

    profile_path = tmp_path / "profile.json"
    profile_path.write_text(json.dumps(profile))
    assert cli.main(["analyze", "--profile", str(profile_path), "--home", str(home)]) == 0
    assert json.loads(capsys.readouterr().out)["model_version"] == "v0001"

    # Nothing earlier than v0001: a second rollback is refused with a clear message.
    assert cli.main(["models", "rollback", "--home", str(home)]) == 2
    assert "no earlier champion" in capsys.readouterr().err
    assert cli.main(["models", "list", "--home", str(home)]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["aliases"]["champion"] == "v0001"
    assert [v["version"] for v in listing["versions"]] == ["v0001", "v0002"]


def test_promote_unknown_version_is_refused(home, capsys):
    with pytest.raises(ModelNotFoundError, match="v0042"):
        api.workspace(Path(home)).promote("v0042")
    assert cli.main(["models", "promote", "v0042", "--home", str(home)]) == 2
    assert "v0042" in capsys.readouterr().err
    assert champion(home) == "v0001"


@pytest.mark.slow
def test_no_promote_registers_a_challenger(two_versions, tmp_path, companies_csv, schema_toml):
    home = copy_home(two_versions, tmp_path / "home")
    result = api.workspace(home).train(companies_csv, schema_toml, seed=2, promote=False)
    assert not result["promoted"]
    assert Registry(home).aliases() == {"champion": "v0002", "challenger": result["version"]}


# ----- the quality gate -----------------------------------------------------------------------
@pytest.mark.slow
def test_worse_model_stays_challenger_with_the_reason(
    home, tmp_path, companies, schema_toml, profile
):
    home = copy_home(home, tmp_path / "home")
    # The gate scores both models on the new table's held-out rows, so shuffling every label
    # would blind the champion too. Shuffle only the rows the new model trains on: it learns
    # noise, while the held-out rows (same ids as the champion's) keep their real outcome.
    shuffled = companies.copy()
    train_rows = ~holdout_mask(shuffled, load_schema(schema_toml))
    labels = shuffled.loc[train_rows, "high_growth"]
    shuffled.loc[train_rows, "high_growth"] = labels.sample(frac=1.0, random_state=0).to_numpy()
    data = tmp_path / "shuffled.csv"
    shuffled.to_csv(data, index=False)

    result = api.workspace(home).train(data, schema_toml, seed=0)
    assert not result["promoted"]
    assert result["reason"].startswith("failed quality gate")
    assert "v0001" in result["reason"] and "ROC AUC" in result["reason"]
    assert Registry(home).aliases() == {"champion": "v0001", "challenger": result["version"]}
    last = api.workspace(home).audit_log()[-1]
    assert (last["alias"], last["to"], last["reason"]) == (
        "challenger",
        result["version"],
        result["reason"],
    )
    assert api.workspace(home).analyze(profile).model_version == "v0001"


# ----- integrity ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["analyzer.skops", "outcome.ubj", "metrics.json"])
def test_tampered_file_is_refused(home, tmp_path, name):
    home = copy_home(home, tmp_path / "home")
    path = Registry(home).path("v0001") / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError) as err:
        api.workspace(home).model()
    assert "v0001" in str(err.value) and name in str(err.value) and "sha256" in str(err.value)


def test_missing_file_is_refused(home, tmp_path):
    home = copy_home(home, tmp_path / "home")
    (Registry(home).path("v0001") / "outcome.ubj").unlink()
    with pytest.raises(IntegrityError, match="'outcome.ubj' is missing"):
        api.workspace(home).model()
    with pytest.raises(IntegrityError):
        api.workspace(home).promote("v0001")


def test_version_saved_in_another_format_is_refused(home, tmp_path):
    work = copy_home(home, tmp_path / "home")
    path = Registry(work).path("v0001") / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format"] = 0
    path.write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match="v0001.*format 0"):
        api.workspace(work).model()


def test_tampered_champion_is_not_rolled_back_to(two_versions, tmp_path):
    home = copy_home(two_versions, tmp_path / "home")
    (Registry(home).path("v0001") / "analyzer.skops").write_bytes(b"not a model")
    with pytest.raises(IntegrityError, match="v0001"):
        api.workspace(home).rollback()
    assert champion(home) == "v0002"


def test_folder_without_manifest_is_not_a_version(home, tmp_path):
    home = copy_home(home, tmp_path / "home")
    stray = Registry(home).root / "v0009"
    shutil.copytree(Registry(home).path("v0001"), stray)
    (stray / "manifest.json").unlink()
    assert Registry(home).versions() == ["v0001"]
    assert [m["version"] for m in api.workspace(home).models()] == ["v0001"]
    with pytest.raises(ModelNotFoundError, match="v0009"):
        api.workspace(home).model("v0009")


def test_no_champion_yet(tmp_path):
    with pytest.raises(ModelNotFoundError, match="train one first"):
        api.workspace(tmp_path).model()
    assert api.workspace(tmp_path).models() == []


# ----- concurrent and interrupted trainings ----------------------------------------------------
def test_second_concurrent_training_is_busy(home, tmp_path, companies_csv, schema_toml):
    home = copy_home(home, tmp_path / "home")
    with Registry(home).training_lock(), pytest.raises(TrainingBusyError, match="already running"):
        api.workspace(home).train(companies_csv, schema_toml)
    assert Registry(home).versions() == ["v0001"]
    assert not (home / "train.lock").exists()  # released by its holder


def test_a_lock_whose_pid_now_belongs_to_another_process_is_stale(tmp_path):
    """A holder that died, its pid reused by a live process (here pid 1): not a training."""
    registry = Registry(tmp_path / "home")
    registry.home.mkdir()
    (registry.home / "train.lock").write_text("pid=1 process_start=123456789 started=2026-01-01T00:00:00+00:00")
    with registry.training_lock():
        assert "process_start=" in (registry.home / "train.lock").read_text()
    (registry.home / "train.lock").write_text(f"pid={os.getpid()} process_start={_process_start(os.getpid())} started=now")
    with pytest.raises(TrainingBusyError), registry.training_lock():
        pass  # the same pid and start: the holder is alive


@pytest.mark.slow
def test_failed_training_changes_nothing(home, tmp_path, companies_csv, schema_toml, monkeypatch):
    home = copy_home(home, tmp_path / "home")

    def explode(*args, **kwargs):
        raise RuntimeError("disk full while explaining")

    # Fail late, after every model is fitted, while files are being written.
    monkeypatch.setattr("engine.registry.versions.library_versions", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        api.workspace(home).train(companies_csv, schema_toml)
    assert Registry(home).versions() == ["v0001"] and champion(home) == "v0001"
    assert len(api.workspace(home).audit_log()) == 1
    assert not (home / "train.lock").exists()
    assert not [p for p in Registry(home).root.iterdir() if p.name.startswith(".tmp-")]


@pytest.fixture(scope="module")
def big_demo(tmp_path_factory) -> dict:
    return write_demo(tmp_path_factory.mktemp("big"), n_companies=20_000, seed=1)


@pytest.mark.slow
def test_killed_training_changes_nothing_and_does_not_block(
    home, tmp_path, big_demo, subprocess_env, profile
):
    home = copy_home(home, tmp_path / "home")
    before = {
        "versions": Registry(home).versions(),
        "aliases": Registry(home).aliases(),
        "audit": api.workspace(home).audit_log(),
    }
    command = [
        sys.executable,
        "-m",
        "engine",
        "train",
        "--data",
        big_demo["companies"],
        "--schema",
        big_demo["schema"],
        "--home",
        str(home),
    ]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=subprocess_env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    seen: list[str] = []
    reached = threading.Event()

    def watch():
        for line in proc.stderr:
            seen.append(line)
            if "outcome model" in line:  # reported while the outcome model trains
                reached.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while not reached.is_set() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reached.is_set() and proc.poll() is None, f"not killed mid-run: {''.join(seen)}"
        assert (home / "train.lock").exists()
        # While it runs, a second training on the same home is refused.
        with pytest.raises(TrainingBusyError, match="already running"):
            api.workspace(home).train(big_demo["companies"], big_demo["schema"])
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    registry = Registry(home)
    assert registry.versions() == before["versions"]
    assert registry.aliases() == before["aliases"]
    assert api.workspace(home).audit_log() == before["audit"]
    assert api.workspace(home).analyze(profile).model_version == "v0001"
    assert (home / "train.lock").exists()  # left behind by the dead process

    # A half-written version from an earlier crash is swept by the next training.
    partial = registry.root / ".tmp-deadbeef"
    partial.mkdir()
    (partial / "analyzer.skops").write_bytes(b"half")
    small = write_demo(tmp_path / "small", n_companies=600, seed=2)
    result = api.workspace(home).train(small["companies"], small["schema"], seed=0, tolerance=1.0)
    assert result["version"] == "v0002"
    assert registry.versions() == ["v0001", "v0002"]
    assert not partial.exists()
    assert not (home / "train.lock").exists()
    assert api.workspace(home).model("v0002").version == "v0002"


@pytest.mark.slow
def test_a_version_without_the_champions_prediction_is_never_promoted(writable_home):
    """Retraining with a schema that lost the target (or a feature) keeps the champion serving."""
    home = writable_home("demo")
    demo = home / "demo"
    text = (demo / "schema.toml").read_text()
    no_target = text.split("[target]")[0] + "[segments]" + text.split("[segments]")[1]
    (demo / "no-target.toml").write_text(no_target)
    ws = api.workspace(home)
    result = ws.train(demo / "companies.csv", demo / "no-target.toml")
    assert not result["promoted"]
    assert "serves a prediction of 'High growth next year'" in result["reason"]
    assert ws.aliases() == {"champion": "v0001", "challenger": result["version"]}


def _no_id_table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    frame["won"] = (rng.random(rows) < 1 / (1 + np.exp(-2 * frame["a"]))).astype(float)
    frame.loc[rng.random(rows) < 0.2, "won"] = np.nan  # unlabelled rows
    return frame


NO_ID_SCHEMA = {"features": [{"name": "a"}, {"name": "b"}], "target": {"column": "won"}}


@pytest.mark.slow
def test_gate_compares_on_exactly_the_rows_training_held_out(tmp_path):
    """No id column and blank targets: retraining identical data gives an identical model, and
    the gate must see them as equal (it once scored the champion partly on its training rows).
    The rows held out are recognised by their content; the served champion saw them (it is
    refitted on every row), so only the two validation models are compared on them."""
    from engine.schema import parse_schema

    ws = api.workspace(tmp_path / "home")
    frame, schema = _no_id_table(1500), parse_schema(NO_ID_SCHEMA)
    first = ws.train(frame, schema)
    second = ws.train(frame, schema, force=True)  # the same data again: only when forced
    assert second["promoted"], second["reason"]
    auc = re.search(r"ROC AUC ([\d.]+) vs champion ([\d.]+) on v0001's own held-out rows", second["reason"])
    assert auc and auc[1] == auc[2] == f"{first['metrics']['holdout']['roc_auc']:.4f}"
    assert "never saw" not in second["reason"]  # every held-out row was the champion's too


@pytest.mark.parametrize(("rows", "kind", "message"), [
    (12, "numeric", "12 labelled rows; a prediction model needs at least 30 labelled rows"),
    (60, "binary", "of the rarer outcome; a prediction model needs at least 30 labelled rows and 10 of each outcome"),
])  # fmt: skip
def test_too_few_labelled_rows_is_a_clear_error(tmp_path, rows, kind, message):
    from engine.errors import DataError
    from engine.schema import parse_schema

    frame = _no_id_table(rows).fillna({"won": 0.0})
    if kind == "binary":
        frame["won"] = 0.0
        frame.loc[:2, "won"] = 1.0  # 3 positives
    schema = parse_schema({**NO_ID_SCHEMA, "target": {"column": "won", "kind": kind}})
    with pytest.raises(DataError, match=re.escape(message)):
        api.workspace(tmp_path / "home").train(frame, schema)


@pytest.mark.slow
def test_gate_compares_on_both_sets_of_held_out_rows(home, tmp_path):
    """Trained again on new companies (other ids), the new version is compared with the champion
    on the champion's own held-out rows (its validation model's stored predictions) and on the
    new table's held-out rows, which the served champion never saw."""
    home = copy_home(home, tmp_path / "home")
    held = pd.read_parquet(Registry(home).path("v0001") / "holdout.parquet")
    assert {"benchai_row_key", "benchai_validation_prediction", "high_growth"} <= set(held.columns)
    result = api.workspace(home).train(home / "demo" / "recent.csv", home / "demo" / "schema.toml")
    assert result["promoted"], result["reason"]
    assert "v0001's own held-out rows" in result["reason"] and "never saw" in result["reason"]


@pytest.mark.slow
def test_a_schema_that_gains_a_feature_never_scores_the_champion_on_its_training_rows(tmp_path, companies_csv, schema_toml):
    """v1 lacks a feature, so its held-out rows cannot be scored by v2; they must still be kept
    out of the comparison on v2's held-out rows (the served v1 was refitted on them)."""
    from engine.schema import load_schema

    full = load_schema(schema_toml)
    smaller = full.to_dict()
    smaller["features"] = [f for f in smaller["features"] if f["name"] != "innovation"]
    ws = api.workspace(tmp_path / "home")
    from engine.schema import Schema

    ws.train(companies_csv, Schema.from_dict(smaller))
    second = ws.train(companies_csv, full)
    assert second["promoted"], second["reason"]
    assert "never saw" not in second["reason"]  # every held-out row was v1's: none left to compare
