"""A list is checked whole before anything is stored: the first bad entry is named."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from app.bodies import check_depth
from app.desirability.schemas import Entry
from app.errors import BadRequest, InvalidRequest


def _where(index: int, item: Any) -> str:
    ident = item.get("id") if isinstance(item, dict) else None
    if isinstance(ident, str) and ident:
        shown = ident if len(ident) <= 64 else ident[:61] + "..."
        return f"entries[{index}] (id {shown!r})"
    return f"entries[{index}]"


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{field}: {message}" if field else message


def parse_entries(raw: bytes) -> list[Entry]:
    """The entries of a `{"entries": [...]}` body, or a 400/422 naming what is wrong."""
    check_depth(raw)
    try:
        payload = json.loads(raw)
    except ValueError:
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    entries = payload.get("entries") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        raise InvalidRequest('The body must be {"entries": [...]}.', code="invalid_list")
    if not entries:
        raise InvalidRequest(
            "entries is empty; a list needs at least one entry.", code="empty_list"
        )
    parsed: list[Entry] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(entries):
        try:
            entry = Entry.model_validate(item)
        except ValidationError as exc:
            raise InvalidRequest(
                f"{_where(index, item)}: {_problem(exc)}.", code="invalid_entry"
            ) from None
        if entry.id in first_index:
            raise InvalidRequest(
                f"{_where(index, item)} repeats the id of entries[{first_index[entry.id]}]; "
                "ids must be unique in a list.",
                code="duplicate_id",
            )
        first_index[entry.id] = index
        parsed.append(entry)
    return parsed
