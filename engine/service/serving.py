"""What the HTTP service derives from a served version: its request contracts, the features
description, and the JSON of recent analyses.

Which version serves, alias and settings changes (one ``stat`` each), model loading and the
champion/challenger routing all belong to the ``Workspace``; this module only keeps, per
version, what is HTTP-specific and immutable for that version.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict

from engine.analysis.analyzer import Analysis, Analyzer
from engine.schema import Schema
from engine.service.contracts import Contracts, build_contracts
from engine.service.responses import dumps
from engine.workspace import Workspace

log = logging.getLogger(__name__)

ANALYSIS_CACHE = 1024  # recent analyses kept per served version (about 35 kB each)
VIEWS = 4  # versions kept (champion, challenger, the previous ones)


def describe_schema(schema: Schema, version: str | None) -> dict:
    """The ``/benchmarks/features`` answer: the dataset schema being served."""
    target = schema.target
    return {
        "model_version": version,
        "schema_name": schema.name,
        "segments": [
            {"column": c, "values": list(schema.segment_values.get(c, ()))} for c in schema.segments
        ],
        "target": None
        if target is None
        else {"column": target.column, "label": target.label, "desirable": target.desirable},
        "features": [
            {
                "name": f.name,
                "label": f.label,
                "kind": f.kind,
                "better": f.better,
                "min": f.min,
                "max": f.max,
                "unit": f.unit,
                "action": f.action,
            }
            for f in schema.features
        ],
    }


class Served:
    """One loaded version as the API serves it (everything here is fixed per version)."""

    def __init__(self, model: Analyzer, contracts: Contracts):
        self.model = model
        self.version: str | None = model.version
        self.contracts = contracts
        self.features = describe_schema(model.schema, model.version)
        self._analyses: OrderedDict[tuple, tuple[Analysis, bytes]] = OrderedDict()

    def analyze(self, profile: dict) -> tuple[Analysis, bytes]:
        """-> (Analysis, its JSON bytes). A version's analysis of a profile never changes, so
        recent results are kept (LRU): re-analysing a company, as a UI or a demo does, skips
        the models and the JSON encoding. Only the event loop calls this (no lock)."""
        key = tuple(profile.values())  # the validated request body: fixed field order
        hit = self._analyses.get(key)
        if hit is not None:
            self._analyses.move_to_end(key)
            return hit
        result = self.model.analyze(profile)
        hit = self._analyses[key] = (result, dumps(result.to_dict()))
        if len(self._analyses) > ANALYSIS_CACHE:
            self._analyses.popitem(last=False)
        return hit


class Serving:
    """The workspace's served versions, each with its ``Served`` view; request models are
    built once per distinct schema, so a version with the same schema shares them."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._lock = threading.Lock()
        self._views: OrderedDict[str | None, Served] = OrderedDict()
        self._contracts: dict[str, Contracts] = {}
        self._load_error: str | None = None

    def current(self) -> Served:
        """The champion being served (the workspace checks the aliases with one ``stat``)."""
        model = self.workspace.champion()
        error = self.workspace.load_error
        if error != self._load_error:  # log a failed promotion once, not per request
            self._load_error = error
            if error:
                log.error(error)
        return self.view(model)

    def route(self, entity_id: str | None) -> tuple[str, Served, Analyzer | None]:
        """-> (serving alias, its view, the model that shadow-scores or None): ``Workspace.route``."""
        served = self.workspace.route(entity_id)
        return served.alias, self.view(served.model), served.shadow

    def view(self, model: Analyzer) -> Served:
        view = self._views.get(model.version)
        if view is not None and view.model is model:
            return view
        with self._lock:
            view = self._views.get(model.version)
            if view is None or view.model is not model:
                view = self._views[model.version] = Served(model, self._contracts_of(model.schema))
                log.info("ready to serve %s", model.version)
                while len(self._views) > VIEWS:
                    self._views.popitem(last=False)
            return view

    def _contracts_of(self, schema: Schema) -> Contracts:
        key = json.dumps(schema.to_dict(), sort_keys=True, default=str)
        if key not in self._contracts:
            self._contracts[key] = build_contracts(schema)
        return self._contracts[key]
