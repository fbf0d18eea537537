"""Replicas share jobs through the database; a database outage is a 503 and heals by itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from config import Settings
from tests.conftest import S3Server, SettingsFactory, Subnet
from tests.database import empty_postgres_tables
from tests.ondemand.conftest import CUSTOMER, create_job, job_body, settings_for, signed_post
from tests.tcp_proxy import ThreadedProxy

ACTIVE = "/on-demand/miner/jobs/active"
# Generous: only turns "never" into a failure; the 1 s figure is measured by `make bench`.
EVENTUALLY_SECONDS = 10.0


def polled_ids(client: TestClient, subnet: Subnet) -> list[str]:
    since = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    answer = signed_post(client, ACTIVE, subnet.miner.hotkey, {"since": since})
    assert answer.status_code == 200, answer.text
    return [job["id"] for job in answer.json()["jobs"]]


def test_job_created_on_one_replica_reaches_the_others_miners(
    od_client: TestClient, od_settings: Settings, subnet: Subnet
) -> None:
    with TestClient(create_app(od_settings)) as replica:
        assert polled_ids(replica, subnet) == []
        job_id = create_job(od_client)
        deadline = time.monotonic() + EVENTUALLY_SECONDS
        while job_id not in polled_ids(replica, subnet) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert polled_ids(replica, subnet) == [job_id]


@pytest.fixture
def proxied_client(
    make_settings: SettingsFactory, postgres_database: str, seaweed: S3Server, bucket: str
) -> Iterator[tuple[TestClient, ThreadedProxy]]:
    """An app whose PostgreSQL connections pass through a proxy the test can cut."""
    empty_postgres_tables(postgres_database)
    parts = urlsplit(postgres_database)
    proxy = ThreadedProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxy.start()
    url = postgres_database.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.port}", 1)
    settings = settings_for(make_settings, url, seaweed, bucket)
    try:
        with TestClient(create_app(settings)) as client:
            yield client, proxy
    finally:
        proxy.close()


def test_database_outage_is_503_and_the_service_recovers(
    proxied_client: tuple[TestClient, ThreadedProxy], subnet: Subnet
) -> None:
    client, proxy = proxied_client
    job_id = create_job(client)
    proxy.stop()

    refused = client.post("/on-demand/constellation/jobs", json=job_body(), headers=CUSTOMER)
    assert refused.status_code == 503
    assert refused.json()["code"] == "database_unavailable"
    assert "Retry-After" in refused.headers
    read = client.get(f"/on-demand/constellation/jobs/{job_id}", headers=CUSTOMER)
    assert read.json()["code"] == "database_unavailable"
    submit = signed_post(
        client,
        "/on-demand/miner/jobs/submit",
        subnet.miner.hotkey,
        {"submission": {"job_id": job_id}},
    )
    assert submit.status_code == 503
    # Miners' polls are answered from memory meanwhile.
    assert polled_ids(client, subnet) == [job_id]

    proxy.start()
    again = client.post("/on-demand/constellation/jobs", json=job_body(), headers=CUSTOMER)
    assert again.status_code == 201


def test_storage_outage_is_503_and_settling_is_retried(
    make_settings: SettingsFactory, database_url: str
) -> None:
    import functools

    from app.errors import Unavailable
    from tests.app_state import on_app_loop, services_of
    from tests.ondemand.conftest import job_row

    # The default test settings point S3 at a closed port.
    settings = make_settings(database_url=database_url, constellation_api_keys="customer-key-1")
    with TestClient(create_app(settings)) as client:
        job_id = create_job(client)
        submit = functools.partial(services_of(client).ondemand.submit, job_id, "5Miner", 0.0)
        on_app_loop(client, submit)

        read = client.get(f"/on-demand/constellation/jobs/{job_id}", headers=CUSTOMER)
        assert read.status_code == 503
        assert read.json()["code"] == "storage_unavailable"

        later = job_row(client, job_id).expire_at + timedelta(seconds=11)
        settle = functools.partial(services_of(client).ondemand.settler.run_once, later)
        with pytest.raises(Unavailable):
            on_app_loop(client, settle)
        job = job_row(client, job_id)
        # Nothing recorded, and the claim is given back so the next round tries again.
        assert job.settled_at is None
        assert job.settle_claimed_at is None
