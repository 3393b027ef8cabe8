"""How many cores this process may use, and how many compute threads it should.

A serving process (``serve``) and a Dask worker each set ``OMP_NUM_THREADS=1``: they run one
computation per core already, and more threads would only spin against each other. Anything
else (the CLI, the dashboard, a script) may use every core it is allowed to run on.
"""

from __future__ import annotations

import os


def cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def compute_threads() -> int:
    """``OMP_NUM_THREADS`` when set (a serving process or a Dask worker sets it to 1), else every core."""
    setting = os.environ.get("OMP_NUM_THREADS", "").strip()
    return max(1, int(setting)) if setting.isdigit() else cores()
