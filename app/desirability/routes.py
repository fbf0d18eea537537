"""Dynamic Desirability endpoints: signed reads for miners and validators, admin publishing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.responses import Response

from app.auth.apikeys import require_key
from app.auth.pipeline import signed
from app.deps import ServicesDep
from app.desirability import examples
from app.desirability.schemas import DDList, Published, PublishRequest
from app.desirability.validation import parse_entries
from app.error_codes import HEADER_SIGNATURE_REFUSALS, VALIDATOR_REFUSALS
from app.metrics import PublicationsDep
from app.responses import JSONBytes
from app.routes.openapi import answer, json_body, refusals, signed_with
from app.services import Services

router = APIRouter(tags=["dynamic desirability"])

# A GET has no body to parse or to name a hotkey in.
READ_REFUSALS = tuple(
    code
    for code in HEADER_SIGNATURE_REFUSALS
    if code not in ("invalid_json", "invalid_request", "hotkey_mismatch")
)
PUBLISH_REFUSALS = (
    "invalid_api_key",
    "invalid_json",
    "invalid_list",
    "empty_list",
    "invalid_entry",
    "duplicate_id",
    "payload_too_large",
    "publish_conflict",
    "rate_limited",
    "database_unavailable",
)

# Neither read spends a per-hotkey quota: the answer comes from memory, and a refused read
# is silent harm (a validator falls back to a stale built-in list and skews every miner's
# reward). The per-IP limit still counts them, and each signature is accepted once.
# The routes call these in their body: resolving them as nested FastAPI dependencies
# costs a tenth of a read that is otherwise a signature check and a memory copy.
authorize_miner = signed(None, "registered", limit=None)
authorize_validator = signed(None, "validator", limit=None)


def _answer(services: Services) -> Response:
    return Response(services.desirability.newest().body, media_type="application/json")


@router.get(
    "/dynamic-desirability/miner/get-latest-list",
    response_model=DDList,
    openapi_extra=signed_with("tao", "btauth"),
    responses={**answer(examples.LIST_ANSWER), **refusals(codes=(*READ_REFUSALS, "no_list"))},
)
async def miner_latest_list(request: Request, services: ServicesDep) -> Response:
    """The newest Dynamic Desirability list (any registered hotkey; empty body signed)."""
    await authorize_miner(request, services)
    return _answer(services)


@router.get(
    "/dynamic-desirability/validator/get-latest-list",
    response_model=DDList,
    openapi_extra=signed_with("tao", "btauth"),
    responses={
        **answer(examples.LIST_ANSWER),
        **refusals(codes=(*READ_REFUSALS, *VALIDATOR_REFUSALS, "no_list")),
    },
)
async def validator_latest_list(request: Request, services: ServicesDep) -> Response:
    """The newest Dynamic Desirability list (validators; empty body signed)."""
    await authorize_validator(request, services)
    return _answer(services)


@router.put(
    "/dynamic-desirability/list",
    response_model=Published,
    openapi_extra={
        **json_body(PublishRequest, example=examples.PUBLISH_REQUEST),
        **signed_with("api_key"),
    },
    responses={**answer(examples.PUBLISH_ANSWER), **refusals(codes=PUBLISH_REFUSALS)},
)
async def publish_list(
    request: Request,
    services: ServicesDep,
    publications: PublicationsDep,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Response:
    """Publish a new version of the list (X-API-Key of ADMIN_API_KEYS); earlier ones are kept."""
    require_key(x_api_key, services.settings.admin_api_keys, who="an administrator")
    entries = parse_entries(await request.body())
    snapshot = await services.desirability.publish(entries)
    publications.record("dd_list")
    return JSONBytes(
        {
            "version": snapshot.version,
            "generated_at": snapshot.generated_at.isoformat().replace("+00:00", "Z"),
            "entries": snapshot.entry_count,
        }
    )
