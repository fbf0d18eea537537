"""Datetimes at the edges of Python's range and deeply nested bodies are 4xx, never 500.

An extreme offset overflows when the value is moved to UTC; these requests are refused
while parsing, before any signature or database work, and change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.ondemand.models import Job
from tests.app_state import count_rows
from tests.conftest import Subnet
from tests.ondemand.conftest import CUSTOMER, job_body, signed_post

EXTREMES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T23:00:00Z")
WINDOW = {"expired_since": "2026-01-01T00:00:00Z", "expired_until": "2026-01-02T00:00:00Z"}
VALIDATOR_VIEWS = (
    (
        "/on-demand/validator/miner-jobs",
        {"miner_hotkey": "5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX"},
    ),
    ("/on-demand/validator/jobs/stats", {}),
    ("/on-demand/validator/jobs", {}),
)


def deep(levels: int) -> bytes:
    return b'{"since": ' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize("value", EXTREMES)
def test_an_extreme_since_is_422_for_a_polling_miner(
    od_client: TestClient, subnet: Subnet, value: str
) -> None:
    answer = signed_post(
        od_client, "/on-demand/miner/jobs/active", subnet.miner.hotkey, {"since": value}
    )
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("field", ["start_date", "end_date", "expire_at"])
@pytest.mark.parametrize("value", EXTREMES)
def test_an_extreme_job_date_is_422_and_creates_no_job(
    od_client: TestClient, field: str, value: str
) -> None:
    answer = od_client.post(
        "/on-demand/constellation/jobs", json=job_body(**{field: value}), headers=CUSTOMER
    )
    assert answer.status_code == 422, answer.text
    assert count_rows(od_client, Job) == 0


@pytest.mark.parametrize(("path", "extra"), VALIDATOR_VIEWS)
@pytest.mark.parametrize("field", ["expired_since", "expired_until"])
@pytest.mark.parametrize("value", EXTREMES)
def test_an_extreme_window_edge_is_422_for_a_validator(
    od_client: TestClient, subnet: Subnet, path: str, extra: dict[str, Any], field: str, value: str
) -> None:
    body = {**WINDOW, **extra, field: value}
    answer = signed_post(od_client, path, subnet.validator.hotkey, body)
    assert answer.status_code == 422, answer.text


def test_a_body_nested_thousands_deep_is_400_invalid_json(
    od_client: TestClient, subnet: Subnet
) -> None:
    raw = deep(5000)
    answer = od_client.post("/on-demand/constellation/jobs", content=raw, headers=CUSTOMER)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_json")
