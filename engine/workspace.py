"""One workspace per home: it owns the registry, the store, the settings and the loaded models.

The CLI, the HTTP service and the app each hold one ``Workspace``; ``engine.api`` is a set of
thin calls on the default one. What it caches is keyed by version (a version never changes)
or checked with one ``stat`` (``aliases.json``, ``settings.json``), so a promotion, rollback
or settings change made by another process is seen at the next call.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from engine.analysis.results import Analysis

if TYPE_CHECKING:
    from engine.analysis.analyzer import Analyzer
from engine.errors import BenchError, DataError, ModelNotFoundError
from engine.monitoring.routing import route
from engine.monitoring.settings import load_settings, save_settings
from engine.registry import Registry
from engine.schema import (
    TRAINING_BAD_ROW_SHARE,
    Schema,
    check_frame,
    check_training_columns,
    load_schema,
    read_table,
)

MODEL_CACHE = 4  # loaded versions kept per workspace (champion, challenger, a few to compare)
DETAIL_FILES = ("metrics", "explanations", "insights", "reference")


def default_home() -> Path:
    return Path(os.environ.get("BENCHAI_HOME", "artifacts"))


@dataclass(frozen=True)
class Route:
    """Who answers one entity: the serving alias, its model, and the model that shadow-scores
    the same profile unserved (None when shadowing is off)."""

    alias: str
    model: Analyzer
    shadow: Analyzer | None = None


class Workspace:
    """Everything one home holds, loaded once. Thread-safe for concurrent readers."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = Path(home) if home is not None else default_home()
        self.registry = Registry(self.home)
        self.load_error: str | None = None  # why a newer champion is not being served
        self._lock = threading.RLock()
        self._models: OrderedDict[str, Analyzer] = OrderedDict()
        self._details: dict[str, dict] = {}
        self._manifests: dict[str, dict] = {}  # verified manifests
        self._stamped: dict[str, tuple] = {}  # file name -> (stat stamp, parsed value)
        self._served: Analyzer | None = None

    def __repr__(self) -> str:
        return f"Workspace({str(self.home)!r})"

    @cached_property
    def store(self):
        """The operational database (SQLite in HOME, or $BENCHAI_DB_URL)."""
        from engine.store import Store, default_url

        return Store(default_url(self.home))

    @cached_property
    def monitoring(self):
        """Drift, performance, alerts and feedback of this home (``engine.monitoring.monitor``)."""
        from engine.monitoring.monitor import Monitor

        return Monitor(self)

    # ----- cheap change checks ------------------------------------------------------------
    def _stamped_read(self, path: Path, read):
        """``read(path)``, re-run only when the file's stat changed since the last call."""
        try:
            st = os.stat(path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        cached = self._stamped.get(path.name)
        if cached is None or cached[0] != stamp:
            cached = (stamp, read(path))
            self._stamped[path.name] = cached
        return cached[1]

    @property
    def settings(self) -> dict:
        """Monitoring and serving settings (defaults merged with HOME/settings.json)."""
        return self._stamped_read(self.home / "settings.json", lambda _: load_settings(self.home))

    def update_settings(self, changes: dict) -> dict:
        return save_settings(self.home, changes)

    def aliases(self) -> dict:
        """alias -> version (or None)."""
        return self._stamped_read(self.registry.root / "aliases.json", lambda _: self.registry.aliases())

    def version(self, ref: str = "champion") -> str:
        """The version an alias points to (or the version itself, checked to exist)."""
        if ref in ("champion", "challenger"):
            version = self.aliases().get(ref)
            if not version:
                raise ModelNotFoundError(f"No model is '{ref}' yet; train one first (python -m engine train ...).")
            return version
        return self.registry.resolve(ref)

    # ----- versions -----------------------------------------------------------------------
    def model(self, ref: str = "champion") -> Analyzer:
        """The fitted models of a version or alias, verified and loaded once per version."""
        version = self.version(ref)
        with self._lock:
            if version in self._models:
                self._models.move_to_end(version)
                return self._models[version]
            from engine.registry.artifacts import (
                load_analyzer,  # the models' libraries load with the first model
            )

            model = load_analyzer(lambda name: self.read_file(version, name), version)
            self._models[version] = model
            if len(self._models) > MODEL_CACHE:
                self._models.popitem(last=False)
            return model

    def read_file(self, version: str, name: str) -> bytes:
        """One file of a version, checked against its verified (and, with a key, signed) manifest."""
        return self.registry.read(version, name, self._verified(version))

    def _verified(self, version: str) -> dict:
        """The manifest after checking every file's hash, once per version per workspace
        (versions are immutable): loading the models and reading the details share it."""
        with self._lock:
            if version not in self._manifests:
                self._manifests[version] = self.registry.verify(version)
            return self._manifests[version]

    def champion(self) -> Analyzer:
        """The served champion. A newer champion that fails verification or loading is not
        served: the previous one keeps serving and ``load_error`` says why."""
        try:
            model = self.model("champion")
        except (BenchError, OSError) as exc:
            if self._served is None or isinstance(exc, ModelNotFoundError):
                raise
            self.load_error = f"champion {self.aliases().get('champion')} could not be loaded, still serving {self._served.version}: {exc}"
            return self._served
        self._served, self.load_error = model, None
        return model

    def challenger(self) -> Analyzer | None:
        """The challenger when there is one that differs from the champion and loads."""
        aliases = self.aliases()
        version = aliases.get("challenger")
        if not version or version == aliases.get("champion"):
            return None
        try:
            return self.model(version)
        except (BenchError, OSError):
            return None

    def details(self, ref: str = "champion") -> dict:
        """Manifest, metrics, explanations, insights and drift reference of a version."""
        version = self.version(ref)
        with self._lock:
            if version not in self._details:
                out = {"manifest": self._verified(version)}
                for name in DETAIL_FILES:
                    out[name] = json.loads(self.read_file(version, f"{name}.json"))
                self._details[version] = out
            return self._details[version]

    def table(self, name: str, ref: str = "champion") -> pd.DataFrame | None:
        """A table stored with a version ('sample': a training sample, 'series': monthly
        benchmarks, 'holdout': the held-out rows), checked like every file; None when the
        version has none."""
        version = self.version(ref)
        if f"{name}.parquet" not in self._verified(version)["files"]:
            return None
        return pd.read_parquet(io.BytesIO(self.read_file(version, f"{name}.parquet")))

    def models(self) -> list[dict]:
        """Every version with its aliases, size, data fingerprint and summary metrics."""
        aliases = self.aliases()
        out = []
        for v in self.registry.versions():
            m = self.registry.manifest(v)
            out.append(
                {
                    "version": v,
                    "created": m.get("created"),
                    "aliases": [a for a, target in aliases.items() if target == v],
                    "rows": m.get("rows"),
                    "data_fingerprint": m.get("data_fingerprint"),
                    "metrics": m.get("metrics"),
                    "schema_name": m.get("schema", {}).get("name"),
                }
            )
        return out

    def promote(self, version: str, *, reason: str = "manual promotion", actor: str = "local") -> dict:
        """Make ``version`` the champion (after verifying it). Promoting the champion itself is
        refused: it would change nothing but the audit log (and make the next rollback a no-op)."""
        version = self.registry.resolve(version)
        self.registry.verify(version)

        def unless_champion(aliases: dict) -> str:  # decided under the aliases lock
            if version == aliases["champion"]:
                raise DataError(f"{version} is already the champion; nothing to promote.")
            return version

        return self.registry.move_alias("champion", unless_champion, reason, actor=actor)

    def rollback(self, *, reason: str = "manual rollback", actor: str = "local") -> dict:
        """Give the champion alias back to the previous champion. The previous champion is read
        from the audit log under the aliases lock: two rollbacks at once go back two steps, as
        two rollbacks one after the other do."""

        def previous_champion(_aliases: dict) -> str:
            previous = self.registry.previous_champion()
            if previous is None:
                raise ModelNotFoundError("There is no earlier champion to roll back to.")
            self.registry.verify(previous)
            return previous

        return self.registry.move_alias("champion", previous_champion, reason, actor=actor, kind="rollback")

    def audit_log(self) -> list[dict]:
        return self.registry.audit_log()

    def train(self, data, schema, **options) -> dict:
        """Fit, register and (through the quality gate) promote; see ``engine.training.register``."""
        from engine.training.register import train_version

        return train_version(self, data, schema, **options)

    # ----- analysis -----------------------------------------------------------------------
    def load_dataset(self, data, schema: str | os.PathLike | Schema, *, require_target: bool = False, training: bool = False, max_bad_share: float | None = None) -> tuple[pd.DataFrame, Schema]:
        """Read and check a table against a schema -> (checked frame, schema). A table to train
        on may lose up to TRAINING_BAD_ROW_SHARE of failing rows (``frame.attrs["left_out"]``)
        and needs its target column and features that vary; any other table is checked strictly
        unless ``max_bad_share`` says how many failing rows may be left out."""
        schema = schema if isinstance(schema, Schema) else load_schema(schema)
        source = "data" if isinstance(data, pd.DataFrame) else str(data)
        frame = data if isinstance(data, pd.DataFrame) else read_table(data)
        checked = check_frame(frame, schema, require_target=require_target, source=source, max_bad_share=max_bad_share if max_bad_share is not None else TRAINING_BAD_ROW_SHARE if training else 0.0)
        if training:
            check_training_columns(checked, schema, source)
        return checked, schema

    def route(self, entity_id) -> Route:
        """The one champion/challenger decision: the challenger serves a stable hash-share of
        ids (setting ``challenger_share``); with ``shadow`` on it also scores, unserved, what
        the champion serves."""
        champion, challenger = self.champion(), self.challenger()
        if challenger is None:  # the common case: no settings to read
            return Route("champion", champion)
        cfg = self.settings
        if route(entity_id, cfg["challenger_share"]) == "challenger":
            return Route("challenger", challenger)
        return Route("champion", champion, challenger if cfg["shadow"] else None)

    def analyze(self, profile: dict, *, ref: str | None = None) -> Analysis:
        """Analyse one profile with ``ref`` (default: the served champion); nothing is logged."""
        model = self.champion() if ref is None else self.model(ref)
        return model.analyze(profile)

    def analyze_and_log(self, profile: dict, *, source: str = "analyze") -> tuple[Analysis, str]:
        """Route, analyse and log one profile (shadow-scored when configured).
        -> (analysis, serving alias)."""
        champion = self.champion()
        served = self.route(champion.schema.entity_id(profile))
        result = served.model.analyze(profile)
        self.log_analyses([result], alias=served.alias, source=source)
        if served.shadow is not None:
            self.log_analyses([served.shadow.analyze(profile)], alias="shadow", source=source)
        return result, served.alias

    def log_analyses(self, results: list[Analysis], *, alias: str = "champion", source: str = "analyze", ts=None) -> list[int]:
        """Write analyses to the prediction log (time, version, alias, profile, outputs)."""
        rows = [prediction_row(r, alias=alias, source=source, ts=ts) for r in results]
        return self.store.log_predictions(rows)

    def what_if(self, profile: dict, changes: dict, *, ref: str | None = None) -> dict:
        """New outcome prediction and contributions after changing some fields."""
        model = self.champion() if ref is None else self.model(ref)
        return model.what_if(profile, changes)

    def score(self, data, *, ref: str | None = None, progress=None, out=None, scheduler: str | None = None):
        """Batch analysis of a whole table: one output row per input row, as a DataFrame. With
        ``out``, ``data`` may be a folder of Parquet parts or a glob, and the scores are written
        to ``out`` as Parquet parts, one per input part, in-process or on the Dask cluster
        ``scheduler`` ("local" or an address); then -> a summary dict (see
        ``engine.scale.scoring.score_parts``)."""
        if out is not None:
            from engine.scale.scoring import score_parts

            return score_parts(self, data, out, scheduler=scheduler, ref=ref, progress=progress)
        if scheduler is not None:
            raise DataError("scheduler: scoring on a Dask cluster writes Parquet parts; name the output folder (out=..., --out DIR).")
        model = self.champion() if ref is None else self.model(ref)
        frame, _ = self.load_dataset(data, model.schema)
        return model.score(frame, progress=progress)


def prediction_row(result: Analysis, *, alias: str, source: str, ts=None) -> dict:
    """One prediction-log row of an analysis."""
    d = result.to_dict()
    prediction = d.get("prediction")
    return {
        "ts": ts,
        "model_version": result.model_version,
        "alias": alias,
        "company_id": result.entity_id,
        "profile": result.profile,
        "outputs": {k: d[k] for k in ("segment", "anomalies", "percentiles") if k in d}
        | {"prediction": None if prediction is None else {k: prediction[k] for k in ("probability", "value", "label", "base_value") if k in prediction}},
        "probability": prediction.get("probability") if prediction else None,
        "segment": d["segment"]["name"],
        "source": source,
    }
