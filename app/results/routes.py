"""Published validation scores: trusted validators write, every validator reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from app.auth.pipeline import Caller, signed
from app.deps import ServicesDep
from app.desirability.routes import READ_REFUSALS
from app.error_codes import HEADER_SIGNATURE_REFUSALS, TRUSTED_REFUSALS, VALIDATOR_REFUSALS
from app.metrics import PublicationsDep
from app.responses import JSONBytes
from app.results import examples
from app.results.schemas import Results, ResultsBody, Upserted, check_results
from app.routes.openapi import answer, json_body, refusals, signed_with

router = APIRouter(tags=["validation results"])

# Publishing spends no quota: the trusted validator already spends its validator quota on
# listing every miner's files, and a refused publication is a score lost for the whole
# subnet (the client logs it and moves on). Only TRUSTED_VALIDATORS get this far.
Publisher = Annotated[
    Caller[ResultsBody],
    Depends(signed(ResultsBody, "trusted", limit=None, check=check_results)),
]
Reader = Annotated[Caller[None], Depends(signed(None, "validator"))]


@router.post(
    "/s3-validation/results",
    response_model=Upserted,
    openapi_extra={
        **json_body(ResultsBody, example=examples.PUBLISH_REQUEST),
        **signed_with("tao", "btauth"),
    },
    responses={
        **answer(examples.PUBLISH_ANSWER),
        **refusals(
            codes=(
                *HEADER_SIGNATURE_REFUSALS,
                *TRUSTED_REFUSALS,
                "score_too_large",
                "invalid_score",
                "database_unavailable",
            )
        ),
    },
)
async def publish_results(
    caller: Publisher, services: ServicesDep, publications: PublicationsDep
) -> Response:
    """Store each miner's latest score (trusted validators)."""
    upserted = await services.results.publish(caller.neuron, caller.body.results)
    publications.record("validation_results")
    return JSONBytes({"upserted": upserted})


@router.get(
    "/s3-validation/results",
    response_model=Results,
    openapi_extra=signed_with("tao", "btauth"),
    responses={
        **answer(examples.RESULTS_ANSWER),
        **refusals(codes=(*READ_REFUSALS, *VALIDATOR_REFUSALS, "database_unavailable")),
    },
)
async def read_results(_: Reader, services: ServicesDep) -> Response:
    """Every miner's latest published score (validators; empty body signed)."""
    return JSONBytes(await services.results.all())
