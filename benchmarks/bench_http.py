"""HTTP benchmark of ``POST /analyze``: ``python benchmarks/bench_http.py [--home DIR]``.

Starts ``python -m engine serve`` as a subprocess on a free loopback port (1 worker, then 2)
against a copy of a trained HOME's registry (a demo version is trained when no HOME is given),
and drives it from a second process: an asyncio client with N keep-alive connections, each
sending its next request as soon as the previous answer arrived, for ``--duration`` seconds
after a warm-up. Two workloads (training-sample rows with jitter):

- distinct: every request is a different company, so the server's analysis cache never hits
  and each request runs the models;
- repeated: 200 companies in turn, the pattern of a UI or a demo re-analysing the same
  companies; after the warm-up the cache answers (every request is still logged).

Floor, measured in the same run: the in-process analysis of the same distinct profiles (the
models plus the JSON encoding, what a worker does per new request) on one compute thread, in its
own process. A machine with C cores can then serve at most C / (that time) requests per second:
the "capacity" column; "efficiency" is the measured rate over it.

Prints a markdown table with library versions, thread settings and the load average.

The copy keeps the benchmark's thousands of analyses out of the real HOME's prediction log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARMUP_S = 2.0
REPEATED = 200  # companies in the repeated workload
DISTINCT = 30_000  # more than the fastest run sends: no company twice


# ----- the load generator (runs in its own process) -----------------------------------------
def _request(port: int, body: bytes) -> bytes:
    head = f"POST /analyze HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _connection(
    port: int, requests: list[bytes], offset: int, stride: int, start: float, stop: float, out: dict
) -> None:
    """One keep-alive connection sending requests back to back; a dropped connection counts
    as an error and is reopened."""
    i = offset
    while time.perf_counter() < stop:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                sent = time.perf_counter()
                if sent >= stop:
                    break
                writer.write(requests[i % len(requests)])
                i += stride
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                done = time.perf_counter()
                out["sent"] += 1
                if sent >= start:  # after the warm-up
                    out["latencies"].append(done - sent)
                    if head[9:12] != b"200":
                        out["errors"] += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            out["errors"] += 1
        finally:
            writer.close()


async def _drive(port: int, requests: list[bytes], concurrency: int, duration: float) -> dict:
    start = time.perf_counter() + WARMUP_S
    stop = start + duration
    out = {"latencies": [], "errors": 0, "sent": 0}
    await asyncio.gather(
        *(_connection(port, requests, k, concurrency, start, stop, out) for k in range(concurrency))
    )
    lat = sorted(out["latencies"])
    n = len(lat)

    def pct(q: float) -> float:
        return 1000 * lat[min(n - 1, int(q * n))] if n else float("nan")

    return {
        "requests": n,
        "rps": n / duration,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": out["errors"],
        "sent": out["sent"],  # warm-up included
    }


def floor_main(home: Path, profiles: Path, n: int, offset: int = 0, start: float | None = None) -> None:
    """Mean and p50 ms of ``Served.analyze`` work (models + JSON) per distinct profile, one thread;
    from the ``offset``-th profile on, timed from the wall-clock time ``start`` when given."""
    from engine.threads import one_compute_thread

    one_compute_thread()
    from engine import api
    from engine.service.responses import dumps  # the server's encoder

    model = api.workspace(home).model()
    rows = json.loads(profiles.read_text())[offset:]
    for profile in rows[:50]:  # warm-up
        dumps(model.analyze(profile).to_dict())
    if start is not None:
        time.sleep(max(0.0, start - time.time()))
    times = []
    for profile in rows[50 : 50 + n]:
        t = time.perf_counter()
        dumps(model.analyze(profile).to_dict())
        times.append(time.perf_counter() - t)
    times.sort()
    print(json.dumps({"mean_ms": 1000 * sum(times) / len(times), "p50_ms": 1000 * times[len(times) // 2]}))


def client_main(port: int, profiles: Path, concurrency: int, duration: float) -> None:
    bodies = [json.dumps(p).encode() for p in json.loads(profiles.read_text())]
    requests = [_request(port, b) for b in bodies]
    print(json.dumps(asyncio.run(_drive(port, requests, concurrency, duration))))


# ----- the orchestrator ---------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _trained_home(home: Path | None, scratch: Path) -> Path:
    """A scratch HOME holding a copy of ``home``'s registry, or a freshly trained demo one."""
    from engine import api
    from engine.errors import ModelNotFoundError

    target = scratch / "home"
    if home is not None:
        try:
            api.workspace(home).model()
        except ModelNotFoundError:
            print(f"{home} has no champion; training a demo version instead", file=sys.stderr)
        else:
            shutil.copytree(home / "models", target / "models")
            return target
    print("training a demo version (about a minute)...", file=sys.stderr)
    paths = api.demo_data(scratch / "demo", rows=2000)
    api.workspace(target).train(paths["companies"], paths["schema"])
    return target


def _profiles(home: Path, n: int, seed: int = 0) -> list[dict]:
    """``n`` distinct, valid profiles: training-sample rows with jitter, clipped to the bounds."""
    import numpy as np

    from engine import api

    model = api.workspace(home).model()
    schema = model.schema
    sample = api.workspace(home).table("sample")
    sample = sample.dropna(subset=list(schema.segments) + schema.feature_names).reset_index(
        drop=True
    )
    rng = np.random.default_rng(seed)
    rows = sample.iloc[rng.integers(0, len(sample), n)].reset_index(drop=True)
    out = []
    for i, row in rows.iterrows():
        profile = {c: str(row[c]) for c in schema.segments}
        for f in schema.features:
            v = float(row[f.name]) * (1 + rng.normal(0, 0.05))
            lo = f.min if f.min is not None else -np.inf
            hi = f.max if f.max is not None else np.inf
            profile[f.name] = round(float(np.clip(v, lo, hi)), 4)
        if schema.id:
            profile[schema.id] = f"bench-{i}"
        out.append(profile)
    return out


def _wait_ready(port: int, server: subprocess.Popen, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer /health within {timeout} s")


def _serve(home: Path, port: int, workers: int, access_log: bool, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("BENCHAI_DB_URL", "BENCHAI_API_TOKEN")}
    cmd = [
        sys.executable,
        "-m",
        "engine",
        "serve",
        "--home",
        str(home),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if not access_log:
        cmd.append("--no-access-log")
    with open(log, "ab") as out:  # a file, not a pipe nobody reads: a full pipe would stall it
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far; NaN off Linux."""
    proc = Path("/proc")
    if not proc.is_dir():
        return float("nan")
    total = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: parent pid
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def run(
    home: Path | None,
    workers: list[int],
    workloads: list[str],
    concurrency: list[int],
    duration: float,
    access_log: bool,
) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp:
        scratch = Path(tmp)
        served = _trained_home(home, scratch)
        distinct = _profiles(served, DISTINCT)
        files = {"distinct": scratch / "distinct.json", "repeated": scratch / "repeated.json"}
        files["distinct"].write_text(json.dumps(distinct))
        files["repeated"].write_text(json.dumps(distinct[:REPEATED]))
        floor = _floor(served, files["distinct"])
        for w in workers:
            port = _free_port()
            log = scratch / f"server-{w}.log"
            server = _serve(served, port, w, access_log, log)
            try:
                try:
                    _wait_ready(port, server)
                except RuntimeError:
                    print(log.read_text()[-3000:], file=sys.stderr)
                    raise
                for workload in workloads:
                    for c in concurrency:
                        cpu = _cpu_seconds(server.pid)
                        client = subprocess.run(
                            [
                                sys.executable,
                                __file__,
                                "--client",
                                "--port",
                                str(port),
                                "--profiles",
                                str(files[workload]),
                                "--concurrency",
                                str(c),
                                "--duration",
                                str(duration),
                            ],
                            cwd=ROOT,
                            capture_output=True,
                            text=True,
                            check=True,
                        )
                        row = {
                            "floor": floor,
                            "workers": w,
                            "workload": workload,
                            "concurrency": c,
                            **json.loads(client.stdout),
                        }
                        row["cpu_ms"] = (
                            1000 * (_cpu_seconds(server.pid) - cpu) / max(row["sent"], 1)
                        )
                        results.append(row)
                        print(json.dumps(row), file=sys.stderr)
            finally:
                _stop(server)
        # Measured again after the runs; the faster of the two is kept (the higher capacity, so
        # the lower efficiency): this machine's speed drifts between minutes.
        again = _floor(served, files["distinct"])
        busy = _busy_floor(served, files["distinct"])
        for row in results:
            row["floor"] = min(floor, again, key=lambda f: f["mean_ms"])
            row["busy_floor"] = busy
    return results


def _floor(home: Path, profiles: Path) -> dict:
    """In-process analysis + JSON time per new profile, on one thread, in its own process."""
    out = subprocess.run(
        [sys.executable, __file__, "--floor", "--home", str(home), "--profiles", str(profiles)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    floor = json.loads(out)
    print(f"floor: {floor}", file=sys.stderr)
    return floor


def _busy_floor(home: Path, profiles: Path) -> dict:
    """The floor with every core busy: one floor process per core, timed over the same seconds
    (different profiles each). Where cores share caches, memory bandwidth or a host's core (a
    VM), each may run slower than one alone, and no server can beat that: shown beside the
    single-process capacity."""
    cores = os.cpu_count() or 1
    start = time.time() + 20  # every process has loaded its models and warmed up by then
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--floor", "--home", str(home), "--profiles", str(profiles),
             "--floor-offset", str(5000 * (k + 1)), "--floor-start", str(start)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        for k in range(cores)
    ]
    means = [json.loads(p.communicate()[0])["mean_ms"] for p in procs]
    busy = {"mean_ms": sum(means) / len(means), "processes": cores}
    print(f"floor, every core busy: {busy}", file=sys.stderr)
    return busy


def table(results: list[dict]) -> str:
    """Each run beside its floor: capacity = min(workers, cores) / in-process time per request
    (the distinct workload's floor; a repeated request skips the models, so it has none)."""
    lines = [
        "| workers | workload | concurrency | requests/s | capacity (floor) req/s | efficiency | capacity, every core busy | efficiency vs it | p50 ms | p99 ms | server CPU ms/request | errors |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        workers = min(r["workers"], os.cpu_count() or 1)
        capacity = workers * 1000 / r["floor"]["mean_ms"]
        # One worker leaves the other core to the load generator: its floor is the lone one.
        busy = workers * 1000 / r["busy_floor"]["mean_ms"] if workers > 1 else capacity
        floor = f"{capacity:.0f}" if r["workload"] == "distinct" else "—"
        efficiency = f"{r['rps'] / capacity:.0%}" if r["workload"] == "distinct" else "—"
        busy_floor = f"{busy:.0f}" if r["workload"] == "distinct" else "—"
        busy_efficiency = f"{r['rps'] / busy:.0%}" if r["workload"] == "distinct" else "—"
        lines.append(
            f"| {r['workers']} | {r['workload']} | {r['concurrency']} | {r['rps']:.0f} | {floor} | {efficiency} | {busy_floor} | {busy_efficiency} "
            f"| {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['cpu_ms']:.2f} | {r['errors']} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--home",
        type=Path,
        default=None,
        help="trained HOME to copy (default: train a demo version)",
    )
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument(
        "--workload", default="distinct,repeated", help="comma-separated: distinct, repeated"
    )
    p.add_argument("--concurrency", default="1,8,32", help="comma-separated open connections")
    p.add_argument(
        "--duration", type=float, default=10.0, help="seconds per run, after a 1 s warm-up"
    )
    p.add_argument(
        "--access-log", action="store_true", help="keep uvicorn's per-request access log on"
    )
    p.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--floor-profiles", type=int, default=2000, help=argparse.SUPPRESS)
    p.add_argument("--floor-offset", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--floor-start", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--profiles", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.client:
        client_main(args.port, args.profiles, int(args.concurrency), args.duration)
        return
    if args.floor:
        sys.path.insert(0, str(ROOT))
        floor_main(args.home, args.profiles, args.floor_profiles, args.floor_offset, args.floor_start)
        return
    sys.path.insert(0, str(ROOT))
    workloads = args.workload.split(",")
    if set(workloads) - {"distinct", "repeated"}:
        p.error(f"--workload: expected distinct and/or repeated, got {args.workload!r}")
    results = run(
        args.home,
        [int(w) for w in args.workers.split(",")],
        workloads,
        [int(c) for c in args.concurrency.split(",")],
        args.duration,
        args.access_log,
    )
    load = os.getloadavg()
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    libraries = ", ".join(f"{name} {installed(name)}" for name in ("fastapi", "uvicorn", "httptools", "uvloop", "xgboost", "scikit-learn", "numpy"))
    threads = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    floor = results[0]["floor"] if results else {}
    busy = results[0]["busy_floor"] if results else {}
    print(
        f"\nPOST /analyze, python {sys.version.split()[0]}, {libraries}; {os.cpu_count()} CPUs; this shell {threads} "
        f"(serve and the floor run one compute thread per process); load average {load[0]:.1f} at the end; "
        f"{args.duration:g} s per run. Floor (the faster of two runs, before and after): in-process analysis + JSON of a new profile, mean "
        f"{floor.get('mean_ms', float('nan')):.2f} ms, p50 {floor.get('p50_ms', float('nan')):.2f} ms (one thread); "
        f"with one such process per core at once, {busy.get('mean_ms', float('nan')):.2f} ms each.\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
