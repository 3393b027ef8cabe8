"""Hardening audit: bad training inputs, crafted model versions, and the HTTP server's memory
and limits under concurrent scoring.

1. Bad training inputs: a home trained once on the demo companies (1,500 rows, seed 0); each
   of about 25 bad tables or schemas derived from it is trained on a fresh copy of that home.
   Every case should be refused with a ``BenchError`` (a message) or train; any other exception
   is a crash. After each case the champion and the contents of HOME/models are checked.
2. Crafted versions: on copies of the trained home, files of version v0001 are tampered with
   (byte flips, a pickle or an untrusted skops type under a rewritten hash, manifest edits) and
   a fresh ``Workspace`` must refuse to load it with ``IntegrityError``; then the same with a
   signing key (``BENCHAI_SIGNING_KEY``) on a home trained with it.
3. The server (``python -m engine serve``, loopback, no token, no database URL) takes 50
   concurrent POST /score of a 50,000-row CSV (the demo's drifted ``current`` rows, seed 1),
   while its resident memory is sampled every 0.2 s from /proc; then one 200 MB body (declared
   by Content-Length, and again chunked) and one CSV whose header has 1,000,000 columns.

Deterministic (fixed seeds), no network beyond 127.0.0.1, everything in a temporary folder.
Any signing key in the environment is ignored (removed) except where section 2 sets one.
Usage: ``python benchmarks/audit_hardening.py`` (about 4-6 minutes on 2 cores).
"""

from __future__ import annotations

import http.client
import json
import os
import pickle
import platform
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import api  # noqa: E402
from engine.demo import generate, write_demo  # noqa: E402
from engine.errors import BenchError, IntegrityError  # noqa: E402
from engine.workspace import Workspace  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
SIGNING_ENV = ("BENCHAI_SIGNING_KEY", "BENCHAI_SIGNING_KEY_FILE")
N_COMPANIES, SEED = 1500, 0
SCORE_ROWS, SCORE_REQUESTS, CLIENT_TIMEOUT_S = 50_000, 50, 300
BIG_BODY_BYTES, CHUNK = 200_000_000, 1 << 20
WIDE_COLUMNS = 1_000_000
CONTROL_REQUESTS = 30  # below anyio's default of 40 worker threads
PROBE_AT = (10, 60)  # seconds into the burst of scorings


def cell(text, n: int | None = None) -> str:
    """Text for one markdown table cell: one line, no bare '|', cut to ``n`` characters."""
    text = " ".join(str(text).split())
    if n is not None and len(text) > n:
        text = text[:n] + "…"
    return text.replace("|", "\\|")


def table(header: list[str], rows: list[list], align: str | None = None) -> None:
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join(align.split() if align else ["---"] * len(header)) + " |")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    print()


# ----- 1. bad training inputs ------------------------------------------------------------------
def _csv(frame: pd.DataFrame, path: Path, **options) -> Path:
    frame.to_csv(path, index=False, **options)
    return path


def _rows(frame: pd.DataFrame, share: float, seed: int) -> np.ndarray:
    """Positions of ``share`` of the rows, fixed by ``seed``."""
    n = max(1, round(share * len(frame)))
    return np.random.default_rng(seed).choice(len(frame), n, replace=False)


def _set(frame: pd.DataFrame, column: str, share: float, value, seed: int) -> pd.DataFrame:
    out = frame.copy()
    out[column] = out[column].astype(object)
    out.iloc[_rows(out, share, seed), out.columns.get_loc(column)] = value
    return out


def bad_inputs(companies: Path, schema: Path, root: Path):
    """(name, expected 'refuse' / 'train' / 'either', data path, schema path) of every case."""
    base = pd.read_csv(companies)
    text = schema.read_text(encoding="utf-8")
    target = "high_growth"

    def case(name: str):
        folder = root / name.split(":")[0].replace(" ", "_").replace("/", "_")
        folder.mkdir(parents=True)
        return folder

    d = case("all_nan_feature")
    yield "feature 'innovation' missing on every row", "refuse", _csv(base.assign(innovation=np.nan), d / "data.csv"), schema
    d = case("constant")
    yield "feature 'strategy' constant (3.0 on every row)", "refuse", _csv(base.assign(strategy=3.0), d / "data.csv"), schema
    d = case("datetime")
    dates = pd.date_range("2020-01-01", periods=len(base), freq="D").strftime("%Y-%m-%d")
    yield "datetime strings in numeric feature 'revenue_growth'", "refuse", _csv(base.assign(revenue_growth=dates), d / "data.csv"), schema
    d = case("oob_small")
    yield "strategy = 99 (out of bounds 0-5) in 0.5% of rows", "train", _csv(_set(base, "strategy", 0.005, 99, 1), d / "data.csv"), schema
    d = case("oob_large")
    yield "strategy = 99 (out of bounds 0-5) in 10% of rows", "refuse", _csv(_set(base, "strategy", 0.10, 99, 2), d / "data.csv"), schema
    d = case("unknown_segment")
    zzz = _csv(_set(base, "industry", 0.10, "zzz", 3), d / "data.csv")
    yield "industry = 'zzz' in 10% of rows (the schema lists no industry values: a new one is learned)", "either", zzz, schema
    d = case("unknown_segment_declared")
    industries = json.dumps(sorted(base["industry"].unique().tolist()))
    declared = text.replace('columns = ["industry", "size", "region"]', f'columns = ["industry", "size", "region"]\nvalues = {{ industry = {industries} }}', 1)
    if declared == text:
        raise RuntimeError("the demo schema's [segments] line changed; update this case")
    (d / "schema.toml").write_text(declared, encoding="utf-8")
    yield "industry = 'zzz' (unknown segment value) in 10% of rows, schema declaring the industries", "refuse", zzz, d / "schema.toml"
    d = case("trailing_comma_rows")
    lines = companies.read_text(encoding="utf-8").splitlines()
    (d / "data.csv").write_text("\n".join([lines[0], *(line + "," for line in lines[1:])]) + "\n", encoding="utf-8")
    yield "trailing comma at the end of every data row (not the header)", "refuse", d / "data.csv", schema
    d = case("trailing_comma_all")
    (d / "data.csv").write_text("\n".join(line + "," for line in lines) + "\n", encoding="utf-8")
    yield "trailing comma at the end of every line, header included", "either", d / "data.csv", schema
    d = case("target_not_in_data")
    (d / "schema.toml").write_text(text.replace(f'column = "{target}"', 'column = "grew_fast"'), encoding="utf-8")
    yield "schema's target column 'grew_fast' not in the data", "refuse", companies, d / "schema.toml"
    d = case("empty")
    (d / "data.csv").write_bytes(b"")
    yield "empty file (0 bytes)", "refuse", d / "data.csv", schema
    d = case("header_only")
    (d / "data.csv").write_text(lines[0] + "\n", encoding="utf-8")
    yield "header row only", "refuse", d / "data.csv", schema
    d = case("not_utf8")
    latin = _set(base, "company_id", 0.05, "Société Générale n°1", 4)
    _csv(latin, d / "data.csv", encoding="cp1252")
    yield "cp1252 file ('Société' ids in 5% of rows), not UTF-8", "refuse", d / "data.csv", schema
    d = case("text_in_numeric")
    yield "text '12%' in numeric 'profit_margin' in 3% of rows", "refuse", _csv(_set(base, "profit_margin", 0.03, "12%", 5), d / "data.csv"), schema
    d = case("binary_garbage")
    (d / "data.csv").write_bytes(np.random.default_rng(6).bytes(200_000))
    yield "200 kB of random bytes named data.csv", "refuse", d / "data.csv", schema
    d = case("parquet_text")
    shutil.copyfile(companies, d / "data.parquet")
    yield "CSV text named data.parquet", "refuse", d / "data.parquet", schema
    d = case("missing_feature")
    yield "feature column 'governance' absent from the table", "refuse", _csv(base.drop(columns=["governance"]), d / "data.csv"), schema
    d = case("dup_header_renamed")
    (d / "data.csv").write_text("\n".join([lines[0].replace('"data"', '"strategy"'), *lines[1:]]) + "\n", encoding="utf-8")
    yield "duplicated header: 'data' header renamed 'strategy' (two 'strategy')", "refuse", d / "data.csv", schema
    d = case("dup_header_appended")
    dup = base.assign(extra=np.random.default_rng(7).integers(0, 6, len(base)).astype(float))
    dup.columns = [*base.columns, "strategy"]
    yield "duplicated header: a second 'strategy' column (other values) appended", "refuse", _csv(dup, d / "data.csv"), schema
    d = case("one_class_0")
    yield "target with one class only (all 0)", "refuse", _csv(base.assign(**{target: 0}), d / "data.csv"), schema
    d = case("one_class_1")
    yield "target with one class only (all 1, the positive value)", "refuse", _csv(base.assign(**{target: 1}), d / "data.csv"), schema
    d = case("twenty_rows")
    yield "20 rows only", "refuse", _csv(base.head(20), d / "data.csv"), schema
    d = case("schema_unknown_key")
    (d / "schema.toml").write_text(text.replace('id = "company_id"', 'id = "company_id"\ncolour = "blue"', 1), encoding="utf-8")
    yield "schema with an unknown top-level key 'colour'", "refuse", companies, d / "schema.toml"
    d = case("schema_extra_feature")
    extra = '\n[[features]]\nname = "headcount"\nlabel = "Headcount"\nkind = "metric"\nbetter = "higher"\nmin = 0\n'
    (d / "schema.toml").write_text(text + extra, encoding="utf-8")
    yield "schema feature 'headcount' not in the table", "refuse", companies, d / "schema.toml"
    d = case("target_all_missing")
    yield "target column present but empty on every row", "refuse", _csv(base.assign(**{target: np.nan}), d / "data.csv"), schema


def home_state(home: Path, trained: str | None) -> tuple[str, bool]:
    """(champion, whether HOME/models holds only v0001, the aliases, the audit log and the
    version trained, if any, and no training lock is left)."""
    models = home / "models"
    aliases = json.loads((models / "aliases.json").read_text())
    extra = set(os.listdir(models)) - {"aliases.json", "audit.jsonl", "v0001"}
    clean = extra == ({trained} if trained else set()) and not (home / "train.lock").exists()
    return aliases.get("champion"), clean


def section_bad_inputs(tmp: Path, files: dict, trained_home: Path) -> None:
    print("## 1. Bad training inputs\n")
    print(f"Each case trains on a fresh copy of a home whose champion is v0001 (demo companies, {N_COMPANIES:,} rows, seed {SEED}).\n")
    rows, crashes, mismatches = [], [], []
    counts = Counter()
    for i, (name, expected, data, schema) in enumerate(bad_inputs(Path(files["companies"]), Path(files["schema"]), tmp / "inputs"), 1):
        home = tmp / "s1" / f"case{i:02d}"
        shutil.copytree(trained_home, home)
        started = time.perf_counter()
        trained, seen = None, []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = api.workspace(home).train(str(data), str(schema))
            except BenchError as exc:
                outcome, detail = "refused", f"{type(exc).__name__}: {cell(exc, 100)}"
                counts["refused"] += 1
            except Exception as exc:  # anything else is a failure of the product
                outcome, detail = "**CRASH**", f"{type(exc).__name__}: {cell(exc, 100)}"
                counts["crash"] += 1
                crashes.append((name, data, schema, traceback.format_exc()))
            else:
                trained = result["version"]
                left = (result.get("metrics") or {}).get("left_out")
                counts["trained"] += 1
                if result["promoted"]:
                    counts["promoted"] += 1
                outcome = f"trained {trained}, " + ("promoted" if result["promoted"] else "not promoted")
                detail = cell(result["reason"], 70) + (f"; left_out {left['rows']} of {left['of']} rows" if left else "; no left_out")
            seen = sorted({w.category.__name__ for w in caught})
        seconds = time.perf_counter() - started
        champion, clean = home_state(home, trained)
        ok = {"refuse": outcome == "refused", "train": outcome.startswith("trained"), "either": outcome != "**CRASH**"}[expected]
        if not ok:
            mismatches.append(name)
        rows.append([i, cell(name), expected, outcome + ("" if ok else " ⚠"), detail, champion, "yes" if clean else "**no**", ", ".join(seen) or "—", f"{seconds:.1f}"])
        shutil.rmtree(home, ignore_errors=True)
    table(["#", "input", "expected", "outcome", "message (first 100 chars) / gate", "champion after", "models/ clean", "warnings", "s"], rows,
          "---: --- --- --- --- --- --- --- ---:")
    n = len(rows)
    print(f"{n} inputs tried, {counts['refused']} refused with a message, {counts['trained']} trained ({counts['promoted']} promoted), {counts['crash']} crashes")
    if mismatches:
        print(f"\nOutcome differs from the expected one (⚠): {'; '.join(mismatches)}")
    for name, data, schema, tb in crashes:
        print(f"\nCrash on '{name}' (data {data}, schema {schema}):\n```\n{tb.rstrip()}\n```")
    print()


# ----- 2. crafted versions ---------------------------------------------------------------------
class PickleBomb:
    """Unpickling it would create the marker file (what a loader that trusts pickles would do)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


class Planted:
    """A type outside skops' allow-list; loading it would create the marker file."""

    def __init__(self, marker: Path):
        self.path = str(marker)

    def __setstate__(self, state):
        open(state["path"], "w").close()
        self.__dict__.update(state)


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _write_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))


def _flip(name: str):
    def attack(folder: Path) -> None:
        data = bytearray((folder / name).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / name).write_bytes(bytes(data))
    return attack


def _replace_rehash(name: str, content: bytes):
    """Replace a file and rewrite its sha256 in the manifest (the signature, if any, is kept)."""
    def attack(folder: Path) -> None:
        import hashlib

        (folder / name).write_bytes(content)
        manifest = _manifest(folder)
        manifest["files"][name] = hashlib.sha256(content).hexdigest()
        _write_manifest(folder, manifest)
    return attack


def _edit_manifest(edit):
    def attack(folder: Path) -> None:
        manifest = _manifest(folder)
        edit(manifest)
        _write_manifest(folder, manifest)
    return attack


def _rewrite_metrics(folder: Path) -> None:
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["audit_forged"] = True  # a rewritten metrics file, its hash updated to match
    _replace_rehash("metrics.json", json.dumps(metrics).encode())(folder)


def try_load(home: Path) -> tuple[str, str]:
    """-> ('loaded' | 'IntegrityError' | other exception type, message)."""
    try:
        Workspace(home).model("v0001")
    except IntegrityError as exc:
        return "IntegrityError", str(exc)
    except Exception as exc:  # a failure of the product: not the refusal it should give
        return type(exc).__name__, str(exc)
    return "loaded", ""


def section_crafted(tmp: Path, files: dict, trained_home: Path) -> None:
    import skops.io as sio

    print("## 2. Crafted versions\n")
    print("Each attack edits a fresh copy of the trained home; a fresh `engine.workspace.Workspace(copy).model('v0001')` must raise `IntegrityError`.\n")
    markers = [tmp / "MARKER_pickle", tmp / "MARKER_skops"]
    listed = list(_manifest(trained_home / "models" / "v0001")["files"])
    unsigned = [(f"flip one byte in {name}", _flip(name), None) for name in listed]
    unsigned += [
        ("analyzer.skops replaced by a pickle (__reduce__ -> open(marker)), sha256 rewritten", _replace_rehash("analyzer.skops", pickle.dumps(PickleBomb(markers[0]))), None),
        ("analyzer.skops holding an untrusted type (__setstate__ -> marker), sha256 rewritten", _replace_rehash("analyzer.skops", sio.dumps({"x": Planted(markers[1])})), None),
        ("analyzer.skops holding os.system, sha256 rewritten", _replace_rehash("analyzer.skops", sio.dumps({"f": os.system})), None),
        ("extra file notes.txt in the version folder", lambda f: (f / "notes.txt").write_text("hello"), None),
        ("insights.json removed from the manifest (file kept)", _edit_manifest(lambda m: m["files"].pop("insights.json")), None),
        ("holdout.parquet removed from the manifest and the folder", lambda f: (_edit_manifest(lambda m: m["files"].pop("holdout.parquet"))(f), (f / "holdout.parquet").unlink()), None),
        ("metrics.json deleted (manifest unchanged)", lambda f: (f / "metrics.json").unlink(), None),
        ("the whole 'files' key removed from the manifest", _edit_manifest(lambda m: m.pop("files")), None),
        ("manifest format changed to 2", _edit_manifest(lambda m: m.update(format=2)), None),
        ("manifest.json not JSON", lambda f: (f / "manifest.json").write_text("{not json"), None),
    ]
    rows, counts = [], Counter()

    def run(label: str, source: Path, attack, must: str | None, index: int) -> None:
        home = tmp / "s2" / f"attack{index:02d}"
        shutil.copytree(source, home)
        attack(home / "models" / "v0001")
        kind, msg = try_load(home)
        refused = kind == "IntegrityError" and (must is None or must in msg)
        counts["attacks"] += 1
        counts["refused"] += refused
        rows.append([index, cell(label), "yes" if refused else f"**NO** ({kind})", cell(msg, 80) if msg else "—"])
        shutil.rmtree(home, ignore_errors=True)

    control_rows = []
    kind, _ = try_load(trained_home)
    control_rows.append(["unsigned home, untouched", kind])
    for i, (label, attack, must) in enumerate(unsigned, 1):
        run(label, trained_home, attack, must, i)

    # Signed: a fresh home trained with the key set.
    saved = {k: os.environ.pop(k) for k in SIGNING_ENV if k in os.environ}
    os.environ["BENCHAI_SIGNING_KEY"] = "audit-key-1"
    try:
        signed = tmp / "signed_home"
        api.workspace(signed).train(files["companies"], files["schema"])
        kind, _ = try_load(signed)
        control_rows.append(["signed home, untouched, same key", kind])
        signed_attacks = [
            ("signed: metrics.json rewritten, its sha256 rewritten (must name 'signature')", _rewrite_metrics, "signature"),
            ("signed: pickle in analyzer.skops, sha256 rewritten", _replace_rehash("analyzer.skops", pickle.dumps(PickleBomb(markers[0]))), None),
            ("signed: signature removed from the manifest", _edit_manifest(lambda m: m.pop("signature")), None),
        ]
        n = len(unsigned)
        for j, (label, attack, must) in enumerate(signed_attacks, n + 1):
            run(label, signed, attack, must, j)
        os.environ["BENCHAI_SIGNING_KEY"] = "audit-key-2"
        run("signed: untouched version verified with another key", signed, lambda f: None, None, n + len(signed_attacks) + 1)
        os.environ.pop("BENCHAI_SIGNING_KEY")
        kind, msg = try_load(signed)
        control_rows.append(["signed home read with no key (unsigned mode)", kind + (f": {cell(msg, 60)}" if msg else "")])
    finally:
        os.environ.pop("BENCHAI_SIGNING_KEY", None)
        os.environ.update(saved)

    table(["#", "attack", "refused?", "message (first 80 chars)"], rows, "---: --- --- ---")
    created = [m.name for m in markers if m.exists()]
    print(f"{counts['attacks']} attacks, {counts['refused']} refused, marker file created: {'yes (' + ', '.join(created) + ')' if created else 'no'}\n")
    print("Controls (not attacks):\n")
    table(["copy", "load result"], control_rows)


# ----- 3. server memory and limits -------------------------------------------------------------
def _descendants(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                children = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                for c in children:
                    out.append(int(c))
                    stack.append(int(c))
        except OSError:
            pass
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    return sum(_status_kb(p, "VmRSS") for p in [pid, *_descendants(pid)]) / 1024


class Sampler(threading.Thread):
    """The server tree's RSS every ``every`` seconds; ``peak`` in MB."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.samples, self.children = pid, every, 0.0, 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            self.children = max(self.children, len(_descendants(self.pid)))
            self.samples += 1
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = CLIENT_TIMEOUT_S) -> tuple:
    """-> (status or exception name, seconds, response bytes, first 160 chars of a non-200 body)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        size, head = 0, b""
        while chunk := resp.read(1 << 20):
            size += len(chunk)
            if len(head) < 160:
                head += chunk[:160]
        return resp.status, time.perf_counter() - started, size, "" if resp.status == 200 else head[:160].decode(errors="replace")
    except Exception as exc:
        return type(exc).__name__, time.perf_counter() - started, 0, str(exc)[:160]
    finally:
        conn.close()


def _stream(port: int, head: bytes, chunk: bytes, n_chunks: int, tail: bytes = b"") -> tuple:
    """Send ``head`` then ``chunk`` ``n_chunks`` times (then ``tail``) while watching for an
    answer; stop sending once one comes. -> (status, seconds to the status line, MB sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    started = time.perf_counter()
    sock.sendall(head)
    sock.setblocking(False)
    sent, left, pending, answer, answered_at = len(head), n_chunks, memoryview(b""), b"", None
    deadline = started + 120
    try:
        while time.perf_counter() < deadline:
            sending = answered_at is None and (left > 0 or len(pending) or tail)
            readable, writable, _ = select.select([sock], [sock] if sending else [], [], 1.0)
            if readable:
                try:
                    data = sock.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if not data:
                    break
                answer += data
                if answered_at is None and b"\r\n" in answer:
                    answered_at = time.perf_counter() - started
                if b"\r\n\r\n" in answer:
                    headers, _, body = answer.partition(b"\r\n\r\n")
                    length = [int(h.split(b":")[1]) for h in headers.split(b"\r\n") if h.lower().startswith(b"content-length:")]
                    if length and len(body) >= length[0]:
                        break
            if writable:
                if not len(pending):
                    if left:
                        pending, left = memoryview(chunk), left - 1
                    else:
                        pending, tail = memoryview(tail), b""
                try:
                    n = sock.send(pending)
                    pending, sent = pending[n:], sent + n
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    left, pending, tail = 0, memoryview(b""), b""
    finally:
        sock.close()
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "no answer"
    detail = answer.partition(b"\r\n\r\n")[2][:120].decode(errors="replace")
    return status, answered_at if answered_at is not None else time.perf_counter() - started, sent / 1e6, detail


def _by_answer(results: list) -> str:
    """A markdown table of request outcomes grouped by status and answer."""
    groups: dict = {}
    for status, seconds, size, detail in results:
        groups.setdefault((status, cell(detail, 100) or "—"), []).append((seconds, size))
    lines = ["| status | answer (first 100 chars) | count | min s | median s | max s | answer MB (mean) |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for (status, detail), items in sorted(groups.items(), key=lambda kv: str(kv[0])):
        secs = sorted(x for x, _ in items)
        lines.append(f"| {status} | {detail} | {len(items)} | {secs[0]:.1f} | {secs[len(secs) // 2]:.1f} | {secs[-1]:.1f} | {np.mean([z for _, z in items]) / 1e6:.1f} |")
    return "\n".join(lines) + "\n"


def _probe(port: int, out: list) -> None:
    """GET /health and GET /models, each on its own thread, at PROBE_AT seconds after the burst
    starts; ``out`` gets (seconds when sent, path, status, seconds to the answer)."""
    started = time.perf_counter()

    def one(at: float, path: str) -> None:
        time.sleep(max(0.0, at - (time.perf_counter() - started)))
        sent = time.perf_counter() - started
        status, seconds, _, _ = _request(port, "GET", path, timeout=CLIENT_TIMEOUT_S)
        out.append((sent, path, status, seconds))

    threads = [threading.Thread(target=one, args=(at, path), daemon=True) for at in PROBE_AT for path in ("/health", "/models")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.sort()


def section_server(tmp: Path, trained_home: Path) -> None:
    print("## 3. Memory and limits under concurrent scoring\n")
    home = tmp / "server_home"
    shutil.copytree(trained_home, home)
    frame = generate(2 * SCORE_ROWS, seed=1)["current"]  # 'current' holds half as many rows as asked
    body = frame.drop(columns=["high_growth"]).head(SCORE_ROWS).to_csv(index=False).encode()
    n_rows = body.count(b"\n") - 1
    del frame
    env = {k: v for k, v in os.environ.items() if k not in ("BENCHAI_DB_URL", "BENCHAI_API_TOKEN", "BENCHAI_CLIENT_TOKEN", *SIGNING_ENV)}
    port = _free_port()
    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:  # the server writes to its own copy of the descriptor
        proc = subprocess.Popen([PYTHON, "-m", "engine", "serve", "--home", str(home), "--port", str(port), "--no-access-log"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        started = time.perf_counter()
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
            status, *_ = _request(port, "GET", "/health", timeout=5)
            if status == 200:
                break
            if time.perf_counter() - started > 120:
                raise RuntimeError("the server did not answer /health within 120 s")
            time.sleep(0.25)
        startup = time.perf_counter() - started
        time.sleep(1.0)
        floor = tree_rss_mb(proc.pid)
        limits = {k: env.get(k, "default") for k in ("BENCHAI_MAX_BODY_MB", "BENCHAI_MAX_CONCURRENT_SCORES", "BENCHAI_SCORE_TIMEOUT_S")}
        print(f"Server: pid {proc.pid}, port {port}, ready in {startup:.1f} s; limits {limits}.\n")

        sampler = Sampler(proc.pid)
        sampler.start()
        probes: list = []
        prober = threading.Thread(target=_probe, args=(port, probes), daemon=True)
        started = time.perf_counter()
        with ThreadPoolExecutor(SCORE_REQUESTS) as pool:
            prober.start()
            results = list(pool.map(lambda _: _request(port, "POST", "/score", body, {"Content-Type": "text/csv"}), range(SCORE_REQUESTS)))
        wall = time.perf_counter() - started
        time.sleep(0.5)
        sampler.stop()
        prober.join()
        hwm = sum(_status_kb(p, "VmHWM") for p in [proc.pid, *_descendants(proc.pid)]) / 1024
        after = tree_rss_mb(proc.pid)

        codes = Counter(r[0] for r in results)
        other = {k: v for k, v in codes.items() if k not in (200, 503)}
        by_code: dict = {}
        for status, seconds, size, detail in results:
            by_code.setdefault(status, []).append((seconds, size, detail))
        print(f"### {SCORE_REQUESTS} concurrent POST /score, {n_rows:,} rows each ({len(body) / 1e6:.1f} MB CSV), client timeout {CLIENT_TIMEOUT_S} s\n")
        table(["what", "value"], [
            ["status 200", codes.get(200, 0)],
            ["status 503", codes.get(503, 0)],
            ["other", ", ".join(f"{k}: {v}" for k, v in other.items()) or 0],
            ["wall time, all requests", f"{wall:.1f} s"],
            ["floor: server RSS after startup, before any request", f"{floor:,.0f} MB"],
            ["peak server RSS, sampled every 0.2 s (process tree)", f"{sampler.peak:,.0f} MB ({sampler.samples} samples, {sampler.children} child processes seen)"],
            ["server VmHWM at the end (process tree)", f"{hwm:,.0f} MB"],
            ["server RSS after the requests", f"{after:,.0f} MB"],
            ["request bodies held if all were read at once", f"{SCORE_REQUESTS * len(body) / 1e6:,.0f} MB"],
        ], "--- ---:")
        print(_by_answer(results))
        ok = sorted(r[1] for r in results if r[0] == 200)
        print(f"Seconds to each 200 answer: {', '.join(f'{x:.1f}' for x in ok[:25])}{' …' if len(ok) > 25 else ''}\n")
        print("Probes sent while the scorings ran (GET /health is async; GET /models runs in the server's thread pool):\n")
        table(["sent at s", "request", "status", "seconds to the answer"], [[f"{at:.0f}", path, status, f"{secs:.1f}"] for at, path, status, secs in probes], "---: --- --- ---:")

        control = CONTROL_REQUESTS
        started = time.perf_counter()
        with ThreadPoolExecutor(control) as pool:
            results = list(pool.map(lambda _: _request(port, "POST", "/score", body, {"Content-Type": "text/csv"}), range(control)))
        print(f"### Control: {control} concurrent POST /score of the same body (fewer than the 40 threads of the server's default thread pool)\n")
        print(f"Wall time {time.perf_counter() - started:.1f} s.\n")
        print(_by_answer(results))

        print("### Limits\n")
        big = (b"1,2,3,4,5,6,7\n" * (CHUNK // 14 + 1))[:CHUNK]
        n_chunks = BIG_BODY_BYTES // CHUNK + 1
        head = (f"POST /score HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/csv\r\nContent-Length: {n_chunks * CHUNK}\r\n\r\n").encode()
        declared = _stream(port, head, big, n_chunks)
        framed = f"{CHUNK:x}\r\n".encode() + big + b"\r\n"
        head = (f"POST /score HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
        chunked = _stream(port, head, framed, n_chunks, b"0\r\n\r\n")
        del big, framed
        wide = (",".join(f"c{i:06d}" for i in range(WIDE_COLUMNS)) + "\n" + ",".join(["1"] * 10) + "\n").encode()
        status, seconds, _, detail = _request(port, "POST", "/score", wide, {"Content-Type": "text/csv"}, timeout=120)
        table(["request", "status", "seconds to the answer", "MB sent", "answer (first 120 chars)"], [
            [f"{n_chunks * CHUNK / 1e6:.0f} MB body, Content-Length declared", declared[0], f"{declared[1]:.2f}", f"{declared[2]:.1f}", cell(declared[3], 120)],
            [f"{n_chunks * CHUNK / 1e6:.0f} MB body, chunked (no Content-Length)", chunked[0], f"{chunked[1]:.2f}", f"{chunked[2]:.1f}", cell(chunked[3], 120)],
            [f"CSV header of {WIDE_COLUMNS:,} columns ({len(wide) / 1e6:.1f} MB)", status, f"{seconds:.2f}", f"{len(wide) / 1e6:.1f}", cell(detail, 120)],
        ], "--- --- ---: ---: ---")
        status, *_ = _request(port, "GET", "/health", timeout=10)
        print(f"GET /health after the limits: {status}; server RSS now {tree_rss_mb(proc.pid):,.0f} MB.\n")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
            stopped = f"terminated (exit {proc.returncode})"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            stopped = "killed after 15 s"
        text = log_path.read_text(errors="replace")
        print(f"Server {stopped}; its log has {text.count('Traceback')} traceback(s), {len(text.splitlines())} line(s).")
        if "Traceback" in text or " 500" in text:
            print("\nServer log (last 3,000 chars):\n```\n" + text[-3000:] + "\n```")
        print()


def main() -> None:
    import fastapi
    import pyarrow
    import sklearn
    import skops
    import uvicorn
    import xgboost

    for k in SIGNING_ENV:
        os.environ.pop(k, None)
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, scikit-learn {sklearn.__version__}, "
          f"xgboost {xgboost.__version__}, skops {skops.__version__}, pyarrow {pyarrow.__version__}, fastapi {fastapi.__version__}, "
          f"uvicorn {uvicorn.__version__}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}\n")
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="audit_hardening_") as name:
        tmp = Path(name)
        files = write_demo(tmp / "demo", n_companies=N_COMPANIES, seed=SEED)
        trained_home = tmp / "trained_home"
        started = time.perf_counter()
        result = api.workspace(trained_home).train(files["companies"], files["schema"])
        print(f"Trained home: {result['version']} promoted={result['promoted']} in {time.perf_counter() - started:.1f} s.\n")
        for section in (section_bad_inputs, section_crafted):
            started = time.perf_counter()
            section(tmp, files, trained_home)
            print(f"_Section time {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f}._\n")
        started = time.perf_counter()
        section_server(tmp, trained_home)
        print(f"_Section time {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f}._\n")
    print(f"Total {time.perf_counter() - total:.0f} s.")


if __name__ == "__main__":
    main()
