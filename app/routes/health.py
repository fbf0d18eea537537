"""Operators' view: is the service able to authorize requests right now?"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from app import __version__
from app.deps import ServicesDep
from app.ops.readiness import verdict
from app.routes import examples
from app.routes.openapi import answer
from app.services import Services

router = APIRouter(tags=["operators"])

_ALIVE = b'{"status":"ok"}'


@router.get("/livez", response_class=Response, responses=answer({"status": "ok"}))
@router.get("/healthz", response_class=Response, responses=answer({"status": "ok"}))
async def livez() -> Response:
    """200 while the process answers (liveness; /healthz is the same); see /readyz."""
    return Response(_ALIVE, media_type="application/json")


@router.get(
    "/readyz",
    responses={
        **answer(examples.READY_ANSWER, description="Every dependency answers."),
        **answer(
            examples.NOT_READY_ANSWER,
            status=503,
            description="A dependency fails; each failing check names its reason.",
        ),
    },
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """Readiness: metagraph fresh, database, Redis (when used) and bucket answer, within 2 s."""
    status, body = verdict(await services.readiness.checks())
    return JSONResponse(body, status_code=status)


@router.get(
    "/healthcheck",
    responses={
        **answer(examples.HEALTH_ANSWER, description="Requests can be authorized."),
        **answer(
            examples.HEALTH_DEGRADED,
            status=503,
            description="Degraded: the metagraph is missing or older than "
            "METAGRAPH_MAX_AGE_SECONDS; `reason` says which and why.",
        ),
    },
)
async def healthcheck(services: ServicesDep) -> JSONResponse:
    """200 when requests can be authorized; 503 with a reason when they cannot."""
    settings = services.settings
    cache = services.metagraph
    snapshot = cache.snapshot
    body: dict[str, Any] = {
        "status": "ok",
        "timestamp": int(time.time()),
        "bucket": settings.s3_bucket,
        "region": settings.s3_region,
        "metagraph": None,
        "version": __version__,
    }
    # Not a reason for 503: signed requests are still authorized without a list.
    body["dynamic_desirability"] = dd_state(services)
    body["housekeeping"] = services.housekeeping.state()
    # The same states /readyz answers on; here they inform and do not change the status.
    body["checks"] = verdict(await services.readiness.checks())[1]["checks"]
    reason = None
    if snapshot is None:
        reason = "The metagraph has not been loaded yet"
        if not cache.first_attempt.is_set():
            reason += f"; the first load from the {cache.source.name} is still running"
    else:
        age = cache.age_seconds() or 0.0
        body["metagraph"] = {
            "netuid": snapshot.netuid,
            "block": snapshot.block,
            "neurons": len(snapshot),
            "age_seconds": round(age, 1),
            "source": snapshot.source,
        }
        if not cache.is_fresh():
            reason = (
                f"The metagraph is {age:.0f} s old, over METAGRAPH_MAX_AGE_SECONDS "
                f"({settings.metagraph_max_age_seconds:g} s)"
            )
    if reason is None:
        return JSONResponse(body)
    if cache.last_error:
        reason += f"; last refresh failed: {cache.last_error}"
    body.update(status="degraded", reason=reason + ".")
    return JSONResponse(body, status_code=503)


def dd_state(services: Services) -> dict[str, Any] | None:
    """The served Dynamic Desirability list's version and age; null before the first one."""
    current = services.desirability.latest.current
    if current is None:
        return None
    return {
        "version": current.version,
        "generated_at": current.generated_at.isoformat().replace("+00:00", "Z"),
        "entries": current.entry_count,
        "age_seconds": round(current.age_seconds(), 1),
    }
