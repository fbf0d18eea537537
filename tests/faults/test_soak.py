"""A bounded fault soak: signed traffic while S3 hangs and resumes, then Redis stops and returns.

Every answer of the service must be a success, a 503 that names the missing dependency,
or the documented 401 `signed_before_store` (a signature made before Redis lost its
data); every upload S3 acknowledged (204) must be in the bucket at the end; and each
kind of request must succeed again once its dependency is back.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import SettingsFactory, Subnet
from tests.faults.conftest import PausableS3
from tests.redis_server import RedisServer
from tests.signing import btauth_request, miner_body, validator_body

UPLOAD_TIMEOUT_SECONDS = 4.0
ALLOWED = {
    (200, None),
    (503, "storage_unavailable"),
    (503, "store_unavailable"),
    (401, "signed_before_store"),
}


@dataclass
class Record:
    answers: Counter[tuple[str, str, int, str | None]] = field(default_factory=Counter)
    acknowledged: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    phase: str = "warm"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, route: str, response: Any) -> bool:
        code = response.json().get("code") if response.status_code >= 400 else None
        with self.lock:
            self.answers[self.phase, route, response.status_code, code] += 1
            if (response.status_code, code) not in ALLOWED:
                self.unexpected.append(f"{self.phase} {route}: {response.status_code} {code}")
        return response.status_code == 200


@pytest.fixture
def soaked(
    pausable_s3: PausableS3, redis_server: RedisServer, make_settings: SettingsFactory
) -> Iterator[tuple[TestClient, str]]:
    bucket = pausable_s3.new_bucket()
    credentials = pausable_s3.server.credentials
    settings = make_settings(
        s3_bucket=bucket,
        s3_endpoint_url=pausable_s3.server.endpoint_url,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        rate_limit_storage=redis_server.url,
        rate_limit_ip="100000/minute",
        rate_limit_miner="100000/hour",
        rate_limit_validator="100000/hour",
        discovery_cache_seconds=1,
        trusted_validators=("*",),
    )
    with TestClient(create_app(settings)) as client:
        yield client, bucket


def miner_traffic(
    client: TestClient, subnet: Subnet, record: Record, name: str
) -> Callable[[], None]:
    counter = itertools.count()
    coldkey = subnet.miner.coldkey.ss58_address

    def step() -> None:
        i = next(counter)
        if i % 2:
            raw, headers = btauth_request(
                subnet.miner.hotkey, "/get-folder-access", {"coldkey": coldkey, "source": "x"}
            )
            response = client.post("/get-folder-access", content=raw, headers=headers)
        else:
            response = client.post(
                "/get-folder-access", json=miner_body(subnet.miner.hotkey, coldkey)
            )
        if not record.answer("grant", response):
            return
        grant = response.json()
        key = f"{grant['folder']}soak-{name}-{i}.bin"
        try:
            upload = httpx2.post(
                grant["url"],
                data={**grant["fields"], "key": key},
                files={"file": ("blob", b"\x02" * 1500)},
                timeout=UPLOAD_TIMEOUT_SECONDS,
            )
        except httpx2.HTTPError:
            return  # S3 did not answer: not acknowledged, nothing to check
        if upload.status_code == 204:
            with record.lock:
                record.acknowledged.append(key)

    return step


def validator_traffic(client: TestClient, subnet: Subnet, record: Record) -> Callable[[], None]:
    counter = itertools.count()
    coldkey = subnet.miner.coldkey.ss58_address
    validator = subnet.validator.hotkey

    def step() -> None:
        i = next(counter) % 3
        if i == 0:
            raw, headers = btauth_request(
                validator, "/list-files", {"source": "x", "coldkey": coldkey, "max_keys": 50}
            )
            record.answer("list", client.post("/list-files", content=raw, headers=headers))
        elif i == 1:
            response = client.post("/get-validator-access", json=validator_body(validator))
            record.answer("bundle", response)
        else:
            keys = record.acknowledged[-3:] or [f"data/x/{coldkey}/none.bin"]
            raw, headers = btauth_request(validator, "/get-file-urls", {"keys": keys})
            record.answer("urls", client.post("/get-file-urls", content=raw, headers=headers))

    return step


def run_while(stop: threading.Event, step: Callable[[], None], errors: list[BaseException]) -> None:
    while not stop.is_set():
        try:
            step()
        except BaseException as exc:  # surfaced in the test thread
            errors.append(exc)
            return
        time.sleep(0.02)


def test_signed_traffic_through_s3_and_redis_outages(
    soaked: tuple[TestClient, str],
    subnet: Subnet,
    pausable_s3: PausableS3,
    redis_server: RedisServer,
) -> None:
    client, bucket = soaked
    record = Record()
    stop = threading.Event()
    errors: list[BaseException] = []
    steps = [
        miner_traffic(client, subnet, record, "a"),
        miner_traffic(client, subnet, record, "b"),
        validator_traffic(client, subnet, record),
    ]
    threads = [threading.Thread(target=run_while, args=(stop, s, errors)) for s in steps]
    for thread in threads:
        thread.start()

    def phase(name: str, seconds: float) -> None:
        record.phase = name
        time.sleep(seconds)

    try:
        phase("warm", 5)
        pausable_s3.server.pause()
        try:
            phase("s3_hung", 8)
        finally:
            pausable_s3.server.resume()
        phase("s3_back", 8)
        redis_server.stop()
        try:
            phase("redis_down", 5)
        finally:
            redis_server.start()
        phase("redis_back", 6)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)

    print(sorted(record.answers.items()))  # shown with -s: the soak's figures
    assert not errors, errors
    assert not record.unexpected, record.unexpected[:10]
    stored = {
        obj["Key"]
        for page in pausable_s3.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
    }
    assert record.acknowledged and set(record.acknowledged) <= stored

    def ok(phase_name: str, route: str) -> int:
        return record.answers[phase_name, route, 200, None]

    # Grants never need S3; listings did fail while it hung; all recover.
    assert ok("s3_hung", "grant") > 0
    assert record.answers["s3_hung", "list", 503, "storage_unavailable"] > 0
    assert record.answers["redis_down", "grant", 503, "store_unavailable"] > 0
    for route in ("grant", "list", "bundle", "urls"):
        assert ok("s3_back", route) > 0, route
        assert ok("redis_back", route) > 0, route
