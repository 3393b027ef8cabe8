"""The second built-in dataset (customers) through every surface: engine, CLI and HTTP.

It is shaped unlike the demo: text ids, categories and yes/no flags written as words and
digits, blanks and "?" for missing amounts, no score features, the noun "customer" and an
undesirable outcome (churn). Each test asserts what a user would see, and that no demo word
("compan...") leaks into it.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from engine import api, cli
from engine.demo.customers import DRIFTED, PAYMENTS
from engine.errors import ProfileError
from engine.service import TOKEN_ENV, create_app

BINARY = ("paperless_billing", "autopay", "senior")
CATEGORIES = ("contract", "payment_method", "internet_service")
NOT_ACTIONABLE = ("tenure_months", "monthly_charges", "total_spend", "payment_method", "internet_service", "paperless_billing", "senior")


@pytest.fixture(scope="module")
def home(trained_home):
    return trained_home("customers")


@pytest.fixture(scope="module")
def ws(home):
    return api.workspace(home)


@pytest.fixture(scope="module")
def raw(home) -> pd.DataFrame:
    """customers.csv exactly as written: blanks and '?' kept as text, as a user's file has them."""
    return pd.read_csv(home / "demo" / "customers.csv", dtype=str, keep_default_na=False)


def row(raw: pd.DataFrame, **where) -> dict:
    frame = raw
    for key, value in where.items():
        frame = frame[frame[key] == value]
    return frame.drop(columns=["churned"]).iloc[0].to_dict()


def no_demo_words(value) -> None:
    text = json.dumps(value, default=str).lower()
    assert "compan" not in text and "maturity" not in text


# ----- engine ------------------------------------------------------------------------------
def test_schema_v2_is_read_with_everything_it_says(ws):
    schema = ws.champion().schema
    assert (schema.entity.singular, schema.entity.plural) == ("customer", "customers")
    assert [f.kind for f in schema.features if f.name in BINARY] == ["binary"] * 3
    assert schema.feature("contract").values == ("Month-to-month", "One year", "Two year")
    assert set(schema.feature("payment_method").values) == set(PAYMENTS)  # learned from the data
    assert schema.feature("contract").required and not schema.feature("tenure_months").actionable
    assert schema.time == "month" and "?" in schema.na_values
    assert schema.drift["tests"] == {"monthly_charges": "psi"}


def test_every_training_row_is_analysable(ws, raw):
    for profile in raw.drop(columns=["churned"]).sample(150, random_state=0).to_dict("records"):
        analysis = ws.analyze(profile)
        assert analysis.prediction is not None
        assert analysis.entity_id == profile["customer_id"]


def test_a_row_with_blanks_lists_them_as_missing(ws, raw):
    profile = row(raw, monthly_charges="?")
    analysis = ws.analyze(profile).to_dict()
    assert "monthly_charges" in analysis["missing"]
    assert analysis["entity"] == {"singular": "customer", "plural": "customers"}
    assert analysis["profile"]["customer_id"] == profile["customer_id"]  # a text id, kept as text
    contributions = {c["feature"]: c for c in analysis["prediction"]["contributions"]}
    assert contributions["monthly_charges"]["value"] is None
    # One SHAP row per original column: categories are folded back, none is split.
    assert set(contributions) == {f.name for f in ws.champion().schema.features} | {"region", "channel"}
    no_demo_words(analysis)


def test_a_category_moves_the_prediction(ws, raw):
    profile = row(raw, contract="One year")
    monthly = ws.analyze({**profile, "contract": "Month-to-month"}).prediction
    two_year = ws.analyze({**profile, "contract": "Two year"}).prediction
    assert monthly["probability"] - two_year["probability"] > 0.15  # planted: +1.7 vs -1.2 log-odds
    share = {c["feature"]: c["contribution"] for c in monthly["contributions"]}
    assert share["contract"] > 0  # month-to-month pushes churn up


def test_a_rare_category_is_an_anomaly_and_flags_never_get_a_z(ws, raw):
    analysis = ws.analyze(row(raw, payment_method="Crypto wallet")).to_dict()
    rare = [a for a in analysis["anomalies"] if a["feature"] == "payment_method"]
    assert rare and rare[0]["kind"] == "rare value" and rare[0]["frequency"] < 0.01
    assert rare[0]["z"] is None and "Crypto wallet is rare" in rare[0]["message"]
    assert "customers have it" in rare[0]["message"]
    for profile in raw.drop(columns=["churned"]).head(200).to_dict("records"):
        result = ws.analyze(profile)
        for a in result.anomalies:
            if a["feature"] in BINARY + CATEGORIES:
                assert a["z"] is None and a["kind"] == "rare value"
        assert not {p["feature"] for p in result.percentiles} & set(BINARY + CATEGORIES)


def test_actions_respect_actionable_and_the_undesirable_outcome(ws, raw):
    seen = 0
    for profile in raw.drop(columns=["churned"]).head(300).to_dict("records"):
        result = ws.analyze(profile)
        for r in result.recommendations:
            seen += 1
            assert r["feature"] not in NOT_ACTIONABLE
            assert r["model_effect"] <= 0  # churn is undesirable: an action never raises it
        if result.recommendations and any(r["model_effect"] < 0 for r in result.recommendations):
            assert result.recommendations[0]["model_effect"] < 0  # one the model expects to help leads
            assert profile["customer_id"] not in r["evidence"]
        assert profile["customer_id"] not in [s["id"] for s in result.similar]
    assert seen > 0


def test_a_category_action_switches_to_what_better_similar_customers_have(ws, raw, home):
    """contract is an actionable category: a month-to-month customer likely to churn is told to
    switch to the contract most non-churning similar customers have; the evidence ids have that
    contract and did not churn, the entity is not among them, and the model's effect (a change
    of the churn probability) is a decrease."""
    data = pd.read_csv(home / "demo" / "customers.csv", dtype=str, keep_default_na=False).set_index("customer_id")
    found = 0
    for profile in raw[raw["contract"] == "Month-to-month"].drop(columns=["churned"]).head(300).to_dict("records"):
        result = ws.analyze(profile)
        for r in result.recommendations:
            if r["feature"] != "contract":
                continue
            found += 1
            assert r["current"] == "Month-to-month" and r["target"] in ("One year", "Two year")
            assert r["action"] == f"Switch contract to {r['target']}" and r["gap_sd"] is None
            assert r["model_effect"] < 0 and r["peer_uplift"] >= 0.05
            assert profile["customer_id"] not in r["evidence"]
            evidence = data.loc[r["evidence"]]
            assert (evidence["contract"] == r["target"]).all() and (evidence["churned"] == "No").all()
    assert found >= 5


def test_a_gap_in_a_column_that_never_had_one_reads_as_its_median(ws, raw, home):
    """XGBoost learns where a gap goes only from gaps in training; tenure never had one, so a
    missing tenure is predicted as the median tenure, not sent down an arbitrary branch."""
    profile = row(raw, contract="Month-to-month")
    data = pd.read_csv(home / "demo" / "customers.csv")
    without = ws.analyze({**profile, "tenure_months": None}).prediction["probability"]
    at_median = ws.analyze({**profile, "tenure_months": data["tenure_months"].median()}).prediction["probability"]
    assert without == pytest.approx(at_median)
    # Region was never missing either: leaving it out reads as the most frequent region.
    frequent = data["region"].mode()[0]
    assert ws.analyze({**profile, "region": None}).prediction["probability"] == pytest.approx(
        ws.analyze({**profile, "region": frequent}).prediction["probability"]
    )


def test_only_a_contract_predicts_near_the_contract_churn_rate(ws, home):
    data = pd.read_csv(home / "demo" / "customers.csv")
    rate = (data.loc[data["contract"] == "Month-to-month", "churned"] == "Yes").mean()
    probability = ws.analyze({"contract": "Month-to-month"}).prediction["probability"]
    assert abs(probability - rate) < 0.25  # a typical month-to-month customer, not an extreme one


def test_missing_required_and_bad_values_are_named(ws, raw):
    profile = row(raw, contract="One year")
    with pytest.raises(ProfileError) as err:
        ws.analyze({**profile, "contract": " ", "autopay": "maybe", "payment_method": "Cash"})
    problems = {p["field"]: p["problem"] for p in err.value.problems}
    assert problems["contract"].startswith("missing; it is required")
    assert problems["autopay"].startswith("not yes or no: 'maybe'")
    assert problems["payment_method"].startswith("unknown value 'Cash'; expected one of")


def test_segments_and_percentiles_speak_of_customers(ws, raw):
    analysis = ws.analyze(row(raw, contract="Two year")).to_dict()
    assert "customers" in analysis["segment"]["description"]
    for p in analysis["percentiles"]:
        assert p["message"].endswith("customers.")
        if p["better"] == "none":  # no better direction: no rank, no verdict, only a position
            assert p["rank"] is None and p["message"].startswith("Higher than")
    no_demo_words(analysis)


# ----- command line ------------------------------------------------------------------------
def run_cli(capsys, *args) -> tuple[int, dict | str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 and out.out.strip() else out.err)


@pytest.fixture(scope="module")
def cli_home(home, tmp_path_factory):
    copy = tmp_path_factory.mktemp("cli-customers") / "home"
    shutil.copytree(home, copy)
    return copy


@pytest.mark.slow  # trains a version through the CLI: CI runs it
def test_cli_demo_data_and_train(tmp_path, capsys):
    code, files = run_cli(capsys, "demo-data", "--kind", "customers", "--rows", "800", "--out", str(tmp_path / "d"))
    assert code == 0 and set(files) == {"customers", "current", "recent", "schema", "truth"}
    text = (tmp_path / "d" / "customers.csv").read_text()
    assert ", ," in text.replace(",,", ", ,") and ",?," in text  # blanks and '?' are in the file
    code, result = run_cli(capsys, "train", "--home", str(tmp_path / "h"), "--data", files["customers"], "--schema", files["schema"])
    assert code == 0 and result["version"] == "v0001" and result["promoted"]
    assert result["metrics"]["holdout"]["roc_auc"] > 0.7


def test_cli_analyze_score_drift_monitor(cli_home, raw, tmp_path, capsys):
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps(row(raw, monthly_charges=" ")))
    code, analysis = run_cli(capsys, "analyze", "--home", str(cli_home), "--profile", str(profile))
    assert code == 0 and analysis["missing"] == ["monthly_charges"] and analysis["profile"]["customer_id"].startswith("CU-")
    no_demo_words(analysis)

    out = tmp_path / "scored.csv"
    code, done = run_cli(capsys, "score", "--home", str(cli_home), "--data", str(cli_home / "demo" / "customers.csv"), "--out", str(out))
    scored = pd.read_csv(out, dtype={"customer_id": str})
    assert code == 0 and done["rows"] == len(raw) == len(scored)
    assert scored["customer_id"].tolist() == raw["customer_id"].tolist()
    assert {"probability", "rank_tenure_months", "rank_support_tickets", "position_monthly_charges"} <= set(scored.columns)
    assert not [c for c in scored.columns if c.endswith(BINARY + CATEGORIES)]

    code, drift = run_cli(capsys, "drift", "--home", str(cli_home), "--current", str(cli_home / "demo" / "current.csv"))
    drifted = {c["column"] for c in drift["columns"] if c["drifted"]}
    assert code == 0 and set(DRIFTED) <= drifted
    assert next(c for c in drift["columns"] if c["column"] == "monthly_charges")["test"] == "psi"  # the schema's [drift]

    code, summary = run_cli(capsys, "monitor", "--home", str(cli_home))
    assert code == 0 and summary["volume"]["total"] > 0
    no_demo_words(summary)


def test_cli_feedback_keyed_by_the_text_id(cli_home, raw, tmp_path, capsys):
    current = pd.read_csv(cli_home / "demo" / "current.csv", dtype=str)  # replayed: logged
    rows = current[["customer_id", "churned"]].head(5)
    rows = pd.concat([rows, pd.DataFrame({"customer_id": ["CU-NEVER"], "churned": ["No"]})])
    path = tmp_path / "fb.csv"
    rows.to_csv(path, index=False)
    code, result = run_cli(capsys, "feedback", "--home", str(cli_home), "--data", str(path))
    assert code == 0 and result == {"recorded": 6, "corrected": 0, "duplicates": 0, "matched": 5, "unmatched": 1}
    labelled = api.workspace(cli_home).store.labelled_predictions()
    assert set(rows["customer_id"][:5]) <= set(labelled["company_id"])
    # The target's own words are read as training reads them: "Yes" (the positive) is 1.
    latest = labelled.sort_values("ts").groupby("company_id")["outcome"].last()
    expected = (rows.set_index("customer_id")["churned"][:5] == "Yes").astype(int)
    assert latest[expected.index].tolist() == expected.tolist()


def test_cli_bad_profile_names_fields_without_traceback(cli_home, raw, tmp_path, subprocess_env):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**row(raw, contract="One year"), "contract": "Weekly", "senior": "perhaps"}))
    done = subprocess.run(
        [sys.executable, "-m", "engine", "analyze", "--home", str(cli_home), "--profile", str(path)],
        env=subprocess_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "contract: unknown value 'Weekly'" in done.stderr and "senior: not yes or no" in done.stderr


# ----- HTTP --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(home, tmp_path_factory, monkeypatch_module):
    served = tmp_path_factory.mktemp("http-customers")
    shutil.copytree(home / "models", served / "models")
    return TestClient(create_app(served, token=""))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("BENCHAI_DB_URL", raising=False)
        mp.delenv(TOKEN_ENV, raising=False)
        yield mp


def test_http_openapi_lists_categories_and_flags(client):
    profile = client.get("/openapi.json").json()["components"]["schemas"]["Profile"]
    contract = profile["properties"]["contract"]
    assert contract.get("enum") == ["Month-to-month", "One year", "Two year"]  # required: no null
    assert profile["required"] == ["contract"]
    assert "yes or no" in profile["properties"]["autopay"]["description"]


def test_http_analyze_what_if_and_feedback(client, raw):
    numbers = ("tenure_months", "monthly_charges", "total_spend", "support_tickets")
    profile = {k: (None if v.strip() in ("", "?") else float(v) if k in numbers else v) for k, v in row(raw, total_spend="?").items()}
    profile["senior"] = 1
    profile["autopay"] = False
    response = client.post("/analyze", json=profile)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["missing"] == ["total_spend"] and out["profile"]["senior"] == 1.0
    no_demo_words(out)
    changed = client.post("/what-if", json={"profile": profile, "changes": {"contract": "Two year"}})
    assert changed.status_code == 200
    assert changed.json()["prediction"]["probability"] != out["prediction"]["probability"]
    feedback = client.post("/feedback", json={"rows": [{"entity_id": profile["customer_id"], "outcome": 1}, {"entity_id": "CU-NONE", "outcome": 0}]})
    assert feedback.json() == {"count": 2, "recorded": 2, "corrected": 0, "duplicates": 0, "matched": 1, "unmatched": 1}
    bad = client.post("/analyze", json={**profile, "contract": "Weekly"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "contract"]


def test_http_score_csv_with_blanks(client, home):
    body = (home / "demo" / "customers.csv").read_text().splitlines()
    response = client.post("/score", content="\n".join(body[:51]), headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert len(rows) == 50 and rows[0]["customer_id"].startswith("CU-")
    assert all(0 <= r["probability"] <= 1 for r in rows)


def test_http_benchmarks_and_registry(client):
    compare = client.post("/benchmarks/compare", json={"values": {"tenure_months": 3, "support_tickets": 6}, "peer_group": {"region": "North", "channel": "Online"}})
    assert compare.status_code == 200, compare.text
    ranks = {p["feature"]: p for p in compare.json()["percentiles"]}
    assert ranks["tenure_months"]["rank"] < 30 and ranks["support_tickets"]["rank"] < 20  # short and many tickets: bad
    for path in ("/benchmarks/segments", "/benchmarks/features", "/models", "/health"):
        response = client.get(path)
        assert response.status_code == 200, path
        no_demo_words(response.json())


def test_missing_numbers_in_a_profile_do_not_change_other_features(ws, raw):
    """Imputation is per feature: leaving one amount out leaves the others' percentiles as they were."""
    profile = row(raw, contract="One year")
    full = {p["feature"]: p["rank"] for p in ws.analyze(profile).percentiles}
    without = {p["feature"]: p["rank"] for p in ws.analyze({**profile, "support_tickets": math.nan}).percentiles}
    assert "support_tickets" not in without
    assert {k: v for k, v in full.items() if k != "support_tickets"} == without


@pytest.mark.slow  # end to end through the CLI (train, promote, replay): CI runs it
def test_cli_registry_and_replay(cli_home, capsys):
    home, demo = str(cli_home), cli_home / "demo"
    code, trained = run_cli(capsys, "train", "--home", home, "--data", str(demo / "customers.csv"), "--schema", str(demo / "schema.toml"), "--no-promote", "--seed", "1", "--quiet")
    assert code == 0 and trained["version"] == "v0002" and not trained["promoted"]
    code, listed = run_cli(capsys, "models", "list", "--home", home)
    assert code == 0 and [v["version"] for v in listed["versions"]] == ["v0001", "v0002"]
    assert listed["aliases"] == {"champion": "v0001", "challenger": "v0002"}
    code, _ = run_cli(capsys, "models", "promote", "v0002", "--home", home)
    assert code == 0 and api.workspace(cli_home).aliases()["champion"] == "v0002"
    code, _ = run_cli(capsys, "models", "rollback", "--home", home)
    assert code == 0 and api.workspace(cli_home).aliases()["champion"] == "v0001"
    code, replayed = run_cli(capsys, "replay", "--home", home, "--weeks", "6")
    assert code == 0 and replayed["predictions"] > 0 and replayed["feedback"] > 0


@pytest.mark.slow  # a real training job over HTTP: CI runs it
def test_http_drift_and_training_job(client, home, raw):
    numbers = ("tenure_months", "monthly_charges", "total_spend", "support_tickets")
    for profile in raw.drop(columns="churned").head(30).to_dict("records"):
        body = {k: (None if v.strip() in ("", "?") else float(v) if k in numbers else v) for k, v in profile.items()}
        assert client.post("/analyze", json=body).status_code == 200
    for _ in range(50):  # the prediction log is written in groups, a moment after the answers
        drift = client.get("/drift", params={"days": 3650})
        if drift.status_code == 200:
            break
        time.sleep(0.1)
    assert drift.status_code == 200, drift.text
    columns = {c["column"]: c for c in drift.json()["columns"]}
    assert columns["monthly_charges"]["test"] == "psi" and columns["contract"]["column_type"] == "categorical"
    body = {"data": str(home / "demo" / "customers.csv"), "schema": str(home / "demo" / "schema.toml"), "promote": False}
    # The table and parameters v0001 was trained from: the job says so and writes nothing.
    state = _finished_job(client, client.post("/train", json=body))
    assert state["status"] == "succeeded" and state["version"] == "v0001", state
    assert state["result"]["unchanged"] and not state["result"]["promoted"]
    assert state["result"]["reason"] == state["message"] == "nothing changed: same data, schema and parameters as v0001 (champion)"
    assert [v["version"] for v in client.get("/models").json()["versions"]] == ["v0001"]
    state = _finished_job(client, client.post("/train", json={**body, "force": True}))
    assert state["status"] == "succeeded", state
    assert state["result"]["version"] == "v0002" and not state["result"]["promoted"] and not state["result"]["unchanged"]
    models = client.get("/models").json()
    assert models["aliases"]["challenger"] == "v0002"


def _finished_job(client, started) -> dict:
    assert started.status_code == 202, started.text
    for _ in range(600):
        state = client.get(f"/jobs/{started.json()['id']}").json()
        if state["status"] in ("succeeded", "failed"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"the training job did not finish: {state}")


def test_every_likely_churner_gets_an_action_or_a_reason(ws, raw):
    reasons = set()
    for profile in raw.drop(columns=["churned"]).head(300).to_dict("records"):
        result = ws.analyze(profile)
        assert (result.recommendations == []) == (result.no_action_reason is not None)
        if result.prediction["probability"] >= 0.5 and not result.recommendations:
            assert result.no_action_reason.startswith("No action: ")
            reasons.add(result.no_action_reason)
    assert all("compan" not in r for r in reasons)


def test_out_of_time_validation_from_the_time_column(ws, home):
    """Train on the earlier months, test on the latest ones; labelled with what it measured."""
    metrics = ws.details()["metrics"]
    later = metrics["out_of_time"]
    data = pd.read_csv(home / "demo" / "customers.csv")
    months = sorted(data["month"].unique())
    assert later["n"] == (data["month"] > pd.Series(pd.to_datetime(data["month"])).quantile(0.8).strftime("%Y-%m")).sum()
    assert 0.6 < later["roc_auc"] < 1 and "out_of_time" in metrics["baseline"]
    assert metrics["validation"]["out_of_time"].endswith(f"to {months[-1]}-01)")
    assert "later rows" in metrics["validation"]["out_of_time"]
