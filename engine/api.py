"""The facade: the one surface the Streamlit app, the CLI and the HTTP API call.

Plain data crosses this boundary: dicts, DataFrames and frozen results with ``to_dict()``.
Everything of one home lives in its ``Workspace`` (registry, store, settings, loaded models):
``workspace(home)`` gives the one object per home, and the functions below are thin calls on
the default home's (``$BENCHAI_HOME``, else ``./artifacts``).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from engine.analysis.results import Analysis
from engine.errors import DataError
from engine.schema import Schema
from engine.workspace import Route, Workspace, default_home

if TYPE_CHECKING:
    from engine.analysis.analyzer import Analyzer


def __getattr__(name: str):
    """``api.Analyzer`` on first use: the models pull in scikit-learn, XGBoost and SHAP (seconds
    of imports), which a dashboard's first page does not need."""
    if name == "Analyzer":
        from engine.analysis.analyzer import Analyzer

        return Analyzer
    raise AttributeError(f"module 'engine.api' has no attribute {name!r}")


__all__ = ["Analysis", "Analyzer", "Route", "Workspace", "default_home", "workspace"]

_workspaces: dict[Path, Workspace] = {}
_lock = threading.Lock()


def workspace(home: str | Path | None = None) -> Workspace:
    """The one ``Workspace`` of ``home`` in this process (default: ``default_home()``)."""
    path = Path(home if home is not None else default_home()).resolve()
    with _lock:
        if path not in _workspaces:
            _workspaces[path] = Workspace(path)
        return _workspaces[path]


DEMO_KINDS = ("companies", "customers", "ratios")
MIN_DEMO_ROWS = 100  # fewer cannot train a version (peer groups, folds, held-out rows)


def demo_data(out: str | Path, *, kind: str = "companies", rows: int = 5000, seed: int = 0) -> dict:
    """Write a built-in dataset of ``rows`` rows to ``out``: the company demo (companies.csv,
    current.csv, schema.toml, ...) or, with ``kind="customers"``, the customer table
    (customers.csv, current.csv, schema.toml), or with ``kind="ratios"`` firms' financial ratios
    (ratios.csv, ...: heavy tails, a numeric target); each with recent.csv (unchanged population,
    never trained on)."""
    from engine.demo import write_customers, write_demo, write_ratios

    if kind not in DEMO_KINDS:
        raise DataError(f"kind: expected one of {list(DEMO_KINDS)}, got {kind!r}.")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < MIN_DEMO_ROWS:
        raise DataError(f"rows: expected a whole number of at least {MIN_DEMO_ROWS}, got {rows!r}.")
    if kind == "customers":
        return write_customers(out, n=rows, seed=seed)
    if kind == "ratios":
        return write_ratios(out, n=rows, seed=seed)
    return write_demo(out, n_companies=rows, seed=seed)


def load_dataset(data, schema: str | Path | Schema, *, require_target: bool = False, training: bool = False) -> tuple[pd.DataFrame, Schema]:
    """Read and check a table against a schema -> (checked frame, schema); ``training`` applies
    the rules of a table to train on (see ``Workspace.load_dataset``)."""
    return workspace().load_dataset(data, schema, require_target=require_target, training=training)


def train(data, schema, **options) -> dict:
    """Fit every model, register a version, promote it when it passes the quality gate."""
    return workspace().train(data, schema, **options)


def load_model(ref: str = "champion") -> Analyzer:
    """A verified, loaded version (or alias)."""
    return workspace().model(ref)


def analyze(profile: dict) -> Analysis:
    """The analysis of one profile by the served champion."""
    return workspace().analyze(profile)


def what_if(profile: dict, changes: dict) -> dict:
    """The outcome prediction after changing some fields of a profile."""
    return workspace().what_if(profile, changes)


def score(data, *, progress=None, out=None, scheduler: str | None = None):
    """Batch analysis of a whole table: one output row per input row (a DataFrame); with
    ``out``, Parquet parts written there, in-process or on Dask (``scheduler``: "local" or a
    scheduler's address), and a summary dict back."""
    return workspace().score(data, progress=progress, out=out, scheduler=scheduler)


def models() -> list[dict]:
    return workspace().models()


def promote(version: str, **why) -> dict:
    return workspace().promote(version, **why)


def rollback(**why) -> dict:
    return workspace().rollback(**why)


def drift(current=None, **options) -> dict:
    """Drift report of a table (or of the recent prediction log) against the champion."""
    return workspace().monitoring.drift(current, **options)


def record_feedback(rows) -> dict:
    """Record actual outcomes, each once (``Monitor.record_feedback``): the counts."""
    return workspace().monitoring.record_feedback(rows)


def monitor() -> dict:
    """Volume, drift, performance, open alerts and the champion/challenger comparison."""
    return workspace().monitoring.summary()


def replay(data=None, **options) -> dict:
    """Replay a table over past weeks with delayed feedback (a monitoring history)."""
    from engine.demo.replay import replay as run

    return run(workspace(), data, **options)
