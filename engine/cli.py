"""Command line: ``python -m engine ...`` or ``benchai ...`` (see DESIGN.md, "Command line").

User mistakes (bad files, bad profiles, unknown versions) print one paragraph on stderr and
exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.encoding import dumps
from engine.errors import BenchError, DataError
from engine.registry.signing import unsigned_warning
from engine.scale.parts import is_partitioned


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchai", description="Benchmarking AI: benchmark any entity (companies, customers, stores, ...) against its peers.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", default=None, help="model registry and database folder (default: $BENCHAI_HOME or ./artifacts)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("demo-data", parents=[common], help="write a built-in dataset (companies, customers or ratios)")
    s.add_argument("--out", required=True)
    s.add_argument("--kind", default="companies", help="which built-in dataset: companies (default), customers or ratios (heavy-tailed financial ratios, numeric target)")
    s.add_argument("--rows", "--companies", dest="rows", type=int, default=5000, help="number of rows (--companies: the old name)")
    s.add_argument("--seed", type=int, default=0)

    s = sub.add_parser("train", parents=[common], help="fit every model and register a version")
    s.add_argument("--data", required=True)
    s.add_argument("--schema", required=True)
    s.add_argument("--series", default=None, help="optional monthly benchmark series table")
    s.add_argument("--no-promote", action="store_true")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--k", type=int, default=None, help="number of segments (default: chosen by silhouette)")
    s.add_argument("--search", action="store_true", help="hyperparameter search (time-boxed)")
    s.add_argument("--search-budget", type=float, default=60.0, help="seconds for --search")
    s.add_argument("--tolerance", type=float, default=0.01, help="quality gate: allowed ROC AUC drop")
    s.add_argument("--force", action="store_true", help="train even when a version was trained on the same data, schema and parameters")
    s.add_argument("--scheduler", default=None, help="train on Dask: 'local' (a cluster on this machine) or a scheduler's address (tcp://host:8786); --data is then Parquet parts (a file, folder or glob)")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")

    s = sub.add_parser("analyze", parents=[common], help="analyse one profile (JSON file or - for stdin)")
    s.add_argument("--profile", required=True)
    s.add_argument("--model", default="champion", help="version or alias")

    s = sub.add_parser("score", parents=[common], help="analyse a whole table")
    s.add_argument("--data", required=True, help="CSV or Parquet file; or a folder of Parquet parts or a glob (then --out is a folder of parts)")
    s.add_argument("--out", required=True)
    s.add_argument("--model", default="champion")
    s.add_argument("--scheduler", default=None, help="score on Dask: 'local' (a cluster on this machine) or a scheduler's address (tcp://host:8786); reads Parquet parts, writes Parquet parts")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")

    _add_monitoring_commands(sub, common)

    s = sub.add_parser("serve", parents=[common], help="HTTP API over the engine (FastAPI under uvicorn)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=None, help="worker processes, each loading the champion and computing on one thread (default: one per core)")
    s.add_argument("--no-access-log", action="store_true", help="do not log every request")

    sub.add_parser("hash-password", help="read the dashboard's admin password from stdin (or a prompt) and print the value for BENCHAI_ADMIN_PASSWORD_HASH")

    s = sub.add_parser("models", parents=[common], help="registry operations")
    msub = s.add_subparsers(dest="action", required=True)
    msub.add_parser("list", parents=[common])
    pr = msub.add_parser("promote", parents=[common])
    pr.add_argument("version")
    pr.add_argument("--reason", default="manual promotion")
    rb = msub.add_parser("rollback", parents=[common])
    rb.add_argument("--reason", default="manual rollback")
    return p


def _add_monitoring_commands(sub, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser("drift", parents=[common], help="drift report of a table (or the prediction log) vs the reference")
    s.add_argument("--current", default=None, help="table to compare (default: the prediction log's recent window)")
    s.add_argument("--days", type=float, default=None, help="prediction-log window in days")
    s.add_argument("--test", action="append", default=[], metavar="COLUMN=TEST", help="pick a drift test for a column")
    s.add_argument("--threshold", action="append", default=[], metavar="COLUMN=VALUE", help="pick a threshold for a column")

    sub.add_parser("monitor", parents=[common], help="monitoring summary: volume, drift, performance, alerts")

    s = sub.add_parser("alerts", parents=[common], help="list alerts, or acknowledge / resolve one")
    s.add_argument("--state", choices=["open", "acknowledged", "resolved", "all"], default=None, help="which alerts to list (default: those not resolved)")
    asub = s.add_subparsers(dest="action")
    for action in ("acknowledge", "resolve"):
        a = asub.add_parser(action, parents=[common], help=f"{action} one alert by its id")
        a.add_argument("id", type=int)
        a.add_argument("--by", default="local", help="who does it, kept with the alert (default: local)")

    s = sub.add_parser("feedback", parents=[common], help="record actual outcomes from a table")
    s.add_argument("--data", required=True, help="CSV/Parquet: the target column (or outcome 0/1) and prediction_id or the schema's id column")

    s = sub.add_parser("replay", parents=[common], help="replay a table through analyze to build monitoring history")
    s.add_argument("--data", default=None, help="table to replay (default: HOME/demo/current.csv)")
    s.add_argument("--baseline", default=None, help="rows the champion never trained on, replayed in the first half of the window (default: HOME/demo/recent.csv)")
    s.add_argument("--weeks", type=int, default=8)
    s.add_argument("--feedback-share", type=float, default=0.7)
    s.add_argument("--feedback-delay-days", type=int, default=14)
    s.add_argument("--seed", type=int, default=0)


def _print(obj) -> None:
    print(dumps(obj, indent=2))


def _read_profile(source: str) -> dict:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"Profile file {source} cannot be read: {exc.strerror}; expected a JSON file.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"Profile {source} is not valid JSON ({exc.msg} at line {exc.lineno}); expected a JSON object of field: value.") from None


CREATES_HOME = ("demo-data", "train", "serve", "hash-password")


def run(args: argparse.Namespace) -> int:
    from engine import api

    if args.command == "hash-password":
        from engine.passwords import hash_password

        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass("Admin password: ")
        else:
            password = sys.stdin.readline().rstrip("\n")
        print(hash_password(password))
        return 0

    if args.command not in CREATES_HOME:
        home = Path(args.home if args.home is not None else api.default_home())
        if not home.is_dir():  # a typo in --home must not create an empty home
            raise DataError(f"--home {home} does not exist; train a model there first (benchai train --home {home} ...).")
    ws = api.workspace(args.home)
    if args.command == "serve" and unsigned_warning():  # before serving starts: it does not return
        print(f"warning: {unsigned_warning()}", file=sys.stderr)
    if args.command == "demo-data":
        _print(api.demo_data(args.out, kind=args.kind, rows=args.rows, seed=args.seed))
    elif args.command == "train":
        result = ws.train(
            args.data, args.schema, promote=not args.no_promote, seed=args.seed, k=args.k,
            search=args.search, search_budget_s=args.search_budget, tolerance=args.tolerance,
            series=args.series, progress=_progress(args.quiet), force=args.force, scheduler=args.scheduler,
        )
        if result["unchanged"]:  # said on stderr: stdout stays the result's JSON
            reason = result["reason"]
            print(f"{reason[:1].upper()}{reason[1:]}. Use --force to train anyway.", file=sys.stderr)
        _print(result)
    elif args.command == "analyze":
        _print(ws.analyze(_read_profile(args.profile), ref=args.model).to_dict())
    elif args.command == "score" and (args.scheduler is not None or is_partitioned(args.data)):
        _print(ws.score(args.data, ref=args.model, out=args.out, scheduler=args.scheduler, progress=_progress(args.quiet)))
    elif args.command == "score":
        out = Path(args.out)
        if not out.parent.is_dir():
            raise DataError(f"--out {out}: the folder {out.parent} does not exist; expected a path in an existing folder.")
        result = ws.score(args.data, ref=args.model)
        result.to_parquet(out, index=False) if out.suffix == ".parquet" else result.to_csv(out, index=False)
        _print({"rows": len(result), "out": str(out), "model_version": ws.version(args.model)})
    elif args.command == "drift":
        _print(ws.monitoring.drift(args.current, days=args.days, tests=_pairs(args.test, str), thresholds=_pairs(args.threshold, float)))
    elif args.command == "monitor":
        _print(ws.monitoring.summary())
    elif args.command == "alerts":
        if args.action is None:
            _print(ws.monitoring.alerts(open_only=args.state is None, state=None if args.state in (None, "all") else args.state))
        else:
            change = ws.monitoring.acknowledge_alert if args.action == "acknowledge" else ws.monitoring.resolve_alert
            _print(change(args.id, by=args.by))
    elif args.command == "feedback":
        _print(ws.monitoring.record_feedback(args.data))
    elif args.command == "replay":
        from engine.demo.replay import replay

        _print(replay(ws, args.data, baseline=args.baseline, weeks=args.weeks, feedback_share=args.feedback_share, feedback_delay_days=args.feedback_delay_days, seed=args.seed))
    elif args.command == "serve":
        from engine.service import serve

        serve(args.home, host=args.host, port=args.port, workers=args.workers, access_log=not args.no_access_log)
    elif args.command == "models":
        if args.action == "list":
            _print({"aliases": ws.aliases(), "versions": ws.models()})
        elif args.action == "promote":
            _print(ws.promote(args.version, reason=args.reason))
        elif args.action == "rollback":
            _print(ws.rollback(reason=args.reason))
    return 0


def _progress(quiet: bool):
    """Progress lines on stderr (stdout stays the result's JSON)."""
    def report(stage: str, fraction: float) -> None:
        if not quiet:
            print(f"[{fraction:4.0%}] {stage}", file=sys.stderr)

    return report


def _pairs(items: list[str], cast) -> dict | None:
    out = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep:
            raise DataError(f"'{item}' should look like COLUMN=VALUE.")
        try:
            out[column] = cast(value)
        except ValueError:
            raise DataError(f"'{item}': the value should be a {cast.__name__}.") from None
    return out or None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code = run(args)
        if args.command in ("train", "models") and unsigned_warning():  # after the output: an error stays one paragraph
            print(f"warning: {unsigned_warning()}", file=sys.stderr)
        return code
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file the user named cannot be read or written
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
