"""``benchmarks``: percentile ranks within a peer group, the segments and the served schema."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.errors import ProfileError
from engine.service.auth import CLIENT
from engine.service.problems import Problems, profile_problems
from engine.service.responses import BAD, CompareOut, FeaturesOut, SegmentsOut, json_response

router = APIRouter(tags=["benchmarks"], dependencies=CLIENT)


@router.post(
    "/benchmarks/compare",
    response_model=None,
    responses={200: {"model": CompareOut}, **BAD},
    openapi_extra={"x-contract": "compare"},
)
async def compare(request: Request) -> Response:
    """Percentile rank of the given feature values within a peer group (segment values)."""
    served = request.app.state.serving.current()
    req = served.contracts.parse(served.contracts.compare, await request.body())
    values = req.values.model_dump(by_alias=True, exclude_none=True)
    peer_group = req.peer_group.model_dump(by_alias=True)
    if not values:
        expected = ", ".join(served.model.schema.feature_names)
        msg = f"give at least one feature value; expected some of {expected}"
        raise Problems([{"loc": ["body", "values"], "msg": msg, "type": "value_error"}])
    try:
        percentiles = served.model.benchmark({**peer_group, **values})
    except ProfileError as exc:
        raise profile_problems(
            exc, lambda f: ["body", "values" if f in values else "peer_group", f]
        ) from None
    rows = [row for row in percentiles if row["feature"] in values]
    return json_response(
        {"model_version": served.version, "peer_group": peer_group, "percentiles": rows}
    )


@router.get("/benchmarks/segments", response_model=None, responses={200: {"model": SegmentsOut}})
def segments(
    request: Request,
    projection: Annotated[
        bool, Query(description="Include the 2-D projection of the training sample.")
    ] = False,
) -> Response:
    """Segments (personas) of the served version: name, size, description, centroid, outcome rate."""
    served = request.app.state.serving.current()
    insights = request.app.state.workspace.details(served.version)["insights"]
    out = {"model_version": served.version, "segments": insights.get("segments", [])}
    if projection:
        out["projection"] = insights.get("projection")
    return json_response(out)


@router.get("/benchmarks/features", response_model=None, responses={200: {"model": FeaturesOut}})
async def features(request: Request) -> Response:
    """The dataset schema being served: features with bounds, kind, direction, label and action."""
    return json_response(request.app.state.serving.current().features)
