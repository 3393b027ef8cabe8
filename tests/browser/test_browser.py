"""Drive the real app in the system Chromium on both built-in datasets: load an entity by its
id, analyse it, see segment and prediction, open every page, and save a screenshot of every
page to docs/screenshots/<page>.png (companies) and docs/screenshots/customers-<page>.png."""

from pathlib import Path

import pytest

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = {"analyze": "", "benchmarks": "benchmarks", "segments": "segments", "model": "model",
         "monitoring": "monitoring", "models": "models", "batch": "batch"}

pytestmark = pytest.mark.slow


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
