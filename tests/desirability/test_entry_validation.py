"""What makes a list publishable, checked without the app: each refusal names the entry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.desirability.validation import parse_entries
from app.errors import BadRequest, InvalidRequest
from tests.desirability.conftest import entry


def body(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"entries": list(entries)}).encode()


def test_valid_entry_keeps_every_field_in_utc() -> None:
    (parsed,) = parse_entries(
        body(
            entry(
                keyword="decentralized",
                post_start_datetime="2026-01-01T02:00:00+02:00",
                post_end_datetime="2026-01-02T00:00:00Z",
                max_rows=500000,
            )
        )
    )
    dumped = parsed.model_dump(mode="json")
    assert dumped["post_start_datetime"] == "2026-01-01T00:00:00Z"
    assert dumped["post_end_datetime"] == "2026-01-02T00:00:00Z"
    assert dumped["expires_at"] is None
    assert set(dumped) == {
        "id",
        "platform",
        "weight",
        "label",
        "keyword",
        "post_start_datetime",
        "post_end_datetime",
        "expires_at",
        "max_rows",
    }


@pytest.mark.parametrize(
    ("bad", "code", "says"),
    [
        (entry(id="a", platform="youtube"), "invalid_entry", "platform"),
        (entry(id="a", platform="X"), "invalid_entry", "platform"),
        (entry(id="a/b"), "invalid_entry", "one path segment"),
        (entry(id=".."), "invalid_entry", "one path segment"),
        (entry(id="a" * 129), "invalid_entry", "one path segment"),
        (entry(id="a", weight=0), "invalid_entry", "weight"),
        (entry(id="a", weight=-1.5), "invalid_entry", "weight"),
        (entry(id="a", post_start_datetime="2026-01-01T00:00:00"), "invalid_entry", "timezone"),
        (entry(id="a", expires_at="2026-01-01T00:00:00"), "invalid_entry", "timezone"),
        (entry(id="a", label=None, keyword=None), "invalid_entry", "label or a keyword"),
        (entry(id="a", max_rows=0), "invalid_entry", "max_rows"),
        (entry(id="a", wieght=1.0), "invalid_entry", "wieght"),
        (
            entry(
                id="a",
                post_start_datetime="2026-02-01T00:00:00Z",
                post_end_datetime="2026-01-01T00:00:00Z",
            ),
            "invalid_entry",
            "after post_end_datetime",
        ),
        (entry(id="first"), "duplicate_id", "repeats the id of entries[0]"),
    ],
)
def test_bad_entry_is_422_naming_its_index(bad: dict[str, Any], code: str, says: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_entries(body(entry(id="first"), bad))
    assert refused.value.code == code
    assert refused.value.detail.startswith("entries[1]")
    assert says in refused.value.detail


def test_refusal_names_the_bad_entry_by_id() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_entries(body(entry(id="ok"), entry(id="bad-weight", weight=0)))
    assert "entries[1] (id 'bad-weight')" in refused.value.detail


@pytest.mark.parametrize("raw", [b'{"entries": []}', b'{"entries": {}}', b"[]", b'{"list": []}'])
def test_empty_or_misshapen_list_is_422(raw: bytes) -> None:
    with pytest.raises(InvalidRequest):
        parse_entries(raw)


def test_body_that_is_not_json_is_400() -> None:
    with pytest.raises(BadRequest) as refused:
        parse_entries(b"{not json")
    assert refused.value.code == "invalid_json"
