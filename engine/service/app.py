"""The app factory: one ``Workspace`` for HOME, the served views, the prediction-log writer
and the trainer, kept in ``app.state`` for the routers.

The request models, and so the OpenAPI document, follow the served version's dataset schema:
when a promotion or rollback changes the schema, ``/openapi.json`` is generated anew.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

from engine import api
from engine.service.auth import CLIENT_TOKEN_ENV, TOKEN_ENV
from engine.service.contracts import add_request_bodies
from engine.service.jobs import Trainer
from engine.service.limits import BodyLimit, HeavyWork
from engine.service.logwriter import PredictionLog
from engine.service.problems import install_error_handlers
from engine.service.routes import ROUTERS
from engine.service.serving import Serving

DESCRIPTION = (
    "Benchmarking of one entity (a company, a customer, a store: the rows of the served dataset): "
    "segment, anomalies, recommendations, percentiles and outcome prediction for one profile, batch scoring, benchmarks, model registry, training jobs, feedback and "
    "drift. Request bodies follow the served dataset schema."
)


def create_app(home: str | Path | None = None, *, token: str | None = None, client_token: str | None = None) -> FastAPI:
    """The FastAPI app serving HOME's champion. ``token`` (default: env BENCHAI_API_TOKEN)
    guards every state change; without one they are open (local mode). ``client_token``
    (default: env BENCHAI_CLIENT_TOKEN) guards the reading endpoints; without one they are open.

    Raises ModelNotFoundError when HOME has no champion yet, IntegrityError when it is tampered.
    """
    workspace = api.workspace(home)
    serving = Serving(workspace)
    serving.current()  # fail now, with the engine's message, rather than at the first request
    predictions = PredictionLog(workspace)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await run_in_threadpool(predictions.close)

    app = FastAPI(title="Benchmarking AI", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.workspace = workspace
    app.state.serving = serving
    app.state.predictions = predictions
    app.state.trainer = Trainer(workspace, on_done=serving.current)  # load a promotion at once
    app.state.token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    app.state.client_token = client_token if client_token is not None else os.environ.get(CLIENT_TOKEN_ENV) or None
    app.state.heavy = HeavyWork()  # a cap on concurrent table scorings, and their time limit
    app.add_middleware(BodyLimit)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    _serve_openapi(app, serving)
    return app


def _serve_openapi(app: FastAPI, serving: Serving) -> None:
    """``app.openapi`` with the served schema's request models, regenerated when they change."""
    generated: dict = {}  # the Contracts the cached document was built with -> that document

    def openapi() -> dict:
        contracts = serving.current().contracts
        if generated.get("contracts") is not contracts:
            doc = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            add_request_bodies(doc, contracts)
            generated.update(contracts=contracts, doc=doc)
            app.openapi_schema = doc
        return generated["doc"]

    app.openapi = openapi
