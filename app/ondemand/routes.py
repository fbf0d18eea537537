"""On-demand endpoints: customers (X-API-Key), miners and validators (signed requests)."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from starlette.responses import Response

from app.auth.apikeys import key_fingerprint, require_key
from app.auth.pipeline import Caller, authenticate, parse_body, signed
from app.deps import ServicesDep
from app.error_codes import HEADER_SIGNATURE_REFUSALS, VALIDATOR_REFUSALS
from app.errors import BadRequest, Conflict, NotFound, RateLimited
from app.ondemand import examples
from app.ondemand.schemas import (
    ActiveJobs,
    ActiveJobsRequest,
    CreatedJob,
    CreateJobRequest,
    JobsRequest,
    JobStats,
    JobStatsRequest,
    JobSubmissions,
    JobsWithSubmissions,
    MinerJobs,
    MinerJobsRequest,
    SubmitAnswer,
    SubmitRequest,
)
from app.responses import JSONBytes
from app.routes.openapi import answer, json_body, refusals, signed_with

router = APIRouter(tags=["on-demand"])

CUSTOMER_REFUSALS = ("invalid_api_key", "rate_limited", "database_unavailable")
# A signed request can also meet the database (and, for reads, storage) being down.
SIGNED_REFUSALS = (*HEADER_SIGNATURE_REFUSALS, "database_unavailable")


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
    openapi_extra={
        **json_body(CreateJobRequest, example=examples.CREATE_REQUEST),
        **signed_with("api_key"),
    },
    responses={
        **answer(examples.CREATE_ANSWER, status=201, description="Created."),
        **refusals(
            codes=(
                *CUSTOMER_REFUSALS,
                "invalid_json",
                "payload_too_large",
                "invalid_request",
                "expire_at_too_soon",
                "expire_at_too_late",
                "too_many_open_jobs",
            )
        ),
    },
)
async def create_job(
    request: Request,
    services: ServicesDep,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Create an on-demand job (x or reddit); miners see it within a second."""
    body = parse_body(CreateJobRequest, await request.body())
    # The `Customer` dependency already checked the key.
    customer = key_fingerprint(x_api_key or "")
    job = await services.ondemand.create_job(body.job, customer=customer)
    return JSONBytes({"job_id": job.id}, status_code=201)


@router.get(
    "/on-demand/constellation/jobs/{job_id}",
    response_model=JobSubmissions,
    dependencies=[Customer],
    openapi_extra=signed_with("api_key"),
    responses={
        **answer(examples.SUBMISSIONS_ANSWER),
        **refusals(
            codes=(
                *CUSTOMER_REFUSALS,
                "job_not_found",
                "invalid_request",
                "storage_unavailable",
                "bucket_missing",
            )
        ),
    },
)
async def job_submissions(job_id: str, services: ServicesDep) -> Response:
    """The job's submissions, with a download URL for each answer that landed."""
    return JSONBytes(await services.ondemand.customer_view(job_id))


# --- miners ---------------------------------------------------------------------------


def accepts_gzip(header: str | None) -> bool:
    """Whether `Accept-Encoding` takes gzip (a `q=0` on it refuses it)."""
    for part in (header or "").lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


# Only failed submissions are limited (RATE_LIMIT_ONDEMAND_FAILURES), not submissions.
Submitter = Annotated[
    Caller[SubmitRequest], Depends(signed(SubmitRequest, "registered", limit=None))
]
SUBMIT_FAILURES = (NotFound, BadRequest, Conflict)


@router.post(
    "/on-demand/miner/jobs/active",
    response_model=ActiveJobs,
    openapi_extra={
        **json_body(ActiveJobsRequest, example=examples.ACTIVE_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={**answer(examples.ACTIVE_ANSWER), **refusals(codes=HEADER_SIGNATURE_REFUSALS)},
)
async def active_jobs(request: Request, services: ServicesDep) -> Response:
    """Open x and reddit jobs created since `since` (at most 10 minutes ago)."""
    # Authorized here rather than through a `signed` dependency: every miner polls every
    # few seconds, and FastAPI's resolution of nested dependencies is a visible share of
    # this route's CPU.
    caller: Caller[ActiveJobsRequest] = await authenticate(
        request, services, ActiveJobsRequest, "registered", limit="ondemand_poll"
    )
    body, zipped = services.ondemand.active.encoded(
        caller.body.since, gzip_ok=accepts_gzip(request.headers.get("accept-encoding"))
    )
    headers = {"Vary": "Accept-Encoding"}
    if zipped:
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


@router.post(
    "/on-demand/miner/jobs/submit",
    response_model=SubmitAnswer,
    openapi_extra={
        **json_body(SubmitRequest, example=examples.SUBMIT_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={
        **answer(examples.SUBMIT_ANSWER),
        **refusals(
            codes=(
                *SIGNED_REFUSALS,
                "job_not_found",
                "job_expired",
                "already_submitted",
                "storage_unavailable",
            )
        ),
    },
)
async def submit_answer(caller: Submitter, services: ServicesDep) -> Response:
    """Register this miner's answer to a job and get the POST form that uploads it."""
    limits = services.limits
    await limits.ensure_room("ondemand_failures", caller.hotkey)
    incentive = caller.neuron.incentive
    try:
        form = await services.ondemand.submit(
            caller.body.submission.job_id, caller.hotkey, incentive
        )
    except SUBMIT_FAILURES:
        # The refusal itself is the answer; a full failure quota shows on the next try.
        with contextlib.suppress(RateLimited):
            await limits.hit_hotkey("ondemand_failures", caller.hotkey)
        raise
    return JSONBytes({"presigned_post_upload_data": {"url": form.url, "fields": form.fields}})


# --- validators -----------------------------------------------------------------------

MinerJobsCaller = Annotated[
    Caller[MinerJobsRequest], Depends(signed(MinerJobsRequest, "validator"))
]
StatsCaller = Annotated[Caller[JobStatsRequest], Depends(signed(JobStatsRequest, "validator"))]
JobsCaller = Annotated[Caller[JobsRequest], Depends(signed(JobsRequest, "validator"))]
WINDOW_REFUSALS = refusals(codes=(*SIGNED_REFUSALS, *VALIDATOR_REFUSALS))


@router.post(
    "/on-demand/validator/miner-jobs",
    response_model=MinerJobs,
    openapi_extra={
        **json_body(MinerJobsRequest, example=examples.MINER_JOBS_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={**answer(examples.MINER_JOBS_ANSWER), **WINDOW_REFUSALS},
)
async def miner_jobs(caller: MinerJobsCaller, services: ServicesDep) -> Response:
    """A miner's submissions to jobs that expired in the window (clamped to retention)."""
    return Response(await services.ondemand.miner_jobs(caller.body), media_type="application/json")


@router.post(
    "/on-demand/validator/jobs/stats",
    response_model=JobStats,
    openapi_extra={
        **json_body(JobStatsRequest, example=examples.STATS_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={**answer(examples.STATS_ANSWER), **WINDOW_REFUSALS},
)
async def job_stats(caller: StatsCaller, services: ServicesDep) -> Response:
    """Per platform: jobs that expired in the window, and those with enough landed answers."""
    return JSONBytes(await services.ondemand.stats(caller.body))


@router.post(
    "/on-demand/validator/jobs",
    response_model=JobsWithSubmissions,
    openapi_extra={
        **json_body(JobsRequest, example=examples.JOBS_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={**answer(examples.JOBS_ANSWER), **WINDOW_REFUSALS},
)
async def jobs_with_submissions(caller: JobsCaller, services: ServicesDep) -> Response:
    """Jobs that expired in the window and had submissions, with all their submissions."""
    return JSONBytes(await services.ondemand.jobs(caller.body))
