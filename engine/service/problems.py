"""Engine errors -> HTTP answers. User mistakes never give a 5xx: invalid input -> 422 listing
every field problem, unknown version, job or alert -> 404, tampered version, training already
running or acknowledging a resolved alert -> 409; any other deliberate engine error is 422
when the input is at fault, else 400.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response

from engine.errors import (
    AlertNotFoundError,
    AlertStateError,
    BenchError,
    IntegrityError,
    ModelNotFoundError,
    ProfileError,
    TrainingBusyError,
)
from engine.service.responses import json_response


class Problems(Exception):
    """A 422 with a FastAPI-style detail list: ``[{"loc": [...], "msg": ..., "type": ...}]``."""

    def __init__(self, detail: list[dict]):
        self.detail = detail
        super().__init__(detail)


def profile_problems(exc: ProfileError, where: Callable[[str], list]) -> Problems:
    """The engine's field problems, each located in the request body by ``where(field)``."""
    return Problems(
        [
            {"loc": where(p["field"]), "msg": p["problem"], "type": "value_error.profile"}
            for p in exc.problems
        ]
    )


def message(exc: Exception | str, kind: str = "value_error", loc: tuple = ("body",)) -> Problems:
    """One problem with the whole body (or ``loc``)."""
    return Problems([{"loc": list(loc), "msg": str(exc), "type": kind}])


def install_error_handlers(app: FastAPI) -> None:
    async def problems(_request: Request, exc: Problems) -> Response:
        return json_response({"detail": exc.detail}, 422)

    async def profile_error(request: Request, exc: ProfileError) -> Response:
        return await problems(request, profile_problems(exc, lambda f: ["body", f]))

    def status(code: int):
        async def handler(_request: Request, exc: Exception) -> Response:
            return json_response({"detail": str(exc)}, code)

        return handler

    async def bench_error(request: Request, exc: BenchError) -> Response:
        if isinstance(exc, ValueError):  # the input is at fault
            return await problems(request, message(exc))
        return await status(400)(request, exc)

    app.add_exception_handler(Problems, problems)
    app.add_exception_handler(ProfileError, profile_error)
    app.add_exception_handler(ModelNotFoundError, status(404))
    app.add_exception_handler(AlertNotFoundError, status(404))
    app.add_exception_handler(AlertStateError, status(409))
    app.add_exception_handler(IntegrityError, status(409))
    app.add_exception_handler(TrainingBusyError, status(409))
    app.add_exception_handler(BenchError, bench_error)
