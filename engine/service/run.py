"""``python -m engine serve``: the app under uvicorn, in one process or several workers.

On Linux every worker binds its own SO_REUSEPORT socket, so the kernel spreads connections
evenly; with one shared socket (uvicorn's own workers) whichever worker wakes first accepts a
whole burst of keep-alive connections and the others idle. A small supervisor restarts a
worker that dies and stops them all on SIGINT/SIGTERM.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from engine import api
from engine.errors import DataError
from engine.service.app import create_app
from engine.service.auth import CLIENT_TOKEN_ENV, TOKEN_ENV
from engine.threads import cores, one_compute_thread

log = logging.getLogger(__name__)

WORKER_CRASH_WINDOW_S = 10.0  # a worker that dies this soon after starting is not restarted
APP_FACTORY = "engine.service.app:create_app"  # what uvicorn's own workers import
HTTP_PROTOCOL = "engine.service.run:NoDelayHTTPProtocol"


class NoDelayHTTPProtocol(AutoHTTPProtocol):
    """uvicorn's HTTP protocol with TCP_NODELAY on every connection.

    asyncio sets it only on sockets whose proto is IPPROTO_TCP, and the socket uvicorn binds
    for its own multi-worker mode has proto 0: responses written in two parts (headers, body)
    then wait for the client's delayed ACK, about 40 ms each.
    """

    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


LOOPBACK = ("127.0.0.1", "localhost", "::1")
def default_workers() -> int:
    """One worker per core this process may run on."""
    return cores()


def exposure_warning(host: str) -> str | None:
    """Said loudly when the API listens beyond this machine with its state changes open."""
    if host in LOOPBACK or os.environ.get(TOKEN_ENV):
        return None
    return (f"WARNING: serving on {host} without {TOKEN_ENV}: anyone who can reach this port can record feedback, "
            f"train, promote and roll back models. Set {TOKEN_ENV} (and {CLIENT_TOKEN_ENV} to guard analyses too), or bind 127.0.0.1.")


def serve(
    home: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    log_level: str = "info",
    access_log: bool = True,
) -> None:
    """Run the API under uvicorn; blocks until stopped. With several workers (default: one per
    core) each process loads the champion itself; every process computes on one thread."""
    if workers is None:
        workers = 1 if port == 0 else default_workers()  # any free port is one worker's port
    if workers < 1:
        raise DataError(f"--workers should be at least 1, got {workers}.")
    if not 0 <= port <= 65535:
        raise DataError(f"--port should be between 0 and 65535, got {port}.")
    workspace = api.workspace(home)
    warning = exposure_warning(host)
    if warning:
        print(warning, file=sys.stderr)
    options = {"host": host, "port": port, "log_level": log_level, "access_log": access_log}
    one_compute_thread()
    if workers == 1:
        uvicorn.run(create_app(workspace.home), http=NoDelayHTTPProtocol, **options)
        return
    workspace.model()  # fail here, with one clear message, rather than in every worker
    if not sys.platform.startswith("linux"):
        os.environ["BENCHAI_HOME"] = str(workspace.home)
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, http=HTTP_PROTOCOL, **options)
        return
    if port == 0:
        raise DataError(
            "--port 0 (any free port) works with one worker only; give a port for --workers > 1."
        )
    _supervise(str(workspace.home), host, port, workers, log_level, access_log)


def _reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(
        family, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )  # TCP proto: asyncio sets NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(home: str, host: str, port: int, log_level: str, access_log: bool) -> None:
    """One worker process: the app on its own SO_REUSEPORT socket."""
    one_compute_thread()
    sock = _reuseport_socket(host, port)
    config = uvicorn.Config(
        create_app(home), log_level=log_level, access_log=access_log, http=NoDelayHTTPProtocol
    )
    uvicorn.Server(config).run(sockets=[sock])


def _supervise(
    home: str, host: str, port: int, workers: int, log_level: str, access_log: bool
) -> None:
    """Start ``workers`` processes on one port, restart any that dies, stop all on SIGINT/SIGTERM."""
    import multiprocessing
    import signal

    logging.basicConfig(level=log_level.upper(), format="%(levelname)s:     %(message)s")
    _reuseport_socket(host, port).close()  # a port in use fails here, once, not in each worker
    ctx = multiprocessing.get_context("spawn")  # the parent has loaded xgboost: no fork
    stopping = threading.Event()

    def start() -> tuple:
        args = (home, host, port, log_level, access_log)
        proc = ctx.Process(target=_worker, args=args, name="benchai-worker")
        proc.start()
        return proc, time.monotonic()

    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    procs = [start() for _ in range(workers)]
    log.info(
        "serving on http://%s:%d with %d workers (pids %s)",
        host,
        port,
        workers,
        [p.pid for p, _ in procs],
    )
    try:
        while not stopping.wait(0.5):
            _restart_dead(procs, start, stopping)
    finally:
        for proc, _ in procs:
            if proc.is_alive():
                proc.terminate()
        for proc, _ in procs:
            proc.join(30)


def _restart_dead(procs: list, start, stopping: threading.Event) -> None:
    """Replace each dead worker in ``procs``; one that died right after starting stops all."""
    for i, (proc, started) in enumerate(procs):
        if proc.is_alive():
            continue
        if time.monotonic() - started < WORKER_CRASH_WINDOW_S:
            log.error(
                "worker %d exited with status %s right after starting; stopping",
                proc.pid,
                proc.exitcode,
            )
            stopping.set()
            return
        log.warning("worker %d exited with status %s; starting another", proc.pid, proc.exitcode)
        procs[i] = start()
