"""The versioned model registry under HOME/models.

    HOME/models/<version>/   one immutable version: manifest.json + model files
    HOME/models/aliases.json {"champion": "v0002", "challenger": "v0003"}
    HOME/models/audit.jsonl  every alias move: when, alias, from, to, why, who
    HOME/train.lock          one training at a time per HOME

A version is written into a hidden temporary folder and renamed into place only when every
file and the manifest are on disk, so a failed or killed training leaves nothing that can be
listed, loaded or promoted. Loading checks the manifest (its format, its signature under a
signing key, that it lists every file the version needs and that the folder holds no other) and
every file's sha256; ``read`` hands out a file's bytes only after checking them, so nothing is
read from disk unchecked. No file is a pickle (``engine.registry.artifacts``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from engine import sharedfiles
from engine.errors import IntegrityError, ModelNotFoundError, TrainingBusyError
from engine.registry import signing

VERSION_RE = re.compile(r"^v\d{4,}$")
ALIASES = ("champion", "challenger")
STALE_LOCK_S = 6 * 3600
# Bump when the saved Analyzer's attributes change: older versions are then refused with a
# clear message instead of failing in the middle of an analysis.
FORMAT = 3  # 3: no pickle (skops with an allow-list), held-out rows, drift sketch; 2: schema v2
REQUIRED_FILES = ("analyzer.skops", "metrics.json", "explanations.json", "insights.json", "reference.json", "sample.parquet")
OUTCOME_FILES = ("outcome.ubj", "holdout.parquet")  # also required when the schema has a target


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def library_versions() -> dict:
    import numpy
    import pandas
    import scipy
    import shap
    import sklearn
    import skops
    import xgboost

    mods = {"numpy": numpy, "pandas": pandas, "scikit-learn": sklearn, "xgboost": xgboost, "shap": shap, "scipy": scipy, "skops": skops}
    return {"python": platform.python_version(), **{k: m.__version__ for k, m in mods.items()}}


class Registry:
    def __init__(self, home: str | os.PathLike):
        self.home = Path(home)
        self.root = self.home / "models"

    # ----- versions ----------------------------------------------------------------------
    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and VERSION_RE.match(p.name) and (p / "manifest.json").is_file())

    def manifest(self, version: str) -> dict:
        path = self.root / version / "manifest.json"
        if not VERSION_RE.match(version) or not path.is_file():
            raise ModelNotFoundError(f"Model version '{version}' does not exist; known versions: {self.versions() or 'none'}.")
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            raise IntegrityError(f"Model version '{version}': manifest.json is corrupt; the version is refused.") from None

    def write_version(self, files: dict[str, callable], manifest: dict) -> str:
        """Write a new version. ``files`` maps file name -> function(path) that writes it.

        Everything goes to a temporary folder first; the folder is renamed to its version
        name last (an atomic rename on one filesystem)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            hashes = {}
            for name, write in files.items():
                write(tmp / name)
                hashes[name] = sha256_file(tmp / name)
            version = self._next_version()
            manifest = {**manifest, "version": version, "format": FORMAT, "created": now_iso(), "files": hashes, "libraries": library_versions()}
            key = signing.signing_key()
            if key is not None:
                manifest = signing.sign(manifest, key)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
            os.rename(tmp, self.root / version)
            return version
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _next_version(self) -> str:
        numbers = [int(v[1:]) for v in self.versions()]
        return f"v{(max(numbers) + 1 if numbers else 1):04d}"

    def checked_manifest(self, version: str) -> dict:
        """The manifest after the checks that read no other file: its format and, under a
        signing key, its signature; IntegrityError naming the problem."""
        manifest = self.manifest(version)
        if manifest.get("format") != FORMAT:
            raise IntegrityError(
                f"Model version '{version}' was saved in format {manifest.get('format')}; this engine reads "
                f"format {FORMAT}. Retrain to create a compatible version; the version is refused."
            )
        signing.check(manifest, signing.signing_key(), version)
        return manifest

    def verify(self, version: str) -> dict:
        """Check the manifest and every file; -> manifest, or IntegrityError naming the problem."""
        manifest = self.checked_manifest(version)
        files = manifest.get("files")
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise IntegrityError(f"Model version '{version}': the manifest does not list its files; the version is refused.")
        needed = [*REQUIRED_FILES, *(OUTCOME_FILES if (manifest.get("schema") or {}).get("target") else ())]
        unlisted = sorted(set(needed) - set(files))
        if unlisted:
            raise IntegrityError(f"Model version '{version}': the manifest does not list {unlisted}; the version is refused.")
        folder = self.root / version
        extra = sorted(p.name for p in folder.iterdir() if p.name != "manifest.json" and p.name not in files)
        if extra:
            raise IntegrityError(f"Model version '{version}': {extra} are not in its manifest; the version is refused.")
        for name in files:
            self.read(version, name, manifest)
        return manifest

    def read(self, version: str, name: str, manifest: dict) -> bytes:
        """The bytes of one file of a verified version, after checking them against the manifest."""
        expected = manifest["files"].get(name)
        if expected is None:
            raise IntegrityError(f"Model version '{version}': file '{name}' is not in its manifest; refused.")
        try:
            data = (self.root / version / name).read_bytes()
        except OSError:
            raise IntegrityError(f"Model version '{version}': file '{name}' is missing; the version is refused.") from None
        if hashlib.sha256(data).hexdigest() != expected:
            raise IntegrityError(f"Model version '{version}': file '{name}' does not match its recorded sha256 (tampered or partial); the version is refused.")
        return data

    def path(self, version: str) -> Path:
        return self.root / version

    def clean_partial(self) -> list[str]:
        """Remove temporary folders left by killed trainings (call while holding the lock)."""
        removed = []
        if self.root.is_dir():
            for p in self.root.iterdir():
                if p.name.startswith(".tmp-"):
                    shutil.rmtree(p, ignore_errors=True)
                    removed.append(p.name)
        return removed

    # ----- aliases -----------------------------------------------------------------------
    def aliases(self) -> dict:
        path = self.root / "aliases.json"
        data = json.loads(path.read_text()) if path.is_file() else {}
        return {a: data.get(a) for a in ALIASES}

    def resolve(self, ref: str = "champion") -> str:
        if ref in ALIASES:
            version = self.aliases()[ref]
            if not version:
                raise ModelNotFoundError(f"No model is '{ref}' yet; train one first (python -m engine train ...).")
            return version
        self.manifest(ref)
        return ref

    def set_alias(self, alias: str, version: str | None, reason: str, actor: str = "local", kind: str = "promote") -> dict:
        """Point ``alias`` at ``version`` and append the move to the audit log."""
        return self.move_alias(alias, lambda _: version, reason, actor=actor, kind=kind)

    def move_alias(self, alias: str, choose: Callable[[dict], str | None], reason: str, actor: str = "local", kind: str = "promote") -> dict:
        """Point ``alias`` at ``choose(current aliases)`` (which may refuse by raising) and audit it.

        Several processes share a registry folder: the choice, the new ``aliases.json`` and
        the audit entry are made while holding the aliases lock, so two moves at once are
        applied one after the other and each sees the other's result (``sharedfiles``).
        """
        if alias not in ALIASES:
            raise ValueError(f"alias '{alias}' is unknown; expected one of {list(ALIASES)}.")
        with sharedfiles.locked(self.root / "aliases.json"):
            current = self.aliases()
            version = choose(current)
            if version is not None:
                self.manifest(version)
            entry = {"when": now_iso(), "alias": alias, "from": current[alias], "to": version, "reason": reason, "actor": actor, "kind": kind}
            sharedfiles.write_atomically(self.root / "aliases.json", json.dumps({**current, alias: version}, indent=2))
            with open(self.root / "audit.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
        return entry

    def audit_log(self) -> list[dict]:
        path = self.root / "audit.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def previous_champion(self) -> str | None:
        """The champion before the current one, undoing earlier rollbacks: a stack of moves."""
        stack: list[str] = []
        for e in self.audit_log():
            if e["alias"] != "champion" or not e["to"]:
                continue
            if e.get("kind") == "rollback" and stack:
                stack.pop()
            else:
                stack.append(e["to"])
        return stack[-2] if len(stack) >= 2 else None

    # ----- training lock -----------------------------------------------------------------
    @contextmanager
    def training_lock(self):
        """One training per HOME. A lock whose process is gone (or older than 6 h) is stale."""
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / "train.lock"
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                break
            except FileExistsError:
                if not _lock_is_stale(path):
                    holder = path.read_text(errors="replace").strip()
                    raise TrainingBusyError(f"Training already running for {self.home} ({holder}); wait for it to finish.") from None
                path.unlink(missing_ok=True)
        else:
            raise TrainingBusyError(f"Training already running for {self.home}; wait for it to finish.")
        with os.fdopen(fd, "w") as f:
            f.write(f"pid={os.getpid()} process_start={_process_start(os.getpid())} started={now_iso()}")
        try:
            yield
        finally:
            path.unlink(missing_ok=True)


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), or None where unknown: with
    the pid it names one process, so a pid reused by another process is not taken for the holder."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name
    except (OSError, IndexError):
        return None


def _lock_is_stale(path: Path) -> bool:
    try:
        text = path.read_text()
        pid = int(re.search(r"pid=(\d+)", text).group(1))
    except (OSError, AttributeError, ValueError):
        return True
    if time.time() - path.stat().st_mtime > STALE_LOCK_S:
        return True
    recorded = re.search(r"process_start=(\d+)", text)
    if recorded and _process_start(pid) not in (None, recorded.group(1)):
        return True  # the pid now belongs to another process: the holder is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
