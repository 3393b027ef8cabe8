"""One router per OpenAPI tag; each route translates HTTP to a ``Workspace`` call and back.

Routes read what ``create_app`` wired from ``request.app.state``: ``workspace``, ``serving``
(``engine.service.serving.Serving``), ``predictions`` (the log writer) and ``trainer``.
"""

from engine.service.routes import analysis, benchmarks, models, monitoring

ROUTERS = (analysis.router, benchmarks.router, models.router, monitoring.router)

__all__ = ["ROUTERS"]
