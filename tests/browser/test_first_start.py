"""The first start on an empty home, in the system Chromium, on both built-in datasets: the
sidebar lists the pages (never raw file names), a click on another page and a reload while it
trains show its progress (no traceback, no stale "already running"), and it ends serving."""

import pytest

from engine import api

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("kind", "noun"), [("companies", "company"), ("customers", "customer")])
def test_first_start_survives_a_click_and_a_reload(browser, app_server, tmp_path, kind, noun):
    home = tmp_path / "home"
    url = app_server(home, BENCHAI_DEMO_KIND=kind)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_text("First start").first.wait_for()
    nav = page.locator("[data-testid=stSidebarNav]").inner_text()
    assert "Batch" in nav and "Monitoring" in nav and "main" not in nav.split()  # the page titles, not file names
    page.locator("[data-testid=stSidebarNav]").get_by_text("Batch").click()
    page.wait_for_timeout(1500)
    body = page.inner_text("body")
    assert "Traceback" not in body and "Error" not in body, body[:500]
    assert "First start" in body or "Batch scoring" in body
    page.reload()
    page.wait_for_timeout(1500)
    body = page.inner_text("body")
    assert "already running" not in body and "Traceback" not in body, body[:500]
    page.get_by_role("heading", name="Batch scoring").wait_for(timeout=600_000)  # the page opened ends up served
    page.goto(url)
    page.get_by_text(f"Analyze a {noun}").wait_for()
    ws = api.workspace(home)
    assert ws.aliases()["champion"] == "v0001" and len(ws.models()) == 1  # trained once, not once per session
    assert ws.store.prediction_count() > 0  # the replayed monitoring history is there
    page.close()
