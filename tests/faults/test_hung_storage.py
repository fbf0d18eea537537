"""A hung S3 costs only the routes that need S3: a quick 503, never grants or the metagraph."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.faults.conftest import PausableS3
from tests.signing import btauth_request, miner_body

# More concurrent listings than the storage pool has threads.
CONCURRENT_LISTINGS = 24


@pytest.fixture
def app_on_pausable_s3(
    pausable_s3: PausableS3, make_settings: SettingsFactory, subnet: Subnet, tmp_path: Path
) -> Iterator[TestClient]:
    bucket = pausable_s3.new_bucket()
    folder = f"data/x/{subnet.miner.coldkey.ss58_address}/"
    pausable_s3.client.put_object(Bucket=bucket, Key=folder + "a.bin", Body=b"x" * 2048)
    credentials = pausable_s3.server.credentials
    settings = make_settings(
        s3_bucket=bucket,
        s3_endpoint_url=pausable_s3.server.endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        metagraph_refresh_seconds=0.2,
        rate_limit_ip="100000/minute",
        rate_limit_miner="100000/hour",
        rate_limit_validator="100000/hour",
    )
    with TestClient(create_app(settings)) as client:
        yield client


def list_files(client: TestClient, subnet: Subnet) -> Any:
    body = {"source": "x", "coldkey": subnet.miner.coldkey.ss58_address}
    raw, headers = btauth_request(subnet.validator.hotkey, "/list-files", body)
    return client.post("/list-files", content=raw, headers=headers)


def grant(client: TestClient, subnet: Subnet) -> Any:
    return client.post(
        "/get-folder-access",
        json=miner_body(subnet.miner.hotkey, subnet.miner.coldkey.ss58_address),
    )


def eventually_listed(client: TestClient, subnet: Subnet) -> int:
    """Once S3 answers again, listings work as soon as botocore frees the stuck threads."""
    status = 0
    for _ in range(60):
        status = list_files(client, subnet).status_code
        if status == 200:
            break
        time.sleep(0.5)
    return status


def test_hung_storage_is_503_for_listings_and_nothing_else(
    app_on_pausable_s3: TestClient, pausable_s3: PausableS3, subnet: Subnet
) -> None:
    client = app_on_pausable_s3
    assert list_files(client, subnet).status_code == 200

    pausable_s3.server.pause()
    try:
        with ThreadPoolExecutor(CONCURRENT_LISTINGS + 8) as pool:
            listings = [pool.submit(list_files, client, subnet) for _ in range(CONCURRENT_LISTINGS)]
            grants = [pool.submit(grant, client, subnet) for _ in range(8)]
            grant_answers = [g.result(timeout=60) for g in grants]
            listing_answers = [f.result(timeout=60) for f in listings]
        # While every storage thread is still stuck on the frozen S3:
        later_grants = [grant(client, subnet) for _ in range(5)]
        later_listing = list_files(client, subnet)
        health = client.get("/healthcheck")
    finally:
        pausable_s3.server.resume()

    assert [a.status_code for a in grant_answers + later_grants] == [200] * 13
    for answer in [*listing_answers, later_listing]:
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "storage_unavailable"
        assert int(answer.headers["Retry-After"]) > 0
    # The metagraph kept refreshing every 0.2 s while the listings hung for seconds.
    assert health.status_code == 200
    assert health.json()["metagraph"]["age_seconds"] < 2

    assert eventually_listed(client, subnet) == 200
