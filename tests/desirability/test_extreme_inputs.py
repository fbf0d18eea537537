"""A list with an out-of-range datetime is 422, one nested thousands deep is 400."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.desirability.conftest import ADMIN, LIST_PATH, entry, publish, stored_lists


@pytest.mark.parametrize("field", ["post_start_datetime", "post_end_datetime", "expires_at"])
@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T23:00:00Z"]
)
def test_an_extreme_entry_datetime_is_422_and_stores_nothing(
    dd_client: TestClient, field: str, value: str
) -> None:
    answer = publish(dd_client, [entry(**{field: value})])
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_entry")
    assert stored_lists(dd_client) == 0


def test_a_list_nested_5000_deep_is_400_invalid_json(dd_client: TestClient) -> None:
    raw = b'{"entries": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    answer = dd_client.put(LIST_PATH, content=raw, headers=ADMIN)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_json")
    assert stored_lists(dd_client) == 0
