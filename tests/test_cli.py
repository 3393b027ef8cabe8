"""The command line: JSON on the happy path; exit 2 and one clear paragraph for user errors."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory) -> dict:
    """demo-data and train through the CLI on a small dataset; returns paths and outputs."""
    base = tmp_path_factory.mktemp("cli")
    out, home = base / "data", base / "home"
    with redirect_stdout(io.StringIO()) as printed:
        assert main(["demo-data", "--out", str(out), "--companies", "600", "--seed", "5"]) == 0
    written = json.loads(printed.getvalue())
    args = [
        "train",
        "--data",
        written["companies"],
        "--schema",
        written["schema"],
        "--home",
        str(home),
        "--quiet",
    ]
    with redirect_stdout(io.StringIO()) as printed:
        assert main(args) == 0
    trained = json.loads(printed.getvalue())
    return {"out": out, "home": home, "written": written, "trained": trained}


@pytest.fixture(scope="module")
def good_profile(cli_home) -> dict:
    companies = pd.read_csv(cli_home["written"]["companies"]).dropna()
    row = companies.iloc[0]
    return {
        k: (v.item() if hasattr(v, "item") else v) for k, v in row.drop(["high_growth"]).items()
    }


def test_demo_data_writes_and_reports_files(cli_home):
    written = cli_home["written"]
    assert {"companies", "current", "schema", "truth"} <= set(written)
    for path in written.values():
        assert Path(path).is_file()
    assert len(pd.read_csv(written["companies"])) == 600


def test_train_prints_version_and_metrics(cli_home):
    trained = cli_home["trained"]
    assert trained["version"] == "v0001" and trained["promoted"] is True
    assert 0.5 < trained["metrics"]["holdout"]["roc_auc"] <= 1.0
    assert trained["metrics"]["segments_k"] >= 2


@pytest.mark.slow  # trains twice
def test_training_again_on_the_same_data_says_nothing_changed_unless_forced(cli_home, tmp_path, capsys):
    home = shutil.copytree(cli_home["home"], tmp_path / "home")
    written = cli_home["written"]
    args = ["train", "--data", written["companies"], "--schema", written["schema"], "--home", str(home), "--quiet"]
    capsys.readouterr()
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "Nothing changed: same data, schema and parameters as v0001 (champion). Use --force to train anyway.\n" in err
    result = json.loads(out)
    assert (result["version"], result["unchanged"], result["promoted"]) == ("v0001", True, False)
    assert [p.name for p in (home / "models").glob("v*")] == ["v0001"]
    assert main([*args, "--force"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["version"] == "v0002" and not json.loads(out)["unchanged"] and "Nothing changed" not in err


def test_analyze_prints_the_contract(cli_home, good_profile, tmp_path, capsys):
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(good_profile))
    assert main(["analyze", "--profile", str(path), "--home", str(cli_home["home"])]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {
        "model_version",
        "segment",
        "anomalies",
        "recommendations",
        "similar",
        "percentiles",
        "prediction",
    } <= set(result)
    assert result["model_version"] == "v0001"
    assert 0.0 <= result["prediction"]["probability"] <= 1.0
    assert result["profile"]["company_id"] == str(good_profile["company_id"])  # ids are text


def test_analyze_reads_stdin(cli_home, good_profile, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(good_profile)))
    assert main(["analyze", "--profile", "-", "--home", str(cli_home["home"])]) == 0
    assert json.loads(capsys.readouterr().out)["segment"]["name"]


def test_score_writes_a_table_with_probability(cli_home, tmp_path, capsys):
    out = tmp_path / "scored.csv"
    data = cli_home["written"]["current"]
    assert main(["score", "--data", data, "--out", str(out), "--home", str(cli_home["home"])]) == 0
    report = json.loads(capsys.readouterr().out)
    scored = pd.read_csv(out)
    assert report == {"rows": len(scored), "out": str(out), "model_version": "v0001"}
    assert len(scored) == len(pd.read_csv(data))
    assert {"company_id", "segment", "anomaly_count", "rank_strategy", "probability"} <= set(
        scored.columns
    )
    assert scored["probability"].between(0, 1).all()


def test_score_to_parquet(cli_home, tmp_path, capsys):
    out = tmp_path / "scored.parquet"
    assert (
        main(
            [
                "score",
                "--data",
                cli_home["written"]["companies"],
                "--out",
                str(out),
                "--home",
                str(cli_home["home"]),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert "probability" in pd.read_parquet(out).columns


def test_bad_profile_exits_2_naming_every_field(cli_home, good_profile, tmp_path, subprocess_env):
    bad = dict(good_profile, strategy=9, technology="lots", industry="aerospace", profit_margin="high")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    # A real process: what a user sees, including that no traceback is printed.
    done = subprocess.run(
        [sys.executable, "-m", "engine", "analyze", "--profile", str(path), "--home", str(cli_home["home"])],
        cwd=ROOT, env=subprocess_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    for field in ("strategy", "technology", "industry", "profit_margin"):
        assert field in done.stderr
    assert "4 problem(s)" in done.stderr
    assert done.stderr.startswith("error: ")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["analyze", "--profile", "{missing}"], ["cannot be read", "{missing}"]),
        (["score", "--data", "{missing}", "--out", "{tmp}/o.csv"], ["does not exist", "{missing}"]),
        (["train", "--data", "{missing}", "--schema", "{schema}"], ["does not exist", "{missing}"]),
        (
            ["train", "--data", "{companies}", "--schema", "{missing}"],
            ["does not exist", "{missing}"],
        ),
        (["analyze", "--profile", "{notjson}"], ["not valid JSON", "{notjson}"]),
        (["analyze", "--profile", "{profile}", "--model", "v0099"], ["v0099", "does not exist"]),
    ],
    ids=[
        "profile",
        "score-data",
        "train-data",
        "train-schema",
        "profile-not-json",
        "unknown-version",
    ],
)
def test_user_errors_exit_2_with_a_clear_message(
    cli_home, tmp_path, good_profile, capsys, command, expected
):
    notjson = tmp_path / "broken.json"
    notjson.write_text("{industry: retail")
    profile = tmp_path / "good.json"
    profile.write_text(json.dumps(good_profile))
    names = {
        "missing": str(tmp_path / "nowhere.csv"),
        "tmp": str(tmp_path),
        "schema": cli_home["written"]["schema"],
        "companies": cli_home["written"]["companies"],
        "notjson": str(notjson),
        "profile": str(profile),
    }
    args = [a.format(**names) for a in command] + ["--home", str(cli_home["home"])]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1  # one paragraph
    for part in expected:
        assert part.format(**names) in captured.err


def test_analyze_without_any_model(tmp_path, good_profile, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(good_profile))
    (tmp_path / "empty").mkdir()  # a home without a model (a missing one is its own error)
    assert main(["analyze", "--profile", str(path), "--home", str(tmp_path / "empty")]) == 2
    assert "train one first" in capsys.readouterr().err


def test_train_with_a_one_class_target_is_a_user_error(cli_home, tmp_path, capsys):
    companies = pd.read_csv(cli_home["written"]["companies"]).assign(high_growth=1)
    data = tmp_path / "all_positive.csv"
    companies.to_csv(data, index=False)
    home = tmp_path / "home"
    args = [
        "train",
        "--data",
        str(data),
        "--schema",
        cli_home["written"]["schema"],
        "--home",
        str(home),
        "--quiet",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "target column 'high_growth'" in err and "both outcomes" in err
    assert main(["models", "list", "--home", str(home)]) == 0
    assert json.loads(capsys.readouterr().out)["versions"] == []


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["demo-data", "--out", "{tmp}/d", "--rows", "0"], "rows: expected a whole number of at least 100, got 0"),
        (["demo-data", "--out", "{tmp}/d", "--rows", "-5"], "got -5"),
        (["score", "--data", "{companies}", "--out", "{tmp}/missing/x.csv", "--home", "{home}"], "the folder {tmp}/missing does not exist"),
        (["feedback", "--data", "{unknown_id}", "--home", "{home}"], "prediction_id 999999 does not exist"),
        (["feedback", "--data", "{epoch}", "--home", "{home}"], "outside 2000-01-01 .. now"),
        (["monitor", "--home", "{tmp}/no-such-home"], "--home {tmp}/no-such-home does not exist"),
    ],
)
def test_argument_mistakes_are_one_line_errors_not_tracebacks(cli_home, tmp_path, capsys, argv, words):
    (tmp_path / "unknown.csv").write_text("prediction_id,outcome\n999999,1\n")
    (tmp_path / "epoch.csv").write_text("company_id,outcome,ts\n1,1,1970-01-01\n")
    names = {"tmp": str(tmp_path), "home": str(cli_home["home"]), "companies": cli_home["written"]["companies"], "unknown_id": str(tmp_path / "unknown.csv"), "epoch": str(tmp_path / "epoch.csv")}
    assert main([a.format(**names) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words.format(**names) in err and "Traceback" not in err
    assert not (tmp_path / "no-such-home").exists()  # a mistyped --home is not created


def test_alerts_list_acknowledge_and_resolve(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("BENCHAI_DB_URL", raising=False)
    from engine import api

    alert, _ = api.workspace(tmp_path).store.raise_alert("data_drift", "v0001", "high", "Dataset drift")
    ident = str(alert["id"])

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--home", str(tmp_path)])
        printed = capsys.readouterr()
        return code, printed.out, printed.err

    code, out, _ = run("alerts")
    assert code == 0 and [(a["id"], a["state"]) for a in json.loads(out)] == [(alert["id"], "open")]
    code, out, _ = run("alerts", "acknowledge", ident, "--by", "ana")
    assert code == 0 and (json.loads(out)["state"], json.loads(out)["acknowledged_by"]) == ("acknowledged", "ana")
    assert json.loads(run("alerts", "--state", "open")[1]) == []
    code, out, _ = run("alerts", "resolve", ident)
    assert code == 0 and (json.loads(out)["state"], json.loads(out)["resolved_by"]) == ("resolved", "local")
    assert json.loads(run("alerts")[1]) == []
    assert [a["state"] for a in json.loads(run("alerts", "--state", "all")[1])] == ["resolved"]
    code, _, err = run("alerts", "acknowledge", ident)
    assert code == 2 and f"Alert {ident} was resolved" in err and "Traceback" not in err
    code, _, err = run("alerts", "resolve", "999")
    assert code == 2 and "No alert with id 999." in err
