"""Saving and loading the fitted models of one version (the files a version holds)."""

from __future__ import annotations

import copy
from pathlib import Path

import joblib


def analyzer_writers(analyzer) -> dict:
    """File writers for an Analyzer: XGBoost in its native format, the rest with joblib."""
    files = {}
    shell = copy.copy(analyzer)
    if analyzer.outcome is not None:
        booster = analyzer.outcome.booster_
        files["outcome.ubj"] = lambda p: booster.save_model(str(p))
        outcome = copy.copy(analyzer.outcome)
        outcome.booster_ = None
        shell.outcome = outcome
    files["analyzer.joblib"] = lambda p: joblib.dump(shell, p, compress=3)
    return files


def load_analyzer(folder: Path, version: str):
    import xgboost as xgb

    analyzer = joblib.load(folder / "analyzer.joblib")
    if analyzer.outcome is not None:
        booster = xgb.Booster()
        booster.load_model(str(folder / "outcome.ubj"))
        booster.set_param({"nthread": 1})  # one profile at a time: threads only add latency
        analyzer.outcome.booster_ = booster
    analyzer.version = version
    return analyzer
