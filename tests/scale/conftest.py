"""A real Dask local cluster (2 single-threaded worker processes on loopback), started once per
session and stopped after; tests pass its address as ``scheduler``."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(scope="session")
def scheduler():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="session")
def client(scheduler):
    from distributed import Client

    with Client(scheduler) as c:
        yield c
