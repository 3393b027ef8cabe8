"""Drive the real app in the system Chromium on both built-in datasets: load an entity by its
id, analyse it, see segment and prediction, open every page, and save a screenshot of every
page to docs/screenshots/<page>.png (companies) and docs/screenshots/customers-<page>.png."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
PAGES = {"analyze": "", "benchmarks": "benchmarks", "segments": "segments", "model": "model",
         "monitoring": "monitoring", "models": "models", "batch": "batch"}

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary found (apt-get install chromium)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# dataset -> (home, entity noun, id to load, text the prediction shows, screenshot prefix)
DATASETS = {
    "companies": ("demo-history", "company", "3", "High growth next year", ""),
    "customers": ("customers", "customer", "CU-00003", "Churns within 3 months", "customers-"),
}


@pytest.fixture(scope="module", params=list(DATASETS))
def dataset(request):
    return DATASETS[request.param]


@pytest.fixture(scope="module")
def server(writable_home, dataset):
    home = writable_home(dataset[0])
    port = free_port()
    env = {**os.environ, "BENCHAI_HOME": str(home)}
    env.pop("BENCHAI_ADMIN_PASSWORD_SHA256", None)
    env.pop("BENCHAI_ADMIN_PASSWORD_HASH", None)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app/main.py", "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                                                     "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def test_analyze_by_id_and_screenshot_every_page(server, page, dataset):
    _, noun, entity_id, target_label, prefix = dataset
    page.goto(server)
    page.get_by_text(f"Analyze a {noun}").wait_for()
    picker = page.get_by_role("combobox", name=f"{noun.capitalize()} id")
    picker.click()
    picker.fill(entity_id)
    page.get_by_role("option", name=entity_id, exact=True).click()
    page.get_by_role("button", name=f"Load {noun}").click()
    page.get_by_text(f"Profile of {noun}").wait_for()
    page.get_by_role("button", name="Analyze").click()
    page.get_by_text("Percentile rankings against peers").wait_for()
    body = page.inner_text("body")
    assert "Segment" in body and "Prediction" in body and target_label in body
    if noun != "company":
        assert "compan" not in body.lower()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SHOTS / f"{prefix}analyze.png"), full_page=True)
    for name, path in PAGES.items():
        if name == "analyze":
            continue
        page.goto(f"{server}/{path}")
        page.wait_for_selector("h1")
        page.wait_for_timeout(2500)  # let plotly draw
        body = page.inner_text("body")
        assert "Traceback" not in body
        if noun != "company":
            assert "compan" not in body.lower(), name
        page.screenshot(path=str(SHOTS / f"{prefix}{name}.png"), full_page=True)
    assert all((SHOTS / f"{prefix}{n}.png").is_file() for n in PAGES)
