"""Open jobs: a cap per customer key, and the answer miners poll, built once per change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.main import create_app
from app.ondemand.active import ActiveJobs
from app.ondemand.models import Job
from config import Settings
from tests.app_state import count_rows, on_app_loop, services_of
from tests.conftest import Subnet
from tests.ondemand.conftest import CUSTOMER, create_job, insert_job, job_body
from tests.signing import tao_headers

CAP = 3
ACTIVE = "/on-demand/miner/jobs/active"


@pytest.fixture
def capped_client(od_settings: Settings) -> Iterator[TestClient]:
    settings = od_settings.model_copy(update={"ondemand_max_open_jobs_per_key": CAP})
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_key_at_its_open_jobs_cap_gets_429_and_creates_nothing(
    capped_client: TestClient,
) -> None:
    for _ in range(CAP):
        create_job(capped_client)
    refused = capped_client.post("/on-demand/constellation/jobs", json=job_body(), headers=CUSTOMER)
    assert (refused.status_code, refused.json()["code"]) == (429, "too_many_open_jobs")
    assert 1 <= int(refused.headers["Retry-After"]) <= 121
    assert count_rows(capped_client, Job) == CAP
    # Another key's jobs are its own.
    other = capped_client.post(
        "/on-demand/constellation/jobs", json=job_body(), headers={"X-API-Key": "customer-key-2"}
    )
    assert other.status_code == 201


def test_expired_jobs_do_not_count_toward_the_cap(capped_client: TestClient) -> None:
    for _ in range(CAP):
        create_job(capped_client)

    async def expire_all() -> None:
        async with services_of(capped_client).db.session() as session:
            await session.execute(
                update(Job).values(expire_at=datetime.now(UTC) - timedelta(seconds=1))
            )

    on_app_loop(capped_client, expire_all)
    create_job(capped_client)


def test_the_stored_customer_is_a_fingerprint_never_the_key(capped_client: TestClient) -> None:
    job_id = create_job(capped_client)

    async def customer() -> str | None:
        async with services_of(capped_client).db.session() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            return job.customer

    stored = on_app_loop(capped_client, customer)
    assert stored and "customer-key-1" not in stored


def test_a_miner_accepting_gzip_gets_the_same_jobs_compressed(
    od_client: TestClient, subnet: Subnet
) -> None:
    for _ in range(12):
        create_job(od_client)
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    raw = json.dumps({"since": since}).encode()
    plain = od_client.post(
        ACTIVE,
        content=raw,
        headers={**tao_headers(subnet.miner.hotkey, raw), "Accept-Encoding": "identity"},
    )
    zipped = od_client.post(
        ACTIVE,
        content=raw,
        headers={**tao_headers(subnet.miner.hotkey, raw), "Accept-Encoding": "gzip"},
    )
    assert "gzip" not in plain.headers.get("content-encoding", "")
    assert zipped.headers["content-encoding"] == "gzip"
    # httpx decodes it: the jobs are the same.
    assert zipped.json() == plain.json()
    assert len(zipped.json()["jobs"]) == 12


def test_the_answer_follows_since_and_drops_jobs_near_expiry_without_a_query(
    od_client: TestClient, subnet: Subnet
) -> None:
    now = datetime.now(UTC)
    old = insert_job(od_client, created_at=now - timedelta(minutes=5))
    short = insert_job(od_client, created_at=now, expire_at=now + timedelta(seconds=40))
    active: ActiveJobs = services_of(od_client).ondemand.active
    assert active.open_count() == 2

    def ids(since: datetime, at: float) -> list[str]:
        return [job["id"] for job in json.loads(active.answer(since, now=at))["jobs"]]

    assert ids(now - timedelta(minutes=6), now.timestamp()) == [short, old]
    assert ids(now - timedelta(minutes=1), now.timestamp()) == [short]
    # 31 s later the short job has under 10 s left: gone from the answer.
    assert ids(now - timedelta(minutes=6), now.timestamp() + 31) == [old]


def test_a_job_another_replica_created_is_learned_by_the_incremental_read(
    od_client: TestClient, od_settings: Settings
) -> None:
    with TestClient(create_app(od_settings)) as replica:
        job_id = create_job(od_client)
        active: ActiveJobs = services_of(replica).ondemand.active
        on_app_loop(replica, active.refresh)
        assert job_id.encode() in active.answer(datetime.now(UTC) - timedelta(minutes=1))


def test_the_settler_reports_when_it_last_succeeded(od_client: TestClient) -> None:
    settler = services_of(od_client).ondemand.settler
    on_app_loop(od_client, settler.run_once)
    assert settler.last_success is not None
    assert settler.last_lag_seconds is not None and settler.last_lag_seconds >= 0.0
