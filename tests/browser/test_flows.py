"""The flows a person clicks through, replayed in the system Chromium on both built-in datasets,
asserting that what the page shows is true for the profile and version on screen:

- analyse A, then B, then C: the what-if shows no change until a control moves, then a change;
  loading another profile clears the previous results;
- a failed batch upload leaves nothing to download;
- promoting the version already champion is refused and the audit log is unchanged;
- the first start survives a click on another page and a reload (test_first_start.py).
"""

import pytest

from engine import api

pytestmark = pytest.mark.slow


def analyze_id(page, noun: str, entity_id: str) -> None:
    """Load an entity by its id and press Analyze; returns once the results are on screen."""
    picker = page.get_by_role("combobox", name=f"{noun.capitalize()} id")
    picker.click()
    picker.fill(entity_id)
    page.get_by_role("option", name=entity_id, exact=True).click()
    page.get_by_role("button", name=f"Load {noun}").click()
    page.get_by_text(f"Profile of {noun} {entity_id}").wait_for()
    # The load's rerun must end first: until it does, the previous entity's results stay on
    # the page (greyed out), and waiting for them below returned before this analysis ran.
    settled(page)
    page.get_by_role("button", name="Analyze").click()
    page.get_by_text("Percentile rankings against peers").wait_for()
    settled(page)


def assert_analysed_profile_is(ws, profile: dict, entity_id: str) -> None:
    """The profile the page analysed is the loaded entity's row of the sample, field by field
    (scores as the form shows them, to one decimal)."""
    schema = ws.details()["manifest"]["schema"]
    features = {f["name"]: f for f in schema["features"]}
    sample = ws.table("sample")
    row = sample[sample[schema["id"]].astype(str) == entity_id].iloc[0]
    for name, f in features.items():
        value, expected = profile.get(name), row[name]
        if value is None:
            assert expected != expected, (entity_id, name, expected)  # left out only where the entity has no value
        elif f["kind"] == "category":
            assert value == expected, (entity_id, name, value, expected)
        elif not isinstance(value, str):
            assert abs(float(value) - float(expected)) <= (0.05 if f["kind"] == "score" else 1e-6 * max(1.0, abs(expected))), (entity_id, name, value, expected)


def logged_analysis(ws, entity_id: str):
    """The last analysis the page logged for an entity: what it was served."""
    log = ws.store.predictions()
    return log[(log["source"] == "analyze") & (log["company_id"].astype(str) == entity_id)].iloc[-1]


def metric(page, label: str) -> tuple[str, str | None]:
    """(value, delta or None) of the st.metric with this label."""
    box = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)).first
    box.wait_for()
    value = box.locator("[data-testid=stMetricValue]").inner_text().strip()
    delta = box.locator("[data-testid=stMetricDelta]")
    return value, (delta.inner_text().strip() if delta.count() else None)


def settled(page) -> None:
    """Wait until Streamlit has finished the reruns a click or key press started: the page's
    text no longer changes over a second."""
    before = None
    for _ in range(60):
        page.wait_for_timeout(1000)
        now = page.inner_text("body")
        if now == before and page.locator("[data-testid=stStatusWidget]").count() == 0:
            return
        before = now
    raise AssertionError("the page kept changing for a minute")


def test_what_if_shows_no_change_until_a_control_moves(server, page, dataset, home):
    _, noun, _, target_label, _ = dataset
    ws = api.workspace(home)
    id_col = ws.details()["manifest"]["schema"]["id"]
    sample = ws.table("sample")
    target = ws.details()["manifest"]["schema"]["target"]["column"]  # the sample keeps it encoded 0/1
    undecided = ws.score(sample.drop(columns=target))["probability"].between(0.25, 0.75).to_numpy()  # room for a move to show
    ids = [str(v) for v in sample.loc[undecided, id_col].iloc[[0, 7, 41]]]
    page.goto(server)
    page.get_by_text(f"Analyze a {noun}").wait_for()
    for entity_id in ids:  # A, then B, then C: nothing carries over
        analyze_id(page, noun, entity_id)
        logged = logged_analysis(ws, entity_id)
        assert_analysed_profile_is(ws, logged["profile"], entity_id)
        shown, _ = metric(page, target_label)
        assert shown == f"{logged['probability'] * 100:.1f}%", entity_id
        after, delta = metric(page, "Probability after the changes")
        assert after == shown and delta == "0 points", (entity_id, after, delta)
    # Moving one control changes the probability, and the delta says by how much.
    slider = page.get_by_role("slider").first
    slider.focus()
    for _ in range(15):
        slider.press("ArrowRight")
    settled(page)
    after, delta = metric(page, "Probability after the changes")
    moved = float(after.rstrip("%")) - float(shown.rstrip("%"))
    assert delta != "0 points" and abs(float(delta.split()[0]) - moved) < 0.11, (after, shown, delta)
    # Loading another profile clears the results of the one on screen.
    page.get_by_role("button", name="Use example profile").click()
    settled(page)
    assert page.get_by_text("Percentile rankings against peers").count() == 0
    assert page.get_by_text("Probability after the changes").count() == 0


def test_a_failed_batch_upload_leaves_nothing_to_download(server, page, home, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("".join((home / "demo" / "recent.csv").read_text().splitlines(keepends=True)[:51]))  # a user's file: header + 50 rows
    page.goto(f"{server}/batch")
    page.get_by_text("Batch scoring").first.wait_for()
    page.locator("input[type=file]").set_input_files(str(good))
    page.get_by_role("button", name="Score the table").click()
    page.get_by_text("50 rows of good.csv scored").wait_for()
    page.get_by_role("button", name="Download scores (CSV)").wait_for()
    assert "e+" not in page.locator("[data-testid=stDataFrame]").first.inner_text()

    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,table,of,this,schema\n1,2,3,4,5,6\n")
    page.locator("input[type=file]").set_input_files(str(bad))
    settled(page)
    assert page.get_by_role("button", name="Download scores (CSV)").count() == 0  # another file: old scores gone
    page.get_by_role("button", name="Score the table").click()
    page.locator("[data-testid=stAlertContentError]").first.wait_for()
    assert page.get_by_role("button", name="Download scores (CSV)").count() == 0
    assert "rows of" not in page.inner_text("body")


def test_promoting_the_champion_is_refused(server, page, home):
    ws = api.workspace(home)
    champion, audit = ws.aliases()["champion"], len(ws.audit_log())
    page.goto(f"{server}/models")
    page.get_by_text("Retrain, promote, roll back").wait_for()
    settled(page)
    box = page.get_by_role("combobox", name="Promote version")
    box.click()
    box.fill(champion)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Promote to champion").click()
    page.get_by_text(f"{champion} is already the champion").wait_for()
    assert ws.aliases()["champion"] == champion and len(ws.audit_log()) == audit


def test_an_alert_is_acknowledged_then_resolved(server, page, home):
    ws = api.workspace(home)
    page.goto(f"{server}/monitoring")
    page.get_by_role("heading", name="Alerts").wait_for()
    settled(page)
    unresolved = ws.monitoring.alerts(open_only=True)  # after the page's own check of the rules
    first = next(a for a in unresolved if a["state"] == "open")
    assert page.get_by_text(first["message"]).count() >= 1  # labels, as the store holds them
    page.locator(f".st-key-alert_ack_{first['id']} button").click()
    settled(page)
    assert {a["id"]: a["state"] for a in ws.monitoring.alerts()}[first["id"]] == "acknowledged"
    assert page.get_by_text("acknowledged by local").count() >= 1
    page.locator(f".st-key-alert_resolve_{first['id']} button").click()
    settled(page)
    after = {a["id"]: a for a in ws.monitoring.alerts()}
    assert after[first["id"]]["state"] == "resolved" and after[first["id"]]["resolved_by"] == "local"
    assert after[first["id"]]["acknowledged_by"] == "local"
    assert page.locator(f".st-key-alert_resolve_{first['id']}").count() == 0  # gone from the unresolved list
