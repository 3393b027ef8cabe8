"""A real Streamlit server and the system Chromium, driven by Playwright, on both built-in
datasets: what the browser tests share."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]

# dataset -> (home, entity noun, id to load, text the prediction shows, screenshot prefix)
DATASETS = {
    "companies": ("demo-history", "company", "3", "High growth next year", ""),
    "customers": ("customers", "customer", "CU-00003", "Churns within 3 months", "customers-"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, **env_extra) -> tuple[subprocess.Popen, str]:
    """`streamlit run app/main.py` on a free loopback port in local mode (no admin password)."""
    port = free_port()
    env = {**os.environ, "BENCHAI_HOME": str(home), **env_extra}
    env.pop("BENCHAI_ADMIN_PASSWORD_SHA256", None)
    env.pop("BENCHAI_ADMIN_PASSWORD_HASH", None)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.3)
    return proc, f"http://127.0.0.1:{port}"


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium binary found (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module", params=list(DATASETS))
def dataset(request):
    return DATASETS[request.param]


@pytest.fixture(scope="module")
def home(writable_home, dataset) -> Path:
    return writable_home(dataset[0])


@pytest.fixture(scope="module")
def server(home):
    proc, url = start_server(home)
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def page(browser, server):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(60_000)
    yield page
    page.close()


@pytest.fixture
def app_server():
    """Factory: start the app on a home (with extra environment) -> its URL; stopped afterwards."""
    started = []

    def start(home: Path, **env) -> str:
        proc, url = start_server(home, **env)
        started.append(proc)
        return url

    yield start
    for proc in started:
        stop_server(proc)
