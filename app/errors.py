"""Domain errors and the handlers that render every refusal as `{"detail", "code"}`."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

logger = logging.getLogger(__name__)

# nginx's "client closed request": what /metrics counts for a client that left mid-request.
CLIENT_CLOSED_REQUEST = 499


class ServiceError(Exception):
    """A refusal with its HTTP status, a stable code and one client-safe sentence."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.headers = headers
        self.extra = extra


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class AuthFailed(ServiceError):
    status = 401
    code = "bad_signature"


class NotAllowed(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class InvalidRequest(ServiceError):
    status = 422
    code = "invalid_request"


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"


# Where a refusal's code is left for the metrics middleware, which counts refusals by code.
ERROR_CODE_KEY = "s3auth.error_code"


# Where the pipeline leaves how to undo what an admitted request wrote (its one-time claim
# and its count), for a refusal that comes after it.
GIVE_BACK_KEY = "s3auth.give_back"


def note_refusal(scope: MutableMapping[str, Any], error: ServiceError) -> None:
    scope[ERROR_CODE_KEY] = error.code


async def give_back(scope: MutableMapping[str, Any]) -> None:
    """A refused request leaves nothing behind: its signature may be sent again."""
    undo = scope.pop(GIVE_BACK_KEY, None)
    if undo is None:
        return
    try:
        await undo()
    except Exception as exc:  # the refusal is still the answer; the claim simply expires
        logger.warning("could not give back a refused request's claim: %s", type(exc).__name__)


def error_response(error: ServiceError) -> JSONResponse:
    body = {"detail": error.detail, "code": error.code, **error.extra}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def describe_validation_error(errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid value')}{more}."


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        note_refusal(request.scope, exc)
        await give_back(request.scope)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(InvalidRequest(describe_validation_error(list(exc.errors()))))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"detail": str(exc.detail), "code": code},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(ClientDisconnect)
    async def _client_left(request: Request, _: ClientDisconnect) -> Response:
        # Nobody is left to answer, and nothing failed on this side.
        logger.debug("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        await give_back(request.scope)
        # The request is not logged in full: bodies carry signatures.
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": "The service hit an internal error; try again.", "code": "internal"},
            status_code=500,
        )
