"""Versions nobody can forge and that run nothing on load (hardening issue): no file is a
pickle, a crafted model file is refused before anything in it runs, the manifest must list
exactly the version's files, and under a signing key a forged, unsigned or differently signed
version is refused while the previous champion keeps serving."""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from engine import api
from engine.errors import IntegrityError
from engine.registry import Registry
from engine.registry.signing import KEY_ENV, KEY_FILE_ENV, unsigned_warning
from engine.schema import parse_schema

SCHEMA = parse_schema({"features": [{"name": "a", "kind": "score", "min": 0, "max": 5}, {"name": "b"}]})
PROFILE = {"a": 2.0, "b": 1.0}


def table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.uniform(0, 5, 300).round(2), "b": rng.lognormal(0, 1, 300)})


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    home = tmp_path / "home"
    api.workspace(home).train(table(), SCHEMA)
    return home


def rewrite(home, version: str, name: str, data: bytes) -> None:
    """What an attacker with write access does: replace a file and its recorded hash."""
    folder = Registry(home).path(version)
    (folder / name).write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


class Payload:
    def __reduce__(self):  # what a malicious pickle does on load
        return (open, ("/tmp/benchai-pwned", "w"))


def test_no_file_of_a_version_is_a_pickle(home):
    folder = Registry(home).path("v0001")
    for path in folder.iterdir():
        assert not path.read_bytes().startswith(b"\x80"), path.name  # pickle protocol 2+ header
    assert {p.name for p in folder.iterdir()} >= {"analyzer.skops", "manifest.json", "sample.parquet"}


def test_a_pickle_in_place_of_the_model_is_refused_and_never_run(home, tmp_path):
    marker = tmp_path / "ran"
    rewrite(home, "v0001", "analyzer.skops", pickle.dumps(Payload()).replace(b"/tmp/benchai-pwned", str(marker).encode()))
    with pytest.raises(IntegrityError, match="analyzer.skops cannot be read"):
        api.workspace(home).model()
    assert not marker.exists()


def test_a_model_file_naming_an_untrusted_type_is_refused(home):
    rewrite(home, "v0001", "analyzer.skops", sio.dumps({"model": Payload}))
    with pytest.raises(IntegrityError, match="outside the allow-list"):
        api.workspace(home).model()


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda folder, m: (folder / "extra.bin").write_bytes(b"x"), "not in its manifest"),
        (lambda folder, m: m["files"].pop("sample.parquet"), "does not list \\['sample.parquet'\\]"),
        (lambda folder, m: m.pop("files"), "does not list its files"),
    ],
)
def test_the_manifest_must_list_exactly_the_files(home, damage, words):
    folder = Registry(home).path("v0001")
    manifest = json.loads((folder / "manifest.json").read_text())
    damage(folder, manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match=words):
        api.workspace(home).model()


def test_the_sample_is_verified_when_read(home):
    ws = api.workspace(home)
    ws.model()  # verified once
    (Registry(home).path("v0001") / "sample.parquet").write_bytes(b"PAR1 changed")
    with pytest.raises(IntegrityError, match="sample.parquet"):
        ws.table("sample")


def test_signed_versions_refuse_forgery_and_keep_the_champion_serving(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "a long secret")
    home = tmp_path / "home"
    ws = api.workspace(home)
    ws.train(table(), SCHEMA)
    assert "signature" in Registry(home).manifest("v0001") and unsigned_warning() is None
    served = ws.analyze(PROFILE).model_version
    ws.train(table(seed=1), SCHEMA)
    assert ws.version("champion") == "v0002"
    # Rewrite a file of the new champion together with its hash: the signature no longer holds.
    rewrite(home, "v0002", "metrics.json", b"{}")
    with pytest.raises(IntegrityError, match="signature does not match"):
        ws.model("v0002")
    # The server that served v0001 keeps serving it: the forged v0002 is never loaded.
    assert served == "v0001" and ws.analyze(PROFILE).model_version == "v0001" and "signature" in ws.load_error
    unsigned_home = tmp_path / "unsigned"
    monkeypatch.delenv(KEY_ENV)
    api.workspace(unsigned_home).train(table(), SCHEMA)
    monkeypatch.setenv(KEY_ENV, "a long secret")
    with pytest.raises(IntegrityError, match="is not signed"):
        api.workspace(unsigned_home).model()
    monkeypatch.setenv(KEY_ENV, "another key")
    with pytest.raises(IntegrityError, match="signature does not match"):
        Registry(home).verify("v0001")  # a fresh process's check (a workspace keeps what it verified)


def test_a_refused_new_champion_leaves_the_previous_one_serving(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "a long secret")
    home = tmp_path / "home"
    ws = api.workspace(home)
    ws.train(table(), SCHEMA)
    assert ws.champion().version == "v0001"
    ws.train(table(seed=1), SCHEMA)
    rewrite(home, "v0002", "metrics.json", b"{}")
    assert ws.champion().version == "v0001" and "signature" in ws.load_error


def test_without_a_key_every_surface_can_say_it_runs_unsigned(home, monkeypatch, tmp_path):
    assert "not signed" in unsigned_warning() and KEY_ENV in unsigned_warning()
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "missing.key"))
    with pytest.raises(IntegrityError, match="cannot read the signing key"):
        api.workspace(home).train(table(), SCHEMA)
