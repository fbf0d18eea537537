"""Signatures, policies, presigned URLs and keys are bearer secrets: they never reach the logs.

A whole working day of the service runs here against SeaweedFS: grants, per-file uploads
(whose existence checks are HEADs through presigned URLs), listings, downloads, a Dynamic
Desirability list, an on-demand job from creation to settling, published scores and a
reaping pass that deletes. Every
line written at debug is then searched for every secret that went by.
"""

from __future__ import annotations

import functools
import io
import logging
import secrets as token
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ops.logs import configure_logging, secret_values
from config import Settings
from tests.app_state import on_app_loop, services_of
from tests.conftest import S3Server, SettingsFactory, Subnet
from tests.signing import btauth_request, compact, miner_body, spaced, tao_headers, validator_body

JOB = "crawler-7-h4rptebsja6qbdmocrt98"
CUSTOMER_KEY = "customer-" + token.token_hex(12)
ADMIN_KEY = "admin-" + token.token_hex(12)


class Flow:
    """Sends requests and remembers every secret they carried or received."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.secrets: set[str] = set()

    def remember(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and key.lower() in {"policy", "x-amz-signature"}:
                    self.secrets.add(item)
                self.remember(item)
        elif isinstance(value, list):
            for item in value:
                self.remember(item)
        elif isinstance(value, str) and "X-Amz-Signature=" in value:
            self.secrets.add(value.split("?", 1)[1])
            self.secrets.add(value.split("X-Amz-Signature=", 1)[1].split("&")[0])

    def answer(self, response: httpx2.Response, *expected: int) -> Any:
        assert response.status_code in expected, response.text
        body = response.json() if response.content else None
        self.remember(body)
        return body

    def tao(self, signer: Any, path: str, body: dict[str, Any], *expected: int) -> Any:
        raw = compact(body)
        headers = {**tao_headers(signer, raw), "Content-Type": "application/json"}
        self.secrets.add(headers["X-Tao-Signature"])
        return self.answer(self.client.post(path, content=raw, headers=headers), *expected)

    def btauth(self, signer: Any, path: str, body: dict[str, Any], *expected: int) -> Any:
        raw, headers = btauth_request(signer, path, body)
        self.secrets.add(headers["X-Bittensor-Signature"])
        return self.answer(self.client.post(path, content=raw, headers=headers), *expected)


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("debug", "json", stream=stream)
    try:
        yield stream
    finally:
        configure_logging("info")


def flow_settings(
    make_settings: SettingsFactory, seaweed: S3Server, bucket: str, subnet: Subnet
) -> Settings:
    return make_settings(
        s3_bucket=bucket,
        s3_endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.credentials.access_key,
        aws_secret_access_key=seaweed.credentials.secret_key,
        trusted_validators=str(subnet.validator.uid),
        constellation_api_keys=CUSTOMER_KEY,
        admin_api_keys=ADMIN_KEY,
        upload_min_bytes=16,
        # The pass below runs by hand, and removes a deregistered hotkey's folder at once.
        reap_interval_seconds=0,
        reap_deregistered_after_seconds=0,
    )


def run_a_day(flow: Flow, subnet: Subnet, seaweed: S3Server, bucket: str) -> None:
    client = flow.client
    miner, validator = subnet.miner, subnet.validator
    coldkey = miner.coldkey.ss58_address

    legacy = miner_body(miner.hotkey, coldkey)
    flow.secrets.add(legacy["signature"])
    grant = flow.answer(client.post("/get-folder-access", json=legacy), 200)
    httpx2.post(
        grant["url"],
        data={**grant["fields"], "key": grant["folder"] + "a.bin"},
        files={"file": ("a.bin", b"\x01" * 32)},
        timeout=30,
    )
    bundle = validator_body(validator.hotkey)
    flow.secrets.add(bundle["signature"])
    flow.answer(client.post("/get-validator-access", json=bundle), 200)

    name = f"data_20260805_141502_12_{token.token_hex(8)}.parquet"
    upload = flow.tao(miner.hotkey, "/get-file-upload-url", {"job_id": JOB, "filename": name}, 200)
    httpx2.post(upload["url"], data=upload["fields"], files={"file": ("d", b"\x01" * 32)})
    flow.tao(miner.hotkey, "/get-file-upload-url", {"job_id": JOB, "filename": name}, 409)

    listed = flow.btauth(validator.hotkey, "/list-files", {"source": "x", "coldkey": coldkey}, 200)
    keys = [entry["key"] for entry in listed["files"]]
    flow.btauth(validator.hotkey, "/get-file-urls", {"keys": keys or ["data/x/none"]}, 200)

    entries = [{"id": JOB, "platform": "x", "weight": 1.0, "label": "#bittensor"}]
    admin = {"X-API-Key": ADMIN_KEY}
    flow.answer(
        client.put("/dynamic-desirability/list", json={"entries": entries}, headers=admin), 200, 201
    )
    latest = "/dynamic-desirability/miner/get-latest-list"
    flow.answer(client.get(latest, headers=tao_headers(miner.hotkey, b"")), 200)

    customer = {"X-API-Key": CUSTOMER_KEY}
    spec = {"job": {"job": {"platform": "x", "keywords": ["#bittensor"]}}}
    job_id = flow.answer(
        client.post("/on-demand/constellation/jobs", json=spec, headers=customer), 201
    )["job_id"]
    on_app_loop(client, services_of(client).ondemand.active.refresh)
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    flow.tao(miner.hotkey, "/on-demand/miner/jobs/active", {"since": since}, 200)
    submission = {
        "submission": {
            "job_id": job_id,
            "miner_hotkey": miner.hotkey.ss58_address,
            "miner_uid": miner.uid,
            "s3_path": "",
            "s3_etag": None,
            "s3_content_length": None,
            "s3_last_modified": None,
            "submitted_at": None,
        }
    }
    form = flow.tao(miner.hotkey, "/on-demand/miner/jobs/submit", submission, 200)
    posted = form["presigned_post_upload_data"]
    httpx2.post(posted["url"], data=posted["fields"], files={"file": ("a.json", b"{}")})
    flow.answer(client.get(f"/on-demand/constellation/jobs/{job_id}", headers=customer), 200)
    services = services_of(client)
    later = services.ondemand.settler  # settle as if the window had closed
    from app.ondemand.models import Job

    async def expiry() -> Any:
        async with services.db.session() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            return job.expire_at

    expire_at = on_app_loop(client, expiry)
    on_app_loop(client, functools.partial(later.run_once, expire_at + timedelta(seconds=30)))
    window = {
        "expired_since": (expire_at - timedelta(minutes=1)).isoformat(),
        "expired_until": (expire_at + timedelta(minutes=1)).isoformat(),
    }
    flow.tao(
        validator.hotkey,
        "/on-demand/validator/miner-jobs",
        {**window, "miner_hotkey": miner.hotkey.ss58_address},
        200,
    )

    scores = {"results": [{"miner_hotkey": miner.hotkey.ss58_address, "score": {"v": 1.0}}]}
    raw = spaced(scores)
    headers = {**tao_headers(validator.hotkey, raw), "Content-Type": "application/json"}
    flow.secrets.add(headers["X-Tao-Signature"])
    flow.answer(client.post("/s3-validation/results", content=raw, headers=headers), 200)
    flow.answer(
        client.get("/s3-validation/results", headers=tao_headers(validator.hotkey, b"")), 200
    )

    # A reaping pass that deletes a deregistered hotkey's folder.
    gone = f"data/hotkey=5Deregistered{token.token_hex(8)}/job_id=j/a.parquet"
    seaweed.client.put_object(Bucket=bucket, Key=gone, Body=b"\x01")
    report = on_app_loop(client, services.housekeeping.run_once)
    assert report is not None and gone not in seaweed.keys(bucket, "data/hotkey=")

    # Refusals too: a replay, a wrong key, a bad signature.
    client.post("/get-folder-access", json=legacy)
    client.get(
        f"/on-demand/constellation/jobs/{job_id}", headers={"X-API-Key": "wrong" + CUSTOMER_KEY}
    )
    client.post("/get-folder-access", json=dict(legacy, source="reddit"))


def test_a_full_flow_logs_no_secret_at_any_level(
    make_settings: SettingsFactory,
    seaweed: S3Server,
    bucket: str,
    subnet: Subnet,
    debug_log: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = flow_settings(make_settings, seaweed, bucket, subnet)
    with TestClient(create_app(settings)) as client:
        flow = Flow(client)
        run_a_day(flow, subnet, seaweed, bucket)
    flow.secrets.update(secret_values(settings))
    flow.secrets.update({CUSTOMER_KEY, ADMIN_KEY})

    written = debug_log.getvalue()
    # Every message at info and above, before the handler's redaction: the first defence.
    raw = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert written.count('"logger": "app.access"') >= 18
    assert len(flow.secrets) > 20
    for secret in sorted(flow.secrets):
        assert secret not in written, secret[:12]
        assert secret not in raw, secret[:12]
    assert "X-Amz-Signature=" not in written and "X-Amz-Signature=" not in raw
