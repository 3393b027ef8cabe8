from app import charts, report
from app import format as fmt


def test_format_numbers_for_people():
    assert fmt.number(1234567) == "1,234,567"
    assert fmt.percent(0.1234) == "12.3%"
    assert fmt.currency(-2500.4) == "-$2,500"
    assert fmt.rank(73) == "73rd percentile"
    assert fmt.rank(11) == "11th percentile"
    assert fmt.value({"unit": "ratio"}, 0.5) == "50.0%"
    assert fmt.number(float("nan")) == "—"


def test_segment_colours_are_stable():
    assert charts.segment_colour(0) == charts.SEGMENT_COLOURS[0]
    assert charts.segment_colour(len(charts.SEGMENT_COLOURS)) == charts.SEGMENT_COLOURS[0]


def test_waterfall_ends_at_the_margin():
    contributions = [{"feature": "a", "contribution": 0.5}, {"feature": "b", "contribution": -0.2}]
    fig = charts.plot_waterfall(-1.0, contributions)
    assert list(fig.data[0].measure) == ["absolute", "relative", "relative", "total"]
    assert fig.data[0].x[-1] == -0.7


def test_report_is_self_contained_html(ws):
    model = ws.model()
    row = ws.table("sample").iloc[0].to_dict()
    analysis = model.analyze(row).to_dict()
    html = report.render_html(analysis, {f["name"]: f for f in model.schema.to_dict()["features"]})
    assert html.startswith("<!doctype html>")
    assert analysis["segment"]["name"].split(":")[0] in html
    assert "<script" not in html and "http" not in html


def test_report_sections_come_from_the_page_components(ws):
    from app.components import actions, percentiles, prediction, similar

    analysis = ws.analyze(ws.table("sample").query("company_id == '3'").iloc[0].to_dict()).to_dict()
    features = {f["name"]: f for f in ws.details()["manifest"]["schema"]["features"]}
    html = report.render_html(analysis, features)
    assert prediction.prediction_data(analysis, features)["probability_text"] in html
    for row in actions.actions_data(analysis, features):
        assert row["change"] in html and row["expected_effect"] in html
    for rank in percentiles.percentiles_data(analysis["percentiles"], features)["Rank"]:
        assert rank in html
    for row in similar.similar_data(analysis):
        assert f"<td>{row['Company']}</td>" in html


def test_the_first_page_does_not_import_the_model_libraries():
    """A restart is usable in seconds because the dashboard's first page needs no model: the
    model libraries (seconds of imports) load with the first model, in the warm-up thread."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; import app.common, app.bootstrap, app.charts, app.components.profile_form, app.report; "
            "print(sorted(m for m in ('sklearn', 'xgboost', 'shap', 'skops', 'scipy.stats') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]", out.stdout
