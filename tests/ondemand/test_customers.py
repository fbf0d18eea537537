"""Customers create jobs and read their submissions with X-API-Key; bad input changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.ondemand.models import Job
from tests.app_state import count_rows
from tests.ondemand.conftest import CUSTOMER, create_job, iso_in, job_body

JOBS = "/on-demand/constellation/jobs"


def test_created_job_gets_a_server_uuid_and_default_lifetime(od_client: TestClient) -> None:
    before = datetime.now(UTC)
    body = job_body(id="mine", created_at="2020-01-01T00:00:00Z")
    answer = od_client.post(JOBS, json=body, headers=CUSTOMER)
    assert answer.status_code == 201
    job_id = answer.json()["job_id"]
    assert str(uuid.UUID(job_id)) == job_id
    assert count_rows(od_client, Job) == 1
    # The server's clock, not the customer's: 120 s by default.
    polled = od_client.app.state.services.ondemand.active.answer(before - timedelta(seconds=1))  # type: ignore[attr-defined]
    assert job_id.encode() in polled


def test_second_configured_key_is_accepted(od_client: TestClient) -> None:
    answer = od_client.post(JOBS, json=job_body(), headers={"X-API-Key": "customer-key-2"})
    assert answer.status_code == 201


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "customer-key-"}, {"X-API-Key": ""}])
def test_missing_or_wrong_api_key_is_401_and_creates_nothing(
    od_client: TestClient, headers: dict[str, str]
) -> None:
    answer = od_client.post(JOBS, json=job_body(), headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_api_key"
    assert od_client.get(f"{JOBS}/{uuid.uuid4()}", headers=headers).status_code == 401
    assert count_rows(od_client, Job) == 0


def test_service_without_customer_keys_refuses_every_key(make_settings: Any) -> None:
    from app.main import create_app

    with TestClient(create_app(make_settings())) as client:
        answer = client.post(JOBS, json=job_body(), headers=CUSTOMER)
    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_api_key"


BAD_JOBS = {
    "youtube": {"job": {"platform": "youtube", "channels": ["@MrBeast"]}},
    "no platform": {"job": {"keywords": ["a"]}},
    "eleven usernames": {"job": {"platform": "x", "usernames": [f"u{i}" for i in range(11)]}},
    "six keywords": {"job": {"platform": "x", "keywords": list("abcdef")}},
    "subreddit plus five keywords": {
        "job": {"platform": "reddit", "subreddit": "r/ai", "keywords": list("abcde")}
    },
    "subreddit without r/": {"job": {"platform": "reddit", "subreddit": "ai"}},
    "empty x job": {"job": {"platform": "x"}},
    "url with keywords": {"job": {"platform": "x", "url": "https://x.com/a/1", "keywords": ["a"]}},
    "unknown payload field": {"job": {"platform": "x", "keyword": ["typo"]}},
    "limit 0": {"job": {"platform": "x", "keywords": ["a"]}, "limit": 0},
    "limit 1001": {"job": {"platform": "x", "keywords": ["a"]}, "limit": 1001},
    "keyword_mode": {"job": {"platform": "x", "keywords": ["a"]}, "keyword_mode": "some"},
    "end before start": {
        "job": {"platform": "x", "keywords": ["a"]},
        "start_date": "2026-08-05T12:00:00Z",
        "end_date": "2026-08-05T11:00:00Z",
    },
}


@pytest.mark.parametrize("spec", BAD_JOBS.values(), ids=BAD_JOBS.keys())
def test_invalid_job_is_422_and_creates_nothing(od_client: TestClient, spec: dict) -> None:
    answer = od_client.post(JOBS, json={"job": spec}, headers=CUSTOMER)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert answer.json()["detail"]
    assert count_rows(od_client, Job) == 0


def test_youtube_refusal_says_why(od_client: TestClient) -> None:
    answer = od_client.post(JOBS, json={"job": BAD_JOBS["youtube"]}, headers=CUSTOMER)
    assert "only x and reddit" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("seconds", "code"), [(10, "expire_at_too_soon"), (49 * 3600, "expire_at_too_late")]
)
def test_expire_at_out_of_range_is_422(od_client: TestClient, seconds: int, code: str) -> None:
    answer = od_client.post(JOBS, json=job_body(expire_at=iso_in(seconds)), headers=CUSTOMER)
    assert answer.status_code == 422
    assert answer.json()["code"] == code
    assert count_rows(od_client, Job) == 0


def test_body_that_is_not_json_is_400(od_client: TestClient) -> None:
    answer = od_client.post(JOBS, content=b"{not json", headers=CUSTOMER)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_json"
    assert count_rows(od_client, Job) == 0


def test_usernames_lose_their_at_sign_and_naive_times_are_utc(od_client: TestClient) -> None:
    expire = (datetime.now(UTC) + timedelta(minutes=5)).replace(tzinfo=None, microsecond=0)
    job_id = create_job(
        od_client,
        job={"platform": "x", "usernames": ["@elonmusk", " tao "]},
        expire_at=expire.isoformat(),
        start_date="2026-08-05T10:00:00+02:00",
    )

    async def read() -> Job | None:
        services = od_client.app.state.services  # type: ignore[attr-defined]
        async with services.db.session() as session:
            return await session.get(Job, job_id)

    assert od_client.portal is not None
    job = od_client.portal.call(read)
    assert job is not None
    assert job.payload["usernames"] == ["elonmusk", "tao"]
    assert job.expire_at == expire.replace(tzinfo=UTC)
    assert job.start_date == datetime(2026, 8, 5, 8, 0, tzinfo=UTC)


def test_unknown_job_is_404_job_not_found(od_client: TestClient) -> None:
    answer = od_client.get(f"{JOBS}/{uuid.uuid4()}", headers=CUSTOMER)
    assert answer.status_code == 404
    assert answer.json()["code"] == "job_not_found"


def test_new_job_has_no_submissions(od_client: TestClient) -> None:
    job_id = create_job(od_client)
    answer = od_client.get(f"{JOBS}/{job_id}", headers=CUSTOMER)
    assert answer.status_code == 200
    assert answer.json() == {"submissions": []}


def test_job_id_that_cannot_exist_is_404(od_client: TestClient) -> None:
    answer = od_client.get(f"{JOBS}/x%00y", headers=CUSTOMER)
    assert answer.status_code == 404
    assert answer.json()["code"] == "job_not_found"
