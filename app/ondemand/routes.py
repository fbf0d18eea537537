"""On-demand endpoints: customers (X-API-Key), miners and validators (signed requests)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from app.auth.apikeys import require_key
from app.deps import ServicesDep
from app.errors import BadRequest, InvalidRequest, describe_validation_error
from app.ondemand.schemas import CreatedJob, CreateJobRequest, JobSubmissions
from app.responses import JSONBytes
from app.routes.openapi import json_body, refusals

router = APIRouter(tags=["on-demand"])

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], raw: bytes) -> M:
    """The JSON body as `model`, whatever the Content-Type says."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors()
        if errors and errors[0].get("type") == "json_invalid":
            raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
        raise InvalidRequest(describe_validation_error(list(errors))) from None


async def _customer(
    services: ServicesDep, x_api_key: Annotated[str | None, Header()] = None
) -> None:
    require_key(x_api_key, services.settings.constellation_api_keys, who="an on-demand customer")


Customer = Depends(_customer)


@router.post(
    "/on-demand/constellation/jobs",
    status_code=201,
    response_model=CreatedJob,
    dependencies=[Customer],
    openapi_extra=json_body(CreateJobRequest),
    responses=refusals(401, 413, 422, 503),
)
async def create_job(request: Request, services: ServicesDep) -> Response:
    """Create an on-demand job (x or reddit); miners see it within a second."""
    body = parse_body(CreateJobRequest, await request.body())
    job = await services.ondemand.create_job(body.job)
    return JSONBytes({"job_id": job.id}, status_code=201)


@router.get(
    "/on-demand/constellation/jobs/{job_id}",
    response_model=JobSubmissions,
    dependencies=[Customer],
    responses=refusals(401, 404, 503),
)
async def job_submissions(job_id: str, services: ServicesDep) -> Response:
    """The job's submissions, with a download URL for each answer that landed."""
    return JSONBytes(await services.ondemand.customer_view(job_id))
