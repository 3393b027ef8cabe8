"""The one place that opens a Dask client: ``local`` or a running scheduler's address."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from engine.errors import DataError
from engine.threads import cores

CONNECT_TIMEOUT_S = 10
LOCAL = "local"


def check_scheduler(scheduler: str) -> str:
    """``local`` or an address such as ``tcp://10.0.0.5:8786``; DataError otherwise."""
    text = str(scheduler).strip()
    if text == LOCAL or ("://" in text and text.rsplit(":", 1)[-1].isdigit()):
        return text
    raise DataError(f"--scheduler {scheduler!r}: expected 'local' (a cluster on this machine) or a Dask scheduler's address such as tcp://10.0.0.5:8786.")


def local_workers() -> int:
    """One single-threaded worker process per core this process may run on."""
    return cores()


@contextmanager
def dask_client(scheduler: str, *, workers: int | None = None):
    """A ``distributed.Client`` for the duration of the block. ``local`` starts worker
    processes on this machine (one thread each: the nanny also sets OMP/MKL/OpenBLAS threads
    to 1) and stops them after; an address joins a running cluster and leaves it running."""
    from distributed import Client, LocalCluster

    scheduler = check_scheduler(scheduler)
    if scheduler == LOCAL:
        try:
            cluster = LocalCluster(n_workers=workers or local_workers(), threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
        except RuntimeError as exc:  # worker processes re-import the main module as they start
            raise DataError(f"--scheduler local: the local Dask workers did not start ({exc}). From a Python script, call it under `if __name__ == \"__main__\":`; workers import the script again when they start.") from None
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise DataError(f"--scheduler {scheduler}: no Dask scheduler answered within {CONNECT_TIMEOUT_S} s ({exc}); start one with `dask scheduler` and workers with `dask worker {scheduler}`, or use --scheduler local.") from None
    with client:
        yield client
