"""OpenAPI helpers for routes that parse their JSON body by hand."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.schemas import ErrorBody

_REFUSALS = {
    400: "Malformed or stale request.",
    401: "Bad signature, replayed signature or unregistered hotkey.",
    403: "Authenticated but not allowed.",
    404: "Not found.",
    409: "Conflicts with what is stored.",
    413: "Body too large.",
    422: "Body does not match the schema.",
    429: "Rate limited; see Retry-After.",
    503: "A dependency (metagraph, storage) is unavailable.",
}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": _REFUSALS[s]} for s in statuses}
