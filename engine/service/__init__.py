"""The HTTP API (FastAPI under uvicorn) over one workspace.

- ``app``: ``create_app(home)``, the factory wiring the modules below into ``app.state``.
- ``contracts``: request models generated from the served dataset schema; ``responses``:
  response shapes and JSON out; ``problems``: engine errors -> HTTP answers; ``auth``: the
  admin bearer token.
- ``serving``: per served version, its contracts and recent analyses (the ``Workspace``
  decides which version serves); ``logwriter``: the prediction-log writer (group commit);
  ``jobs``: training jobs.
- ``routes``: one router per OpenAPI tag; ``run``: ``serve()``, uvicorn and its workers.
"""

from engine.service.app import create_app
from engine.service.auth import TOKEN_ENV
from engine.service.run import serve

__all__ = ["TOKEN_ENV", "create_app", "serve"]
