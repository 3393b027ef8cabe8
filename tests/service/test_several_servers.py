"""Several servers, one database (issue 15, item 4): two ``serve`` processes on loopback share
one PostgreSQL (``BENCHAI_DB_URL``) and one registry folder (the same ``--home``).

- A promotion made through one server is served by the other from the next request it
  handles: every process checks ``aliases.json`` with one ``stat`` per request (``Workspace``),
  and the registry replaces that file atomically, so there is no polling interval to wait for.
- The same feedback sent to both at once lands once (``engine.store.feedback``).
- Alert checks run by two processes at once (as two dashboards run them) leave one open alert.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest
from conftest_pg import PG_ENV, PG_SKIP_REASON, pg_schema_url

from engine.registry import Registry
from engine.service import TOKEN_ENV
from engine.service.auth import CLIENT_TOKEN_ENV
from engine.store import Store
from engine.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "several-servers-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
FEEDBACK_ALERT_ROWS = 10  # settings: this much new feedback raises one "feedback_ready" alert

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not os.environ.get(PG_ENV), reason=PG_SKIP_REASON)]


def reregister(home: Path, version: str) -> str:
    """A second version made of ``version``'s files: something to promote without training."""
    registry = Registry(home)
    manifest = registry.manifest(version)
    files = {
        name: (lambda path, src=registry.root / version / name: shutil.copyfile(src, path))
        for name in manifest["files"]
    }
    derived = ("version", "format", "created", "files", "libraries", "signature")
    return registry.write_version(files, {k: v for k, v in manifest.items() if k not in derived})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """``serve`` on a free loopback port, its output in ``log`` (a pipe could fill and block it)."""
    port = free_port()
    cmd = [sys.executable, "-m", "engine", "serve", "--home", str(home), "--port", str(port), "--workers", "1"]
    with open(log, "wb") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}"


def wait_until_serving(server: subprocess.Popen, url: str, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not start in {timeout} s"
        time.sleep(0.3)


CHECK_ALERTS = """
import sys
from engine.workspace import Workspace
ws = Workspace(sys.argv[1])
for _ in range(int(sys.argv[2])):
    ws.monitoring.check_alerts(retrain=False)
"""


@pytest.fixture
def shared(home, tmp_path, subprocess_env):
    """A registry folder with two versions and an empty PostgreSQL schema, shared by two
    running servers -> (home, database URL, url of server A, url of server B)."""
    shared_home = tmp_path / "home"
    shutil.copytree(home / "models", shared_home / "models")
    (shared_home / "settings.json").write_text(json.dumps({"feedback_retrain_rows": FEEDBACK_ALERT_ROWS}))
    assert reregister(shared_home, "v0001") == "v0002"
    with pg_schema_url(os.environ[PG_ENV]) as db_url:
        env = {k: v for k, v in subprocess_env.items() if k != CLIENT_TOKEN_ENV}
        env |= {"BENCHAI_DB_URL": db_url, TOKEN_ENV: TOKEN}
        logs = [tmp_path / f"server-{name}.log" for name in "ab"]
        servers = [start_server(shared_home, env, log) for log in logs]
        try:
            for (server, url), log in zip(servers, logs, strict=True):
                wait_until_serving(server, url, log)
            yield shared_home, db_url, env, servers[0][1], servers[1][1]
        finally:
            for server, _ in servers:
                server.terminate()
            for (server, _), log in zip(servers, logs, strict=True):
                # uvicorn re-raises SIGTERM after a clean shutdown
                assert server.wait(30) in (0, -signal.SIGTERM), log.read_text()


def test_two_servers_share_promotions_feedback_and_alerts(shared, companies_csv):
    home, db_url, env, a_url, b_url = shared
    a, b = httpx.Client(base_url=a_url, timeout=60), httpx.Client(base_url=b_url, timeout=60)
    profiles = pd.read_csv(companies_csv).dropna().drop(columns=["high_growth"]).head(30)
    profiles = [dict(p, company_id=int(p["company_id"])) for p in profiles.to_dict("records")]

    # --- feedback sent to both at once lands once -------------------------------------------
    analysed = [(a if i % 2 else b).post("/analyze", json=p).json() for i, p in enumerate(profiles)]
    assert {r["model_version"] for r in analysed} == {"v0001"}
    rows = [{"prediction_id": r["prediction_id"], "outcome": i % 2} for i, r in enumerate(analysed[:20])]
    observed = pd.Timestamp.now(tz="UTC").isoformat()  # after the analyses: labels them
    rows += [{"entity_id": p["company_id"], "outcome": 1, "ts": observed} for p in profiles[20:]]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda s: s.post("/feedback", json={"rows": rows}, headers=ADMIN), (a, b)))
    counts = [r.json() for r in answers]
    assert all(r.status_code == 200 for r in answers), counts
    assert sum(c["recorded"] for c in counts) == len(rows) == sum(c["duplicates"] for c in counts)
    again = b.post("/feedback", json={"rows": rows}, headers=ADMIN).json()
    assert (again["recorded"], again["duplicates"]) == (0, len(rows))
    with Store(db_url) as store:
        assert store.feedback_count() == len(rows)
        labelled = store.labelled_predictions()
        assert len(labelled) == len(labelled["prediction_id"].unique()) == len(rows)

    # --- alert checks of two processes at once: one open alert, seen by both servers --------
    rounds = 5
    cmd = [sys.executable, "-c", CHECK_ALERTS, str(home), str(rounds)]
    checks = [subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE) for _ in range(2)]
    for check in checks:
        assert check.wait(180) == 0, check.stderr.read().decode()
    listed = [s.get("/alerts", headers=ADMIN).json()["alerts"] for s in (a, b)]
    assert listed[0] == listed[1]
    raised = [(alert["kind"], alert["key"], alert["count"]) for alert in listed[0]]
    assert len(raised) == len({kind_key[:2] for kind_key in raised})  # one row per condition
    assert {count for *_, count in raised} == {2 * rounds}  # raised by every check of both
    # Feedback counted once: 30 rows make key "3" (duplicated feedback would make it "6").
    assert ("feedback_ready", "3", 2 * rounds) in raised

    # --- a promotion through A is served by B from its next request, and back ---------------
    moved = a.post("/models/v0002/promote", json={"reason": "two servers"}, headers=ADMIN)
    assert moved.status_code == 200 and moved.json()["serving"] == "v0002"
    promoted_at = time.monotonic()
    assert b.get("/health").json()["model_version"] == "v0002"  # the very next request
    first_load = time.monotonic() - promoted_at  # B verifies and loads v0002 in that request
    assert b.post("/analyze", json=profiles[0]).json()["model_version"] == "v0002"
    back = b.post("/models/rollback", headers=ADMIN)
    assert back.status_code == 200 and back.json()["serving"] == "v0001"
    rolled_back_at = time.monotonic()
    assert a.get("/health").json()["model_version"] == "v0001"  # A still holds v0001 loaded
    cached = time.monotonic() - rolled_back_at
    assert a.post("/analyze", json=profiles[0]).json()["model_version"] == "v0001"
    # A workspace of a third process (as the dashboard holds one) follows the same file.
    assert Workspace(home).champion().version == "v0001"
    print(f"\nalias moves seen by the other server's next request: {first_load * 1000:.0f} ms "
          f"(loading the new version), {cached * 1000:.0f} ms (version already loaded)")
    a.close()
    b.close()
