"""The shared datetime type and the JSON depth bound, without the app."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from app.bodies import MAX_DEPTH, check_depth, nesting_depth
from app.datetimes import AwareUtcDatetime, UtcDatetime
from app.errors import BadRequest

EXTREMES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00+00:01",
]


class Window(BaseModel):
    since: UtcDatetime
    until: AwareUtcDatetime | None = None


@pytest.mark.parametrize("value", EXTREMES)
def test_a_datetime_outside_1970_to_9999_in_utc_is_a_validation_error(value: str) -> None:
    with pytest.raises(ValidationError):
        Window.model_validate_json(f'{{"since": "{value}"}}')
    with pytest.raises(ValidationError):
        Window.model_validate({"since": "2026-01-01T00:00:00Z", "until": value})


def test_edges_inside_the_range_are_kept_and_moved_to_utc() -> None:
    window = Window.model_validate(
        {"since": "1970-01-01T00:00:00", "until": "9999-12-31T09:59:59-14:00"}
    )
    assert window.since == datetime(1970, 1, 1, tzinfo=UTC)
    assert window.until == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert window.until.tzinfo is UTC


def test_an_aware_field_still_refuses_a_naive_value() -> None:
    with pytest.raises(ValidationError):
        Window.model_validate({"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00"})


def test_depth_counts_nesting_and_ignores_brackets_inside_strings() -> None:
    assert nesting_depth(b'{"a": [1, {"b": []}]}') == 4
    assert nesting_depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[["}') == 1
    assert nesting_depth(b"[]" * 1000) == 1
    assert nesting_depth(b"[" * 5000) == MAX_DEPTH + 1


def test_a_body_nested_past_the_bound_is_invalid_json() -> None:
    check_depth(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    with pytest.raises(BadRequest) as refused:
        check_depth(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert refused.value.code == "invalid_json"
