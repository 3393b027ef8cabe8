"""Drive the real app in the system Chromium on both built-in datasets: load an entity by its
id, analyse it, see segment and prediction, open every page, and save a screenshot of every
page to docs/screenshots/<page>.png (companies) and docs/screenshots/customers-<page>.png."""

from pathlib import Path

import pytest
from test_flows import analyze_id, assert_analysed_profile_is, logged_analysis

from engine import api

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {"analyze": "", "benchmarks": "benchmarks", "segments": "segments", "model": "model",
         "monitoring": "monitoring", "models": "models", "batch": "batch"}

pytestmark = pytest.mark.slow


def shoot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window grows to fit it."""
    height = page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 1000)")
    page.set_viewport_size({"width": 1440, "height": min(int(height) + 80, 8000)})
    page.wait_for_timeout(1200)  # plotly redraws at the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 1000})


def test_analyze_by_id_and_screenshot_every_page(server, page, dataset, home):
    _, noun, entity_id, target_label, prefix = dataset
    page.goto(server)
    page.get_by_text(f"Analyze a {noun}").wait_for()
    analyze_id(page, noun, entity_id)
    body = page.inner_text("body")
    assert "Segment" in body and "Prediction" in body and target_label in body
    ws = api.workspace(home)  # the loaded entity is the one analysed, not the form's first profile
    assert_analysed_profile_is(ws, logged_analysis(ws, entity_id)["profile"], entity_id)
    if noun != "company":
        assert "compan" not in body.lower()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(1500)
    shoot(page, SHOTS / f"{prefix}analyze.png")
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
        shoot(page, SHOTS / f"{prefix}{name}.png")
    assert all((SHOTS / f"{prefix}{n}.png").is_file() for n in PAGES)
