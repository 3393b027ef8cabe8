"""Saving and loading the fitted models of one version, with nothing that runs code on load.

XGBoost keeps its own format (``outcome.ubj``); everything else of the ``Analyzer`` is written
with skops, whose loader rebuilds only the types it is told to trust: numpy arrays, builtins,
scikit-learn's own estimators, and the allow-list below (the engine's plain model classes).
A file naming any other type is refused before it is loaded, so a crafted file cannot execute
anything, unlike a pickle.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

import skops.io as sio

from engine.errors import IntegrityError

# One skops load at a time per process: skops reads its arrays with numpy's .npy reader, which
# parses every header with ast.literal_eval, and CPython 3.11 can raise "SystemError: AST
# constructor recursion depth mismatch" when two threads parse at once (python/cpython#106905;
# seen on a Dask worker loading a version for two parts). A version loads once per process.
_LOADING = threading.Lock()

# Every type of a fitted Analyzer beyond what skops trusts by default. A new attribute type
# must be added here (and a test loading a fresh version fails until it is).
TRUSTED = [
    "engine.analysis.analyzer.Analyzer",
    "engine.analysis.anomalies.GapModel",
    "engine.analysis.anomalies.MultivariateScorer",
    "engine.analysis.features.FeatureSpace",
    "engine.analysis.isolation.PackedIsolationForest",
    "engine.analysis.neighbours.NeighbourIndex",
    "engine.analysis.outcome.OutcomeClassifier",
    "engine.analysis.outcome.OutcomeRegressor",
    "engine.analysis.peers.FrequencyStats",
    "engine.analysis.peers.PeerGroups",
    "engine.analysis.peers.PeerStats",
    "engine.analysis.scaling.FeatureScaler",
    "engine.analysis.segments.SegmentModel",
    "engine.schema.model.Entity",
    "engine.schema.model.Feature",
    "engine.schema.model.Schema",
    "engine.schema.model.Target",
    "sklearn.tree._tree.Tree",  # the isolation forest's trees
]


def analyzer_writers(analyzer) -> dict:
    """File writers for an Analyzer: XGBoost in its native format, the rest with skops."""
    files = {}
    shell = copy.copy(analyzer)
    if analyzer.outcome is not None:
        booster = analyzer.outcome.booster_
        files["outcome.ubj"] = lambda p: booster.save_model(str(p))
        outcome = copy.copy(analyzer.outcome)
        outcome.booster_ = None
        shell.outcome = outcome
    files["analyzer.skops"] = lambda p: p.write_bytes(sio.dumps(shell))
    return files


def load_analyzer(read: Callable[[str], bytes], version: str):
    """The Analyzer of a version from ``read(name) -> verified bytes``."""
    import xgboost as xgb

    data = read("analyzer.skops")
    with _LOADING:
        try:
            unknown = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED))
        except Exception as exc:  # skops raises several kinds on a damaged file
            raise IntegrityError(f"Model version '{version}': analyzer.skops cannot be read ({type(exc).__name__}); the version is refused.") from None
        if unknown:
            raise IntegrityError(f"Model version '{version}': analyzer.skops holds types outside the allow-list {unknown}; the version is refused (nothing in it was run).")
        analyzer = sio.loads(data, trusted=TRUSTED)
    if analyzer.outcome is not None:
        booster = xgb.Booster()
        booster.load_model(bytearray(read("outcome.ubj")))
        booster.set_param({"nthread": 1})  # one profile at a time: threads only add latency
        analyzer.outcome.booster_ = booster
    analyzer.version = version
    return analyzer
