"""Every page on the second built-in dataset (customers), under AppTest: what a user sees must
be about customers, with no word of the company demo, and every number must belong to the
profile on screen."""

import pytest

from engine import api
from tests.app.conftest import PAGES, start_app
from tests.app.test_pages import check_example_profiles, texts

DEMO_WORDS = ("compan", "maturity", "industry")


@pytest.fixture(scope="module")
def customers_home(writable_home):
    return writable_home("customers")


@pytest.fixture(scope="module")
def cws(customers_home):
    return api.workspace(customers_home)


@pytest.fixture
def capp(customers_home, monkeypatch):
    return start_app(customers_home, monkeypatch)


def no_demo_words(at) -> None:
    page = texts(at).lower()
    page += " ".join(str(w.label).lower() for w in [*at.selectbox, *at.number_input, *at.button])
    for frame in at.dataframe:
        page += " ".join(map(str, frame.value.columns)).lower()
    for word in DEMO_WORDS:
        assert word not in page, word


def analyze(at, customer_id: str):
    at.selectbox(key="load_id").set_value(customer_id).run()
    at.button(key="load_btn").click().run()
    at.button(key="FormSubmitter:profile-Analyze").click().run()
    assert not at.exception
    return at


def test_analyze_a_customer_by_text_id(capp, cws):
    sample = cws.table("sample")
    row = sample[sample["monthly_charges"].isna()].iloc[0]
    at = analyze(capp, row["customer_id"])
    analysis = at.session_state["analysis"]
    expected = cws.analyze({k: v for k, v in row.to_dict().items() if k != "churned"}).to_dict()
    assert analysis["profile"]["customer_id"] == row["customer_id"]
    assert analysis["prediction"]["probability"] == pytest.approx(expected["prediction"]["probability"])
    page = texts(at)
    assert at.title[0].value == "Analyze a customer"
    assert "Not given: Monthly charges" in page
    assert f"{expected['prediction']['probability'] * 100:.1f}%" in page
    assert "Churns within 3 months" in page
    assert "Similar customers" in page
    # No scores: no radar, the segment's features in a table instead.
    assert any("Segment centre" in frame.value.columns for frame in at.dataframe)
    # Yes/no and categories are select boxes showing the profile's words.
    assert at.selectbox(key=_key(at, "contract")).value == row["contract"]
    assert at.selectbox(key=_key(at, "paperless_billing")).value == ("yes" if row["paperless_billing"] == 1 else "no")
    no_demo_words(at)


def test_what_if_on_a_category(capp, cws):
    sample = cws.table("sample")
    row = sample[(sample["contract"] == "Month-to-month") & sample.notna().all(axis=1)].iloc[0]
    at = analyze(capp, row["customer_id"])
    analysis = at.session_state["analysis"]
    contract = next(s for s in at.selectbox if s.key and s.key.startswith("wi_") and s.key.endswith("_contract"))
    contract.set_value("Two year").run()
    assert not at.exception
    expected = cws.what_if(analysis["profile"], {"contract": "Two year"})["prediction"]["probability"]
    shown = next(m for m in at.metric if m.label == "Probability after the changes")
    assert shown.value == f"{expected * 100:.1f}%"
    assert expected < analysis["prediction"]["probability"]  # planted: long contracts churn less


def test_example_profiles_come_from_the_data(capp, cws):
    assert set(capp.selectbox(key="sample_choice").options) == {"A typical customer", "A top performer", "One at risk"}
    check_example_profiles(capp, cws)


@pytest.mark.parametrize("page, expected", PAGES)
def test_every_page_speaks_of_customers(capp, page, expected):
    capp.switch_page(page).run()
    assert not capp.exception
    assert expected in texts(capp)
    no_demo_words(capp)


def test_benchmarks_series_from_the_time_column(capp, cws):
    capp.switch_page("views/benchmarks.py").run()
    series = cws.table("series")
    assert set(series["region"]) == {"all", "East", "North", "South", "West"}
    assert capp.selectbox(key="bm_series_region_all").value == "all"
    capp.selectbox(key="bm_region").set_value("West").run()
    assert capp.selectbox(key="bm_series_region_West").value == "West"  # follows the peer group
    capp.selectbox(key="bm_entity").set_value(cws.table("sample")["customer_id"].iloc[0]).run()
    assert not capp.exception
    table = next(d.value for d in capp.dataframe if "Rank" in d.value.columns)
    assert len(table) >= 2 and set(table["Metric"]) <= {"Tenure", "Monthly charges", "Total spend", "Support tickets (last year)"}


def test_model_page_shows_out_of_time_validation(capp, cws):
    capp.switch_page("views/model.py").run()
    table = capp.dataframe[0].value
    later = cws.details()["metrics"]["out_of_time"]
    assert table.loc[table["Metric"] == "ROC AUC", "Out-of-time"].iloc[0] == f"{later['roc_auc']:.3f}"
    assert "Out-of-time" in texts(capp) and "later rows" in texts(capp)


def _key(at, name: str) -> str:
    """The profile form's widget key of a field for the profile loaded now."""
    return f"in_{at.session_state['profile_load']}_{name}"
