"""The HTTP API (engine.service): every endpoint and its error paths, a training job that
completes, promotion and rollback changing what is served, admin tokens, and a property-based
run of schemathesis against the OpenAPI document asserting that no request gives a 5xx."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from engine import api
from engine.errors import ProfileError
from engine.service import TOKEN_ENV, create_app
from engine.service.auth import CLIENT_TOKEN_ENV
from engine.workspace import Workspace

SEGMENTS = ("industry", "size", "region")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _local_mode(monkeypatch):
    """Each HOME's own SQLite database and open admin endpoints, whatever the shell exports."""
    monkeypatch.delenv("BENCHAI_DB_URL", raising=False)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.delenv(CLIENT_TOKEN_ENV, raising=False)


# ----- fixtures: the session's trained home (conftest) -> a served copy -> app -------------
@pytest.fixture(scope="session")
def server_home(tmp_path_factory, home) -> Path:
    """A copy of the session's registry with its own prediction log (the served requests
    below write to it)."""
    served = tmp_path_factory.mktemp("server_home")
    shutil.copytree(home / "models", served / "models")
    return served


@pytest.fixture(scope="module")
def client(server_home) -> TestClient:
    return TestClient(create_app(server_home, token=""))


@pytest.fixture(scope="session")
def profiles(companies_csv) -> list[dict]:
    """Complete demo rows (no missing features), without the outcome."""
    frame = pd.read_csv(companies_csv).dropna().drop(columns=["high_growth"]).head(40)
    rows = frame.to_dict("records")
    for row in rows:
        row["company_id"] = int(row["company_id"])
    return rows


@pytest.fixture
def throwaway_home(server_home, tmp_path) -> Path:
    """A copy of the trained registry (no database) for tests that move aliases or train."""
    shutil.copytree(server_home / "models", tmp_path / "models")
    return tmp_path


def wait_for_job(client: TestClient, job_id: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def locs(response) -> set[tuple]:
    return {tuple(d["loc"]) for d in response.json()["detail"]}


# ----- the contract ------------------------------------------------------------------------
def test_openapi_request_models_come_from_the_dataset_schema(client, server_home):
    doc = client.get("/openapi.json").json()
    schema = api.workspace(server_home).model().schema
    profile = doc["components"]["schemas"]["Profile"]
    # Any feature or segment value may be missing (none is marked required in the demo schema).
    assert set(profile.get("required", [])) == {f.name for f in schema.features if f.required}
    strategy = profile["properties"]["strategy"]
    number = next(t for t in strategy["anyOf"] if t.get("type") == "number")
    assert (number["minimum"], number["maximum"]) == (0, 5)
    assert "Strategy maturity" in strategy["description"]
    industry = next(t for t in profile["properties"]["industry"]["anyOf"] if "enum" in t)
    assert industry["enum"] == list(schema.segment_values["industry"])
    analyze = doc["paths"]["/analyze"]["post"]
    assert analyze["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Profile"
    )
    assert "text/csv" in doc["paths"]["/score"]["post"]["requestBody"]["content"]
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


# ----- analysis ----------------------------------------------------------------------------
def test_analyze_returns_the_design_json_and_logs_it(client, profiles, server_home):
    response = client.post("/analyze", json=profiles[0])
    assert response.status_code == 200
    out = response.json()
    for key in (
        "model_version",
        "segment",
        "anomalies",
        "recommendations",
        "similar",
        "percentiles",
        "prediction",
    ):
        assert key in out
    assert out["model_version"] == "v0001"
    prediction = out["prediction"]
    margin = prediction["base_value"] + sum(c["contribution"] for c in prediction["contributions"])
    assert margin == pytest.approx(prediction["margin"], abs=1e-4)
    logged = api.workspace(server_home).store.predictions()
    row = logged[logged["id"] == out["prediction_id"]]
    assert len(row) == 1
    assert row["source"].iat[0] == "api"
    assert row["company_id"].iat[0] == str(profiles[0]["company_id"])


def test_analyze_lists_every_field_problem(client, profiles):
    bad = dict(profiles[0], strategy=9, industry="space travel", technology="high")
    response = client.post("/analyze", json=bad)
    assert response.status_code == 422
    assert {("body", "strategy"), ("body", "industry"), ("body", "technology")} <= locs(response)


def test_analyze_a_profile_with_missing_values(client, profiles):
    partial = dict(profiles[0], data=None, industry=None)
    del partial["profit_margin"]
    response = client.post("/analyze", json=partial)
    assert response.status_code == 200
    out = response.json()
    assert out["missing"] == ["data", "profit_margin"]
    assert 0 < out["prediction"]["probability"] < 1
    assert {p["feature"] for p in out["percentiles"]}.isdisjoint({"data", "profit_margin"})
    assert all(p["peer_group"] == "all" for p in out["percentiles"])  # no industry: all peers
    empty = client.post("/analyze", json={"industry": "retail"})
    assert empty.status_code == 422 and "no feature value given" in empty.text


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'"text"'])
def test_analyze_rejects_a_body_that_is_not_a_profile(client, body):
    response = client.post("/analyze", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_engine_profile_problems_become_422(client, profiles, server_home, monkeypatch):
    def refuse(profile, **_):
        raise ProfileError(
            [{"field": "strategy", "problem": "no"}, {"field": "data", "problem": "neither"}]
        )

    monkeypatch.setattr(api.workspace(server_home).champion(), "analyze", refuse)
    response = client.post("/analyze", json=profiles[5])  # not analysed before: not cached
    assert response.status_code == 422
    assert locs(response) == {("body", "strategy"), ("body", "data")}


def test_a_repeated_analysis_is_logged_each_time(client, profiles):
    first, second = (client.post("/analyze", json=profiles[6]).json() for _ in range(2))
    assert second["prediction_id"] > first["prediction_id"]
    first.pop("prediction_id"), second.pop("prediction_id")
    assert first == second


def test_what_if_moves_the_probability(client, profiles):
    low = client.post(
        "/what-if", json={"profile": profiles[1], "changes": {"strategy": 0, "technology": 0}}
    )
    high = client.post(
        "/what-if", json={"profile": profiles[1], "changes": {"strategy": 5, "technology": 5}}
    )
    assert low.status_code == high.status_code == 200
    assert high.json()["prediction"]["probability"] > low.json()["prediction"]["probability"]
    assert high.json()["profile"]["strategy"] == 5
    assert high.json()["prediction"]["contributions"]


def test_what_if_lists_problems_in_profile_and_changes(client, profiles):
    response = client.post(
        "/what-if", json={"profile": dict(profiles[1], size="huge"), "changes": {"strategy": -1}}
    )
    assert response.status_code == 422
    assert {("body", "profile", "size"), ("body", "changes", "strategy")} <= locs(response)


def test_compare_ranks_only_the_given_values(client, profiles):
    peer_group = {k: profiles[2][k] for k in SEGMENTS}
    response = client.post(
        "/benchmarks/compare",
        json={"values": {"strategy": 4.5, "profit_margin": 0.2}, "peer_group": peer_group},
    )
    assert response.status_code == 200
    rows = response.json()["percentiles"]
    assert {r["feature"] for r in rows} == {"strategy", "profit_margin"}
    assert all(0 <= r["rank"] <= 100 and r["peer_count"] > 0 for r in rows)


def test_compare_needs_values_and_a_known_peer_group(client, profiles):
    peer_group = {k: profiles[2][k] for k in SEGMENTS}
    assert locs(
        client.post("/benchmarks/compare", json={"values": {}, "peer_group": peer_group})
    ) == {("body", "values")}
    response = client.post(
        "/benchmarks/compare",
        json={"values": {"strategy": 1}, "peer_group": dict(peer_group, region="mars")},
    )
    assert response.status_code == 422
    assert ("body", "peer_group", "region") in locs(response)


def test_score_json_rows_csv_body_and_csv_answer(client, profiles, companies_csv):
    rows = [profiles[0], dict(profiles[1], strategy=None)]
    response = client.post("/score", json={"rows": rows})
    assert response.status_code == 200
    out = response.json()["rows"]
    assert len(out) == 2 and out[1]["rank_strategy"] is None
    assert 0 <= out[0]["probability"] <= 1

    csv = pd.read_csv(companies_csv).head(25).to_csv(index=False)
    response = client.post("/score", content=csv, headers={"content-type": "text/csv"})
    assert response.status_code == 200
    assert len(response.json()["rows"]) == 25
    response = client.post(
        "/score", content=csv, headers={"content-type": "text/csv", "accept": "text/csv"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert len(response.text.strip().splitlines()) == 26


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "text/csv"),
        (b"industry,size\nretail,small\n", "text/csv"),
        (b"\xff\xfe\x00", "text/csv"),
        (b'{"rows": []}', "application/json"),
        (b'{"rows": [{"industry": "retail"}]}', "application/json"),
    ],
)
def test_score_rejects_bad_tables(client, body, content_type):
    response = client.post("/score", content=body, headers={"content-type": content_type})
    assert response.status_code == 422
    assert response.json()["detail"]


def test_csv_and_json_scoring_refuse_the_same_bad_values(client, profiles):
    """One validation for every path: a value out of bounds or an unknown category is refused
    whether the table comes as JSON rows or as CSV."""
    bad = dict(profiles[0], strategy=99.0, industry="zzz")
    as_json = client.post("/score", json={"rows": [bad]})
    as_csv = client.post("/score", content=pd.DataFrame([bad]).to_csv(index=False).encode(), headers={"content-type": "text/csv"})
    assert as_json.status_code == as_csv.status_code == 422
    assert "strategy" in as_csv.text and "industry" in as_csv.text


def test_score_refuses_a_csv_whose_rows_outgrow_the_header(client, companies_csv):
    """A trailing comma on every row once shifted every column and still answered 200."""
    lines = companies_csv.read_text().splitlines()[:6]
    body = "\n".join([lines[0]] + [line + "," for line in lines[1:]]).encode()
    response = client.post("/score", content=body, headers={"content-type": "text/csv"})
    assert response.status_code == 422 and "more fields than the header" in str(response.json()["detail"])


# ----- benchmarks and registry -------------------------------------------------------------
def test_segments_and_features(client, server_home):
    segments = client.get("/benchmarks/segments").json()
    assert segments["segments"] == api.workspace(server_home).details()["insights"]["segments"]
    assert {"name", "size", "description", "centroid", "outcome_rate"} <= set(
        segments["segments"][0]
    )
    assert "projection" in client.get("/benchmarks/segments?projection=true").json()
    features = client.get("/benchmarks/features").json()
    strategy = next(f for f in features["features"] if f["name"] == "strategy")
    assert strategy == {
        **strategy,
        "min": 0,
        "max": 5,
        "kind": "score",
        "better": "higher",
        "label": "Strategy maturity",
    }
    assert strategy["action"]
    assert [s["column"] for s in features["segments"]] == list(SEGMENTS)


def test_models_lists_versions_and_aliases(client):
    out = client.get("/models").json()
    assert out["aliases"]["champion"] == "v0001"
    assert [v["version"] for v in out["versions"]] == ["v0001"]


@pytest.mark.parametrize("version", ["v9999", "latest", "..%2F..%2Fetc"])
def test_promote_unknown_version_is_404(client, version):
    assert client.post(f"/models/{version}/promote").status_code == 404


def test_unknown_job_is_404(client):
    assert client.get("/jobs/does-not-exist").status_code == 404


def test_rollback_without_an_earlier_champion_is_409(client):
    response = client.post("/models/rollback")
    assert response.status_code == 409
    assert "no earlier champion" in response.json()["detail"]


def test_health_reports_version_and_open_mode(client):
    assert client.get("/health").json() == {
        **client.get("/health").json(),
        "status": "ok",
        "model_version": "v0001",
        "auth": "open (local mode)",
        "local_mode": True,
        "prediction_log": True,
    }


# ----- monitoring --------------------------------------------------------------------------
def test_feedback_by_prediction_and_company(client, profiles, server_home):
    prediction_id = client.post("/analyze", json=profiles[3]).json()["prediction_id"]
    rows = [
        {"prediction_id": prediction_id, "outcome": 1},
        {"company_id": profiles[4]["company_id"], "outcome": 0},
    ]
    response = client.post("/feedback", json={"rows": rows})
    assert response.status_code == 200
    counts = {"corrected": 0, "matched": 1, "unmatched": 1}
    assert response.json() == {"count": 2, "recorded": 2, "duplicates": 0, **counts}
    # Sent again: the prediction's outcome is already recorded; the row keyed by company has
    # no time, so it is a new observation (module docstring of engine.store.feedback).
    again = client.post("/feedback", json={"rows": rows})
    assert again.json() == {"count": 1, "recorded": 1, "duplicates": 1, **counts}
    store = api.workspace(server_home).store
    assert store.labelled_predictions().query("prediction_id == @prediction_id")["outcome"].tolist() == [1]
    fixed = client.post("/feedback", json={"rows": [{"prediction_id": prediction_id, "outcome": 0}]})
    assert (fixed.json()["recorded"], fixed.json()["corrected"]) == (1, 1)
    assert store.labelled_predictions().query("prediction_id == @prediction_id")["outcome"].tolist() == [0]


@pytest.mark.parametrize(
    "rows",
    [
        [{"prediction_id": 10**12, "outcome": 1}],  # unknown prediction
        [{"outcome": 1}],  # names no prediction
        [{"company_id": "a", "outcome": 2}],  # not 0/1
        [],
    ],
)
def test_feedback_rejects_bad_rows(client, rows):
    assert client.post("/feedback", json={"rows": rows}).status_code == 422


def test_drift_of_the_prediction_log(throwaway_home, profiles):
    client = TestClient(create_app(throwaway_home, token=""))
    empty = client.get("/drift")
    assert empty.status_code == 409 and "No predictions" in empty.json()["detail"]
    for profile in profiles[:20]:
        assert client.post("/analyze", json=profile).status_code == 200
    report = client.get("/drift?days=1")
    assert report.status_code == 200
    assert report.json()["n_current"] == 20
    assert client.get("/drift?days=-1").status_code == 422


def test_alert_lifecycle_over_http(throwaway_home, monkeypatch):
    """Acknowledge and resolve need the admin token, record it as the actor, and show in
    GET /alerts; unknown ids are 404 and acknowledging a resolved alert is 409."""
    monkeypatch.setenv(TOKEN_ENV, "s3cret-token")
    client = TestClient(create_app(throwaway_home))
    alert, _ = api.workspace(throwaway_home).store.raise_alert("data_drift", "v0001", "high", "Dataset drift: 2 of 9 columns drifted.")
    admin = {"Authorization": "Bearer s3cret-token"}
    path = f"/alerts/{alert['id']}"

    def listed(query: str = "") -> list[tuple[int, str]]:
        response = client.get(f"/alerts{query}")
        assert response.status_code == 200
        return [(a["id"], a["state"]) for a in response.json()["alerts"]]

    (shown,) = client.get("/alerts").json()["alerts"]
    assert shown["state"] == "open" and "status" not in shown and shown["acknowledged_by"] is None
    assert shown["message"] == alert["message"] and shown["created_at"] == alert["created_at"].isoformat()

    assert client.post(f"{path}/acknowledge").status_code == 401
    assert listed() == [(alert["id"], "open")]  # a refused call changes nothing
    acked = client.post(f"{path}/acknowledge", headers=admin)
    assert acked.status_code == 200
    body = acked.json()
    assert (body["id"], body["state"], body["acknowledged_by"]) == (alert["id"], "acknowledged", "api (token)")
    assert datetime.fromisoformat(body["acknowledged_at"]) >= alert["created_at"]
    assert client.post(f"{path}/acknowledge", headers=admin).json() == body  # twice: no change
    assert listed() == listed("?state=acknowledged") == [(alert["id"], "acknowledged")]
    assert listed("?state=open") == []

    assert client.post(f"{path}/resolve").status_code == 401
    resolved = client.post(f"{path}/resolve", headers=admin)
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["state"], body["resolved_by"], body["acknowledged_by"]) == ("resolved", "api (token)", "api (token)")
    assert datetime.fromisoformat(body["resolved_at"]) >= datetime.fromisoformat(body["acknowledged_at"])
    assert client.post(f"{path}/resolve", headers=admin).json() == body  # twice: no change
    assert listed() == []
    assert listed("?state=resolved") == listed("?state=all") == [(alert["id"], "resolved")]

    conflict = client.post(f"{path}/acknowledge", headers=admin)
    assert conflict.status_code == 409 and f"Alert {alert['id']} was resolved" in conflict.json()["detail"]
    for action in ("acknowledge", "resolve"):
        missing = client.post(f"/alerts/987654/{action}", headers=admin)
        assert missing.status_code == 404 and missing.json()["detail"] == "No alert with id 987654."
        for bad in ("0", "abc", str(2**63)):
            assert client.post(f"/alerts/{bad}/{action}", headers=admin).status_code == 422
    assert client.get("/alerts?state=closed").status_code == 422


# ----- admin: tokens, training, promotion, rollback ----------------------------------------
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c2VjcmV0"}]
)
def test_admin_endpoints_need_the_token_when_set(server_home, monkeypatch, headers):
    monkeypatch.setenv(TOKEN_ENV, "s3cret-token")
    client = TestClient(create_app(server_home))
    assert client.get("/health").json()["auth"] == "bearer token"
    assert client.post("/models/v0001/promote", headers=headers).status_code == 401
    assert client.post("/models/rollback", headers=headers).status_code == 401
    assert client.post("/train", json={}, headers=headers).status_code == 401
    # Feedback changes what monitoring reports: a state change like the others.
    assert client.post("/feedback", json={"rows": [{"prediction_id": 1, "outcome": 1}]}, headers=headers).status_code == 401
    assert client.post("/alerts/1/acknowledge", headers=headers).status_code == 401
    assert client.post("/alerts/1/resolve", headers=headers).status_code == 401
    good = {"Authorization": "Bearer s3cret-token"}
    assert client.post("/models/v9999/promote", headers=good).status_code == 404  # past the check
    assert client.post("/feedback", json={"rows": []}, headers=good).status_code == 422  # past the check
    assert client.post("/analyze", json={}).status_code == 422  # analysis stays open


def test_reading_endpoints_need_the_client_token_when_set(server_home, monkeypatch, profiles):
    monkeypatch.setenv(TOKEN_ENV, "admin-token")
    monkeypatch.setenv(CLIENT_TOKEN_ENV, "client-token")
    client = TestClient(create_app(server_home))
    for method, path, body in [("post", "/analyze", profiles[0]), ("post", "/what-if", {"profile": profiles[0], "changes": {}}), ("post", "/score", {"rows": [profiles[0]]}), ("get", "/models", None), ("get", "/drift?days=1", None), ("get", "/benchmarks/features", None), ("get", "/alerts", None)]:
        send = getattr(client, method)
        kwargs = {"json": body} if body is not None else {}
        assert send(path, **kwargs).status_code == 401, path
        assert send(path, headers={"Authorization": "Bearer client-token"}, **kwargs).status_code not in (401, 403), path
        assert send(path, headers={"Authorization": "Bearer admin-token"}, **kwargs).status_code not in (401, 403), path
    assert client.get("/health").status_code == 200  # liveness stays open
    assert client.post("/feedback", json={"rows": []}, headers={"Authorization": "Bearer client-token"}).status_code == 401


def test_serve_warns_when_it_listens_beyond_loopback_without_a_token(monkeypatch):
    from engine.service.run import exposure_warning

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert exposure_warning("127.0.0.1") is None
    assert "without BENCHAI_API_TOKEN" in exposure_warning("0.0.0.0")
    monkeypatch.setenv(TOKEN_ENV, "t")
    assert exposure_warning("0.0.0.0") is None


def test_train_job_promote_and_rollback(throwaway_home, companies_csv, schema_toml, tmp_path):
    # A small table without a target trains in seconds (no outcome model to cross-validate).
    data = tmp_path / "small.csv"
    pd.read_csv(companies_csv).head(400).to_csv(data, index=False)
    schema = tmp_path / "schema.toml"
    text = Path(schema_toml).read_text()
    text = re.sub(r"\[target\].*?\n\n", "", text, flags=re.S)
    schema.write_text(text.replace('"Strategy maturity"', '"Strategy maturity (v2)"'))
    client = TestClient(create_app(throwaway_home, token=""))

    started = client.post(
        "/train", json={"data": str(data), "schema": str(schema), "promote": False, "k": 4}
    )
    assert started.status_code == 202, started.text
    busy = client.post("/train", json={"data": str(data), "schema": str(schema)})
    assert busy.status_code == 409
    job = wait_for_job(client, started.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["version"] == "v0002" and job["progress"] == 1.0 and job["error"] is None
    assert (job["params"]["data"], job["params"]["schema"]) == ("small.csv", "schema.toml")  # no server paths
    assert client.get("/models").json()["aliases"] == {"champion": "v0001", "challenger": "v0002"}
    assert client.get("/health").json()["model_version"] == "v0001"

    # Like the app: the challenger serves a hash-share of companies, or shadows the champion.
    profile = pd.read_csv(data).dropna().drop(columns=["high_growth"]).to_dict("records")[0]
    other = Workspace(throwaway_home)  # like another process: the server sees its file changes
    other.update_settings({"challenger_share": 1.0})
    routed = client.post("/analyze", json=profile).json()
    assert (routed["alias"], routed["model_version"]) == ("challenger", "v0002")
    other.update_settings({"challenger_share": 0.0, "shadow": True})
    served = client.post("/analyze", json=dict(profile, strategy=1.0)).json()
    assert (served["alias"], served["model_version"]) == ("champion", "v0001")
    log = other.store.predictions()
    assert log[log["alias"] == "shadow"]["model_version"].tolist() == ["v0002"]
    other.update_settings({"shadow": False})

    moved = client.post("/models/v0002/promote", json={"reason": "test"})
    assert moved.status_code == 200 and moved.json()["serving"] == "v0002"
    assert client.get("/health").json()["model_version"] == "v0002"
    analysis = client.post("/analyze", json=profile).json()
    assert analysis["model_version"] == "v0002" and "prediction" not in analysis

    def strategy_doc() -> str:
        profile = client.get("/openapi.json").json()["components"]["schemas"]["Profile"]
        return profile["properties"]["strategy"]["description"]

    assert strategy_doc().startswith("Strategy maturity (v2)")  # the contract follows the schema

    assert client.post("/models/rollback").json()["serving"] == "v0001"
    assert client.get("/health").json()["model_version"] == "v0001"
    assert strategy_doc().startswith("Strategy maturity;")
    other.promote("v0002")  # another process moves the alias
    assert client.get("/health").json()["model_version"] == "v0002"

    # A tampered version is refused with a clear 409; the champion keeps serving.
    other.rollback()
    with open(throwaway_home / "models" / "v0002" / "metrics.json", "a") as f:
        f.write(" ")
    tampered = client.post("/models/v0002/promote")
    assert tampered.status_code == 409 and "sha256" in tampered.json()["detail"]
    assert client.get("/health").json()["model_version"] == "v0001"


def test_a_champion_that_fails_to_load_leaves_the_previous_one_serving(throwaway_home, profiles):
    app = create_app(throwaway_home, token="")
    assert app.state.workspace is api.workspace(throwaway_home)  # one workspace per home
    client = TestClient(app)
    models = throwaway_home / "models"
    shutil.copytree(models / "v0001", models / "v0002")
    with open(models / "v0002" / "metrics.json", "a") as f:
        f.write(" ")
    # Another process moves the alias without verifying the version.
    Workspace(throwaway_home).registry.set_alias("champion", "v0002", "test")
    health = client.get("/health").json()
    assert (health["status"], health["model_version"]) == ("degraded", "v0001")
    assert "v0002" in health["load_error"]
    assert client.post("/analyze", json=profiles[0]).json()["model_version"] == "v0001"


def test_train_reports_bad_files_at_once(throwaway_home, tmp_path):
    client = TestClient(create_app(throwaway_home, token=""))
    response = client.post(
        "/train", json={"data": str(tmp_path / "nope.csv"), "schema": str(tmp_path / "nope.toml")}
    )
    assert response.status_code == 422
    assert "does not exist" in response.json()["detail"][0]["msg"]
    assert client.post("/train", json={}).status_code == 422  # no HOME/demo to default to
    assert (
        client.post("/train", json={"data": "x.csv", "schema": "s.toml", "k": 1}).status_code == 422
    )
    assert Workspace(throwaway_home).store.jobs() == []  # refused requests leave no job behind


def cli_env(subprocess_env: dict) -> dict:
    """A child's environment in local mode: HOME's own SQLite database, no admin token."""
    return {k: v for k, v in subprocess_env.items() if k not in ("BENCHAI_DB_URL", TOKEN_ENV)}


@pytest.mark.slow
def test_cli_serve_with_two_workers(throwaway_home, profiles, subprocess_env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli_env(subprocess_env)
    cmd = [
        sys.executable,
        "-m",
        "engine",
        "serve",
        "--home",
        str(throwaway_home),
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    server = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                if httpx.get(f"{url}/health", timeout=1).json()["model_version"] == "v0001":
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start in 60 s"
                time.sleep(0.3)
        with httpx.Client(base_url=url) as http:
            assert all(http.post("/analyze", json=p).status_code == 200 for p in profiles[:10])
    finally:
        server.terminate()
        assert server.wait(30) == 0


@pytest.mark.slow  # starts a serve process: CI runs it
def test_cli_serve_without_a_champion_says_so(tmp_path, subprocess_env):
    done = subprocess.run(
        [sys.executable, "-m", "engine", "serve", "--home", str(tmp_path)],
        cwd=ROOT,
        env=cli_env(subprocess_env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "No model is 'champion' yet" in done.stderr and "Traceback" not in done.stderr


# ----- property-based: no input gives a server error ---------------------------------------
# Each operation of the OpenAPI document (admin mutations and training left out: they are
# covered above on a throwaway home) gets schema-valid and schema-invalid requests. The loop
# stands in for schemathesis.pytest.from_fixture, whose lazy loader breaks on pytest 9.2
# ("'Function' object has no attribute '_nodeid'").
@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gives_a_server_error(server_home, mode):
    app = create_app(server_home, token="")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
        path_regex="^/(train|models/)"
    )
    failures = {}
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=25, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
        )
        def call(case):
            case.call_and_validate(checks=[not_a_server_error])

        try:
            call()
        except Unsatisfiable:  # nothing to break: e.g. no parameters to make invalid
            pass
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = exc
        tested += 1
    assert tested >= 10
    assert not failures, "\n\n".join(f"{label}: {exc}" for label, exc in failures.items())


@pytest.mark.slow
def test_with_tokens_set_nothing_answers_without_one(server_home):
    """Every operation of the document, fuzzed with valid and invalid requests and no token,
    with both tokens set: only /health answers. A valid request elsewhere is 401; an invalid one
    may be refused for what it is (400/422) before anyone asks for a token; never a 2xx or 5xx."""
    app = create_app(server_home, token="admin-token", client_token="client-token")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    wrong = {}
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _unauthenticated_calls(operation, mode)()
            except Unsatisfiable:
                pass
            except Exception as exc:
                wrong[f"{operation.label} ({mode.name})"] = exc
            tried += 1
    assert tried >= 24
    assert not wrong, "\n\n".join(f"{label}: {exc}" for label, exc in wrong.items())
    assert api.workspace(server_home).store.jobs() == []  # no training was started


def _unauthenticated_calls(operation, mode):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=10, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def call(case):
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call()
        if operation.path == "/health":
            ok = response.status_code == 200 or (mode == GenerationMode.NEGATIVE and 400 <= response.status_code < 500)
        else:
            ok = response.status_code == 401 if mode == GenerationMode.POSITIVE else 400 <= response.status_code < 500
        assert ok, (mode.name, case.method, case.formatted_path, response.status_code)

    return call


@pytest.mark.slow  # starts a Python process: CI runs it
def test_a_serving_process_computes_on_one_thread():
    """Each serve process runs OpenMP (XGBoost, scikit-learn) and BLAS on one thread: their
    pools otherwise spin against the other workers on the same cores (issue 14)."""
    code = ("import numpy, xgboost, sklearn.ensemble; from threadpoolctl import threadpool_info; "
            "from engine.threads import one_compute_thread; one_compute_thread(); "
            "print(sorted({p['num_threads'] for p in threadpool_info()}))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[1]", out.stdout
