"""How many cores this process may use, and how many compute threads it should.

A serving process (``serve``) sets ``OMP_NUM_THREADS=1``, and so does the nanny of a Dask
worker (a worker started with ``--no-nanny`` does not): they run one computation per core
already, and more threads would only spin against each other. Anything
else (the CLI, the dashboard, a script) may use every core it is allowed to run on.
"""

from __future__ import annotations

import os

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def compute_threads() -> int:
    """``OMP_NUM_THREADS`` when set to a number (a serving process or a Dask worker sets it to 1),
    else every core."""
    setting = os.environ.get("OMP_NUM_THREADS", "").strip()
    return max(1, int(setting)) if setting.isdigit() else cores()


def one_compute_thread() -> None:
    """One compute thread in every serving process (OpenMP for XGBoost and scikit-learn, BLAS for
    the neighbour distances): a request is one small profile, and the libraries' own thread pools
    only spin against the other workers on the same cores. The environment reaches workers started
    after this (they load the libraries with it); threadpoolctl covers libraries already loaded. An
    explicit setting of those variables is kept."""
    for name in THREAD_ENV:
        os.environ.setdefault(name, "1")
    from threadpoolctl import threadpool_limits

    threadpool_limits(compute_threads())
