"""The dashboard's speed as a person sees it: a real Streamlit server driven by Playwright in the
system Chromium, on both built-in datasets. Client time: from the click (or key press, or process
start) until the page shows the result. Floor, measured in the same run: the same round trip on a
blank Streamlit page (one title, one button), and its server start. Server time per page is what
``benchmarks/bench_app.py`` measures in-process.

Usage: python benchmarks/bench_browser.py [--rows 3000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT))
from conftest import CHROMIUM, CHROMIUM_ARGS, free_port, stop_server  # noqa: E402

from engine import api  # noqa: E402
from engine.demo import write_customers, write_demo  # noqa: E402
from engine.demo.replay import replay  # noqa: E402

BLANK = 'import streamlit as st\nst.title("Floor")\nif st.button("Go"):\n    st.session_state["n"] = st.session_state.get("n", 0) + 1\nst.write(f"clicked {st.session_state.get(\'n\', 0)} times")\n'
PAGES = ["Benchmarks", "Segments", "Model & explanations", "Monitoring", "Models", "Batch"]


def serve(script: Path, home: Path | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, **({"BENCHAI_HOME": str(home)} if home else {})}
    env.pop("BENCHAI_ADMIN_PASSWORD_HASH", None)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def open_when_up(browser, url: str, ready: str, t0: float) -> tuple[object, float]:
    """A page showing ``ready`` (a button name) as soon as the server answers -> (page, seconds since t0)."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(120_000)
    while True:
        try:
            page.goto(url)
            break
        except Exception:  # not listening yet
            time.sleep(0.05)
    page.get_by_role("button", name=ready, exact=True).first.wait_for()
    return page, time.perf_counter() - t0


def settle(page) -> None:
    """Until Streamlit's running indicator is gone (it shows while a script reruns)."""
    page.wait_for_timeout(50)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="detached", timeout=120_000)


def changed(locator, before: str, timeout_s: float = 30.0) -> None:
    """Until the element's text differs from ``before`` (Streamlit may replace the element)."""
    deadline = time.perf_counter() + timeout_s
    while locator.inner_text() == before:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"still {before!r} after {timeout_s} s")
        time.sleep(0.01)


def timed(action, done) -> float:
    t = time.perf_counter()
    action()
    done()
    return time.perf_counter() - t


def build_homes(folder: Path, rows: int) -> dict[str, tuple[Path, str, list[str]]]:
    """dataset -> (trained home with a replayed history, entity noun, ids to load)."""
    out = {}
    for kind, noun, write in (("companies", "company", lambda d: write_demo(d, n_companies=rows, seed=0)),
                              ("customers", "customer", lambda d: write_customers(d, n=rows, seed=0))):
        home = folder / kind
        write(home / "demo")
        ws = api.workspace(home)
        ws.train(home / "demo" / f"{kind}.csv", home / "demo" / "schema.toml", seed=0)
        replay(ws)
        id_col = ws.details()["manifest"]["schema"]["id"]
        out[kind] = (home, noun, [str(v) for v in ws.table("sample")[id_col].iloc[[2, 11, 23, 37, 52, 64, 71, 88]]])
    return out


def floor(browser, repeats: int, folder: Path) -> dict[str, list[float]]:
    script = folder / "blank.py"
    script.write_text(BLANK)
    starts, clicks = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        proc, url = serve(script)
        page, seconds = open_when_up(browser, url, "Go", t0)
        starts.append(seconds)
        for i in range(repeats):
            clicks.append(timed(lambda p=page: p.get_by_role("button", name="Go").click(),
                                lambda p=page, i=i: p.get_by_text(f"clicked {i + 1} times").wait_for()))
        page.close()
        stop_server(proc)
    return {"restart": starts, "interaction": clicks}


def measure(browser, home: Path, noun: str, ids: list[str], repeats: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    main = ROOT / "app" / "main.py"
    for _ in range(3):
        t0 = time.perf_counter()
        proc, url = serve(main, home)
        page, seconds = open_when_up(browser, url, "Analyze", t0)
        out.setdefault("restart until the Analyze page is usable", []).append(seconds)
        out.setdefault("first Analyze right after that", []).append(timed(
            lambda p=page: p.get_by_role("button", name="Analyze").click(),
            lambda p=page: (p.get_by_text("Percentile rankings against peers").wait_for(), settle(p))))
        page.close()
        stop_server(proc)
    proc, url = serve(main, home)
    try:
        return out | interactions(browser, url, noun, ids, repeats)
    finally:
        stop_server(proc)


def interactions(browser, url: str, noun: str, ids: list[str], repeats: int) -> dict[str, list[float]]:
    """Clicks on a warm server: load and analyse entities, move the what-if, open every page."""
    out: dict[str, list[float]] = {}
    page, _ = open_when_up(browser, url, "Analyze", time.perf_counter())
    page.wait_for_timeout(8000)  # the warm-up thread has loaded the champion
    picker = page.get_by_role("combobox", name=f"{noun.capitalize()} id")
    for entity_id in ids[:repeats]:
        def choose(e=entity_id):
            picker.click()
            picker.fill(e)
            page.get_by_role("option", name=e, exact=True).click()
        out.setdefault(f"choose a {noun} id in the search box", []).append(timed(choose, lambda: settle(page)))
        out.setdefault(f"Load {noun}", []).append(timed(lambda: page.get_by_role("button", name=f"Load {noun}").click(),
                                                      lambda e=entity_id: (page.get_by_text(f"Profile of {noun} {e}").wait_for(), settle(page))))
        out.setdefault("Analyze", []).append(timed(lambda: page.get_by_role("button", name="Analyze").click(),
                                                   lambda: (page.get_by_text("Percentile rankings against peers").wait_for(), settle(page))))
        delta = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text("Probability after the changes", exact=True)).locator("[data-testid=stMetricDelta]")
        slider = page.get_by_role("slider").first
        for key in ("End", "Home"):  # to either end of its range: trees move in steps, a small move may change nothing
            before = delta.inner_text()
            slider.focus()
            out.setdefault("what-if: move a slider", []).append(timed(
                lambda s=slider, k=key: s.press(k),
                lambda d=delta, b=before: (changed(d, b), settle(page))))
    for _ in range(max(2, repeats // 2)):
        for name in PAGES + ["Analyze"]:
            heading = "Batch scoring" if name == "Batch" else name if name != "Analyze" else f"Analyze a {noun}"
            out.setdefault(f"open page: {name}", []).append(timed(
                lambda n=name: page.locator("[data-testid=stSidebarNav]").get_by_text(n, exact=True).click(),
                lambda h=heading: (page.get_by_role("heading", name=h).first.wait_for(), settle(page))))
    page.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        homes = build_homes(Path(tmp), args.rows)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        base = floor(browser, args.repeats, Path(tmp))
        results = {kind: measure(browser, home, noun, ids, args.repeats) for kind, (home, noun, ids) in homes.items()}
        chromium = browser.version
        browser.close()
    print(f"# Dashboard in a real browser ({args.rows:,} rows per dataset, {args.repeats} repeats)\n")
    print(f"python {platform.python_version()} · streamlit {version('streamlit')} · plotly {version('plotly')} · pandas {version('pandas')} · "
          f"xgboost {version('xgboost')} · playwright {version('playwright')} · chromium {chromium} · {os.cpu_count()} CPUs · "
          f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} · load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}\n")
    fs, fi = statistics.median(base["restart"]), statistics.median(base["interaction"])
    print(f"Floor (blank Streamlit page, same browser): server start until usable p50 {fs:.2f} s; click round trip p50 {fi * 1000:.0f} ms.\n")
    print("| dataset | what | p50 | max | floor | p50 ÷ floor | target | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, rows in results.items():
        for what, values in rows.items():
            restart = what.startswith("restart")
            target, fl = (5.0, fs) if restart else (1.0, fi)
            p50 = statistics.median(values)
            print(f"| {kind} | {what} | {p50:.2f} s | {max(values):.2f} s | {fl:.2f} s | {p50 / fl:.1f}× | < {target:.0f} s | {'yes' if p50 < target else 'no'} |")


if __name__ == "__main__":
    main()
