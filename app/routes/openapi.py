"""What each route declares for its OpenAPI operation: examples, error codes, signatures.

A route states, in its decorator, an example request (`json_body`), an example answer
(`answer`), the codes it can refuse with (`refusals`, rendered as an enum per status) and
the signatures it accepts (`signed_with`). `OpenApiApp` adds the security schemes those
names refer to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel

from app.error_codes import ERROR_CODES

Scheme = Literal["tao", "btauth", "legacy", "api_key"]

_STATUS_DESCRIPTIONS = {
    400: "Malformed or stale request.",
    401: "Bad or replayed signature, unregistered hotkey, or a missing or unknown API key.",
    403: "Authenticated but not allowed.",
    404: "Not found.",
    409: "Conflicts with what is stored.",
    413: "Body too large.",
    422: "Body does not match the schema.",
    429: "Rate limited; see Retry-After.",
    503: "A dependency (metagraph, storage, Redis, database) is unavailable.",
}

# Extra fields some refusals carry besides `detail` and `code`.
_EXAMPLE_EXTRAS: dict[str, dict[str, Any]] = {
    "stale_timestamp": {"server_time": 1795541581},
    "stale_nonce": {"server_time": 1795541581},
    "rate_limited": {"limit": "miner", "retry_after": 1234},
}

_HEADER = "header"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "TaoVersion": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Tao-Version",
        "description": "Tao v2 signature: the literal `2`.",
    },
    "TaoTimestamp": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Tao-Timestamp",
        "description": "Tao v2: unix time in milliseconds, as signed.",
    },
    "TaoNonce": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Tao-Nonce",
        "description": "Tao v2: a fresh UUID4 per request, as signed.",
    },
    "TaoSignedBy": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Tao-Signed-By",
        "description": "Tao v2: the signing hotkey, SS58.",
    },
    "TaoSignature": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Tao-Signature",
        "description": "Tao v2: base64 (or 128 hex characters) of the sr25519 signature of "
        "`sha256(body).hexdigest() + '.' + nonce + '.' + timestamp` (docs/protocol.md).",
    },
    "BittensorVersion": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Bittensor-Version",
        "description": "btauth/1 (bittensor.http_auth): the literal `1`.",
    },
    "BittensorHotkey": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Bittensor-Hotkey",
        "description": "btauth/1: the signing hotkey, SS58.",
    },
    "BittensorNonce": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Bittensor-Nonce",
        "description": "btauth/1: unix time in nanoseconds, decimal.",
    },
    "BittensorSignature": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-Bittensor-Signature",
        "description": "btauth/1: 0x-hex signature of the newline-joined payload (method, "
        "path, body hash, nonce, sender, receiver). `X-Bittensor-Receiver` is required "
        "when the service sets SERVER_HOTKEY (docs/protocol.md).",
    },
    "ApiKey": {
        "type": "apiKey",
        "in": _HEADER,
        "name": "X-API-Key",
        "description": "A key from CONSTELLATION_API_KEYS or ADMIN_API_KEYS.",
    },
}

_REQUIREMENTS: dict[Scheme, dict[str, list[str]]] = {
    "tao": {
        name: []
        for name in ("TaoVersion", "TaoTimestamp", "TaoNonce", "TaoSignedBy", "TaoSignature")
    },
    "btauth": {
        name: []
        for name in ("BittensorVersion", "BittensorHotkey", "BittensorNonce", "BittensorSignature")
    },
    # The legacy signature travels in the body: no header is required.
    "legacy": {},
    "api_key": {"ApiKey": []},
}


def json_body(
    model: type[BaseModel],
    *,
    example: dict[str, Any] | None = None,
    examples: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A required JSON request body; `examples` names alternatives (e.g. per signature)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    if examples:
        media["examples"] = {name: {"value": value} for name, value in examples.items()}
    return {"requestBody": {"required": True, "content": {"application/json": media}}}


def signed_with(*schemes: Scheme) -> dict[str, Any]:
    """The signatures an operation accepts, as alternatives."""
    return {"security": [_REQUIREMENTS[scheme] for scheme in schemes]}


def answer(
    example: Any,
    *,
    status: int = 200,
    description: str = "Success.",
    media_type: str = "application/json",
) -> dict[int | str, dict[str, Any]]:
    """The example answer of a success status (merged with the response model's schema)."""
    return {status: {"description": description, "content": {media_type: {"example": example}}}}


def _error_example(code: str) -> dict[str, Any]:
    return {"detail": ERROR_CODES[code].meaning, "code": code, **_EXAMPLE_EXTRAS.get(code, {})}


def refusals(*statuses: int, codes: Iterable[str] = ()) -> dict[int | str, dict[str, Any]]:
    """Error answers by status, each with the enum of codes it can carry and an example of each.

    A status named without codes documents every known code of that status.
    """
    by_status: dict[int, list[str]] = {status: [] for status in statuses}
    for code in codes:
        by_status.setdefault(ERROR_CODES[code].status, []).append(code)
    documented: dict[int | str, dict[str, Any]] = {}
    for status in sorted(by_status):
        names = by_status[status] or [c for c, e in ERROR_CODES.items() if e.status == status]
        schema = {
            "type": "object",
            "required": ["detail", "code"],
            "properties": {
                "detail": {"type": "string", "description": "One sentence for humans."},
                "code": {"type": "string", "enum": names, "description": "Stable reason."},
            },
        }
        examples = {
            name: {"summary": f"{name}: {ERROR_CODES[name].meaning}", "value": _error_example(name)}
            for name in names
        }
        documented[status] = {
            "description": _STATUS_DESCRIPTIONS.get(status, "Refused."),
            "content": {"application/json": {"schema": schema, "examples": examples}},
        }
    return documented


class OpenApiApp(FastAPI):
    """FastAPI with the signed-request headers declared as OpenAPI security schemes."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        return self.openapi_schema  # type: ignore[return-value]
